//! No secret or token appears in any log line: a full onboarding, install, refresh and
//! webhook run is traced at TRACE into a buffer, which must contain none of them.

use connector::auth::ShopClients;
use connector::epages_webhook::{StoredSigner, signer_secret_ref};
use domain::tenant::AuthMode;
use secrecy::{ExposeSecret, SecretString};

use super::install::{callback_query, function_url_request, harness, shop_tenant};
use crate::support::log_buffer::LogBuffer;

use super::support::{CLIENT_SECRET, Kind, expire_tokens, fast_http, tenant};

// One thread, so every task (sandbox, receiver, clients) logs into this subscriber.
#[tokio::test(flavor = "current_thread")]
async fn no_secret_or_token_is_ever_logged() {
    let buffer = LogBuffer::default();
    let writer = buffer.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let h = harness(Kind::Embedded).await;
    let mut secrets: Vec<String> = vec![CLIENT_SECRET.to_owned()];

    // Custom app: onboarding and API calls.
    let custom = tenant(&h.backend, &h.sandbox, AuthMode::ClientCredentials).await;
    let clients = ShopClients::new(&h.backend.stores, fast_http(), h.backend.dyn_clock());
    let client = clients.client_for(&custom).expect("builds");
    client.list_signers().await.expect("calls");
    let tokens = h
        .backend
        .stores
        .tokens
        .get(&custom.id)
        .await
        .expect("reads")
        .expect("stored");
    secrets.push(tokens.access_token.expose_secret().to_owned());

    // Public app: install (code, tokens, signer), refresh, a webhook.
    let query = callback_query(&h.sandbox, CLIENT_SECRET, |_| {});
    for (name, value) in url::form_urlencoded::parse(query.as_bytes()) {
        if name == "code" || name == "signature" {
            secrets.push(value.into_owned());
        }
    }
    let response = h
        .installer
        .handle_function_url(&function_url_request(query))
        .await;
    assert_eq!(response.status_code, 302);
    let id = shop_tenant(&h.sandbox);
    let installed = h
        .backend
        .stores
        .tokens
        .get(&id)
        .await
        .expect("reads")
        .expect("stored");
    secrets.push(installed.access_token.expose_secret().to_owned());
    if let Some(refresh) = &installed.refresh_token {
        secrets.push(refresh.expose_secret().to_owned());
    }
    let signer = h
        .backend
        .stores
        .secrets
        .get(&signer_secret_ref(&h.backend.naming, &id))
        .await
        .expect("reads")
        .and_then(|s| StoredSigner::from_secret(&s))
        .expect("signer stored");
    secrets.push(signer.shared_secret.expose_secret().to_owned());

    let public = h
        .backend
        .stores
        .tenants
        .get(&id)
        .await
        .expect("reads")
        .expect("exists");
    expire_tokens(&h.backend, &h.sandbox);
    clients
        .client_for(&public)
        .expect("builds")
        .list_signers()
        .await
        .expect("refreshes");
    let refreshed = h
        .backend
        .stores
        .tokens
        .get(&id)
        .await
        .expect("reads")
        .expect("stored");
    secrets.push(refreshed.access_token.expose_secret().to_owned());
    if let Some(refresh) = &refreshed.refresh_token {
        secrets.push(refresh.expose_secret().to_owned());
    }
    // A refused refresh logs its error chain too.
    let mut broken = refreshed.clone();
    broken.refresh_token = Some(SecretString::from("refused-refresh-token-xyz".to_owned()));
    broken.access_expires_at = chrono::Utc::now() - chrono::TimeDelta::hours(1);
    h.backend
        .stores
        .tokens
        .put_if_version(&id, &broken)
        .await
        .expect("stored");
    secrets.push("refused-refresh-token-xyz".to_owned());
    let fresh_clients = ShopClients::new(&h.backend.stores, fast_http(), h.backend.dyn_clock());
    let _ = fresh_clients
        .client_for(&public)
        .expect("builds")
        .list_signers()
        .await;

    let log = buffer.text();
    assert!(log.contains("app installed"), "the run was traced");
    assert!(log.lines().count() > 20, "TRACE output was captured");
    for secret in &secrets {
        assert!(secret.len() >= 8, "a real secret");
        if let Some(line) = log.lines().find(|line| line.contains(secret.as_str())) {
            panic!("a secret appears in the log: {line}");
        }
    }
}
