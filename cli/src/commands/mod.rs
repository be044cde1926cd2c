//! One module per subcommand.

pub mod completions;
pub mod demo;
pub mod dlq;
pub mod log;
pub mod resync;
pub mod run;
pub mod sandbox;
pub mod status;
pub mod tenant;

/// An error with its chain of causes, one per `: `.
pub use connector::error_chain::error_chain as report;
