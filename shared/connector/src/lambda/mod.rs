//! The six Lambda handlers, built over ports, and the local event source mapping that
//! drives them without AWS.
//!
//! A function binary builds its handler with `from_env` (the AWS wiring in
//! `epages_sync_aws::lambda`) and hands [`PollOrders::handle`] & co. to
//! `lambda_runtime::run`; the CLI's `demo` and `run` and the end-to-end tests build the
//! same handlers over embedded adapters with `new` and feed them the same Lambda event
//! shapes through [`local`]. So every path runs the code that runs in AWS.

mod error;
pub mod function_urls;
pub mod handlers;
pub mod local;

pub use error::HandlerError;
pub use function_urls::{
    FunctionUrlHandler, FunctionUrlReceiver, InstallApp, ReceiveAfostoWebhooks,
    ReceiveEpagesWebhooks,
};
pub use handlers::{ApplyCommands, PollOrders, SchedulePolls, ScheduleSummary, deadline_of};
pub use local::{MappingReport, SqsEventSource, lambda_context, scheduled_event};
