//! Creates the tables and queues of docs/STATE.md: for tests and local runs against moto
//! (production resources come from template.yaml). Table and key definitions come from
//! [`super::keys`], the same constants the adapters use.

use std::time::Duration;

use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType, Projection,
    ProjectionType, ScalarAttributeType, TableStatus, TimeToLiveSpecification,
};
use aws_sdk_sqs::types::QueueAttributeName;

use super::error::sdk_error;
use super::keys::{EXPIRES_AT, GSI1, GSI1_PK, GSI1_SK, PK, SK};
use connector::ports::StoreError;
pub use connector::stage::{QueueSpec, stage_queue_specs};

fn build_error(what: &'static str, error: impl std::fmt::Display) -> StoreError {
    StoreError::invalid(what, error.to_string())
}

fn key(name: &str, kind: KeyType) -> Result<KeySchemaElement, StoreError> {
    KeySchemaElement::builder()
        .attribute_name(name)
        .key_type(kind)
        .build()
        .map_err(|e| build_error("key schema", e))
}

fn string_attribute(name: &str) -> Result<AttributeDefinition, StoreError> {
    AttributeDefinition::builder()
        .attribute_name(name)
        .attribute_type(ScalarAttributeType::S)
        .build()
        .map_err(|e| build_error("attribute definition", e))
}

/// `CreateTable` for a table that already exists is fine when provisioning a stage again.
fn already_exists<E: aws_sdk_dynamodb::error::ProvideErrorMetadata>(
    error: &aws_sdk_dynamodb::error::SdkError<E, aws_sdk_dynamodb::config::http::HttpResponse>,
) -> bool {
    matches!(
        error,
        aws_sdk_dynamodb::error::SdkError::ServiceError(context)
            if context.err().code() == Some("ResourceInUseException")
    )
}

/// Creates a table with the project's layout: `pk`/`sk` strings, the `gsi1` index on
/// `gsi1pk`/`gsi1sk` (projection ALL), on-demand billing, TTL on `expires_at`. The state
/// table and the activity table share it.
pub async fn create_table(client: &aws_sdk_dynamodb::Client, name: &str) -> Result<(), StoreError> {
    let index = GlobalSecondaryIndex::builder()
        .index_name(GSI1)
        .key_schema(key(GSI1_PK, KeyType::Hash)?)
        .key_schema(key(GSI1_SK, KeyType::Range)?)
        .projection(
            Projection::builder()
                .projection_type(ProjectionType::All)
                .build(),
        )
        .build()
        .map_err(|e| build_error("index", e))?;
    let created = client
        .create_table()
        .table_name(name)
        .billing_mode(BillingMode::PayPerRequest)
        .key_schema(key(PK, KeyType::Hash)?)
        .key_schema(key(SK, KeyType::Range)?)
        .attribute_definitions(string_attribute(PK)?)
        .attribute_definitions(string_attribute(SK)?)
        .attribute_definitions(string_attribute(GSI1_PK)?)
        .attribute_definitions(string_attribute(GSI1_SK)?)
        .global_secondary_indexes(index)
        .send()
        .await;
    match created {
        Ok(_) => {}
        Err(e) if already_exists(&e) => {}
        Err(e) => return Err(sdk_error("CreateTable", e)),
    }
    wait_until_active(client, name).await?;
    client
        .update_time_to_live()
        .table_name(name)
        .time_to_live_specification(
            TimeToLiveSpecification::builder()
                .attribute_name(EXPIRES_AT)
                .enabled(true)
                .build()
                .map_err(|e| build_error("ttl", e))?,
        )
        .send()
        .await
        .map_err(|e| sdk_error("UpdateTimeToLive", e))?;
    Ok(())
}

