//! The public-app install callback and the ePages webhook receiver, end to end against the
//! sandbox, on both state backends.

use std::sync::Arc;
use std::time::Duration;

use aws_adapters::provision::QueueSpec;
use aws_lambda_events::event::lambda_function_urls::LambdaFunctionUrlRequest;
use connector::auth::ShopClients;
use connector::epages_webhook::{
    Outcome, ShopInstallationProbe, WebhookConfig, WebhookDelivery, WebhookReceiver, callback_uri,
    sign, signer_secret_ref,
};
use connector::install::{HostPolicy, InstallConfig, Installer, install_signature, tenant_id_for};
use connector::pipeline::poll_request::{PollRequest, PollTrigger};
use connector::ports::{Clock, MessageQueue};
use domain::tenant::{AuthMode, TenantId};
use sandbox::SandboxHandle;
use secrecy::SecretString;

use super::support::{
    Backend, CLIENT_ID, CLIENT_SECRET, Kind, SHOP, both, fast_http, sandbox_with_shop,
};
use crate::support::aws::QueuePairFixture;

both! {
    install_creates_the_tenant_tokens_signer_and_subscriptions_and_reinstall_keeps_config => install_and_reinstall,
    forged_or_foreign_callbacks_are_refused_and_store_nothing => refusals,
    a_sandbox_order_webhook_becomes_a_poll_request => webhook_to_poll,
    webhook_signatures_tenants_and_dedup_are_checked => webhook_checks,
    app_uninstalled_pauses_the_tenant_and_deletes_its_tokens => uninstall,
}

/// A running receiver: the webhook handler behind a loopback HTTP server.
pub struct Harness {
    pub backend: Backend,
    pub sandbox: SandboxHandle,
    pub installer: Installer,
    pub receiver: WebhookReceiver,
    pub queue: QueuePairFixture,
}

pub async fn harness(kind: Kind) -> Harness {
    let backend = Backend::open(kind).await;
    let sandbox = sandbox_with_shop(None).await;
    let queue = match kind {
        Kind::Embedded => crate::support::embedded::queue_pair(QueueSpec::standard("poll")).await,
        Kind::Aws => crate::support::aws::queue_pair(QueueSpec::standard("poll")).await,
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("binds");
    let port = listener.local_addr().expect("addr").port();
    let webhook_url = url::Url::parse(&format!("http://127.0.0.1:{port}/hook")).expect("url");
    let app_secret = backend.naming.app_client_secret("public");
    backend
        .stores
        .secrets
        .put(&app_secret, SecretString::from(CLIENT_SECRET.to_owned()))
        .await
        .expect("app secret stored");
    let installer = Installer {
        config: InstallConfig {
            client_id: CLIENT_ID.to_owned(),
            client_secret: app_secret,
            secrets: backend.naming.clone(),
            hosts: HostPolicy::default().allowing_loopback(),
            webhook_url: webhook_url.clone(),
            http: fast_http(),
        },
        stores: backend.stores.clone(),
        clock: backend.dyn_clock(),
    };
    let receiver = WebhookReceiver {
        config: WebhookConfig {
            webhook_url,
            secrets: backend.naming.clone(),
            poll_window: Duration::from_secs(30),
            poll_skew: Duration::from_secs(30),
        },
        stores: backend.stores.clone(),
        poll_queue: queue.queue.clone(),
        clock: backend.dyn_clock(),
        // As deployed: an uninstall is confirmed with the shop (tests that play a genuine
        // uninstall first uninstall the app in the sandbox, as the merchant would).
        installation: Some(Arc::new(ShopInstallationProbe::new(Arc::new(
            ShopClients::new(&backend.stores, fast_http(), backend.dyn_clock()),
        )))),
    };
    let served = receiver.clone();
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(
            move |uri: http::Uri, headers: http::HeaderMap, body: String| {
                let served = served.clone();
                async move {
                    let delivery = connector::epages_webhook::delivery_of(
                        &headers,
                        uri.query().map(str::to_owned),
                        body,
                    );
                    match served.handle(&delivery).await {
                        Ok(_) => http::StatusCode::OK,
                        Err(error) => http::StatusCode::from_u16(error.status())
                            .unwrap_or(http::StatusCode::INTERNAL_SERVER_ERROR),
                    }
                }
            },
        ),
    );
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    Harness {
        backend,
        sandbox,
        installer,
        receiver,
        queue,
    }
}

