//! An SQS queue behind the queue port.

use std::collections::BTreeMap;
use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_sqs::Client;
use aws_sdk_sqs::types::{
    MessageAttributeValue, MessageSystemAttributeName, MessageSystemAttributeNameForSends,
    MessageSystemAttributeValue, QueueAttributeName, SendMessageBatchRequestEntry,
};
use chrono::{DateTime, Utc};

use super::batch::backoff;
use super::error::{is_transient_code, sdk_error};
use connector::ports::queue::{
    OutgoingMessage, QueueDepth, ReceiptHandle, ReceivedMessage, SendFailure, SendReport,
    SentMessage, check_outgoing, check_receive, check_visibility, limits,
};
use connector::ports::{MessageQueue, StoreError};

/// Attempts per SendMessageBatch chunk before failed entries are reported.
const SEND_ATTEMPTS: u32 = 4;

pub struct SqsQueue {
    client: Client,
    url: String,
    name: String,
    arn: String,
    fifo: bool,
    content_dedup: bool,
}

impl SqsQueue {
    /// Binds to an existing queue, reading its ARN and type once.
    pub async fn connect(client: Client, url: impl Into<String>) -> Result<Self, StoreError> {
        let url = url.into();
        let output = client
            .get_queue_attributes()
            .queue_url(&url)
            .attribute_names(QueueAttributeName::QueueArn)
            .attribute_names(QueueAttributeName::FifoQueue)
            .attribute_names(QueueAttributeName::ContentBasedDeduplication)
            .send()
            .await
            .map_err(|e| sdk_error("GetQueueAttributes", e))?;
        let attributes = output.attributes.unwrap_or_default();
        let arn = attributes
            .get(&QueueAttributeName::QueueArn)
            .cloned()
            .ok_or_else(|| StoreError::corrupt("queue attributes", "no QueueArn returned"))?;
        let flag = |name: QueueAttributeName| {
            attributes
                .get(&name)
                .is_some_and(|value| value.eq_ignore_ascii_case("true"))
        };
        let name = arn.rsplit(':').next().unwrap_or_default().to_owned();
        Ok(Self {
            fifo: flag(QueueAttributeName::FifoQueue) || name.ends_with(".fifo"),
            content_dedup: flag(QueueAttributeName::ContentBasedDeduplication),
            client,
            url,
            name,
            arn,
        })
    }

    pub fn url(&self) -> &str {
        &self.url
    }

    /// Sends one chunk (≤ 10 entries, ≤ 256 KiB), retrying failed entries that are not the
    /// sender's fault. Returns a result per entry.
    async fn send_chunk(
        &self,
        chunk: Vec<(usize, OutgoingMessage)>,
        results: &mut [Option<Result<SentMessage, SendFailure>>],
    ) -> Result<(), StoreError> {
        let mut pending = chunk;
        for attempt in 0..SEND_ATTEMPTS {
            let last = attempt + 1 == SEND_ATTEMPTS;
            let entries = pending
                .iter()
                .map(|(index, message)| entry(*index, message))
                .collect::<Result<Vec<_>, _>>()?;
            let output = match self
                .client
                .send_message_batch()
                .queue_url(&self.url)
                .set_entries(Some(entries))
                .send()
                .await
            {
                Ok(output) => output,
                Err(e) => {
                    let error = sdk_error("SendMessageBatch", e);
                    if error.is_transient() && !last {
                        backoff(attempt).await;
                        continue;
                    }
                    // Earlier chunks may have gone out: report per message rather than
                    // fail the whole call, so the caller retries only what is missing.
                    let code = match &error {
                        StoreError::Backend { code, .. } => code.clone(),
                        _ => "SendMessageBatch".to_owned(),
                    };
                    for (index, _) in &pending {
                        results[*index] = Some(Err(SendFailure {
                            code: code.clone(),
                            message: error.to_string(),
                            transient: error.is_transient(),
                        }));
                    }
                    return Ok(());
                }
            };
            for ok in output.successful {
                if let Some(index) = parse_index(&ok.id) {
                    results[index] = Some(Ok(SentMessage {
                        message_id: ok.message_id,
                        sequence_number: ok.sequence_number,
                    }));
                }
            }
            let mut retry = Vec::new();
            for failed in output.failed {
                let Some(index) = parse_index(&failed.id) else {
                    continue;
                };
                let transient = !failed.sender_fault || is_transient_code(&failed.code);
                let failure = SendFailure {
                    message: failed.message.unwrap_or_default(),
                    code: failed.code,
                    transient,
                };
                if transient
                    && !last
                    && let Some(position) = pending.iter().position(|(i, _)| *i == index)
                {
                    retry.push(pending.swap_remove(position));
                    continue;
                }
                results[index] = Some(Err(failure));
            }
            if retry.is_empty() {
                return Ok(());
            }
            // Keep the caller's order for the retried entries (FIFO groups care).
            retry.sort_by_key(|(index, _)| *index);
            pending = retry;
            backoff(attempt).await;
        }
        Ok(())
    }
}

