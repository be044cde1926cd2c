//! Afosto's side of the demo: it reads everything the connector sends (order events and
//! command results from the outbound FIFO queue), and sends commands the way Afosto
//! does (validated against the contract, FIFO group per order or SKU, the command id as
//! deduplication id). It only records; judging is `verify`'s job.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use connector::ports::{MessageQueue, StoreError};
use contracts::command_result::CommandResult;
use contracts::order_event::OrderEvent;

use crate::local::inbox::{self, Prepared, SendError};
use crate::local::outbox::{self, Outbound};

/// One message as Afosto received it.
pub struct Seen<T> {
    pub item: T,
    /// The body as it came, for the contract check.
    pub body: String,
    pub at: Instant,
    pub group_id: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum AfostoError {
    #[error("reading the outbound queue")]
    Receive(#[from] StoreError),
    #[error("command {name} is not valid: {reason}")]
    Invalid { name: String, reason: String },
    #[error("sending commands")]
    Send(#[from] SendError),
}

pub struct Afosto {
    outbound: Arc<dyn MessageQueue>,
    commands: Arc<dyn MessageQueue>,
    pub events: Vec<Seen<OrderEvent>>,
    pub results: Vec<Seen<CommandResult>>,
    pub unreadable: Vec<String>,
    /// When each command (by id) was handed to the queue.
    pub sent: BTreeMap<String, Instant>,
}

impl Afosto {
    pub fn new(outbound: Arc<dyn MessageQueue>, commands: Arc<dyn MessageQueue>) -> Self {
        Self {
            outbound,
            commands,
            events: Vec::new(),
            results: Vec::new(),
            unreadable: Vec::new(),
            sent: BTreeMap::new(),
        }
    }

    /// Takes what is in the outbound queue now (waiting up to `wait` for the first).
    pub async fn collect(&mut self, wait: Duration) -> Result<usize, AfostoError> {
        let mut taken = 0;
        let mut wait = wait;
        loop {
            let batch = outbox::receive(self.outbound.as_ref(), wait).await?;
            if batch.is_empty() {
                return Ok(taken);
            }
            wait = Duration::ZERO;
            let at = Instant::now();
            for (message, parsed) in batch {
                taken += 1;
                let group_id = message.group_id.clone();
                let body = message.body.clone();
                match parsed {
                    Outbound::Event(event) => self.events.push(Seen {
                        item: *event,
                        body,
                        at,
                        group_id,
                    }),
                    Outbound::Result(result) => self.results.push(Seen {
                        item: *result,
                        body,
                        at,
                        group_id,
                    }),
                    Outbound::Unreadable(reason) => self.unreadable.push(reason),
                }
                self.outbound.delete(&message.receipt_handle).await?;
            }
        }
    }

    /// Validates and sends command bodies, `(name, body)`, in order.
    pub async fn send(
        &mut self,
        bodies: &[(String, serde_json::Value)],
    ) -> Result<(), AfostoError> {
        let mut prepared: Vec<Prepared> = Vec::new();
        for (name, body) in bodies {
            let text = body.to_string();
            let command = inbox::prepare(&text).map_err(|error| AfostoError::Invalid {
                name: name.clone(),
                reason: crate::commands::report(&error),
            })?;
            prepared.push(command);
        }
        inbox::send(self.commands.as_ref(), &prepared).await?;
        let now = Instant::now();
        for command in &prepared {
            self.sent.insert(command.command.id.to_string(), now);
        }
        Ok(())
    }
}
