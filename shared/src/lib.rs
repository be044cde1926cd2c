//! epages-sync library: the Beyond API client, domain types and pure decision logic,
//! message contracts, and the ports (traits) for state and queues with their AWS and
//! embedded adapters. Lambda binaries and the CLI are thin shells around this crate.

pub mod adapters;
pub mod afosto_webhook;
pub mod auth;
pub mod aws;
pub mod beyond;
pub mod contracts;
pub mod domain;
pub mod epages_webhook;
pub mod error_chain;
pub mod install;
pub mod lambda;
pub mod metrics;
pub mod pipeline;
pub mod ports;