/// The query string ePages would send for a fresh code of the sandbox shop.
pub fn callback_query(
    sandbox: &SandboxHandle,
    secret: &str,
    tamper: impl FnOnce(&mut Vec<(String, String)>),
) -> String {
    let code = sandbox.issue_authorization_code(SHOP).expect("code");
    let api_url = sandbox.shop_api_url(SHOP);
    let token_url = format!("{api_url}/oauth/token");
    let signature = install_signature(&SecretString::from(secret.to_owned()), &code, &token_url);
    let mut params = vec![
        ("code".to_owned(), code),
        ("signature".to_owned(), signature),
        (
            "return_url".to_owned(),
            format!("{}/cockpit/apps", sandbox.base_url()),
        ),
        ("api_url".to_owned(), api_url),
        ("access_token_url".to_owned(), token_url),
    ];
    tamper(&mut params);
    url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(params)
        .finish()
}

pub fn function_url_request(query: String) -> LambdaFunctionUrlRequest {
    let mut request = LambdaFunctionUrlRequest::default();
    request.raw_query_string = Some(query);
    request
}

pub fn shop_tenant(sandbox: &SandboxHandle) -> TenantId {
    tenant_id_for(&url::Url::parse(&sandbox.shop_api_url(SHOP)).expect("url")).expect("id")
}

async fn install_and_reinstall(kind: Kind) {
    let h = harness(kind).await;
    let query = callback_query(&h.sandbox, CLIENT_SECRET, |_| {});
    let response = h
        .installer
        .handle_function_url(&function_url_request(query))
        .await;
    assert_eq!(response.status_code, 302, "{:?}", response.body);
    let location = response
        .headers
        .get("location")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    assert!(location.ends_with("/cockpit/apps"), "{location}");

    let id = shop_tenant(&h.sandbox);
    let tenant = h
        .backend
        .stores
        .tenants
        .get(&id)
        .await
        .expect("reads")
        .expect("created");
    assert_eq!(tenant.auth_mode, AuthMode::AuthorizationCode);
    let tokens = h
        .backend
        .stores
        .tokens
        .get(&id)
        .await
        .expect("reads")
        .expect("stored");
    assert!(tokens.refresh_token.is_some());
    let signer = h
        .backend
        .stores
        .secrets
        .get(&signer_secret_ref(&h.backend.naming, &id))
        .await
        .expect("reads");
    assert!(signer.is_some(), "the signer secret is stored");

    let clients = ShopClients::new(&h.backend.stores, fast_http(), h.backend.dyn_clock());
    let client = clients.client_for(&tenant).expect("builds");
    let subscriptions = client.list_subscriptions().await.expect("lists");
    let callback = callback_uri(&h.receiver.config.webhook_url, &id).to_string();
    let mut events: Vec<String> = subscriptions
        .iter()
        .filter(|s| s.callback_uri.as_deref() == Some(callback.as_str()))
        .flat_map(|s| s.event_types.iter().map(|e| e.to_string()))
        .collect();
    events.sort();
    assert_eq!(
        events,
        ["app.uninstalled", "order.created", "order.updated"]
    );
    assert_eq!(client.list_signers().await.expect("lists").len(), 1);

    // The merchant changes the configuration; a reinstall keeps it.
    let mut changed = tenant.clone();
    changed.flows.stock = false;
    changed.include_test_orders = true;
    let connector::ports::tenants::UpdateOutcome::Updated(changed) = h
        .backend
        .stores
        .tenants
        .update(changed, h.backend.clock.now())
        .await
        .expect("updates")
    else {
        panic!("update failed");
    };
    // The re-install comes later than the change (the connector's clock orders them; no
    // wait or margin is under test).
    h.backend.clock.advance(chrono::TimeDelta::seconds(1));
    let query = callback_query(&h.sandbox, CLIENT_SECRET, |_| {});
    let response = h
        .installer
        .handle_function_url(&function_url_request(query))
        .await;
    assert_eq!(response.status_code, 302, "{:?}", response.body);
    let after = h
        .backend
        .stores
        .tenants
        .get(&id)
        .await
        .expect("reads")
        .expect("kept");
    // The install time moves on (and with it the version); the rest is kept.
    assert!(after.installed_at > changed.installed_at);
    let mut expected = changed.clone();
    expected.installed_at = after.installed_at;
    expected.version = after.version;
    expected.updated_at = after.updated_at;
    assert_eq!(after, expected, "a reinstall keeps the configuration");
    let again = h
        .backend
        .stores
        .tokens
        .get(&id)
        .await
        .expect("reads")
        .expect("stored");
    assert!(
        again.version > tokens.version,
        "the new code's tokens are stored"
    );
    assert_eq!(
        client.list_signers().await.expect("lists").len(),
        1,
        "no second signer"
    );
    assert_eq!(
        client.list_subscriptions().await.expect("lists").len(),
        subscriptions.len()
    );
}

