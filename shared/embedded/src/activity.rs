//! Embedded activity log: table `activity`, one row per entry keyed by tenant, time and
//! entry id (the sort position), with the entity and expiry as indexed columns. Expired
//! entries are dropped on append and never returned.

use std::path::Path;
use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use rusqlite::Connection;
use serde::{Deserialize, Serialize};

use super::db::{Database, from_json, sql, to_json};
use connector::ports::activity::{Retention, TimeRange, prepare_entry};
use connector::ports::paging::check_page;
use connector::ports::store_keys::{decode_page_token, encode_page_token};
use connector::ports::{ActivityLog, Clock, Page, PageRequest, StoreError};
use domain::activity::{ActivityEntry, EntityKind};
use domain::tenant::TenantId;

const WHAT: &str = "activity entry";

#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct StoredEntry {
    entry: ActivityEntry,
    expires_at: DateTime<Utc>,
}

/// Sort position of an entry: time, then id.
type Position = (i64, String);

fn position(entry: &ActivityEntry) -> Position {
    (entry.at.timestamp_millis(), entry.entry_id.clone())
}

/// The JSON-file format this store had before SQLite (`activity.json`), for the migration.
#[derive(Deserialize)]
pub(crate) struct LegacyFile {
    tenants: std::collections::BTreeMap<TenantId, Vec<StoredEntry>>,
}

impl LegacyFile {
    pub(crate) fn import(self, tx: &rusqlite::Transaction<'_>) -> Result<usize, StoreError> {
        let mut count = 0;
        for stored in self.tenants.values().flatten() {
            insert(tx, stored)?;
            count += 1;
        }
        Ok(count)
    }
}

/// Stores an entry once: the same entry appended twice (a retried batch) is ignored.
fn insert(connection: &Connection, stored: &StoredEntry) -> Result<(), StoreError> {
    let entry = &stored.entry;
    let text = to_json(WHAT, stored)?;
    connection
        .prepare_cached(
            "INSERT OR IGNORE INTO activity \
             (tenant, at_ms, entry_id, entity_kind, entity_id, expires_at_ms, value) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        )
        .and_then(|mut s| {
            s.execute((
                entry.tenant.as_str(),
                entry.at.timestamp_millis(),
                &entry.entry_id,
                entry.entity.kind.as_str(),
                &entry.entity.id,
                stored.expires_at.timestamp_millis(),
                text,
            ))
        })
        .map_err(sql("insert"))?;
    Ok(())
}

/// What a query narrows by in SQL; the exact test is the `keep` closure of `query`.
#[derive(Default)]
struct Narrowing {
    entity: Option<(EntityKind, String)>,
    from_ms: Option<i64>,
    to_ms: Option<i64>,
}

pub struct EmbeddedActivityLog {
    db: Arc<Database>,
    retention: Retention,
    clock: Arc<dyn Clock>,
}

impl EmbeddedActivityLog {
    pub async fn open(
        dir: &Path,
        retention: Retention,
        clock: Arc<dyn Clock>,
    ) -> Result<Self, StoreError> {
        Ok(Self {
            db: Database::open(dir).await?,
            retention,
            clock,
        })
    }

    /// Newest first, from before the page token's position.
    async fn query(
        &self,
        tenant: &TenantId,
        page: PageRequest,
        now: DateTime<Utc>,
        narrowing: Narrowing,
        keep: impl Fn(&ActivityEntry) -> bool + Send + 'static,
    ) -> Result<Page<ActivityEntry>, StoreError> {
        let limit = check_page(&page)?;
        let before: Option<Position> = page.token.as_ref().map(decode_page_token).transpose()?;
        let tenant = tenant.clone();
        let (items, more) = self
            .db
            .read(move |connection| {
                let (before_ms, before_id) = before.unwrap_or((i64::MAX, String::new()));
                let (kind, entity) = narrowing
                    .entity
                    .map_or((None, None), |(kind, id)| (Some(kind.as_str()), Some(id)));
                let mut statement = connection
                    .prepare_cached(
                        "SELECT value FROM activity WHERE tenant = ?1 \
                         AND (at_ms < ?2 OR (at_ms = ?2 AND entry_id < ?3)) \
                         AND expires_at_ms > ?4 \
                         AND (?5 IS NULL OR (entity_kind = ?5 AND entity_id = ?6)) \
                         AND (?7 IS NULL OR at_ms >= ?7) AND (?8 IS NULL OR at_ms <= ?8) \
                         ORDER BY at_ms DESC, entry_id DESC",
                    )
                    .map_err(sql("select"))?;
                let rows = statement
                    .query_map(
                        (
                            tenant.as_str(),
                            before_ms,
                            before_id,
                            now.timestamp_millis(),
                            kind,
                            entity,
                            narrowing.from_ms,
                            narrowing.to_ms,
                        ),
                        |row| row.get::<_, String>(0),
                    )
                    .map_err(sql("select"))?;
                let mut items = Vec::new();
                for text in rows {
                    let stored: StoredEntry = from_json(WHAT, &text.map_err(sql("select"))?)?;
                    if stored.expires_at <= now || !keep(&stored.entry) {
                        continue;
                    }
                    if items.len() == limit {
                        return Ok((items, true));
                    }
                    items.push(stored.entry);
                }
                Ok((items, false))
            })
            .await?;
        let next = match (more, items.last()) {
            (true, Some(last)) => Some(encode_page_token(&position(last))?),
            _ => None,
        };
        Ok(Page { items, next })
    }
}

#[async_trait]
impl ActivityLog for EmbeddedActivityLog {
    async fn append(&self, entries: &[ActivityEntry]) -> Result<(), StoreError> {
        let prepared = entries
            .iter()
            .map(prepare_entry)
            .collect::<Result<Vec<_>, _>>()?;
        let now = self.clock.now();
        let stored: Vec<StoredEntry> = prepared
            .into_iter()
            .map(|entry| StoredEntry {
                expires_at: self.retention.expiry_of(entry.at),
                entry,
            })
            .collect();
        self.db
            .write(move |tx| {
                for entry in &stored {
                    insert(tx, entry)?;
                }
                tx.prepare_cached("DELETE FROM activity WHERE expires_at_ms <= ?1")
                    .and_then(|mut s| s.execute([now.timestamp_millis()]))
                    .map_err(sql("prune"))?;
                Ok(())
            })
            .await
    }

    async fn by_tenant(
        &self,
        tenant: &TenantId,
        range: TimeRange,
        page: PageRequest,
        now: DateTime<Utc>,
    ) -> Result<Page<ActivityEntry>, StoreError> {
        let narrowing = Narrowing {
            entity: None,
            from_ms: range.from.map(|from| from.timestamp_millis()),
            to_ms: range.to.map(|to| to.timestamp_millis()),
        };
        self.query(tenant, page, now, narrowing, move |entry| {
            range.contains(entry.at)
        })
        .await
    }

    async fn by_entity(
        &self,
        tenant: &TenantId,
        kind: EntityKind,
        entity_id: &str,
        page: PageRequest,
        now: DateTime<Utc>,
    ) -> Result<Page<ActivityEntry>, StoreError> {
        let id = entity_id.to_owned();
        let narrowing = Narrowing {
            entity: Some((kind, id.clone())),
            ..Narrowing::default()
        };
        self.query(tenant, page, now, narrowing, move |entry| {
            entry.entity.kind == kind && entry.entity.id == id
        })
        .await
    }
}
