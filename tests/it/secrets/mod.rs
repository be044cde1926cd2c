//! Issue 13: no token or secret reaches any sink. A local shop plays malformed and echoing
//! token answers through a poll (the Lambda's SQS path, dead letters included) and
//! `tenant verify` of the CLI; every sink is scanned for the secrets: tracing at TRACE,
//! the embedded state files (activity log, poll state, queues and dead letters), the poll
//! error as printed, CLI stdout and stderr. The token store is the one place a token may be.

mod client;
mod command;
mod shop;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_adapters::AwsStateConfig;
use aws_adapters::provision::QueueSpec;
use aws_lambda_events::event::sqs::{SqsEvent, SqsMessage};
use chrono::TimeDelta;
use connector::auth::ShopClients;
use connector::pipeline::poll::{PollService, PollSettings};
use connector::pipeline::poll_request::{PollRequest, PollTrigger};
use connector::ports::activity::Retention;
use connector::ports::secrets::SecretNaming;
use connector::ports::{Clock, ManualClock, MessageQueue, StateStores};
use domain::tenant::{AuthMode, SecretRef, TenantConfig, TenantId};
use domain::tokens::TenantTokens;
use embedded::{EmbeddedQueue, EmbeddedQueueConfig};

use crate::support::aws as aws_support;
use crate::support::log_buffer::LogBuffer;
use secrecy::SecretString;

use shop::{Answer, FakeShop};

/// What the shop hands out and echoes: a JWT-like access token, an opaque refresh token,
/// and the app's client secret. None may appear in any sink.
const AT: &str = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJzZWNyZXRzLXRlc3QifQ.QWNjZXNzVG9rZW4tc2lnbg";
const RT: &str = "rt-4f1e9b7c-opaque-refresh-88d2";
const OLD_RT: &str = "rt-stored-0a9c-opaque-refresh-7713";
const CLIENT_SECRET: &str = "cs-secrets-test-5e2d9a";
const SECRETS: [&str; 4] = [AT, RT, OLD_RT, CLIENT_SECRET];

fn valid_token() -> serde_json::Value {
    serde_json::json!({
        "access_token": AT, "token_type": "bearer", "refresh_token": RT,
        "expires_in": 43199, "scope": "ordr:r ordr:u", "tenantId": 135, "jti": "j-1"
    })
}

