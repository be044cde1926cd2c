//! Token store contract.

use std::sync::Arc;

use chrono::TimeDelta;
use connector::ports::TokenStore;
use connector::ports::tokens::TokenPutOutcome;
use domain::tokens::TenantTokens;
use secrecy::{ExposeSecret, SecretString};

use crate::support::{contracts, now, unique_tenant};

fn tokens(access: &str, refresh: Option<&str>, version: u64) -> TenantTokens {
    TenantTokens {
        access_token: SecretString::from(access.to_owned()),
        access_expires_at: now() + TimeDelta::hours(12),
        refresh_token: refresh.map(|r| SecretString::from(r.to_owned())),
        version,
    }
}

fn refresh_of(tokens: &TenantTokens) -> Option<String> {
    tokens
        .refresh_token
        .as_ref()
        .map(|r| r.expose_secret().to_owned())
}

async fn put_get_stale_and_delete(store: Arc<dyn TokenStore>) {
    let tenant = unique_tenant("k");
    assert!(store.get(&tenant).await.expect("get").is_none());

    let first = tokens("access-1", Some("refresh-1"), 0);
    let TokenPutOutcome::Stored { version } =
        store.put_if_version(&tenant, &first).await.expect("put")
    else {
        panic!("first put stores");
    };
    assert_eq!(version, 1);
    let read = store.get(&tenant).await.expect("get").expect("stored");
    assert_eq!(read.access_token.expose_secret(), "access-1");
    assert_eq!(refresh_of(&read).as_deref(), Some("refresh-1"));
    assert_eq!(read.access_expires_at, first.access_expires_at);
    assert_eq!(read.version, 1);

    // A second "first put" (version 0) is stale and sees the stored tokens.
    match store
        .put_if_version(&tenant, &tokens("access-x", None, 0))
        .await
        .expect("put")
    {
        TokenPutOutcome::Stale { current } => {
            let current = current.expect("current tokens");
            assert_eq!(current.version, 1);
            assert_eq!(current.access_token.expose_secret(), "access-1");
        }
        TokenPutOutcome::Stored { .. } => panic!("version 0 must not overwrite"),
    }

    // Client-credentials tokens have no refresh token.
    let TokenPutOutcome::Stored { version } = store
        .put_if_version(&tenant, &tokens("access-2", None, 1))
        .await
        .expect("put")
    else {
        panic!("current version stores");
    };
    assert_eq!(version, 2);
    assert_eq!(
        refresh_of(&store.get(&tenant).await.expect("get").expect("stored")),
        None
    );

    store.delete(&tenant).await.expect("delete");
    assert!(store.get(&tenant).await.expect("get").is_none());
    store.delete(&tenant).await.expect("delete is idempotent");
    match store
        .put_if_version(&tenant, &tokens("access-3", None, 2))
        .await
        .expect("put")
    {
        TokenPutOutcome::Stale { current } => assert!(current.is_none()),
        TokenPutOutcome::Stored { .. } => panic!("deleted tokens have no version 2"),
    }
}

/// Sixteen workers refresh at once, each from what it read, rotating the refresh token;
/// losers re-read and retry. Every rotation lands exactly once, in a chain, and the stored
/// refresh token is the last one issued: no rotated token is lost.
async fn concurrent_refreshes_never_lose_a_rotation(store: Arc<dyn TokenStore>) {
    let tenant = unique_tenant("k");
    store
        .put_if_version(&tenant, &tokens("access-0", Some("refresh-0"), 0))
        .await
        .expect("seed");
    let workers = (0..16).map(|worker| {
        let (store, tenant) = (store.clone(), tenant.clone());
        tokio::spawn(async move {
            loop {
                let current = store.get(&tenant).await.expect("get").expect("seeded");
                let rotated = format!("refresh-{}-w{worker}", current.version);
                let next = TenantTokens {
                    refresh_token: Some(SecretString::from(rotated.clone())),
                    ..tokens(&format!("access-w{worker}"), None, current.version)
                };
                match store.put_if_version(&tenant, &next).await.expect("put") {
                    TokenPutOutcome::Stored { version } => {
                        return (refresh_of(&current), rotated, version);
                    }
                    TokenPutOutcome::Stale { .. } => continue,
                }
            }
        })
    });
    let mut rotations: Vec<_> = futures::future::join_all(workers)
        .await
        .into_iter()
        .map(|r| r.expect("task"))
        .collect();
    rotations.sort_by_key(|(_, _, version)| *version);
    let versions: Vec<u64> = rotations.iter().map(|(_, _, v)| *v).collect();
    assert_eq!(
        versions,
        (2..=17).collect::<Vec<u64>>(),
        "each refresh stored once"
    );
    // Each winner started from the token the previous winner stored.
    let mut expected_parent = Some("refresh-0".to_owned());
    for (parent, rotated, _) in &rotations {
        assert_eq!(parent, &expected_parent);
        expected_parent = Some(rotated.clone());
    }
    let stored = store.get(&tenant).await.expect("get").expect("stored");
    assert_eq!(refresh_of(&stored), expected_parent);
    assert_eq!(stored.version, 17);
}

contracts!(
    embedded: crate::support::embedded::tokens,
    aws: crate::support::aws::tokens;
    put_get_stale_and_delete,
    concurrent_refreshes_never_lose_a_rotation,
);

#[tokio::test]
async fn embedded_tokens_survive_reopen_and_the_file_is_private() {
    use ::embedded::EmbeddedTokenStore;
    let dir = crate::support::embedded::state_dir();
    let tenant = unique_tenant("k");
    {
        let store = EmbeddedTokenStore::open(dir.path()).await.expect("opens");
        store
            .put_if_version(&tenant, &tokens("a", Some("r"), 0))
            .await
            .expect("put");
    }
    let store = EmbeddedTokenStore::open(dir.path()).await.expect("reopens");
    let read = store.get(&tenant).await.expect("get").expect("kept");
    assert_eq!(refresh_of(&read).as_deref(), Some("r"));
    #[cfg(unix)]
    {
        // The database and SQLite's write-ahead log and shared-memory files beside it.
        use std::os::unix::fs::PermissionsExt;
        for suffix in ["", "-wal", "-shm"] {
            let name = format!("{}{suffix}", ::embedded::DATABASE_FILE);
            let mode = std::fs::metadata(dir.path().join(&name))
                .expect("state file")
                .permissions()
                .mode();
            assert_eq!(mode & 0o077, 0, "{name} is readable by its owner only");
        }
    }
    let debug = format!("{read:?}");
    assert!(
        !debug.contains("\"a\"") && !debug.contains("\"r\""),
        "Debug hides tokens: {debug}"
    );
}
