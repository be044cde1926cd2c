//! What the connector sends to Afosto: order events and command results share the one
//! outbound FIFO queue (`order-events`); the `type` prefix tells them apart.

use std::time::Duration;

use connector::ports::queue::ReceivedMessage;
use connector::ports::{MessageQueue, StoreError};
use contracts::command_result::CommandResult;
use contracts::order_event::OrderEvent;

/// One outbound message, read.
#[derive(Debug)]
pub enum Outbound {
    Event(Box<OrderEvent>),
    Result(Box<CommandResult>),
    /// Neither (a contract this reader does not know); kept so nothing is dropped unseen.
    Unreadable(String),
}

impl Outbound {
    pub fn parse(body: &str) -> Self {
        let kind = serde_json::from_str::<serde_json::Value>(body)
            .ok()
            .and_then(|value| value.get("type")?.as_str().map(str::to_owned));
        match kind.as_deref() {
            Some(kind) if kind.starts_with("order.") => {
                match serde_json::from_str::<OrderEvent>(body) {
                    Ok(event) => Self::Event(Box::new(event)),
                    Err(error) => Self::Unreadable(format!("order event: {error}")),
                }
            }
            Some(kind) if kind.starts_with("command.") => {
                match serde_json::from_str::<CommandResult>(body) {
                    Ok(result) => Self::Result(Box::new(result)),
                    Err(error) => Self::Unreadable(format!("command result: {error}")),
                }
            }
            Some(kind) => Self::Unreadable(format!("unknown type {kind:?}")),
            None => Self::Unreadable("no `type` field".to_owned()),
        }
    }
}

/// Receives up to one batch; the caller deletes each message once it has handled it, so
/// a crash in between delivers it again rather than losing it.
pub async fn receive(
    queue: &dyn MessageQueue,
    wait: Duration,
) -> Result<Vec<(ReceivedMessage, Outbound)>, StoreError> {
    let messages = queue
        .receive(10, wait, Some(Duration::from_secs(30)))
        .await?;
    Ok(messages
        .into_iter()
        .map(|message| {
            let parsed = Outbound::parse(&message.body);
            (message, parsed)
        })
        .collect())
}
