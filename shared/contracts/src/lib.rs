//! Message contracts exchanged with Afosto: commands in, command results and order events
//! out. The Rust types are the source of truth; the versioned JSON Schemas generated from
//! them are committed under `v1/` beside this crate (a test keeps the two in step).
//!
//! This crate is the bottom of the message layer: it knows no shop, no store and no
//! planning. How a plan becomes a result lives in `domain::command_plan::result`.

pub mod command;
pub mod command_result;
pub mod order_event;
pub mod schema;
pub mod tenant_id;

pub use tenant_id::{InvalidTenantId, TenantId};
