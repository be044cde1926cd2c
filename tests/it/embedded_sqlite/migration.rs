//! A state directory written by the JSON-file embedded backend (`tests/fixtures/state-json`,
//! made by that code; see tests/fixtures/ORIGIN.md) opens on the SQLite backend with
//! everything it held, once, and its files renamed aside.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use connector::ports::activity::{Retention, TimeRange};
use connector::ports::idempotency::{ClaimOutcome, IdempotencyKey};
use connector::ports::{PageRequest, SystemClock};
use domain::tenant::TenantId;
use secrecy::ExposeSecret;
use serde_json::Value;

const FIXTURE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/state-json");

/// The fixture copied into a fresh directory (the migration renames its files).
fn copy_fixture() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("a temporary directory");
    copy_tree(Path::new(FIXTURE), dir.path());
    dir
}

fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for entry in std::fs::read_dir(from).expect("fixture readable").flatten() {
        let target = to.join(entry.file_name());
        if entry.path().is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).expect("copied");
        }
    }
}

fn fixture_json(name: &str) -> Value {
    let text = std::fs::read_to_string(Path::new(FIXTURE).join(name)).expect("fixture file");
    serde_json::from_str(&text).expect("fixture JSON")
}

/// When the fixture was made: the stores are read as of then (the activity log's
/// retention and the idempotency records' expiry count from it), not the test's clock.
fn made_at() -> DateTime<Utc> {
    let poll = fixture_json("poll_state.json");
    poll["tenants"]["demo"]["state"]["last_success_at"]
        .as_str()
        .and_then(|at| at.parse().ok())
        .expect("the fixture's last poll")
}

