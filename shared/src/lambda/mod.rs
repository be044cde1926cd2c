//! The Lambda handlers, one per queue- or schedule-driven function, and the local event
//! source mapping that drives them without AWS.
//!
//! A function binary builds its handler with `from_env` (AWS adapters) and hands
//! [`handlers::PollOrders::handle`] & co. to `lambda_runtime::run`; the CLI's `demo` and
//! `run` and the end-to-end tests build the same handlers over embedded adapters with
//! `new` and feed them the same Lambda event shapes through [`local`]. So every path runs
//! the code that runs in AWS.

pub mod handlers;
pub mod local;

pub use handlers::{ApplyCommands, InitError, PollOrders, SchedulePolls, ScheduleSummary};
pub use local::{MappingReport, SqsEventSource, lambda_context, scheduled_event};