/// Batch entry ids are the message's index in the caller's list: unique per call and
/// mapping results straight back.
fn entry(
    index: usize,
    message: &OutgoingMessage,
) -> Result<SendMessageBatchRequestEntry, StoreError> {
    let attributes = message
        .attributes
        .iter()
        .map(|(name, value)| {
            MessageAttributeValue::builder()
                .data_type("String")
                .string_value(value)
                .build()
                .map(|attribute| (name.clone(), attribute))
                .map_err(|e| StoreError::invalid("message attribute", e.to_string()))
        })
        .collect::<Result<std::collections::HashMap<_, _>, _>>()?;
    SendMessageBatchRequestEntry::builder()
        .id(index.to_string())
        .message_body(&message.body)
        .set_message_group_id(message.group_id.clone())
        .set_message_deduplication_id(message.deduplication_id.clone())
        .set_delay_seconds(message.delay.map(|d| d.as_secs() as i32))
        .set_message_attributes((!attributes.is_empty()).then_some(attributes))
        .set_message_system_attributes(trace_system_attribute(message)?)
        .build()
        .map_err(|e| StoreError::invalid("message", e.to_string()))
}

/// The sending work's X-Ray trace as the `AWSTraceHeader` system attribute, which SQS hands
/// on to the consumer (Lambda delivers it in the record's attributes).
fn trace_system_attribute(
    message: &OutgoingMessage,
) -> Result<
    Option<
        std::collections::HashMap<MessageSystemAttributeNameForSends, MessageSystemAttributeValue>,
    >,
    StoreError,
> {
    let Some(header) = message.trace_header_to_send() else {
        return Ok(None);
    };
    let value = MessageSystemAttributeValue::builder()
        .data_type("String")
        .string_value(header)
        .build()
        .map_err(|e| StoreError::invalid("trace header", e.to_string()))?;
    Ok(Some(std::collections::HashMap::from([(
        MessageSystemAttributeNameForSends::AwsTraceHeader,
        value,
    )])))
}

fn invalid_receipt(error: impl std::error::Error + Send + Sync + 'static) -> StoreError {
    StoreError::InvalidReceipt {
        reason: aws_sdk_sqs::error::DisplayErrorContext(&error).to_string(),
        source: Some(Box::new(error)),
    }
}

fn parse_index(id: &str) -> Option<usize> {
    id.parse().ok()
}

fn timestamp(
    attributes: &std::collections::HashMap<MessageSystemAttributeName, String>,
    name: MessageSystemAttributeName,
) -> Option<DateTime<Utc>> {
    attributes
        .get(&name)
        .and_then(|ms| ms.parse::<i64>().ok())
        .and_then(DateTime::from_timestamp_millis)
}

#[async_trait]
impl MessageQueue for SqsQueue {
    fn name(&self) -> &str {
        &self.name
    }

    fn arn(&self) -> &str {
        &self.arn
    }

