//! Domain types and pure decision logic: tenants, command planning (what to call in the shop
//! for an Afosto command, and the result it becomes), order diffing (which order events a
//! shop change yields), the ledger and poll state. No I/O and no async: every decision can
//! be tested, and property-tested, without a shop or a store.

pub mod activity;
pub mod command_plan;
pub mod order_ledger;
pub mod order_sync;
pub mod poll_state;
pub mod stock_mark;
pub mod tenant;
pub mod tokens;
