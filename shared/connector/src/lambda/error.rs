//! What a failed invocation reports to Lambda: the error kind and its disposition as the
//! `errorType` (e.g. `BatchError.Retry`), and the error with its causes as the message.
//! Only a whole invocation fails this way; single records are reported in the partial
//! batch response instead.

use beyond::Disposition;
use lambda_runtime::Diagnostic;

use crate::error_chain::error_chain;
use crate::pipeline::schedule::ScheduleError;
use crate::pipeline::sqs_batch::BatchError;

/// A failed invocation.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct HandlerError {
    kind: &'static str,
    disposition: Disposition,
    message: String,
    #[source]
    source: Box<dyn std::error::Error + Send + Sync + 'static>,
}

impl HandlerError {
    fn new<E>(kind: &'static str, disposition: Disposition, error: E) -> Self
    where
        E: std::error::Error + Send + Sync + 'static,
    {
        Self {
            kind,
            disposition,
            message: error_chain(&error),
            source: Box::new(error),
        }
    }

    pub fn disposition(&self) -> Disposition {
        self.disposition
    }

    /// The `errorType` Lambda records: `{kind}.{Retry|Reject|Ambiguous}`.
    pub fn error_type(&self) -> String {
        format!("{}.{:?}", self.kind, self.disposition)
    }
}

/// A batch that cannot be reported record by record fails whole, and Lambda delivers it
/// again: nothing is lost.
impl From<BatchError> for HandlerError {
    fn from(error: BatchError) -> Self {
        Self::new("BatchError", Disposition::Retry, error)
    }
}

/// A scheduler round that could not list the tenants, or left some requests unsent; the
/// next round (five minutes on) includes every tenant again.
impl From<ScheduleError> for HandlerError {
    fn from(error: ScheduleError) -> Self {
        let disposition = match &error {
            ScheduleError::Store(store) => store.disposition(),
            ScheduleError::NotEnqueued { .. } => Disposition::Retry,
        };
        Self::new("ScheduleError", disposition, error)
    }
}

impl From<HandlerError> for Diagnostic {
    fn from(error: HandlerError) -> Self {
        Diagnostic {
            error_type: error.error_type(),
            error_message: error.message,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_batch_error_is_reported_as_retry_with_its_message() {
        let error = HandlerError::from(BatchError::MissingMessageId { index: 3 });
        assert_eq!(error.disposition(), Disposition::Retry);
        let diagnostic = Diagnostic::from(error);
        assert_eq!(diagnostic.error_type, "BatchError.Retry");
        assert!(diagnostic.error_message.contains("record 3"));
    }
}