async fn refusals(kind: Kind) {
    let h = harness(kind).await;
    let id = shop_tenant(&h.sandbox);
    let set = |name: &'static str, value: String| {
        move |params: &mut Vec<(String, String)>| {
            for (key, current) in params.iter_mut() {
                if key == name {
                    *current = value.clone();
                }
            }
        }
    };
    let drop_param = |name: &'static str| {
        move |params: &mut Vec<(String, String)>| params.retain(|(k, _)| k != name)
    };
    let cases: Vec<(&str, String, i64)> = vec![
        (
            "tampered",
            callback_query(
                &h.sandbox,
                CLIENT_SECRET,
                set("signature", "AAAAAAAAAAAAAAAAAAAAAAAAAAA=".into()),
            ),
            401,
        ),
        (
            "missing signature",
            callback_query(&h.sandbox, CLIENT_SECRET, drop_param("signature")),
            400,
        ),
        (
            "wrong key",
            callback_query(&h.sandbox, "not-the-app-secret", |_| {}),
            401,
        ),
        (
            "missing code",
            callback_query(&h.sandbox, CLIENT_SECRET, drop_param("code")),
            400,
        ),
        (
            "foreign api host",
            callback_query(
                &h.sandbox,
                CLIENT_SECRET,
                set("api_url", "https://evil.example.com/api".into()),
            ),
            400,
        ),
        (
            "foreign token host",
            callback_query(
                &h.sandbox,
                CLIENT_SECRET,
                set(
                    "access_token_url",
                    "https://evil.example.com/oauth/token".into(),
                ),
            ),
            400,
        ),
        (
            "foreign return host",
            callback_query(
                &h.sandbox,
                CLIENT_SECRET,
                set("return_url", "https://evil.example.com/".into()),
            ),
            400,
        ),
    ];
    for (name, query, status) in cases {
        let response = h
            .installer
            .handle_function_url(&function_url_request(query))
            .await;
        // A missing signature is a missing parameter (400), a wrong one 401.
        assert_eq!(response.status_code, status, "{name}: {:?}", response.body);
    }
    // Without loopback allowed, the sandbox shop itself is a foreign host.
    let mut strict = h.installer.clone();
    strict.config.hosts = HostPolicy::default();
    let response = strict
        .handle_function_url(&function_url_request(callback_query(
            &h.sandbox,
            CLIENT_SECRET,
            |_| {},
        )))
        .await;
    assert_eq!(response.status_code, 400);

    assert!(
        h.backend
            .stores
            .tenants
            .get(&id)
            .await
            .expect("reads")
            .is_none(),
        "no tenant stored"
    );
    assert!(
        h.backend
            .stores
            .tokens
            .get(&id)
            .await
            .expect("reads")
            .is_none(),
        "no tokens stored"
    );
    assert_eq!(
        super::support::token_calls(&h.sandbox),
        0,
        "no credentials were sent anywhere"
    );
}

pub async fn install(h: &Harness) -> TenantId {
    let query = callback_query(&h.sandbox, CLIENT_SECRET, |_| {});
    let response = h
        .installer
        .handle_function_url(&function_url_request(query))
        .await;
    assert_eq!(response.status_code, 302, "{:?}", response.body);
    shop_tenant(&h.sandbox)
}

pub(crate) async fn receive_polls(queue: &Arc<dyn MessageQueue>, want: usize) -> Vec<PollRequest> {
    let mut polls = Vec::new();
    for _ in 0..20 {
        let messages = queue
            .receive(10, Duration::from_secs(1), Some(Duration::from_secs(30)))
            .await
            .expect("receives");
        for message in messages {
            polls.push(PollRequest::parse(&message.body).expect("a poll request"));
        }
        if polls.len() >= want {
            break;
        }
    }
    polls
}