    fn is_fifo(&self) -> bool {
        self.fifo
    }

    async fn send_batch(&self, messages: Vec<OutgoingMessage>) -> Result<SendReport, StoreError> {
        let mut results: Vec<Option<Result<SentMessage, SendFailure>>> = vec![None; messages.len()];
        // Chunks of ≤ 10 entries and ≤ 256 KiB, in the caller's order.
        let mut chunks: Vec<Vec<(usize, OutgoingMessage)>> = Vec::new();
        let mut bytes = 0;
        for (index, message) in messages.into_iter().enumerate() {
            if let Err(failure) = check_outgoing(&message, self.fifo, self.content_dedup) {
                results[index] = Some(Err(failure));
                continue;
            }
            let size = message.payload_bytes();
            let full = chunks.last().is_none_or(|chunk| {
                chunk.len() == limits::BATCH || bytes + size > limits::PAYLOAD_BYTES
            });
            if full {
                chunks.push(Vec::new());
                bytes = 0;
            }
            bytes += size;
            if let Some(chunk) = chunks.last_mut() {
                chunk.push((index, message));
            }
        }
        for chunk in chunks {
            self.send_chunk(chunk, &mut results).await?;
        }
        let results = results
            .into_iter()
            .map(|result| {
                result.unwrap_or_else(|| {
                    Err(SendFailure {
                        code: "NoResult".into(),
                        message: "SQS returned no result for this entry".into(),
                        transient: true,
                    })
                })
            })
            .collect();
        Ok(SendReport { results })
    }

    async fn receive(
        &self,
        max: u32,
        wait: Duration,
        visibility: Option<Duration>,
    ) -> Result<Vec<ReceivedMessage>, StoreError> {
        check_receive(max, wait, visibility)?;
        let output = self
            .client
            .receive_message()
            .queue_url(&self.url)
            .max_number_of_messages(max as i32)
            .wait_time_seconds(wait.as_secs() as i32)
            .set_visibility_timeout(visibility.map(|v| v.as_secs() as i32))
            .message_system_attribute_names(MessageSystemAttributeName::All)
            .message_attribute_names("All")
            .send()
            .await
            .map_err(|e| sdk_error("ReceiveMessage", e))?;
        output
            .messages
            .unwrap_or_default()
            .into_iter()
            .map(|message| {
                let system = message.attributes.unwrap_or_default();
                let attributes: BTreeMap<String, String> = message
                    .message_attributes
                    .unwrap_or_default()
                    .into_iter()
                    .filter_map(|(name, value)| value.string_value.map(|v| (name, v)))
                    .collect();
                let missing =
                    |what: &str| StoreError::corrupt("received message", format!("has no {what}"));
                Ok(ReceivedMessage {
                    message_id: message.message_id.ok_or_else(|| missing("MessageId"))?,
                    receipt_handle: ReceiptHandle(
                        message
                            .receipt_handle
                            .ok_or_else(|| missing("ReceiptHandle"))?,
                    ),
                    body: message.body.unwrap_or_default(),
                    md5_of_body: message.md5_of_body.unwrap_or_default(),
                    attributes,
                    receive_count: system
                        .get(&MessageSystemAttributeName::ApproximateReceiveCount)
                        .and_then(|count| count.parse().ok())
                        .unwrap_or(1),
                    sent_at: timestamp(&system, MessageSystemAttributeName::SentTimestamp)
                        .ok_or_else(|| missing("SentTimestamp"))?,
                    first_received_at: timestamp(
                        &system,
                        MessageSystemAttributeName::ApproximateFirstReceiveTimestamp,
                    ),
                    sender_id: system
                        .get(&MessageSystemAttributeName::SenderId)
                        .cloned()
                        .unwrap_or_default(),
                    group_id: system
                        .get(&MessageSystemAttributeName::MessageGroupId)
                        .cloned(),
                    deduplication_id: system
                        .get(&MessageSystemAttributeName::MessageDeduplicationId)
                        .cloned(),
                    sequence_number: system
                        .get(&MessageSystemAttributeName::SequenceNumber)
                        .cloned(),
                    trace_header: system
                        .get(&MessageSystemAttributeName::AwsTraceHeader)
                        .cloned(),
                    queue_arn: self.arn.clone(),
                    queue_name: self.name.clone(),
                })
            })
            .collect()
    }

