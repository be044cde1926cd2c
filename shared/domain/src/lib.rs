//! Domain types and pure decision logic.

pub mod activity;
pub mod command_plan;
pub mod order_ledger;
pub mod order_sync;
pub mod poll_state;
pub mod stock_mark;
pub mod tenant;
pub mod tokens;
