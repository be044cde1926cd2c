//! `ShopClients` / `StoredTokens` against the sandbox, on both state backends.

use std::sync::Arc;

use beyond::Disposition;
use connector::auth::ShopClients;
use connector::ports::activity::TimeRange;
use connector::ports::{Clock, PageRequest};
use domain::activity::ActivityOutcome;
use domain::tenant::AuthMode;
use domain::tokens::TenantTokens;
use secrecy::{ExposeSecret, SecretString};

use super::support::{
    Backend, Kind, both, expire_tokens, fast_http, install_tokens, sandbox_with_shop, tenant,
    token_calls,
};

both! {
    client_credentials_token_is_cached_and_refreshed_on_expiry => cached_then_refreshed,
    authorization_code_refresh_stores_the_rotated_token => refresh_rotation_stored,
    concurrent_refreshes_keep_exactly_one_rotation => concurrent_refresh,
    a_401_refreshes_once_and_retries => unauthorized_refreshes_once,
    a_rejected_refresh_token_is_permanent_and_logged => rejected_refresh_token,
    a_changed_shop_or_app_rebuilds_the_cached_client => rebuilt_on_change,
}

fn clients(backend: &Backend) -> ShopClients {
    ShopClients::new(&backend.stores, fast_http(), backend.dyn_clock())
}

async fn cached_then_refreshed(kind: Kind) {
    let backend = Backend::open(kind).await;
    let sandbox = sandbox_with_shop(None).await;
    let tenant = tenant(&backend, &sandbox, AuthMode::ClientCredentials).await;
    let clients = clients(&backend);

    for _ in 0..5 {
        let client = clients.client_for(&tenant).expect("client builds");
        client.list_signers().await.expect("API call succeeds");
    }
    assert_eq!(token_calls(&sandbox), 1, "one token for many calls");
    assert_eq!(clients.counts().refreshes, 1);
    let stored = backend
        .stores
        .tokens
        .get(&tenant.id)
        .await
        .expect("reads")
        .expect("stored");
    assert!(stored.refresh_token.is_none());

    // A second process (fresh cache) reuses the stored token.
    let other = self::clients(&backend);
    other
        .client_for(&tenant)
        .expect("builds")
        .list_signers()
        .await
        .expect("succeeds");
    assert_eq!(token_calls(&sandbox), 1, "the stored token is shared");
    assert_eq!(other.counts().adopted, 1);

    expire_tokens(&backend, &sandbox);
    let client = clients.client_for(&tenant).expect("client builds");
    client
        .list_signers()
        .await
        .expect("API call after expiry succeeds");
    client.list_signers().await.expect("and again");
    assert_eq!(token_calls(&sandbox), 2, "one refresh after expiry");
    let after = backend
        .stores
        .tokens
        .get(&tenant.id)
        .await
        .expect("reads")
        .expect("stored");
    assert_eq!(after.version, stored.version + 1);
}

async fn refresh_rotation_stored(kind: Kind) {
    let backend = Backend::open(kind).await;
    let sandbox = sandbox_with_shop(None).await;
    let tenant = tenant(&backend, &sandbox, AuthMode::AuthorizationCode).await;
    let installed = install_tokens(&backend, &sandbox, &tenant.id).await;
    let clients = clients(&backend);

    let client = clients.client_for(&tenant).expect("client builds");
    client
        .list_signers()
        .await
        .expect("uses the installed token");
    assert_eq!(
        clients.counts().refreshes,
        0,
        "the installed token is fresh"
    );

    let mut previous = installed;
    for round in 0..3u64 {
        expire_tokens(&backend, &sandbox);
        client.list_signers().await.expect("refreshes and succeeds");
        let stored = backend
            .stores
            .tokens
            .get(&tenant.id)
            .await
            .expect("reads")
            .expect("stored");
        let rotated = stored
            .refresh_token
            .clone()
            .expect("a refresh token is kept");
        assert_ne!(
            rotated.expose_secret(),
            previous.expose_secret(),
            "rotated in round {round}"
        );
        assert_eq!(stored.version, 2 + round);
        previous = rotated;
    }
    assert_eq!(clients.counts().refreshes, 3);
}

async fn concurrent_refresh(kind: Kind) {
    let backend = Backend::open(kind).await;
    let sandbox = sandbox_with_shop(None).await;
    let tenant = tenant(&backend, &sandbox, AuthMode::AuthorizationCode).await;
    install_tokens(&backend, &sandbox, &tenant.id).await;
    expire_tokens(&backend, &sandbox);

    // Three "processes" (separate caches and mutexes), eight tasks each, all at once.
    let processes: Vec<Arc<ShopClients>> = (0..3).map(|_| Arc::new(clients(&backend))).collect();
    let mut tasks = Vec::new();
    for process in &processes {
        for _ in 0..8 {
            let process = process.clone();
            let tenant = tenant.clone();
            tasks.push(tokio::spawn(async move {
                let tokens = process.tokens_for(&tenant).expect("builds");
                tokens.current_token().await
            }));
        }
    }
    let mut tokens = Vec::new();
    for task in tasks {
        let token = task
            .await
            .expect("task ran")
            .expect("every task gets a token");
        tokens.push(token.expose_secret().to_owned());
    }
    tokens.dedup();
    assert_eq!(tokens.len(), 1, "everyone uses the one refreshed token");
    let refreshes: u64 = processes.iter().map(|p| p.counts().refreshes).sum();
    assert_eq!(refreshes, 1, "exactly one rotation");

    let stored = backend
        .stores
        .tokens
        .get(&tenant.id)
        .await
        .expect("reads")
        .expect("stored");
    assert_eq!(stored.version, 2, "one write after the install");
    assert_eq!(stored.access_token.expose_secret(), tokens[0]);

    // The stored refresh token is the live one: the next refresh works.
    expire_tokens(&backend, &sandbox);
    let client = processes[0].client_for(&tenant).expect("builds");
    client
        .list_signers()
        .await
        .expect("the kept refresh token still refreshes");
}

