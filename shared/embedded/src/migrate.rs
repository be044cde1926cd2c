//! A state directory in the JSON-file format of earlier versions (one `{store}.json` per
//! store, `queues/{name}.json` per queue) is imported into the database when it is first
//! opened: every file in one transaction, then each renamed to `{file}.migrated`. A file
//! that cannot be read stops the import with nothing changed and says what to do.
//!
//! A crash between the commit and the renames is safe: the `meta` row written with the
//! import marks it done, and the next open only renames the files.

use std::path::{Path, PathBuf};

use rusqlite::{Connection, OptionalExtension};
use serde::de::DeserializeOwned;

use super::db::{in_transaction, sql};
use connector::ports::StoreError;

/// The `meta` key recording that the JSON files were imported.
const IMPORTED: &str = "json_state_imported";

/// The store files of the JSON format, by store.
const STORE_FILES: [&str; 8] = [
    "tenants.json",
    "tokens.json",
    "secrets.json",
    "poll_state.json",
    "order_ledger.json",
    "idempotency.json",
    "stock_marks.json",
    "activity.json",
];

/// The JSON files of the old format present in `dir`.
fn legacy_files(dir: &Path) -> Result<Vec<PathBuf>, StoreError> {
    let mut files: Vec<PathBuf> = STORE_FILES
        .iter()
        .map(|name| dir.join(name))
        .filter(|path| path.is_file())
        .collect();
    let queues = dir.join("queues");
    if queues.is_dir() {
        let entries = std::fs::read_dir(&queues).map_err(|source| StoreError::Io {
            path: queues.clone(),
            source,
        })?;
        let mut found: Vec<PathBuf> = entries
            .flatten()
            .map(|entry| entry.path())
            .filter(|path| path.is_file() && path.extension().is_some_and(|e| e == "json"))
            .collect();
        found.sort();
        files.extend(found);
    }
    Ok(files)
}

fn refused(path: &Path, reason: impl std::fmt::Display) -> StoreError {
    StoreError::corrupt(
        format!(
            "state file {} (the JSON format of earlier versions, to be migrated into {})",
            path.display(),
            super::db::DATABASE_FILE
        ),
        format!(
            "{reason}. Nothing was migrated or changed: repair the file, or move it out of \
             the state directory to start without what it held, then open the state again"
        ),
    )
}

fn parse<T: DeserializeOwned>(path: &Path) -> Result<T, StoreError> {
    let bytes = std::fs::read(path).map_err(|source| StoreError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    serde_json::from_slice(&bytes).map_err(|error| refused(path, error))
}

/// Imports the JSON files of `dir` (if any) into the database, then renames them aside.
pub(crate) fn import_json_state(dir: &Path, connection: &mut Connection) -> Result<(), StoreError> {
    let files = legacy_files(dir)?;
    if files.is_empty() {
        return Ok(());
    }
    let imported = in_transaction(connection, |tx| {
        let done: Option<String> = tx
            .query_row("SELECT value FROM meta WHERE key = ?1", [IMPORTED], |row| {
                row.get(0)
            })
            .optional()
            .map_err(sql("select"))?;
        if done.is_some() {
            return Ok(None);
        }
        let mut counts = Vec::new();
        for path in &files {
            let name = path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let count = if path.parent().is_some_and(|p| p.ends_with("queues")) {
                let queue = name.trim_end_matches(".json");
                parse::<super::queue::LegacyFile>(path)?.import(tx, queue)?
            } else {
                match name.as_str() {
                    "tenants.json" => parse::<super::tenants::LegacyFile>(path)?.import(tx)?,
                    "tokens.json" => parse::<super::tokens::LegacyFile>(path)?.import(tx)?,
                    "secrets.json" => parse::<super::secrets::LegacyFile>(path)?.import(tx)?,
                    "poll_state.json" => {
                        parse::<super::poll_state::LegacyFile>(path)?.import(tx)?
                    }
                    "order_ledger.json" => {
                        parse::<super::order_ledger::LegacyFile>(path)?.import(tx)?
                    }
                    "idempotency.json" => {
                        parse::<super::idempotency::LegacyFile>(path)?.import(tx)?
                    }
                    // Per-location marks without levels: the per-SKU stock records cannot be
                    // built from them (docs/COMMANDS.md, stock: "After upgrading"); nothing is imported
                    // and the next stock levels from Afosto build the sums.
                    "stock_marks.json" => 0,
                    "activity.json" => parse::<super::activity::LegacyFile>(path)?.import(tx)?,
                    _ => return Err(refused(path, "not a file of any store")),
                }
            };
            counts.push(format!("{name}: {count}"));
        }
        let summary = counts.join(", ");
        tx.execute(
            "INSERT INTO meta (key, value) VALUES (?1, ?2)",
            (IMPORTED, &summary),
        )
        .map_err(sql("insert"))?;
        Ok(Some(summary))
    })?;
    match &imported {
        Some(summary) => tracing::info!(
            state_dir = %dir.display(),
            imported = %summary,
            "migrated the JSON state files into {}", super::db::DATABASE_FILE
        ),
        None => tracing::warn!(
            state_dir = %dir.display(),
            "JSON state files found in a state directory migrated before; they are not \
             imported again, only renamed aside"
        ),
    }
    for path in &files {
        let mut aside = path.as_os_str().to_owned();
        aside.push(".migrated");
        match std::fs::rename(path, &aside) {
            // Another process opening the directory at the same time renamed it first.
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {}
            other => other.map_err(|source| StoreError::Io {
                path: path.clone(),
                source,
            })?,
        }
    }
    Ok(())
}
