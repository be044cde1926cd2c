//! The sandbox over HTTP, with raw reqwest: token grants, scopes, every documented error,
//! paging and filters, the order state machine, faults, the journal and webhooks.

mod admin;
mod auth;
mod faults;
mod orders;
mod processes;
mod products;
mod support;
mod webhooks;