async fn open(
    dir: &Path,
) -> (
    connector::ports::StateStores,
    connector::ports::queue::StageQueues,
) {
    let clock = Arc::new(SystemClock);
    let stores = ::embedded::open_state(dir, Retention::default(), clock.clone())
        .await
        .expect("the JSON state opens");
    let queues = ::embedded::open_stage_queues(dir, clock)
        .await
        .expect("queues open");
    (stores, queues)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_json_state_dir_is_migrated_once_on_open() {
    let dir = copy_fixture();
    let tenant = TenantId::parse("demo").expect("tenant id");
    let at = made_at();
    {
        let (stores, queues) = open(dir.path()).await;

        let config = stores
            .tenants
            .get(&tenant)
            .await
            .expect("get")
            .expect("kept");
        assert_eq!(config.client_id, "demo-client");
        assert_eq!(config.locations.len(), 2);
        let tokens = stores
            .tokens
            .get(&tenant)
            .await
            .expect("get")
            .expect("kept");
        let stored = fixture_json("tokens.json");
        assert_eq!(
            tokens.access_token.expose_secret(),
            stored["tenants"]["demo"]["access_token"]
                .as_str()
                .expect("a token")
        );
        assert_eq!(tokens.version, 1);
        let secret = stores
            .secrets
            .get(&config.client_secret)
            .await
            .expect("get")
            .expect("kept");
        assert_eq!(secret.expose_secret(), "demo-secret");

        let poll = stores.poll_state.get(&tenant).await.expect("get");
        assert_eq!((poll.version, poll.cursor.version), (7, 5));
        assert!(poll.cursor.updated_after.is_some() && poll.lease.is_none());

        let ledger = fixture_json("order_ledger.json");
        let order_ids: Vec<String> = ledger["entries"]
            .as_object()
            .expect("entries")
            .keys()
            .map(|key| key.trim_start_matches("demo#").to_owned())
            .collect();
        let entries = stores
            .order_ledger
            .get_many(&tenant, &order_ids)
            .await
            .expect("get_many");
        assert_eq!(entries.len(), order_ids.len());
        assert!(!entries.is_empty());

        // A completed command is still recognised: its claim answers with the result.
        let records = fixture_json("idempotency.json");
        let (key, record) = records["records"]
            .as_object()
            .expect("records")
            .iter()
            .find(|(_, r)| r["status"] == "COMPLETED")
            .expect("a completed record");
        let claim = stores
            .idempotency
            .claim(
                &IdempotencyKey::new(key.clone()).expect("key"),
                at + TimeDelta::seconds(30),
                at + TimeDelta::days(1),
                at,
            )
            .await
            .expect("claim");
        let expected: Value =
            serde_json::from_str(record["data"].as_str().expect("data")).expect("JSON");
        assert_eq!(claim, ClaimOutcome::AlreadyCompleted(expected));

        // The old per-location marks carried no levels: no per-SKU record is built from
        // them (docs/COMMANDS.md, stock, "After upgrading").
        let record = stores
            .stock_marks
            .get(&tenant, "MUG-001")
            .await
            .expect("get");
        assert_eq!(record, None);

        let logged = fixture_json("activity.json")["tenants"]["demo"]
            .as_array()
            .expect("entries")
            .len();
        let page = stores
            .activity
            .by_tenant(&tenant, TimeRange::default(), PageRequest::first(1000), at)
            .await
            .expect("by_tenant");
        assert_eq!(page.items.len(), logged);

        // The resync request the old `resync` left in the poll queue is still there.
        let depth = queues.poll.depth().await.expect("depth");
        assert_eq!(depth.total(), 1);
        let got = queues
            .poll
            .receive(10, Duration::ZERO, None)
            .await
            .expect("receive");
        assert!(got[0].body.contains("\"resync\""), "{}", got[0].body);
        queues
            .poll
            .change_visibility(&got[0].receipt_handle, Duration::ZERO)
            .await
            .expect("handed back");
    }

    // Every JSON file was renamed aside; none is left to import again.
    for name in [
        "tenants.json",
        "tokens.json",
        "activity.json",
        "secrets.json",
    ] {
        assert!(!dir.path().join(name).exists(), "{name} moved aside");
        assert!(dir.path().join(format!("{name}.migrated")).exists());
    }
    assert!(
        dir.path()
            .join("queues/epages-sync-local-poll.json.migrated")
            .exists()
    );

    // A crash after the import but before the renames: the files are back, and the next
    // open only renames them (nothing doubled).
    for name in ["activity.json", "queues/epages-sync-local-poll.json"] {
        std::fs::copy(
            dir.path().join(format!("{name}.migrated")),
            dir.path().join(name),
        )
        .expect("put back");
    }
    let (stores, queues) = open(dir.path()).await;
    assert_eq!(queues.poll.depth().await.expect("depth").total(), 1);
    let page = stores
        .activity
        .by_tenant(&tenant, TimeRange::default(), PageRequest::first(1000), at)
        .await
        .expect("by_tenant");
    assert_eq!(
        page.items.len(),
        fixture_json("activity.json")["tenants"]["demo"]
            .as_array()
            .map_or(0, Vec::len)
    );
    assert!(!dir.path().join("activity.json").exists());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_json_state_that_cannot_be_read_is_refused_with_what_to_do() {
    let dir = copy_fixture();
    std::fs::write(dir.path().join("order_ledger.json"), "{\"entries\": [1, 2").expect("written");
    let error = ::embedded::open_state(dir.path(), Retention::default(), Arc::new(SystemClock))
        .await
        .err()
        .expect("refused");
    let text = error.to_string();
    for part in ["order_ledger.json", "Nothing was migrated", "move it out"] {
        assert!(text.contains(part), "{part} in: {text}");
    }
    // Nothing changed: every file is where it was, and the database holds none of it.
    assert!(dir.path().join("tenants.json").exists());
    assert!(
        dir.path()
            .join("queues/epages-sync-local-poll.json")
            .exists()
    );
    let rows = ::embedded::inspect::rows_as_text(dir.path()).expect("readable");
    assert!(
        rows.iter().all(|(table, _)| table == "sqlite_sequence"),
        "nothing imported: {rows:?}"
    );
}
