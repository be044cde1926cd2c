//! The connector's core: everything epages-sync does, over ports only.
//!
//! - [`ports`]: the narrow traits for state, queues, secrets and the clock;
//!   `epages-sync-aws` and `epages-sync-embedded` implement them.
//! - [`pipeline`]: the scheduler, the poller (ePages → order events) and the command
//!   applier (Afosto → ePages).
//! - [`lambda`]: the six handlers the functions run, built over ports, and the local event
//!   source mapping that drives them without AWS.
//! - [`auth`], [`install`], [`epages_webhook`], [`afosto_webhook`]: tokens per tenant, the
//!   public-app install flow and the two webhook receivers.
//! - [`metrics`], [`config`], [`error_chain`]: what every function shares.
//!
//! The pure decisions live one layer down in `domain`, the wire types in `contracts`,
//! the shop client in `beyond`; this crate has no AWS SDK dependency.

pub mod afosto_webhook;
pub mod auth;
pub mod config;
pub mod epages_webhook;
pub mod error_chain;
pub mod install;
pub mod lambda;
pub mod metrics;
pub mod pipeline;
pub mod ports;
pub mod stage;
pub mod trace;
