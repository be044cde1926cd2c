//! Domain types and pure decision logic.
