//! The ePages Beyond REST API client: typed, lenient models and a retrying HTTP client.

pub mod model;