async fn webhook_to_poll(kind: Kind) {
    let h = harness(kind).await;
    let id = install(&h).await;
    let product: sandbox::SeedProduct = serde_json::from_value(serde_json::json!({
        "sku": "MUG-001", "name": "Coffee Mug", "price": 12.90, "stock": 25
    }))
    .expect("product");
    h.sandbox
        .add_product(SHOP, &product)
        .expect("product added");
    let order: sandbox::SeedOrder = serde_json::from_value(serde_json::json!({
        "lines": [ { "sku": "MUG-001", "quantity": 1 } ]
    }))
    .expect("order");
    let placed = h.sandbox.create_order(SHOP, &order).expect("order created");

    let polls = receive_polls(&h.queue.queue, 1).await;
    assert!(!polls.is_empty(), "the delivery became a poll request");
    assert_eq!(polls[0].tenant, id);
    assert_eq!(
        polls[0].trigger,
        PollTrigger::Order {
            order_id: placed.id
        },
        "a targeted read of the order the webhook names"
    );
    // The sandbox journals a delivery once the receiver's answer is read.
    let mut deliveries = Vec::new();
    for _ in 0..50 {
        deliveries = h.sandbox.journal(&sandbox::JournalFilter {
            webhooks: Some(true),
            ..sandbox::JournalFilter::default()
        });
        if deliveries.iter().any(|d| d.outcome.status().is_some()) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(
        deliveries.iter().any(|d| d.outcome.status() == Some(200)),
        "the receiver accepted the signed delivery: {deliveries:?}"
    );
}

/// The start of the 30-second webhook window `at` lies in, plus a second.
fn window_start(at: chrono::DateTime<chrono::Utc>) -> chrono::DateTime<chrono::Utc> {
    let start = at.timestamp().div_euclid(30) * 30 + 1;
    chrono::DateTime::from_timestamp(start, 0).expect("a time")
}

/// A delivery signed with the tenant's stored signer secret.
pub async fn signed(h: &Harness, tenant: &TenantId, event: &str, body: &str) -> WebhookDelivery {
    let secret = h
        .backend
        .stores
        .secrets
        .get(&signer_secret_ref(&h.backend.naming, tenant))
        .await
        .expect("reads")
        .and_then(|s| connector::epages_webhook::StoredSigner::from_secret(&s))
        .expect("signer stored");
    let uri = callback_uri(&h.receiver.config.webhook_url, tenant);
    WebhookDelivery {
        query: uri.query().map(str::to_owned),
        signatures: vec![
            "c29tZXRoaW5nIGVsc2U=".to_owned(),
            sign(&secret.shared_secret, uri.as_str(), body),
        ],
        event_type: Some(event.to_owned()),
        body: body.to_owned(),
    }
}

async fn webhook_checks(kind: Kind) {
    let h = harness(kind).await;
    let id = install(&h).await;
    let body = r#"{"_id":"0b5a2c4e-0000-4000-8000-000000000001","_payloadType":"Order"}"#;
    let good = signed(&h, &id, "order.created", body).await;

    let mut tampered = good.clone();
    tampered.body = body.replace("0001", "0002");
    assert_eq!(
        h.receiver
            .handle(&tampered)
            .await
            .expect_err("tampered")
            .status(),
        401
    );
    let mut unsigned = good.clone();
    unsigned.signatures.clear();
    assert_eq!(
        h.receiver
            .handle(&unsigned)
            .await
            .expect_err("unsigned")
            .status(),
        401
    );
    let mut wrong_key = good.clone();
    wrong_key.signatures = vec![sign(&SecretString::from("guess".to_owned()), "x", body)];
    assert_eq!(
        h.receiver
            .handle(&wrong_key)
            .await
            .expect_err("wrong key")
            .status(),
        401
    );
    // An unknown tenant and a missing tenant answer like a bad signature.
    let mut unknown = good.clone();
    unknown.query = Some("tenant=nobody-here".to_owned());
    assert_eq!(
        h.receiver
            .handle(&unknown)
            .await
            .expect_err("unknown")
            .status(),
        401
    );
    let mut no_tenant = good.clone();
    no_tenant.query = None;
    assert_eq!(
        h.receiver
            .handle(&no_tenant)
            .await
            .expect_err("no tenant")
            .status(),
        401
    );
    assert!(
        receive_polls(&h.queue.queue, 0).await.is_empty(),
        "refused deliveries enqueue nothing"
    );

    // A fake clock is right below: the windows are counted on the receiver's clock, and
    // the test needs to be inside one window, then in the next (no wait is under test).
    h.backend.clock.set(window_start(h.backend.clock.now()));
    // Within one window, per order: one read now, one at the window's end, the rest
    // deduplicated.
    assert_eq!(
        h.receiver.handle(&good).await.expect("first"),
        Outcome::OrderReadRequested
    );
    let order_body = |n: u32, at: u32| {
        format!(
            r#"{{"_id":"0b5a2c4e-0000-4000-8000-{n:012}","_payloadType":"order","updatedAt":"2026-01-01T00:00:{at:02}"}}"#
        )
    };
    let updated = signed(&h, &id, "order.updated", &order_body(1, 1)).await;
    assert_eq!(
        h.receiver.handle(&updated).await.expect("second"),
        Outcome::OrderReadScheduled
    );
    for at in 2..7 {
        let more = signed(&h, &id, "order.updated", &order_body(1, at)).await;
        assert_eq!(
            h.receiver.handle(&more).await.expect("more"),
            Outcome::Deduplicated
        );
    }
    // The same signed delivery again is a no-op.
    assert_eq!(
        h.receiver.handle(&updated).await.expect("again"),
        Outcome::Duplicate
    );
    // A body naming no order (or no UUID): one catch-up poll per window.
    let unnamed = |n: u32| format!(r#"{{"_id":"order-{n}","_payloadType":"order"}}"#);
    let first_unnamed = signed(&h, &id, "order.created", &unnamed(1)).await;
    assert_eq!(
        h.receiver.handle(&first_unnamed).await.expect("unnamed"),
        Outcome::PollScheduled
    );
    let second_unnamed = signed(&h, &id, "order.created", &unnamed(2)).await;
    assert_eq!(
        h.receiver.handle(&second_unnamed).await.expect("unnamed"),
        Outcome::Deduplicated
    );
    // A burst of many orders: at most the tenant's budget of immediate reads, then the
    // (already requested) catch-up poll covers the rest.
    let mut immediate = 1;
    for n in 100..140 {
        let burst = signed(&h, &id, "order.created", &order_body(n, 0)).await;
        match h.receiver.handle(&burst).await.expect("burst") {
            Outcome::OrderReadRequested => immediate += 1,
            Outcome::Deduplicated => {}
            other => panic!("{other:?}"),
        }
    }
    let budget = usize::try_from(connector::epages_webhook::ORDER_READS_PER_WINDOW).expect("small");
    assert!(
        immediate <= budget,
        "{immediate} immediate reads in one window"
    );
    assert!(immediate > budget / 2, "only {immediate} immediate reads");
    // The delayed trailing read and catch-up poll are not visible yet.
    let queued = receive_polls(&h.queue.queue, immediate).await;
    let reads = queued
        .iter()
        .filter(|poll| matches!(poll.trigger, PollTrigger::Order { .. }))
        .count();
    assert_eq!(
        reads, immediate,
        "one message per immediate read: {queued:?}"
    );
    // The next window reads again.
    h.backend.clock.advance(chrono::TimeDelta::seconds(31));
    let next = signed(&h, &id, "order.created", &order_body(99, 0)).await;
    assert_eq!(
        h.receiver.handle(&next).await.expect("next window"),
        Outcome::OrderReadRequested
    );
    let other = signed(&h, &id, "product.updated", r#"{"_payloadType":"product"}"#).await;
    assert_eq!(
        h.receiver.handle(&other).await.expect("ignored"),
        Outcome::Ignored
    );
}

async fn uninstall(kind: Kind) {
    let h = harness(kind).await;
    let id = install(&h).await;
    let before = h
        .backend
        .stores
        .tenants
        .get(&id)
        .await
        .expect("reads")
        .expect("exists");
    // The merchant uninstalls (the shop stops accepting the app's tokens); the app
    // payload has no time of its own: it happened when it arrives.
    // A fake clock is right here: what is tested is the order of the install and the
    // uninstall as the connector's clock stamps them (not a wait or a margin), and the
    // step puts the uninstall after the install as it is in the world.
    h.backend.clock.advance(chrono::TimeDelta::seconds(1));
    h.sandbox
        .uninstall_app(SHOP)
        .expect("uninstalled in the shop");
    let delivery = signed(&h, &id, "app.uninstalled", r#"{"_payloadType":"App"}"#).await;
    assert_eq!(
        h.receiver.handle(&delivery).await.expect("handled"),
        Outcome::Uninstalled
    );
    let after = h
        .backend
        .stores
        .tenants
        .get(&id)
        .await
        .expect("reads")
        .expect("kept");
    assert!(after.paused);
    assert_eq!(after.flows, before.flows);
    assert!(
        h.backend
            .stores
            .tokens
            .get(&id)
            .await
            .expect("reads")
            .is_none(),
        "tokens deleted"
    );
    // Orders of a paused tenant are not polled.
    let order = signed(&h, &id, "order.created", r#"{"_payloadType":"order"}"#).await;
    assert_eq!(
        h.receiver.handle(&order).await.expect("handled"),
        Outcome::TenantPaused
    );
    // A reinstall resumes it.
    install(&h).await;
    assert!(
        !h.backend
            .stores
            .tenants
            .get(&id)
            .await
            .expect("reads")
            .expect("kept")
            .paused
    );
}
