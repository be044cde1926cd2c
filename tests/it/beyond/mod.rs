//! The Beyond client against the sandbox: every operation, every documented error, and
//! the retry rules proven from the sandbox journal.

mod client_errors;
mod client_happy;
mod client_resilience;
mod support;
