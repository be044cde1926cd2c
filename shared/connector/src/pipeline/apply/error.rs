//! Why an attempt did not produce a result, how each cause is disposed of (retry or
//! reject), and what is reported for it: the contract's failure code and the reason.

use super::ClientsError;

use uuid::Uuid;

use contracts::command_result::{FailureCode, ResultOutcome, SkipCode};

use crate::ports::StoreError;
use beyond::{BeyondError, Disposition};
use domain::command_plan::PlanError;

/// Why an attempt did not produce a result.
#[derive(Debug, thiserror::Error)]
pub enum ApplyError {
    #[error(transparent)]
    Beyond(#[from] BeyondError),
    #[error("state store: {0}")]
    Store(#[from] StoreError),
    #[error(transparent)]
    Clients(#[from] ClientsError),
    #[error(transparent)]
    Plan(#[from] PlanError),
    #[error("{reference} does not exist in the shop")]
    OrderNotFound {
        reference: String,
        #[source]
        source: Option<BeyondError>,
    },
    #[error("SKU {sku:?} is neither a product nor a variation in the shop")]
    SkuNotFound { sku: String },
    #[error(
        "ePages refuses a partial cancelation: the order's payment method only allows full refunds, so cancel the whole order (wholeOrder: true) or every line completely"
    )]
    PartialCancelNotAllowed {
        #[source]
        source: BeyondError,
    },
    #[error(
        "ePages refuses a partial return: the order's payment method only allows full refunds, so return every piece and refund shipping in one command"
    )]
    PartialReturnNotAllowed {
        #[source]
        source: BeyondError,
    },
    #[error("SKU {sku:?} is a variation without stock management; enable it in ePages first")]
    VariationUnmanaged { sku: String },
    #[error("the outcome stayed unknown after {rounds} re-reads; retrying later")]
    StillAmbiguous { rounds: u32 },
    #[error("another adjustment of this stock is still in flight")]
    StockBusy,
    #[error("the invocation has no time left to hold the command")]
    NoTimeLeft,
    #[cfg(feature = "testing")]
    #[error("test hook: attempt stopped after {step}")]
    InjectedCrash { step: String },
}

impl ApplyError {
    /// Retry or reject; never ambiguous: an ambiguous call is re-planned inside the
    /// attempt, so one that escapes it is retried from a fresh read.
    pub fn disposition(&self) -> Disposition {
        match self {
            ApplyError::Beyond(error) => match error.disposition() {
                Disposition::Reject => Disposition::Reject,
                Disposition::Retry | Disposition::Ambiguous => Disposition::Retry,
            },
            // A store refusing our input or a corrupt record will not heal by itself.
            ApplyError::Store(error) => error.disposition(),
            ApplyError::Clients(error) => error.disposition(),
            ApplyError::Plan(error) => error.disposition(),
            ApplyError::OrderNotFound { .. }
            | ApplyError::SkuNotFound { .. }
            | ApplyError::PartialCancelNotAllowed { .. }
            | ApplyError::PartialReturnNotAllowed { .. }
            | ApplyError::VariationUnmanaged { .. } => Disposition::Reject,
            ApplyError::StillAmbiguous { .. } | ApplyError::StockBusy | ApplyError::NoTimeLeft => {
                Disposition::Retry
            }
            #[cfg(feature = "testing")]
            ApplyError::InjectedCrash { .. } => Disposition::Retry,
        }
    }

    /// The contract's failure code (docs/COMMANDS.md "Results").
    pub(super) fn failure_code(&self) -> FailureCode {
        match self {
            ApplyError::Beyond(error) if error.disposition() == Disposition::Reject => {
                FailureCode::EpagesRejected
            }
            ApplyError::Beyond(_) => FailureCode::EpagesUnavailable,
            ApplyError::Clients(error) if !error.is_transient() => FailureCode::EpagesRejected,
            ApplyError::Clients(_) => FailureCode::EpagesUnavailable,
            ApplyError::Store(_) => FailureCode::Internal,
            #[cfg(feature = "testing")]
            ApplyError::InjectedCrash { .. } => FailureCode::Internal,
            ApplyError::Plan(error) => error.into(),
            ApplyError::OrderNotFound { .. } => FailureCode::UnknownOrder,
            ApplyError::SkuNotFound { .. } => FailureCode::UnknownProduct,
            ApplyError::PartialCancelNotAllowed { .. }
            | ApplyError::PartialReturnNotAllowed { .. } => FailureCode::FullRefundOnly,
            ApplyError::VariationUnmanaged { .. } => FailureCode::StockUnmanaged,
            ApplyError::StillAmbiguous { .. } | ApplyError::StockBusy | ApplyError::NoTimeLeft => {
                FailureCode::EpagesUnavailable
            }
        }
    }

    /// The message with its causes, for humans (activity log, result event, DLQ reason):
    /// redacted and capped like every message that leaves the process.
    pub(super) fn explain(&self) -> String {
        let mut text = self.to_string();
        let mut source = std::error::Error::source(self);
        while let Some(cause) = source {
            let cause_text = cause.to_string();
            if !text.contains(&cause_text) {
                text.push_str(": ");
                text.push_str(&cause_text);
            }
            source = cause.source();
        }
        crate::error_chain::sink_text(&text)
    }
}

/// What an attempt did: the outcome to report, and the ePages order it was about.
#[derive(Debug)]
pub(super) struct Executed {
    pub(super) outcome: ResultOutcome,
    pub(super) epages_order_id: Option<Uuid>,
}

impl Executed {
    pub(super) fn applied(calls: Vec<String>, notes: Vec<String>, order: Option<Uuid>) -> Self {
        Self {
            outcome: super::result::applied(calls, notes),
            epages_order_id: order,
        }
    }

    pub(super) fn skipped(
        reason: SkipCode,
        message: String,
        notes: Vec<String>,
        order: Option<Uuid>,
    ) -> Self {
        Self {
            outcome: super::result::skipped(reason, message, notes),
            epages_order_id: order,
        }
    }
}

/// A permanent failure as reported: the contract's code for Afosto, and the reason for the
/// DLQ and the activity log (which may be more specific: `unknown_tenant`, `malformed_json`).
pub(super) struct Rejection {
    pub(super) code: FailureCode,
    pub(super) reason: String,
    pub(super) message: String,
}

pub(super) fn code_name(code: FailureCode) -> String {
    serde_json::to_value(code)
        .ok()
        .and_then(|value| value.as_str().map(str::to_owned))
        .unwrap_or_else(|| format!("{code:?}"))
}
