//! The one persistence helper of the embedded stores: one SQLite database per state
//! directory (`{dir}/state.db`, WAL, a busy timeout), a table per store with a row per item.
//!
//! Every operation reads the database: no store keeps state in memory that another process
//! could make stale, so several processes (a `run` and the CLI's `tenant` or `dlq`
//! commands) can share one state directory. Read-modify-write changes run in one
//! `BEGIN IMMEDIATE` transaction, which takes SQLite's write lock before reading, so two
//! writers (tasks or processes) never both act on the same old value. A process opens one
//! connection per state directory, shared by its stores and used on tokio's blocking pool,
//! so SQLite calls never block the runtime's workers.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, LazyLock, Mutex, Weak};
use std::time::Duration;

use rusqlite::{Connection, OpenFlags, OptionalExtension, Transaction, TransactionBehavior};
use serde::Serialize;
use serde::de::DeserializeOwned;

use connector::ports::StoreError;

/// The database file in a state directory.
pub const DATABASE_FILE: &str = "state.db";

/// How long a write waits for another process's transaction before giving up (as a
/// transient error, so the work is retried).
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// Every table of the state; `CREATE … IF NOT EXISTS`, so opening is idempotent.
const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS tenants (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS tokens (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS secrets (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS poll_state (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS order_ledger (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS idempotency (
    key TEXT PRIMARY KEY,
    expires_at INTEGER NOT NULL,
    value TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS idempotency_expiry ON idempotency (expires_at);
CREATE TABLE IF NOT EXISTS sku_stock (
    key TEXT PRIMARY KEY,
    tenant TEXT NOT NULL,
    pending INTEGER NOT NULL,
    value TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS sku_stock_pending ON sku_stock (tenant) WHERE pending = 1;
CREATE TABLE IF NOT EXISTS activity (
    tenant TEXT NOT NULL,
    at_ms INTEGER NOT NULL,
    entry_id TEXT NOT NULL,
    entity_kind TEXT NOT NULL,
    entity_id TEXT NOT NULL,
    expires_at_ms INTEGER NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (tenant, at_ms, entry_id)
);
CREATE INDEX IF NOT EXISTS activity_entity
    ON activity (tenant, entity_kind, entity_id, at_ms, entry_id);
CREATE INDEX IF NOT EXISTS activity_expiry ON activity (expires_at_ms);
CREATE TABLE IF NOT EXISTS queue_messages (
    sequence INTEGER PRIMARY KEY AUTOINCREMENT,
    queue TEXT NOT NULL,
    message_id TEXT NOT NULL,
    group_id TEXT,
    visible_at_us INTEGER NOT NULL,
    receive_count INTEGER NOT NULL,
    first_received_at_us INTEGER,
    receipt TEXT,
    value TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS queue_messages_order ON queue_messages (queue, sequence);
CREATE INDEX IF NOT EXISTS queue_messages_id ON queue_messages (queue, message_id);
CREATE INDEX IF NOT EXISTS queue_messages_tries ON queue_messages (queue, receive_count);
CREATE INDEX IF NOT EXISTS queue_messages_group
    ON queue_messages (queue, group_id, visible_at_us);
CREATE TABLE IF NOT EXISTS queue_dedup (
    queue TEXT NOT NULL,
    dedup_id TEXT NOT NULL,
    until_us INTEGER NOT NULL,
    message_id TEXT NOT NULL,
    PRIMARY KEY (queue, dedup_id)
);
";

/// The state database of one directory, shared by every store this process opens on it.
pub(crate) struct Database {
    path: PathBuf,
    connection: Mutex<Connection>,
}

/// One connection per state directory per process: stores opened on the same directory
/// share it, so this process's writers queue on a mutex instead of SQLite's busy loop.
static OPEN: LazyLock<Mutex<HashMap<PathBuf, Weak<Database>>>> = LazyLock::new(Default::default);

impl std::fmt::Debug for Database {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Database")
            .field("path", &self.path)
            .finish()
    }
}

impl Database {
    /// The database of `dir` (created, with the directory, if missing; a directory in the
    /// old JSON-file format is migrated first, see `crate::migrate`).
    pub(crate) async fn open(dir: &Path) -> Result<Arc<Self>, StoreError> {
        let dir = dir.to_path_buf();
        tokio::task::spawn_blocking(move || Self::open_blocking(&dir))
            .await
            .map_err(joined)?
    }

    fn open_blocking(dir: &Path) -> Result<Arc<Self>, StoreError> {
        std::fs::create_dir_all(dir).map_err(|source| StoreError::Io {
            path: dir.to_path_buf(),
            source,
        })?;
        let key = std::fs::canonicalize(dir).map_err(|source| StoreError::Io {
            path: dir.to_path_buf(),
            source,
        })?;
        let mut open = OPEN.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(database) = open.get(&key).and_then(Weak::upgrade) {
            return Ok(database);
        }
        let path = key.join(DATABASE_FILE);
        let mut connection = connect(&path)?;
        crate::migrate::import_json_state(&key, &mut connection)?;
        let database = Arc::new(Self {
            path,
            connection: Mutex::new(connection),
        });
        open.retain(|_, weak| weak.strong_count() > 0);
        open.insert(key, Arc::downgrade(&database));
        Ok(database)
    }

    /// Runs `f` on the connection, off the runtime's workers.
    pub(crate) async fn read<R, F>(self: &Arc<Self>, f: F) -> Result<R, StoreError>
    where
        R: Send + 'static,
        F: FnOnce(&Connection) -> Result<R, StoreError> + Send + 'static,
    {
        let database = self.clone();
        tokio::task::spawn_blocking(move || {
            let connection = database.lock();
            f(&connection)
        })
        .await
        .map_err(joined)?
    }

    /// Runs `f` in one `BEGIN IMMEDIATE` transaction, committed when `f` succeeds and
    /// rolled back when it fails, off the runtime's workers.
    pub(crate) async fn write<R, F>(self: &Arc<Self>, f: F) -> Result<R, StoreError>
    where
        R: Send + 'static,
        F: FnOnce(&Transaction<'_>) -> Result<R, StoreError> + Send + 'static,
    {
        let database = self.clone();
        tokio::task::spawn_blocking(move || {
            let mut connection = database.lock();
            in_transaction(&mut connection, f)
        })
        .await
        .map_err(joined)?
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Connection> {
        // A panic inside a closure leaves no transaction open (rusqlite rolls back on
        // drop), so the connection stays usable.
        self.connection.lock().unwrap_or_else(|p| p.into_inner())
    }
}

pub(crate) fn in_transaction<R>(
    connection: &mut Connection,
    f: impl FnOnce(&Transaction<'_>) -> Result<R, StoreError>,
) -> Result<R, StoreError> {
    let transaction = connection
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(sql("begin"))?;
    let result = f(&transaction)?;
    transaction.commit().map_err(sql("commit"))?;
    Ok(result)
}

/// Opens the database file, created `0600` first: it holds tokens and secrets in the clear
/// (SQLite gives its `-wal` and `-shm` files the database file's mode).
fn connect(path: &Path) -> Result<Connection, StoreError> {
    let mut options = std::fs::OpenOptions::new();
    options.read(true).write(true).create(true).truncate(false);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path).map_err(|source| StoreError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let connection = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(sql("open"))?;
    connection
        .busy_timeout(BUSY_TIMEOUT)
        .map_err(sql("busy timeout"))?;
    // Every statement the stores run stays prepared (there are about forty).
    connection.set_prepared_statement_cache_capacity(128);
    // WAL: readers never wait for the writer, and one process's writes are visible to the
    // next transaction of every other. NORMAL synchronous: a commit survives a crash of the
    // process (what local runs meet); a power loss may roll back the last commits, never
    // tear one (the trade-off SQLite documents for WAL).
    connection
        .pragma_update(None, "journal_mode", "WAL")
        .map_err(sql("journal mode"))?;
    connection
        .pragma_update(None, "synchronous", "NORMAL")
        .map_err(sql("synchronous"))?;
    // A page cache big enough for the B-trees' upper levels at 100,000s of rows, and reads
    // through a memory map instead of a system call per page: what keeps one write's cost
    // flat as the state grows (PERFORMANCE.md §10). Both are upper bounds, used as needed.
    connection
        .pragma_update(None, "cache_size", -32_768)
        .map_err(sql("cache size"))?;
    connection
        .pragma_update(None, "mmap_size", 256 * 1024 * 1024)
        .map_err(sql("mmap size"))?;
    connection
        .execute_batch(SCHEMA)
        .map_err(sql("creating the schema"))?;
    Ok(connection)
}

/// Maps a SQLite error to the port's error: busy and locked are transient (another
/// process holds the write lock longer than the busy timeout), everything else is not.
pub(crate) fn sql(operation: &'static str) -> impl FnOnce(rusqlite::Error) -> StoreError {
    move |error| {
        let (code, transient) = match error.sqlite_error_code() {
            Some(code) => (
                format!("{code:?}"),
                matches!(
                    code,
                    rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked
                ),
            ),
            None => ("sqlite".to_owned(), false),
        };
        StoreError::Backend {
            operation,
            code,
            message: error.to_string(),
            transient,
            source: Box::new(error),
        }
    }
}

fn joined(error: tokio::task::JoinError) -> StoreError {
    StoreError::Backend {
        operation: "embedded state",
        code: "task".to_owned(),
        message: error.to_string(),
        transient: false,
        source: Box::new(error),
    }
}

pub(crate) fn to_json<T: Serialize>(what: &'static str, value: &T) -> Result<String, StoreError> {
    serde_json::to_string(value).map_err(|e| StoreError::corrupt_from(what, e))
}

pub(crate) fn from_json<T: DeserializeOwned>(
    what: &'static str,
    text: &str,
) -> Result<T, StoreError> {
    serde_json::from_str(text).map_err(|e| StoreError::corrupt_from(what, e))
}

/// The key-value tables (`key`, `value` JSON): one row per item, keyed as the DynamoDB
/// adapters key theirs.
#[derive(Clone, Copy)]
pub(crate) struct KvTable {
    pub(crate) name: &'static str,
    /// What a row holds, for error messages.
    pub(crate) what: &'static str,
}

impl KvTable {
    pub(crate) fn get<T: DeserializeOwned>(
        self,
        connection: &Connection,
        key: &str,
    ) -> Result<Option<T>, StoreError> {
        let text: Option<String> = connection
            .prepare_cached(&format!("SELECT value FROM {} WHERE key = ?1", self.name))
            .and_then(|mut statement| {
                statement
                    .query_row([key], |row| row.get::<_, String>(0))
                    .optional()
            })
            .map_err(sql("select"))?;
        text.map(|text| from_json(self.what, &text)).transpose()
    }

    pub(crate) fn put<T: Serialize>(
        self,
        connection: &Connection,
        key: &str,
        value: &T,
    ) -> Result<(), StoreError> {
        let text = to_json(self.what, value)?;
        connection
            .prepare_cached(&format!(
                "INSERT INTO {} (key, value) VALUES (?1, ?2) \
                 ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                self.name
            ))
            .and_then(|mut statement| statement.execute((key, text)))
            .map_err(sql("upsert"))?;
        Ok(())
    }

    /// Whether a row was deleted.
    pub(crate) fn delete(self, connection: &Connection, key: &str) -> Result<bool, StoreError> {
        let deleted = connection
            .prepare_cached(&format!("DELETE FROM {} WHERE key = ?1", self.name))
            .and_then(|mut statement| statement.execute([key]))
            .map_err(sql("delete"))?;
        Ok(deleted > 0)
    }
}
