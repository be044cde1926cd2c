//! The one integration-test binary: every cross-crate and end-to-end test is a module here,
//! so the workspace links a single test executable.
mod architecture;
mod auth;
mod beyond;
mod chaos;
mod conformance;
mod e2e;
mod embedded_sqlite;
mod local_runner;
mod metrics;
mod ops_cli;
mod pipeline_apply;
mod pipeline_poll;
mod ports;
mod properties;
mod sample_events;
mod sandbox;
mod secrets;
mod sqs_batch;
mod support;
mod template;
mod tenant_cli;
mod tracing;
mod webhook_security;
