//! Fuzzes the strict command parser with arbitrary bytes.
//!
//! Invariants: `parse_command` never panics; a message that parses serialises and parses
//! again to the same command (the producer-side `Serialize` and the consumer-side parser
//! agree); parsing is deterministic; `peek_identity` never panics and agrees with a
//! successful parse. The same checks run over the seed corpus in the normal test suite
//! (`tests/it/properties/fuzz_seeds.rs`).
#![no_main]

use libfuzzer_sys::fuzz_target;
use contracts::command::{parse_command, peek_identity};

fuzz_target!(|bytes: &[u8]| {
    let first = parse_command(bytes);
    let identity = peek_identity(bytes);
    match first {
        Ok(command) => {
            let text = serde_json::to_vec(&command).expect("a parsed command serialises");
            let again = parse_command(&text)
                .unwrap_or_else(|error| panic!("re-parse of {command:?} failed: {error}"));
            assert_eq!(again, command, "round trip changed the command");
            let identity = identity.expect("a valid command has a readable identity");
            assert_eq!(identity.id, command.id);
            assert_eq!(identity.tenant, command.tenant);
            assert_eq!(identity.command_type, Some(command.command_type()));
            let repeat = parse_command(bytes).expect("parsing is deterministic");
            assert_eq!(repeat, command);
        }
        Err(error) => {
            // Every error renders, and the same bytes fail the same way.
            let message = error.to_string();
            assert!(!message.is_empty());
            let repeat = parse_command(bytes).expect_err("parsing is deterministic");
            assert_eq!(repeat.to_string(), message);
            assert_eq!(repeat.kind(), error.kind());
        }
    }
});
