//! Typed, lenient models of the Beyond API subset we use. They round-trip (Serialize +
//! Deserialize) into the spec's JSON shapes, so the sandbox serializes its answers with
//! them: camelCase fields, `_id`, `_links`, `_embedded`.
//!
//! Parsing is lenient on purpose (Beyond adds fields and enum values without a version
//! bump): unknown fields are ignored, unknown enum values land in `Other`, and a missing
//! or `null` optional field never fails a parse.

mod lenient_enum;
mod serde_util;

pub mod error_body;
pub mod event;
pub mod hal;
pub mod money;
pub mod oauth;
pub mod order;
pub mod order_request;
pub mod process;
pub mod product;
pub mod shop_offset;
pub mod shop_time;
pub mod timestamp;
pub mod webhook;

#[cfg(test)]
mod spec_examples_tests;

pub use error_body::*;
pub use event::*;
pub use hal::*;
pub use money::*;
pub use oauth::*;
pub use order::*;
pub use order_request::*;
pub use process::*;
pub use product::*;
pub use shop_offset::{Dated, observed_offset};
pub use shop_time::*;
pub use timestamp::*;
pub use webhook::*;
