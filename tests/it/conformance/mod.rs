//! Conformance to the real Beyond contract: the sandbox's responses for every operation we
//! use must satisfy the official spec (types and documented keys), and the checks themselves
//! are first proven against the spec's own examples.

mod operations;
mod sandbox_walk;
mod spec;
mod spec_examples;
