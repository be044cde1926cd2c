//! JSON Schema generation for the contracts and the check that keeps the committed schema
//! files under `shared/contracts/v1/` equal to what the Rust types generate.

use std::path::{Path, PathBuf};

use schemars::JsonSchema;

/// The committed schema file for a contract, e.g. `v1/command.schema.json` (under
/// `shared/contracts/`, beside this crate's sources).
pub fn committed_schema_path(relative: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(relative)
}

/// The schema of `T` as pretty JSON with a trailing newline, the form committed to the repo.
pub fn generate<T: JsonSchema>() -> String {
    let schema = schemars::schema_for!(T);
    let mut text = serde_json::to_string_pretty(&schema)
        .unwrap_or_else(|error| unreachable!("a generated schema is valid JSON: {error}"));
    text.push('\n');
    text
}

/// Why the committed schema does not match the Rust types.
#[derive(Debug, thiserror::Error)]
pub enum SchemaDrift {
    #[error(
        "{path} is out of date with the Rust types; regenerate with \
         `UPDATE_CONTRACTS=1 cargo test -p epages-sync-contracts`"
    )]
    OutOfDate { path: PathBuf },
    #[error("cannot read or write {path}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// Compares the committed schema file with the generated one. With `UPDATE_CONTRACTS=1`
/// in the environment it rewrites the file instead (the way to change a contract).
pub fn check_committed<T: JsonSchema>(relative: &str) -> Result<(), SchemaDrift> {
    let path = committed_schema_path(relative);
    let generated = generate::<T>();
    if std::env::var_os("UPDATE_CONTRACTS").is_some() {
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|source| SchemaDrift::Io {
                path: path.clone(),
                source,
            })?;
        }
        return std::fs::write(&path, generated).map_err(|source| SchemaDrift::Io { path, source });
    }
    let committed = std::fs::read_to_string(&path).map_err(|source| SchemaDrift::Io {
        path: path.clone(),
        source,
    })?;
    if committed == generated {
        Ok(())
    } else {
        Err(SchemaDrift::OutOfDate { path })
    }
}
