//! The ePages Beyond REST API client: typed, lenient models and a retrying HTTP client.
//!
//! - [`model`]: request and response types in the spec's JSON shapes.
//! - [`BeyondClient`]: one shop's client, built from a [`ClientConfig`].
//! - [`auth`]: the token endpoint and [`TokenSource`]s.
//! - [`retry`]: how each kind of request is retried; [`BeyondError`] says what failed.
//! - [`Disposition`]: retry, reject or ambiguous, the one error disposition of every layer.
//!
//! The client is the `client` feature (on by default); without it only the models and
//! `Disposition` are built, which is all the pure domain and the sandbox use.

#[cfg(feature = "client")]
pub mod auth;
#[cfg(feature = "client")]
pub mod client;
pub mod disposition;
#[cfg(feature = "client")]
pub mod error;
pub mod model;
#[cfg(feature = "client")]
pub mod observe;
pub mod redact;
#[cfg(feature = "client")]
pub mod retry;
#[cfg(feature = "client")]
pub mod tls;

#[cfg(feature = "client")]
pub use auth::{ClientCredentialsTokens, Grant, StaticToken, TokenEndpoint, TokenSource};
#[cfg(feature = "client")]
pub use client::{
    BeyondClient, BeyondHttp, ClientConfig, HttpSettings, Listing, OrderQuery, PageRequest, Sort,
    SortDirection,
};
pub use disposition::Disposition;
#[cfg(feature = "client")]
pub use error::{ApiFailure, BeyondError, DecodeFailure};
#[cfg(feature = "client")]
pub use observe::{ClientEvent, ClientObserver, IgnoreEvents};
#[cfg(feature = "client")]
pub use retry::{RequestSafety, RetryPolicy};
