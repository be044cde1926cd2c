//! The local runtime shared by `epages-sync run` and `epages-sync demo`: the embedded state
//! and stage queues, the three handlers the Lambda functions run, and the loops that feed
//! them real Lambda event shapes (the schedule, the poll queue, the command queue). Nothing
//! here knows about the demo or about where commands come from.

pub mod inbox;
pub mod listen;
pub mod outbox;
pub mod pumps;
pub mod runtime;

pub use pumps::{PumpError, Pumps, Shutdown};
pub use runtime::{LocalRuntime, RuntimeError, RuntimeSettings};
