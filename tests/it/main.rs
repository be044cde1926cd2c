//! The one integration-test binary: every cross-crate and end-to-end test is a module here,
//! so the workspace links a single test executable.
mod conformance;
mod beyond;
mod ports;
mod support;
mod sandbox;
mod auth;
mod tenant_cli;
mod pipeline_poll;
mod pipeline_apply;
mod e2e;
