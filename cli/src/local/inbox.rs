//! Commands into the command queue the way Afosto sends them: parsed and validated first
//! (a line that is not a valid command is refused here, with the field that is wrong),
//! then sent to the FIFO queue with the command's message group id and its `id` as the
//! deduplication id (docs/COMMANDS.md, Transport).

use connector::ports::queue::OutgoingMessage;
use connector::ports::{MessageQueue, StoreError};
use contracts::command::{Command, CommandError, parse_command};

/// A command ready to send.
pub struct Prepared {
    pub command: Command,
    pub message: OutgoingMessage,
}

/// Validates one command body and builds its FIFO message.
pub fn prepare(body: &str) -> Result<Prepared, CommandError> {
    let command = parse_command(body.as_bytes())?;
    let message = OutgoingMessage::fifo(
        body.trim(),
        command.message_group_id(),
        command.id.to_string(),
    );
    Ok(Prepared { command, message })
}

#[derive(Debug, thiserror::Error)]
pub enum SendError {
    #[error("sending to the command queue")]
    Queue(#[from] StoreError),
    #[error("the command queue refused command {id}: {reason}")]
    Refused { id: String, reason: String },
}

/// Sends prepared commands, in order; every one must be accepted.
pub async fn send(queue: &dyn MessageQueue, prepared: &[Prepared]) -> Result<(), SendError> {
    if prepared.is_empty() {
        return Ok(());
    }
    let messages = prepared.iter().map(|p| p.message.clone()).collect();
    let report = queue.send_batch(messages).await?;
    if let Some((index, failure)) = report.failures().next() {
        let id = prepared
            .get(index)
            .map(|p| p.command.id.to_string())
            .unwrap_or_default();
        return Err(SendError::Refused {
            id,
            reason: format!("{} ({})", failure.message, failure.code),
        });
    }
    Ok(())
}
