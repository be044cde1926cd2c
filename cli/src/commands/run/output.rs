//! Where `run` puts what the connector sends to Afosto: every message of the outbound
//! queue (order events and command results) as one JSON line, to a file or stdout. A
//! message is deleted from the queue only after its line is written and flushed.

use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use connector::ports::{MessageQueue, StoreError};
use tokio::io::{AsyncWrite, AsyncWriteExt};

use crate::local::Shutdown;
use crate::local::outbox::{self, Outbound};

const RECEIVE_WAIT: Duration = Duration::from_millis(200);

#[derive(Debug, thiserror::Error)]
pub enum OutputError {
    #[error("opening {path}")]
    Open {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("writing an event line")]
    Write(#[source] std::io::Error),
    #[error("the order-events queue")]
    Queue(#[from] StoreError),
}

pub struct EventSink {
    writer: Pin<Box<dyn AsyncWrite + Send>>,
}

impl EventSink {
    /// Appends to `path` (a second run adds to the same file), or writes to stdout.
    pub async fn open(path: Option<&Path>) -> Result<Self, OutputError> {
        let writer: Pin<Box<dyn AsyncWrite + Send>> = match path {
            Some(path) => Box::pin(
                tokio::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(path)
                    .await
                    .map_err(|source| OutputError::Open {
                        path: path.to_path_buf(),
                        source,
                    })?,
            ),
            None => Box::pin(tokio::io::stdout()),
        };
        Ok(Self { writer })
    }

    /// Writes one batch; returns how many messages it held.
    async fn forward_batch(
        &mut self,
        queue: &dyn MessageQueue,
        wait: Duration,
    ) -> Result<usize, OutputError> {
        let batch = outbox::receive(queue, wait).await?;
        for (message, parsed) in &batch {
            if let Outbound::Unreadable(reason) = parsed {
                tracing::warn!(%reason, "an outbound message of an unknown shape; written as is");
            }
            let line = format!("{}\n", message.body.trim());
            self.writer
                .write_all(line.as_bytes())
                .await
                .map_err(OutputError::Write)?;
            self.writer.flush().await.map_err(OutputError::Write)?;
            queue.delete(&message.receipt_handle).await?;
        }
        Ok(batch.len())
    }

    /// Everything in the queue now.
    pub async fn forward_all(
        &mut self,
        queue: &Arc<dyn MessageQueue>,
    ) -> Result<usize, OutputError> {
        let mut written = 0;
        loop {
            let count = self.forward_batch(queue.as_ref(), Duration::ZERO).await?;
            if count == 0 {
                return Ok(written);
            }
            written += count;
        }
    }

    /// Until `shutdown`, then what is left.
    pub async fn forward_until(
        mut self,
        queue: Arc<dyn MessageQueue>,
        shutdown: Shutdown,
    ) -> Result<usize, OutputError> {
        let mut written = 0;
        while !shutdown.is_triggered() {
            written += self.forward_batch(queue.as_ref(), RECEIVE_WAIT).await?;
        }
        Ok(written + self.forward_all(&queue).await?)
    }
}
