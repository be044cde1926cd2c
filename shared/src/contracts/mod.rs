//! Message contracts exchanged with Afosto: the Rust types are the source of truth, and
//! versioned JSON Schemas generated from them are committed under `contracts/` at the
//! repository root (a test keeps the two in step).

pub mod command;
pub mod command_result;
pub mod order_event;
pub mod schema;