    async fn delete(&self, receipt: &ReceiptHandle) -> Result<(), StoreError> {
        self.client
            .delete_message()
            .queue_url(&self.url)
            .receipt_handle(&receipt.0)
            .send()
            .await
            .map_err(|e| {
                if e.as_service_error()
                    .is_some_and(|service| service.is_receipt_handle_is_invalid())
                {
                    invalid_receipt(e)
                } else {
                    sdk_error("DeleteMessage", e)
                }
            })?;
        Ok(())
    }

    async fn change_visibility(
        &self,
        receipt: &ReceiptHandle,
        timeout: Duration,
    ) -> Result<(), StoreError> {
        check_visibility(timeout)?;
        self.client
            .change_message_visibility()
            .queue_url(&self.url)
            .receipt_handle(&receipt.0)
            .visibility_timeout(timeout.as_secs() as i32)
            .send()
            .await
            .map_err(|e| {
                if e.as_service_error().is_some_and(|service| {
                    service.is_receipt_handle_is_invalid() || service.is_message_not_inflight()
                }) {
                    invalid_receipt(e)
                } else {
                    sdk_error("ChangeMessageVisibility", e)
                }
            })?;
        Ok(())
    }

    async fn depth(&self) -> Result<QueueDepth, StoreError> {
        let output = self
            .client
            .get_queue_attributes()
            .queue_url(&self.url)
            .attribute_names(QueueAttributeName::ApproximateNumberOfMessages)
            .attribute_names(QueueAttributeName::ApproximateNumberOfMessagesNotVisible)
            .attribute_names(QueueAttributeName::ApproximateNumberOfMessagesDelayed)
            .send()
            .await
            .map_err(|e| sdk_error("GetQueueAttributes", e))?;
        let attributes = output.attributes.unwrap_or_default();
        let count = |name: QueueAttributeName| {
            attributes
                .get(&name)
                .and_then(|value| value.parse().ok())
                .unwrap_or(0)
        };
        Ok(QueueDepth {
            visible: count(QueueAttributeName::ApproximateNumberOfMessages),
            in_flight: count(QueueAttributeName::ApproximateNumberOfMessagesNotVisible),
            delayed: count(QueueAttributeName::ApproximateNumberOfMessagesDelayed),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEADER: &str =
        "Root=1-6a1b2c3d-0123456789abcdef01234567;Parent=53995c3f42cd8ad8;Sampled=1";

    fn trace_attribute(entry: &SendMessageBatchRequestEntry) -> Option<&str> {
        entry
            .message_system_attributes()?
            .get(&MessageSystemAttributeNameForSends::AwsTraceHeader)?
            .string_value()
    }

    #[tokio::test]
    async fn entries_carry_the_current_trace_as_a_system_attribute() {
        let message = OutgoingMessage::new("{}");
        assert_eq!(trace_attribute(&entry(0, &message).unwrap()), None);
        let header = connector::trace::TraceHeader::parse(HEADER).unwrap();
        let sent =
            connector::trace::scope(Some(header), async { entry(0, &message).unwrap() }).await;
        assert_eq!(trace_attribute(&sent), Some(HEADER));
        // An explicit (replayed) header wins, and a malformed one is dropped, not sent.
        let mut replayed = OutgoingMessage::new("{}");
        replayed.trace_header = Some(HEADER.to_owned());
        assert_eq!(trace_attribute(&entry(0, &replayed).unwrap()), Some(HEADER));
        replayed.trace_header = Some("Root=evil".to_owned());
        assert_eq!(trace_attribute(&entry(0, &replayed).unwrap()), None);
    }
}