async fn unauthorized_refreshes_once(kind: Kind) {
    let backend = Backend::open(kind).await;
    let sandbox = sandbox_with_shop(None).await;
    for mode in [AuthMode::ClientCredentials, AuthMode::AuthorizationCode] {
        let tenant = tenant(&backend, &sandbox, mode).await;
        if mode == AuthMode::AuthorizationCode {
            install_tokens(&backend, &sandbox, &tenant.id).await;
        }
        let clients = clients(&backend);
        let client = clients.client_for(&tenant).expect("builds");
        client.list_signers().await.expect("first call");
        let before = token_calls(&sandbox);
        // Beyond revokes the token early; our clock still thinks it is fresh.
        sandbox
            .expire_access_tokens(super::support::SHOP)
            .expect("expires");
        client
            .list_signers()
            .await
            .expect("the 401 is answered by one refresh and a retry");
        assert_eq!(
            token_calls(&sandbox),
            before + 1,
            "{mode:?}: exactly one refresh"
        );
        client.list_signers().await.expect("the new token is kept");
        assert_eq!(token_calls(&sandbox), before + 1);
    }
}

async fn rejected_refresh_token(kind: Kind) {
    let backend = Backend::open(kind).await;
    let sandbox = sandbox_with_shop(None).await;
    let tenant = tenant(&backend, &sandbox, AuthMode::AuthorizationCode).await;
    let expired = TenantTokens {
        access_token: SecretString::from("stale-access".to_owned()),
        access_expires_at: backend.clock.now(),
        refresh_token: Some(SecretString::from("revoked-refresh".to_owned())),
        version: 0,
    };
    backend
        .stores
        .tokens
        .put_if_version(&tenant.id, &expired)
        .await
        .expect("stored");
    let clients = clients(&backend);
    let client = clients.client_for(&tenant).expect("builds");
    let error = client
        .list_signers()
        .await
        .expect_err("the refresh is refused");
    assert_eq!(error.disposition(), Disposition::Reject, "{error}");
    let text = crate::auth::report(&error);
    assert!(text.contains("re-install the app"), "{text}");

    let log = backend
        .stores
        .activity
        .by_tenant(
            &tenant.id,
            TimeRange::default(),
            PageRequest::first(50),
            backend.clock.now(),
        )
        .await
        .expect("activity reads");
    assert_eq!(log.items.len(), 1, "one activity entry");
    let entry = &log.items[0];
    assert_eq!(entry.outcome, ActivityOutcome::Failed);
    assert!(
        entry
            .error
            .as_deref()
            .is_some_and(|e| e.contains("re-install")),
        "{entry:?}"
    );

    // A tenant without any tokens is told the same.
    let fresh = super::support::tenant(&backend, &sandbox, AuthMode::AuthorizationCode).await;
    let error = clients
        .client_for(&fresh)
        .expect("builds")
        .list_signers()
        .await
        .expect_err("no tokens");
    assert_eq!(error.disposition(), Disposition::Reject);
}

async fn rebuilt_on_change(kind: Kind) {
    let backend = Backend::open(kind).await;
    let sandbox = sandbox_with_shop(None).await;
    let tenant = tenant(&backend, &sandbox, AuthMode::ClientCredentials).await;
    let clients = clients(&backend);
    let first = clients.tokens_for(&tenant).expect("builds");
    let again = clients.tokens_for(&tenant).expect("cached");
    assert!(
        Arc::ptr_eq(&first, &again),
        "a warm process reuses the client"
    );

    let mut moved = tenant.clone();
    moved.api_url = url::Url::parse(&format!("{}/v2", tenant.api_url)).expect("url");
    let client = clients.client_for(&moved).expect("rebuilt");
    assert_eq!(client.api_url(), &moved.api_url);
    assert!(!Arc::ptr_eq(
        &first,
        &clients.tokens_for(&moved).expect("cached")
    ));

    let mut other_app = tenant.clone();
    other_app.client_id = "another-client".to_owned();
    let rebuilt = clients.tokens_for(&other_app).expect("rebuilt");
    assert!(!Arc::ptr_eq(&first, &rebuilt));
    clients.forget(&tenant.id);
    assert!(!Arc::ptr_eq(
        &rebuilt,
        &clients.tokens_for(&other_app).expect("built again")
    ));
}
