//! The ePages Beyond REST API client: typed, lenient models and a retrying HTTP client.
//!
//! - [`model`]: request and response types in the spec's JSON shapes.
//! - [`BeyondClient`]: one shop's client, built from a [`ClientConfig`].
//! - [`auth`]: the token endpoint and [`TokenSource`]s.
//! - [`retry`]: how each kind of request is retried; [`BeyondError`] says what failed.

pub mod auth;
pub mod client;
pub mod disposition;
pub mod error;
pub mod model;
pub mod observe;
pub mod retry;
pub mod tls;

pub use auth::{ClientCredentialsTokens, Grant, StaticToken, TokenEndpoint, TokenSource};
pub use client::{
    BeyondClient, BeyondHttp, ClientConfig, HttpSettings, Listing, OrderQuery, PageRequest, Sort,
    SortDirection,
};
pub use disposition::Disposition;
pub use error::{ApiFailure, BeyondError};
pub use observe::{ClientEvent, ClientObserver, IgnoreEvents};
pub use retry::{RequestSafety, RetryPolicy};
