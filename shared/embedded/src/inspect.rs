//! Reading the state database as text, for tests that must look at everything stored
//! (the scan that no secret is stored outside the token and secret stores).

use std::path::Path;

use rusqlite::{Connection, OpenFlags};

use super::db::{DATABASE_FILE, from_json, sql};
use connector::ports::StoreError;

/// Every row of every table of `dir`'s state database as `(table, row text)`, the row's
/// columns joined by tabs.
pub fn rows_as_text(dir: &Path) -> Result<Vec<(String, String)>, StoreError> {
    let connection = Connection::open_with_flags(
        dir.join(DATABASE_FILE),
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(sql("open"))?;
    let tables: Vec<String> = connection
        .prepare("SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name")
        .and_then(|mut s| {
            s.query_map([], |row| row.get(0))?
                .collect::<rusqlite::Result<_>>()
        })
        .map_err(sql("select"))?;
    let mut rows = Vec::new();
    for table in tables {
        let mut statement = connection
            .prepare(&format!("SELECT * FROM \"{table}\""))
            .map_err(sql("select"))?;
        let columns = statement.column_count();
        let texts = statement
            .query_map([], |row| {
                let mut text = Vec::with_capacity(columns);
                for i in 0..columns {
                    let value: rusqlite::types::Value = row.get(i)?;
                    text.push(match value {
                        rusqlite::types::Value::Text(t) => t,
                        rusqlite::types::Value::Integer(n) => n.to_string(),
                        rusqlite::types::Value::Real(r) => r.to_string(),
                        rusqlite::types::Value::Blob(b) => String::from_utf8_lossy(&b).into(),
                        rusqlite::types::Value::Null => String::new(),
                    });
                }
                Ok(text.join("\t"))
            })
            .map_err(sql("select"))?;
        for text in texts {
            rows.push((table.clone(), text.map_err(sql("select"))?));
        }
    }
    Ok(rows)
}

/// The token and secret values stored in `dir`'s state database.
pub fn stored_secrets(dir: &Path) -> Result<Vec<String>, StoreError> {
    let mut secrets = Vec::new();
    for (table, row) in rows_as_text(dir)? {
        let Some((_, value)) = row.split_once('\t') else {
            continue;
        };
        match table.as_str() {
            "tokens" => {
                let tokens: super::tokens::StoredTokens = from_json("tokens", value)?;
                secrets.extend(tokens.values().map(str::to_owned));
            }
            "secrets" => secrets.push(from_json::<String>("secret", value)?),
            _ => {}
        }
    }
    Ok(secrets)
}
