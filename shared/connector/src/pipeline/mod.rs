//! The pipelines' service logic, shared by the Lambda binaries and the local runner:
//! each handler is a function over the ports, so a binary is only wiring.

pub mod apply;
pub mod dead_letters;
pub mod poll;
pub mod poll_request;
pub mod schedule;
pub mod shop_offset;
pub mod sqs_batch;
