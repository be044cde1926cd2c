//! The cargo-fuzz seed corpus (`tests/fuzz/corpus/command_parser/`) under the fuzzer's
//! invariants, so every CI run exercises the seeds without a fuzzer. A seed's name says
//! what it must give: `valid-*` parses, `invalid-<kind>--*` fails with that error kind.
//! Inputs the fuzzer adds while it runs are not committed (tests/fuzz/fuzz.sh keeps them in
//! tests/fuzz/target), so this reads only the hand-written seeds.

use std::path::Path;

use super::commands::check_invariants;

#[test]
fn every_fuzz_seed_keeps_the_parser_invariants() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus/command_parser");
    let mut entries: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| entry.expect("a directory entry").path())
        .collect();
    entries.sort();
    let (mut valid, mut invalid) = (0, 0);
    for path in &entries {
        let name = path
            .file_stem()
            .and_then(|stem| stem.to_str())
            .unwrap_or_else(|| panic!("{} has no UTF-8 name", path.display()));
        let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let result = check_invariants(&bytes);
        if name.starts_with("valid-") {
            if let Err(error) = &result {
                panic!("{name} should parse: {error}");
            }
            valid += 1;
        } else if let Some(rest) = name.strip_prefix("invalid-") {
            let kind = rest.split("--").next().unwrap_or_default();
            match &result {
                Ok(command) => panic!("{name} should fail, parsed {command:?}"),
                Err(error) => assert_eq!(error.kind(), kind, "{name}: {error}"),
            }
            invalid += 1;
        } else {
            panic!("{name}: a seed is named valid-* or invalid-<kind>--*");
        }
    }
    // Every command type has a valid seed, and the invalid ones cover the error kinds.
    assert!(valid >= 7, "only {valid} valid seeds");
    assert!(invalid >= 10, "only {invalid} invalid seeds");
}
