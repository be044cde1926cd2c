//! The embedded state as one SQLite database per state directory: a directory in the old
//! JSON-file format is migrated on open (or refused, saying what to do), and several
//! processes share one state directory (`migration`, `sharing`).

mod migration;
mod sharing;
