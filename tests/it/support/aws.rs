//! AWS-adapter fixtures against moto. Every test creates its own uniquely named table,
//! queue or secret, so tests run in parallel against one moto without a reset.

use std::sync::Arc;

use aws_adapters::provision::{QueueSpec, create_queue_pair, create_table};
use aws_adapters::{
    DynamoActivityLog, DynamoIdempotencyStore, DynamoOrderLedger, DynamoPollStateStore,
    DynamoStockMarkStore, DynamoTenantStore, DynamoTokenStore, SecretsManagerStore, SqsQueue,
};
use aws_config::SdkConfig;
use connector::ports::activity::Retention;
use connector::ports::{
    ActivityLog, IdempotencyStore, MessageQueue, OrderLedger, PollStateStore, SecretStore,
    StockMarkStore, TenantStore, TokenStore,
};

use super::Fixture;

/// The SDK configuration for moto. Fails loudly (never skips) without `AWS_ENDPOINT_URL`,
/// and refuses any endpoint that is not on loopback so tests cannot reach real AWS.
pub async fn sdk_config() -> SdkConfig {
    let endpoint = std::env::var("AWS_ENDPOINT_URL").unwrap_or_default();
    assert!(
        !endpoint.is_empty(),
        "AWS_ENDPOINT_URL is not set: the AWS adapter tests need moto. Run tests/run.sh, \
         or `infra/tools.sh && source tests/moto/moto.sh` in the same shell before cargo test."
    );
    let host = url::Url::parse(&endpoint)
        .ok()
        .and_then(|url| url.host_str().map(str::to_owned))
        .unwrap_or_default();
    assert!(
        matches!(host.as_str(), "127.0.0.1" | "localhost" | "[::1]"),
        "AWS_ENDPOINT_URL={endpoint} is not on loopback; tests only talk to a local moto"
    );
    aws_adapters::sdk::load_sdk_config().await
}

/// A name no other test uses (queue names allow 80 characters, `.fifo` included).
pub fn unique(prefix: &str) -> String {
    format!("{prefix}-{}", uuid::Uuid::new_v4().simple())
}

/// A fresh table with the project's layout; returns its client and name.
pub async fn table(prefix: &str) -> (aws_sdk_dynamodb::Client, String) {
    let sdk = sdk_config().await;
    let client = aws_sdk_dynamodb::Client::new(&sdk);
    let name = unique(prefix);
    create_table(&client, &name)
        .await
        .unwrap_or_else(|e| panic!("creating table {name} on moto failed: {e}"));
    (client, name)
}

pub async fn tenants() -> Fixture<dyn TenantStore> {
    let (client, name) = table("state").await;
    Fixture::new(Arc::new(DynamoTenantStore::new(client, name)), ())
}

pub async fn poll_state() -> Fixture<dyn PollStateStore> {
    let (client, name) = table("state").await;
    Fixture::new(Arc::new(DynamoPollStateStore::new(client, name)), ())
}

pub async fn tokens() -> Fixture<dyn TokenStore> {
    let (client, name) = table("state").await;
    Fixture::new(Arc::new(DynamoTokenStore::new(client, name)), ())
}

pub async fn idempotency() -> Fixture<dyn IdempotencyStore> {
    let (client, name) = table("state").await;
    Fixture::new(Arc::new(DynamoIdempotencyStore::new(client, name)), ())
}

pub async fn order_ledger() -> Fixture<dyn OrderLedger> {
    let (client, name) = table("state").await;
    Fixture::new(Arc::new(DynamoOrderLedger::new(client, name)), ())
}

pub async fn stock_marks() -> Fixture<dyn StockMarkStore> {
    let (client, name) = table("state").await;
    Fixture::new(Arc::new(DynamoStockMarkStore::new(client, name)), ())
}

pub async fn activity_with(retention: Retention) -> Fixture<dyn ActivityLog> {
    let (client, name) = table("activity").await;
    Fixture::new(
        Arc::new(DynamoActivityLog::new(client, name, retention)),
        (),
    )
}

pub async fn activity() -> Fixture<dyn ActivityLog> {
    activity_with(Retention::default()).await
}

pub async fn secrets() -> Fixture<dyn SecretStore> {
    let sdk = sdk_config().await;
    let client = aws_sdk_secretsmanager::Client::new(&sdk);
    Fixture::new(Arc::new(SecretsManagerStore::new(client, None)), ())
}

/// A queue with its dead-letter queue, on either backend.
pub struct QueuePairFixture {
    pub queue: Arc<dyn MessageQueue>,
    pub dead_letters: Arc<dyn MessageQueue>,
    pub _keep: Box<dyn std::any::Any + Send + Sync>,
}

pub async fn queue_pair(mut spec: QueueSpec) -> QueuePairFixture {
    let sdk = sdk_config().await;
    let client = aws_sdk_sqs::Client::new(&sdk);
    spec.name = unique(&spec.name);
    let pair = create_queue_pair(&client, &spec)
        .await
        .unwrap_or_else(|e| panic!("creating queues {} on moto failed: {e}", spec.name));
    let queue = SqsQueue::connect(client.clone(), pair.queue_url)
        .await
        .expect("connects to the queue");
    let dead_letters = SqsQueue::connect(client, pair.dead_letter_url)
        .await
        .expect("connects to the dead-letter queue");
    QueuePairFixture {
        queue: Arc::new(queue),
        dead_letters: Arc::new(dead_letters),
        _keep: Box::new(()),
    }
}
