//! Property tests and the fuzz seed corpus (issue #8 part 5).
//!
//! The unit tests next to the code already prove some of this: `contracts::command` has
//! no-panic properties on random bytes and random JSON and a one-field-replaced property,
//! and `domain::order_sync::proptests` simulates an order polled with crashes before and
//! after sending. The properties here add what those leave out:
//!
//! - [`commands`]: every *generated* valid command of every type round-trips and agrees
//!   with the committed JSON Schema; targeted mutations (a required field dropped, a wrong
//!   JSON type, an unknown enum value, an oversized string, a truncated body, bytes spliced
//!   into a valid body) fail with the exact error kind and name the field.
//! - [`beyond_models`]: generated orders, processes and products with unknown fields,
//!   unknown enum values, nulls and missing optional fields parse leniently, keep their
//!   known fields and survive a serialise → parse round trip.
//! - [`order_events`]: snapshot *histories* read out of order (stale and repeated reads of
//!   older snapshots) with crashes between send and ledger write; event ids that do not
//!   depend on when a poll ran.
//! - [`fuzz_seeds`]: the cargo-fuzz seed corpus under the fuzzer's invariants, so CI
//!   exercises it without a fuzzer.
//!
//! Case counts stay moderate: CI has 2 cores and the whole module runs in seconds.

mod beyond_models;
mod commands;
mod fuzz_seeds;
mod order_events;