fn with(field: &str, value: serde_json::Value) -> String {
    let mut token = valid_token();
    token[field] = value;
    token.to_string()
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Backend {
    Embedded,
    /// moto: the AWS SDK's own tracing is captured too.
    Aws,
}

struct World {
    /// The embedded state directory, or an empty one the CLI is not pointed at on AWS.
    dir: tempfile::TempDir,
    aws: Option<AwsStateConfig>,
    stores: StateStores,
    clock: Arc<ManualClock>,
    poll_dead_letters: Arc<dyn MessageQueue>,
    /// Dead letters received so far, as text (body and attributes).
    dead_letters: Mutex<Vec<String>>,
    _keep: Vec<Box<dyn std::any::Any + Send + Sync>>,
    service: PollService,
    clients: Arc<ShopClients>,
    tenant: TenantId,
    shop: FakeShop,
}

impl World {
    async fn start(mode: AuthMode, token: Answer, api: Option<Answer>) -> Self {
        Self::on(Backend::Embedded, mode, token, api).await
    }

    async fn on(backend: Backend, mode: AuthMode, token: Answer, api: Option<Answer>) -> Self {
        let shop = FakeShop::start(token, api).await;
        let dir = tempfile::tempdir().expect("temp dir");
        let clock = Arc::new(ManualClock::new(crate::support::now()));
        let dyn_clock: Arc<dyn Clock> = clock.clone();
        let mut keep: Vec<Box<dyn std::any::Any + Send + Sync>> = Vec::new();
        let (stores, aws, prefix, order_events, poll_queue, poll_dead_letters) = match backend {
            Backend::Embedded => {
                let stores =
                    ::embedded::open_state(dir.path(), Retention::default(), dyn_clock.clone())
                        .await
                        .expect("state opens");
                let queue = |name: &str| {
                    EmbeddedQueue::open(
                        dir.path(),
                        EmbeddedQueueConfig::new(name),
                        dyn_clock.clone(),
                    )
                };
                let events: Arc<dyn MessageQueue> =
                    queue("order-events.fifo").await.expect("opens");
                let polls: Arc<dyn MessageQueue> = queue("poll").await.expect("opens");
                let dead: Arc<dyn MessageQueue> = queue("poll-dlq").await.expect("opens");
                let prefix = "epages-sync/test".to_owned();
                (stores, None, prefix, events, polls, dead)
            }
            Backend::Aws => {
                let sdk = aws_support::sdk_config().await;
                let (_, state_table) = aws_support::table("secrets-state").await;
                let (_, activity_table) = aws_support::table("secrets-activity").await;
                let prefix = aws_support::unique("epages-sync/test");
                let config = AwsStateConfig {
                    state_table,
                    activity_table,
                    secrets: SecretNaming::new(prefix.clone()).expect("valid prefix"),
                    secrets_kms_key_id: None,
                    activity_retention: Retention::default(),
                    secrets_cache_ttl: Duration::ZERO,
                };
                let stores = aws_adapters::state_stores(&sdk, &config, dyn_clock.clone());
                let events = aws_support::queue_pair(QueueSpec::fifo("secrets-events")).await;
                let polls = aws_support::queue_pair(QueueSpec::standard("secrets-poll")).await;
                let queues = (
                    events.queue.clone(),
                    polls.queue.clone(),
                    polls.dead_letters.clone(),
                );
                keep.push(Box::new(events));
                keep.push(Box::new(polls));
                (stores, Some(config), prefix, queues.0, queues.1, queues.2)
            }
        };
        let tenant = crate::support::unique_tenant("secrets");
        let secret = SecretRef(format!("{prefix}/tenants/{tenant}/client-secret"));
        stores
            .secrets
            .put(&secret, SecretString::from(CLIENT_SECRET.to_owned()))
            .await
            .expect("secret stored");
        let config = TenantConfig::new(
            tenant.clone(),
            shop.api_url.clone(),
            mode,
            "secrets-client",
            secret,
            crate::support::now() - TimeDelta::hours(1),
        );
        stores
            .tenants
            .create(config, crate::support::now())
            .await
            .expect("tenant stored");
        if mode == AuthMode::AuthorizationCode {
            // Installed earlier: an expired access token and a refresh token to exchange.
            let tokens = TenantTokens {
                access_token: SecretString::from("expired-access-0001".to_owned()),
                access_expires_at: crate::support::now() - TimeDelta::hours(1),
                refresh_token: Some(SecretString::from(OLD_RT.to_owned())),
                version: 0,
            };
            stores
                .tokens
                .put_if_version(&tenant, &tokens)
                .await
                .expect("tokens stored");
        }
        let clients = Arc::new(ShopClients::new(
            &stores,
            crate::pipeline_poll::harness::fast_http(),
            clock.clone(),
        ));
        let service = PollService::new(
            stores.clone(),
            clients.clone(),
            order_events,
            poll_queue,
            clock.clone(),
            PollSettings::default(),
        );
        Self {
            dir,
            aws,
            stores,
            clock,
            poll_dead_letters,
            dead_letters: Mutex::default(),
            _keep: keep,
            service,
            clients,
            tenant,
            shop,
        }
    }

    /// One poll through the Lambda's SQS path: `true` when the record succeeded.
    async fn poll(&self) -> bool {
        let request = PollRequest {
            tenant: self.tenant.clone(),
            trigger: PollTrigger::Schedule,
            requested_at: self.clock.now(),
        };
        let mut message = SqsMessage::default();
        message.message_id = Some(format!("poll-{}", uuid::Uuid::new_v4()));
        message.body = Some(serde_json::to_string(&request).expect("serializes"));
        message.event_source_arn = Some("arn:aws:sqs:eu-west-1:000000000000:poll".to_owned());
        message
            .attributes
            .insert("ApproximateReceiveCount".to_owned(), "1".to_owned());
        let mut event = SqsEvent::default();
        event.records = vec![message];
        let response = self
            .service
            .handle_event(&event, self.poll_dead_letters.as_ref())
            .await
            .expect("the batch is processed");
        let dead = self
            .poll_dead_letters
            .receive(10, Duration::ZERO, Some(Duration::from_secs(1)))
            .await
            .expect("receives");
        let mut seen = self.dead_letters.lock().unwrap_or_else(|p| p.into_inner());
        seen.extend(
            dead.iter()
                .map(|message| format!("{} {:?}", message.body, message.attributes)),
        );
        response.batch_item_failures.is_empty() && dead.is_empty()
    }

    /// Everything stored but the token and secret stores (where secrets belong), as text.
    fn state_files(&self) -> Vec<(String, String)> {
        stored_texts(self.dir.path())
    }

    /// `tenant verify` of the real binary on this state directory. Run off the runtime's
    /// thread: the local shop it talks to is served by this (single-threaded) runtime.
    async fn cli_verify(&self) -> (String, String) {
        let mut command = std::process::Command::new(crate::support::cli_binary());
        command.arg("tenant");
        match &self.aws {
            Some(aws) => {
                command
                    .args(["--backend", "aws"])
                    .env("STATE_TABLE", &aws.state_table)
                    .env("ACTIVITY_TABLE", &aws.activity_table)
                    .env("SECRETS_PREFIX", aws.secrets.prefix())
                    .env("SECRETS_CACHE_SECONDS", "0");
            }
            None => {
                command.arg("--state-dir").arg(self.dir.path());
            }
        }
        command
            .args(["verify", self.tenant.as_str()])
            .env("RUST_LOG", "trace");
        let output = tokio::task::spawn_blocking(move || command.output())
            .await
            .expect("joins")
            .expect("the CLI runs");
        (
            String::from_utf8_lossy(&output.stdout).into_owned(),
            String::from_utf8_lossy(&output.stderr).into_owned(),
        )
    }

    /// The text every sink of this world holds (plus `extra`), after the run.
    async fn sinks(&self, buffer: &LogBuffer) -> Vec<(String, String)> {
        let (stdout, stderr) = self.cli_verify().await;
        let mut sinks = vec![("tracing".to_owned(), buffer.text())];
        sinks.extend(self.state_files());
        let dead = self
            .dead_letters
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .join("\n");
        sinks.push(("dead letters".to_owned(), dead));
        let state = self.stores.poll_state.get(&self.tenant).await;
        sinks.push(("poll state".to_owned(), format!("{state:?}")));
        sinks.push(("cli stdout".to_owned(), stdout));
        sinks.push(("cli stderr".to_owned(), stderr));
        sinks
    }
}

fn assert_no_secret(scenario: &str, sinks: &[(String, String)]) {
    for (sink, text) in sinks {
        for secret in SECRETS {
            if let Some(line) = text.lines().find(|line| line.contains(secret)) {
                panic!("{scenario}: a secret appears in {sink}: {line}");
            }
        }
    }
}

fn capture() -> (LogBuffer, tracing::subscriber::DefaultGuard) {
    let buffer = LogBuffer::default();
    let writer = buffer.clone();
    // The production filter at TRACE (`RUST_LOG=trace`): every target, the SDK's included.
    let subscriber = tracing_subscriber::fmt()
        .with_env_filter(aws_adapters::lambda::secret_safe_filter(
            tracing_subscriber::EnvFilter::new("trace"),
        ))
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    (buffer, tracing::subscriber::set_default(subscriber))
}

async fn run_failing(scenario: &str, mode: AuthMode, token: Answer, api: Option<Answer>) -> String {
    run_failing_on(Backend::Embedded, scenario, mode, token, api).await
}

/// Plays one scenario; returns what the state sinks recorded (activity log, poll state,
/// dead letters), for the caller to check the failure is described.
async fn run_failing_on(
    backend: Backend,
    scenario: &str,
    mode: AuthMode,
    token: Answer,
    api: Option<Answer>,
) -> String {
    let (buffer, _guard) = capture();
    let world = World::on(backend, mode, token, api).await;
    assert!(!world.poll().await, "{scenario}: the poll fails");
    let sinks = world.sinks(&buffer).await;
    let recorded = sinks
        .iter()
        .filter(|(sink, _)| sink != "tracing" && !sink.starts_with("cli"))
        .map(|(_, text)| text.as_str())
        .collect::<Vec<_>>()
        .join("\n");
    let cli: String = sinks
        .iter()
        .filter(|(sink, _)| sink.starts_with("cli"))
        .map(|(_, text)| text.as_str())
        .collect();
    assert!(
        cli.contains("token"),
        "{scenario}: the CLI reports the failure: {cli}"
    );
    assert!(
        sinks[0].1.contains("record dead-lettered")
            || sinks[0].1.contains("record will be retried"),
        "{scenario}: the failure was traced"
    );
    assert_no_secret(scenario, &sinks);
    assert!(
        world.shop.token_requests() >= 1,
        "{scenario}: the token endpoint was asked"
    );
    recorded
}

// Done-when 1: a double-encoded token answer fails the poll, and neither token leaks.
#[tokio::test(flavor = "current_thread")]
async fn a_double_encoded_token_answer_fails_the_poll_without_leaking() {
    let double = serde_json::to_string(&valid_token().to_string()).expect("encodes");
    for mode in [AuthMode::ClientCredentials, AuthMode::AuthorizationCode] {
        let recorded = run_failing(
            "double-encoded",
            mode,
            Answer::new(200, double.clone()),
            None,
        )
        .await;
        assert!(
            recorded.contains("found string"),
            "the failure is recorded: {recorded}"
        );
    }
}

// Done-when 2: wrong-typed fields holding a token, and `expires_in` as a string: the error
// names the path and the type only.
#[tokio::test(flavor = "current_thread")]
async fn wrong_typed_token_fields_name_path_and_type_only() {
    for (field, value, found) in [
        ("tenantId", serde_json::json!(AT), "found string"),
        ("jti", serde_json::json!({ "token": RT }), "found map"),
        ("expires_in", serde_json::json!("43199"), "found string"),
    ] {
        let recorded = run_failing(
            field,
            AuthMode::AuthorizationCode,
            Answer::new(200, with(field, value)),
            None,
        )
        .await;
        assert!(
            recorded.contains(&format!("`{field}`")) && recorded.contains(found),
            "{field}: path and type recorded: {recorded}"
        );
    }
}

// Done-when 3: Spring-style echoes of the refresh token (400) and the access token (401).
#[tokio::test(flavor = "current_thread")]
async fn echoed_tokens_in_token_and_api_errors_do_not_leak() {
    let refresh = serde_json::json!({
        "error": "invalid_grant", "error_description": format!("Invalid refresh token: {OLD_RT}")
    });
    let recorded = run_failing(
        "400 invalid refresh token",
        AuthMode::AuthorizationCode,
        Answer::new(400, refresh.to_string()),
        None,
    )
    .await;
    assert!(recorded.contains("invalid_grant"), "{recorded}");
    let access = serde_json::json!({
        "error": "invalid_token", "error_description": format!("Invalid access token: {AT}")
    });
    run_failing(
        "401 invalid access token",
        AuthMode::ClientCredentials,
        Answer::new(200, valid_token().to_string()),
        Some(Answer::new(401, access.to_string())),
    )
    .await;
}

// Done-when 4: valid JSON followed by garbage is malformed.
#[tokio::test(flavor = "current_thread")]
async fn a_token_answer_with_trailing_garbage_is_malformed() {
    let recorded = run_failing(
        "trailing garbage",
        AuthMode::ClientCredentials,
        Answer::new(200, format!("{}x", valid_token())),
        None,
    )
    .await;
    assert!(recorded.contains("trailing characters"), "{recorded}");
}

// Done-when 5: a lifetime at or below the refresh margin does not cause a token request
// per call.
#[tokio::test(flavor = "current_thread")]
async fn short_or_missing_lifetimes_ask_for_one_token_per_poll() {
    let mut missing = valid_token();
    missing
        .as_object_mut()
        .expect("object")
        .remove("expires_in");
    for (name, body) in [
        ("expires_in 60", with("expires_in", serde_json::json!(60))),
        ("no expires_in", missing.to_string()),
    ] {
        for mode in [AuthMode::ClientCredentials, AuthMode::AuthorizationCode] {
            let world = World::start(mode, Answer::new(200, body.clone()), None).await;
            assert!(world.poll().await, "{name}: the poll succeeds");
            assert_eq!(
                world.shop.token_requests(),
                1,
                "{name} {mode:?}: one token per poll"
            );
            // More calls in the same process reuse it.
            let client = world
                .clients
                .client_for(
                    &world
                        .stores
                        .tenants
                        .get(&world.tenant)
                        .await
                        .unwrap()
                        .unwrap(),
                )
                .expect("builds");
            for _ in 0..5 {
                client.list_signers().await.expect("lists");
            }
            assert_eq!(world.shop.token_requests(), 1, "{name} {mode:?}: still one");
            assert!(world.shop.api_requests() >= 6);
        }
    }
}

// The same scenarios on the AWS backend: the AWS SDK's tracing (TRACE, every target) writes
// the tokens to DynamoDB and must not print them.
#[tokio::test(flavor = "current_thread")]
async fn on_aws_no_sink_sees_a_token() {
    let double = serde_json::to_string(&valid_token().to_string()).expect("encodes");
    let refresh = serde_json::json!({
        "error": "invalid_grant", "error_description": format!("Invalid refresh token: {OLD_RT}")
    });
    let access = serde_json::json!({
        "error": "invalid_token", "error_description": format!("Invalid access token: {AT}")
    });
    for (scenario, mode, token, api) in [
        (
            "double-encoded",
            AuthMode::AuthorizationCode,
            Answer::new(200, double),
            None,
        ),
        (
            "tenantId",
            AuthMode::ClientCredentials,
            Answer::new(200, with("tenantId", serde_json::json!(AT))),
            None,
        ),
        (
            "400 refresh",
            AuthMode::AuthorizationCode,
            Answer::new(400, refresh.to_string()),
            None,
        ),
        (
            "401 access",
            AuthMode::AuthorizationCode,
            Answer::new(200, valid_token().to_string()),
            Some(Answer::new(401, access.to_string())),
        ),
    ] {
        let recorded = run_failing_on(Backend::Aws, scenario, mode, token, api).await;
        assert!(
            !recorded.trim().is_empty(),
            "{scenario}: the failure is recorded"
        );
    }
}

/// For other tests' embedded state (the chaos test): the secrets `dir` holds in its token
/// and secret stores, none of which may appear in any other file (activity log, poll
/// state, idempotency records with the results sent to Afosto, queues, dead letters), nor
/// in `outputs`. Returns the problems found.
pub fn secrets_outside_their_stores(dir: &std::path::Path, outputs: &[String]) -> Vec<String> {
    let mut secrets = ::embedded::inspect::stored_secrets(dir).unwrap_or_default();
    secrets.retain(|secret| secret.len() >= 8);
    let mut texts: Vec<(String, String)> = outputs
        .iter()
        .enumerate()
        .map(|(n, text)| (format!("output {n}"), text.clone()))
        .collect();
    texts.extend(stored_texts(dir));
    let mut problems = Vec::new();
    for (sink, text) in &texts {
        for secret in &secrets {
            if text.contains(secret.as_str()) {
                problems.push(format!("a stored secret appears in {sink}"));
            }
        }
    }
    if secrets.is_empty() {
        problems.push("no stored secret found to scan for".to_owned());
    }
    problems
}

/// Every row of the state database but those of the token and secret stores (where secrets
/// belong), and every other file of the state directory, as text: where a secret must not
/// be. The database files themselves are read through SQLite (they also hold the tokens).
fn stored_texts(dir: &std::path::Path) -> Vec<(String, String)> {
    let mut texts: Vec<(String, String)> = ::embedded::inspect::rows_as_text(dir)
        .unwrap_or_default()
        .into_iter()
        .filter(|(table, _)| table != "tokens" && table != "secrets")
        .map(|(table, row)| (format!("table {table}"), row))
        .collect();
    let mut dirs = vec![dir.to_owned()];
    while let Some(current) = dirs.pop() {
        for entry in std::fs::read_dir(&current).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.file_name().is_some_and(|name| {
                !name
                    .to_string_lossy()
                    .starts_with(::embedded::DATABASE_FILE)
            }) {
                let text = std::fs::read_to_string(&path).unwrap_or_default();
                texts.push((path.display().to_string(), text));
            }
        }
    }
    texts
}
