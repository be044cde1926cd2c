//! The one error type of every port. Conditional-check failures are not errors: ports
//! return them as outcome variants. `StoreError` is for real failures.

use beyond::Disposition;
use std::path::PathBuf;

/// A boxed cause, kept as the error's source.
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The backing service (DynamoDB, SQS, Secrets Manager) failed or refused the call.
    #[error("{operation} failed ({code}): {message}")]
    Backend {
        operation: &'static str,
        /// The service's error code, or a transport kind such as `timeout`.
        code: String,
        message: String,
        transient: bool,
        #[source]
        source: BoxError,
    },
    /// A batch call kept returning unprocessed items after the bounded retries.
    #[error("{operation}: {remaining} items still unprocessed after {attempts} attempts")]
    Unprocessed {
        operation: &'static str,
        remaining: usize,
        attempts: u32,
    },
    /// The caller passed something the store must not write.
    #[error("invalid {field}: {reason}")]
    InvalidInput { field: &'static str, reason: String },
    /// A stored record cannot be read back into its type.
    #[error("stored {what} is malformed: {reason}")]
    Corrupt {
        what: String,
        reason: String,
        #[source]
        source: Option<BoxError>,
    },
    /// A receipt handle no longer names an in-flight message (it was redelivered or deleted).
    #[error("receipt handle is not valid: {reason}")]
    InvalidReceipt {
        reason: String,
        #[source]
        source: Option<BoxError>,
    },
    /// Reading or writing an embedded state file failed.
    #[error("state file {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// An embedded state file is not valid JSON for its store.
    #[error("state file {path} is not valid: {source}")]
    StateFile {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },
}

impl StoreError {
    /// Whether retrying the same call later may succeed: throttling, 5xx, timeouts and
    /// unprocessed batch items.
    pub fn is_transient(&self) -> bool {
        self.disposition().is_retry()
    }

    /// Retry (throttling, 5xx, timeouts, unprocessed items) or reject: a store refusing
    /// our input or a corrupt record will not heal by itself.
    pub fn disposition(&self) -> Disposition {
        let retry = match self {
            Self::Backend { transient, .. } => *transient,
            Self::Unprocessed { .. } => true,
            Self::Io { source, .. } => matches!(
                source.kind(),
                std::io::ErrorKind::Interrupted
                    | std::io::ErrorKind::TimedOut
                    | std::io::ErrorKind::WouldBlock
            ),
            Self::InvalidInput { .. }
            | Self::Corrupt { .. }
            | Self::InvalidReceipt { .. }
            | Self::StateFile { .. } => false,
        };
        if retry {
            Disposition::Retry
        } else {
            Disposition::Reject
        }
    }

    pub fn invalid(field: &'static str, reason: impl Into<String>) -> Self {
        Self::InvalidInput {
            field,
            reason: reason.into(),
        }
    }

    pub fn invalid_receipt(reason: impl Into<String>) -> Self {
        Self::InvalidReceipt {
            reason: reason.into(),
            source: None,
        }
    }

    pub fn corrupt(what: impl Into<String>, reason: impl Into<String>) -> Self {
        Self::Corrupt {
            what: what.into(),
            reason: reason.into(),
            source: None,
        }
    }

    pub fn corrupt_from(
        what: impl Into<String>,
        source: impl std::error::Error + Send + Sync + 'static,
    ) -> Self {
        Self::Corrupt {
            what: what.into(),
            reason: source.to_string(),
            source: Some(Box::new(source)),
        }
    }
}