async fn wait_until_active(
    client: &aws_sdk_dynamodb::Client,
    name: &str,
) -> Result<(), StoreError> {
    // Real DynamoDB takes seconds; moto is immediate. Two minutes is plenty either way.
    for _ in 0..240 {
        let output = client
            .describe_table()
            .table_name(name)
            .send()
            .await
            .map_err(|e| sdk_error("DescribeTable", e))?;
        if output
            .table
            .and_then(|t| t.table_status)
            .is_some_and(|status| status == TableStatus::Active)
        {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    Err(StoreError::Unprocessed {
        operation: "wait for table ACTIVE",
        remaining: 1,
        attempts: 240,
    })
}

/// A source queue and its dead-letter queue.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QueuePair {
    pub queue_url: String,
    pub dead_letter_url: String,
}

async fn create_queue(
    client: &aws_sdk_sqs::Client,
    name: &str,
    attributes: Vec<(QueueAttributeName, String)>,
) -> Result<String, StoreError> {
    let mut request = client.create_queue().queue_name(name);
    for (attribute, value) in attributes {
        request = request.attributes(attribute, value);
    }
    let output = request
        .send()
        .await
        .map_err(|e| sdk_error("CreateQueue", e))?;
    output
        .queue_url
        .ok_or_else(|| StoreError::corrupt("CreateQueue", "returned no queue url"))
}

/// Creates the DLQ, then the queue with a redrive policy pointing at it.
pub async fn create_queue_pair(
    client: &aws_sdk_sqs::Client,
    spec: &QueueSpec,
) -> Result<QueuePair, StoreError> {
    let suffix = if spec.fifo { ".fifo" } else { "" };
    let mut common = Vec::new();
    if spec.fifo {
        common.push((QueueAttributeName::FifoQueue, "true".to_owned()));
        if spec.content_based_deduplication {
            common.push((
                QueueAttributeName::ContentBasedDeduplication,
                "true".to_owned(),
            ));
        }
    }
    let dead_letter_url = create_queue(
        client,
        &format!("{}-dlq{suffix}", spec.name),
        common.clone(),
    )
    .await?;
    let dead_letter_arn = client
        .get_queue_attributes()
        .queue_url(&dead_letter_url)
        .attribute_names(QueueAttributeName::QueueArn)
        .send()
        .await
        .map_err(|e| sdk_error("GetQueueAttributes", e))?
        .attributes
        .and_then(|mut attributes| attributes.remove(&QueueAttributeName::QueueArn))
        .ok_or_else(|| StoreError::corrupt("GetQueueAttributes", "returned no QueueArn"))?;
    let redrive = serde_json::json!({
        "deadLetterTargetArn": dead_letter_arn,
        "maxReceiveCount": spec.max_receive_count,
    });
    let mut attributes = common;
    attributes.push((QueueAttributeName::RedrivePolicy, redrive.to_string()));
    attributes.push((
        QueueAttributeName::VisibilityTimeout,
        spec.visibility_timeout.as_secs().to_string(),
    ));
    let queue_url = create_queue(client, &format!("{}{suffix}", spec.name), attributes).await?;
    Ok(QueuePair {
        queue_url,
        dead_letter_url,
    })
}

/// The resources of one stage, named as template.yaml names them, so a local run with
/// these names behaves like a deployment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StageResources {
    pub stage: String,
    pub state_table: String,
    pub activity_table: String,
    pub poll: QueuePair,
    pub order_events: QueuePair,
    pub commands: QueuePair,
}

impl StageResources {
    /// The environment the functions read (template.yaml `Globals`).
    pub fn env_vars(&self) -> Vec<(&'static str, String)> {
        vec![
            ("STATE_TABLE", self.state_table.clone()),
            ("ACTIVITY_TABLE", self.activity_table.clone()),
            ("SECRETS_PREFIX", format!("epages-sync/{}", self.stage)),
            ("POLL_QUEUE_URL", self.poll.queue_url.clone()),
            (
                "ORDER_EVENTS_QUEUE_URL",
                self.order_events.queue_url.clone(),
            ),
            ("COMMAND_QUEUE_URL", self.commands.queue_url.clone()),
            ("POLL_DLQ_URL", self.poll.dead_letter_url.clone()),
            (
                "ORDER_EVENTS_DLQ_URL",
                self.order_events.dead_letter_url.clone(),
            ),
            ("COMMAND_DLQ_URL", self.commands.dead_letter_url.clone()),
        ]
    }
}

/// Creates (or finds) every table and queue of `stage`; safe to run again.
pub async fn provision_stage(
    sdk: &aws_config::SdkConfig,
    stage: &str,
) -> Result<StageResources, StoreError> {
    let dynamodb = aws_sdk_dynamodb::Client::new(sdk);
    let sqs = aws_sdk_sqs::Client::new(sdk);
    let state_table = format!("epages-sync-{stage}-state");
    let activity_table = format!("epages-sync-{stage}-activity");
    create_table(&dynamodb, &state_table).await?;
    create_table(&dynamodb, &activity_table).await?;
    let [poll, order_events, commands] = stage_queue_specs(stage);
    Ok(StageResources {
        stage: stage.to_owned(),
        state_table,
        activity_table,
        poll: create_queue_pair(&sqs, &poll).await?,
        order_events: create_queue_pair(&sqs, &order_events).await?,
        commands: create_queue_pair(&sqs, &commands).await?,
    })
}
