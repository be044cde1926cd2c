//! The Afosto → ePages command consumer: applies each command from the command FIFO queue
//! to the tenant's shop exactly once in effect, and reports the result to Afosto.
//!
//! Per message: parse strictly ([`parse_command`]); resolve the tenant; claim the command
//! id in the idempotency store (Powertools design: a completed claim returns the stored
//! result, which is re-emitted with the same event id; a claim in progress elsewhere is
//! retried; the in-progress lock expires with the invocation's deadline, so a crashed
//! attempt is taken over by the redelivery); read the shop; plan with
//! [`domain::command_plan`]; run the planned calls one by one; complete the claim
//! with the result event and send it.
//!
//! Failures are sorted into three dispositions ([`RecordOutcome`]): `Done`, `Retry` (transient:
//! the claim is released and the message comes back; FIFO keeps the rest of its group
//! behind it) and `Reject` (permanent: activity log, `command.failed`, DLQ at once with the
//! reason). Decisions taken here, beyond the planner's rules:
//!
//! - **Unknown tenant** → permanent. **Paused tenant** → permanent too, with the reason
//!   `tenant_paused`: the message waits in the DLQ (nothing is lost) and is replayed with
//!   `dead_letters::replay` after the tenant is resumed, instead of cycling through retries and
//!   blocking its FIFO group while the merchant has deliberately stopped the sync.
//! - **A flow switched off** for the tenant (e.g. `stock`) → `command.skipped`
//!   (`flow_disabled`), completed like any other result.
//! - **Permanent failures are not stored** in the idempotency record (it is released): the
//!   same command replayed from the DLQ after the cause is fixed runs again.
//! - An UNSAFE call whose outcome is unknown (`AmbiguousUnsafeRequest`) is never repeated
//!   blindly: the order (or availability) is read again and the command re-planned, at most
//!   [`ApplySettings::max_replans`] times before the message is retried.

mod clients;
mod orders;
mod result;
mod stock;

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::sync::Mutex;
use uuid::Uuid;

pub use clients::{ClientsError, TenantClients};
pub use result::result_type;

use contracts::command_result::{
    CommandResult, FailureCode, ResultOutcome, RetryDisposition, SkipCode,
};

use crate::config::{self, ConfigError};
use crate::metrics::{Metric, Metrics};
use crate::pipeline::sqs_batch::{
    BatchError, BatchSummary, QueueOrdering, Record, RecordHandler, RecordOutcome, process_batch,
};
use crate::ports::idempotency::{ClaimOutcome, IdempotencyKey};
use crate::ports::{Clock, MessageQueue, StateStores, StoreError};
use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};
use beyond::{BeyondError, Disposition};
use contracts::command::{
    Action, Command, CommandError, CommandType, OrderRef, parse_command, peek_identity,
};
use domain::activity::{ActivityEntry, ActivityOutcome, Correlation, Direction, EntityRef};
use domain::command_plan::PlanError;
use domain::tenant::TenantConfig;

/// Consumer settings, read from the environment once at init.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApplySettings {
    /// How long a completed command id is remembered (duplicates within it are skipped
    /// with the stored result). `COMMAND_IDEMPOTENCY_DAYS`, default 30: longer than any
    /// DLQ retention, so a replayed message is still recognised.
    pub idempotency_ttl: Duration,
    /// Turn on stock management for an unmanaged product instead of failing.
    /// `ENABLE_STOCK_MANAGEMENT_IF_UNMANAGED` (`true`/`false`, default `false`).
    /// Deployment-wide because `TenantConfig` has no such field yet.
    pub enable_stock_management_if_unmanaged: bool,
    /// Re-plans after ambiguous calls before giving up for this delivery.
    pub max_replans: u32,
}

impl Default for ApplySettings {
    fn default() -> Self {
        Self {
            idempotency_ttl: Duration::from_secs(30 * 24 * 3600),
            enable_stock_management_if_unmanaged: false,
            max_replans: 3,
        }
    }
}

impl ApplySettings {
    pub fn from_env() -> Result<Self, ConfigError> {
        let mut settings = Self::default();
        if let Some(days) = config::parsed::<u64>("COMMAND_IDEMPOTENCY_DAYS")? {
            settings.idempotency_ttl = Duration::from_secs(days.max(1) * 24 * 3600);
        }
        if let Some(flag) = config::flag("ENABLE_STOCK_MANAGEMENT_IF_UNMANAGED")? {
            settings.enable_stock_management_if_unmanaged = flag;
        }
        Ok(settings)
    }
}

/// Test-only fault injection (the `testing` feature): called after each step of an attempt (`step` is a planned
/// call's name, or `record-intent`); returning `true` makes the attempt stop right there
/// as if the process died: no release, no completion, no result event.
#[cfg(feature = "testing")]
pub trait StepHook: Send + Sync {
    fn crash_after(&self, command_id: &str, step: &str) -> bool;
}

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
    fn failure_code(&self) -> FailureCode {
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

    /// The message with its causes, for humans (activity log, result event, DLQ reason).
    fn explain(&self) -> String {
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
        text
    }
}

/// What an attempt did: the outcome to report, and the ePages order it was about.
#[derive(Debug)]
struct Executed {
    outcome: ResultOutcome,
    epages_order_id: Option<Uuid>,
}

impl Executed {
    fn applied(calls: Vec<String>, notes: Vec<String>, order: Option<Uuid>) -> Self {
        Self {
            outcome: result::applied(calls, notes),
            epages_order_id: order,
        }
    }

    fn skipped(reason: SkipCode, message: String, notes: Vec<String>, order: Option<Uuid>) -> Self {
        Self {
            outcome: result::skipped(reason, message, notes),
            epages_order_id: order,
        }
    }
}

/// A permanent failure as reported: the contract's code for Afosto, and the reason for the
/// DLQ and the activity log (which may be more specific: `unknown_tenant`, `malformed_json`).
struct Rejection {
    code: FailureCode,
    reason: String,
    message: String,
}

fn code_name(code: FailureCode) -> String {
    serde_json::to_value(code)
        .ok()
        .and_then(|value| value.as_str().map(str::to_owned))
        .unwrap_or_else(|| format!("{code:?}"))
}

/// Message groups (orders, SKUs) applied at once within one batch; the Beyond client
/// bounds its own concurrency per shop as well.
const GROUP_CONCURRENCY: usize = 4;

/// One invocation's view of the consumer: the batch handler with its deadline.
struct Invocation<'a> {
    applier: &'a CommandApplier,
    deadline: DateTime<Utc>,
}

#[async_trait::async_trait]
impl RecordHandler for Invocation<'_> {
    async fn handle(&self, record: Record<'_>) -> RecordOutcome {
        self.applier
            .apply_message(record.body, record.message_id, self.deadline)
            .await
    }
}

/// The consumer. Build it once per container; it caches SKU lookups while warm.
pub struct CommandApplier {
    stores: StateStores,
    clients: Arc<dyn TenantClients>,
    results: Arc<dyn MessageQueue>,
    clock: Arc<dyn Clock>,
    settings: ApplySettings,
    skus: Mutex<stock::SkuCache>,
    #[cfg(feature = "testing")]
    hook: Option<Arc<dyn StepHook>>,
    metrics: Arc<Metrics>,
}

impl CommandApplier {
    pub fn new(
        stores: StateStores,
        clients: Arc<dyn TenantClients>,
        results: Arc<dyn MessageQueue>,
        clock: Arc<dyn Clock>,
        settings: ApplySettings,
    ) -> Self {
        Self {
            stores,
            clients,
            results,
            clock,
            settings,
            skus: Mutex::new(stock::SkuCache::default()),
            #[cfg(feature = "testing")]
            hook: None,
            metrics: Metrics::disabled(),
        }
    }

    /// Counts applied, skipped, dead-lettered and retried commands into `metrics`.
    pub fn with_metrics(mut self, metrics: Arc<Metrics>) -> Self {
        self.metrics = metrics;
        self
    }

    /// Installs a [`StepHook`] (tests only).
    #[cfg(feature = "testing")]
    pub fn with_step_hook(mut self, hook: Arc<dyn StepHook>) -> Self {
        self.hook = Some(hook);
        self
    }

    /// Handles one Lambda SQS event from the command FIFO queue: groups in order, a
    /// retried record holds back the rest of its group, permanent failures go to
    /// `dead_letters` at once. `deadline` is the invocation's end.
    pub async fn handle_event(
        &self,
        event: &SqsEvent,
        deadline: DateTime<Utc>,
        dead_letters: &dyn MessageQueue,
    ) -> Result<(SqsBatchResponse, BatchSummary), BatchError> {
        let invocation = Invocation {
            applier: self,
            deadline,
        };
        let (response, summary) = process_batch(
            event,
            QueueOrdering::Fifo {
                concurrency: GROUP_CONCURRENCY,
            },
            dead_letters,
            &invocation,
        )
        .await?;
        // Counted from the batch summary: a permanent failure counts once it is in the DLQ
        // (if forwarding it failed, the message is retried instead).
        self.metrics
            .add_usize(Metric::CommandsFailed, summary.dead_lettered);
        self.metrics
            .add_usize(Metric::CommandsRetried, summary.retried);
        Ok((response, summary))
    }

    /// Handles one message body. `deadline` is when the invocation ends: the idempotency
    /// claim is held until then, so a redelivery after a crash can take it over.
    pub async fn apply_message(
        &self,
        body: &str,
        message_id: &str,
        deadline: DateTime<Utc>,
    ) -> RecordOutcome {
        let command = match parse_command(body.as_bytes()) {
            Ok(command) => command,
            Err(error) => return self.reject_invalid(body, message_id, &error).await,
        };
        let span = tracing::info_span!(
            "command",
            tenant = %command.tenant,
            command_id = %command.id,
            command_type = %command.command_type(),
        );
        let _entered = span.enter();
        let tenant = match self.stores.tenants.get(&command.tenant).await {
            Ok(Some(tenant)) => tenant,
            Ok(None) => {
                let rejection = Rejection {
                    code: FailureCode::InvalidCommand,
                    reason: "unknown_tenant".into(),
                    message: format!(
                        "`tenant`: {:?} is not a configured tenant",
                        command.tenant.as_str()
                    ),
                };
                return self.reject(&command, None, message_id, rejection).await;
            }
            Err(error) if error.is_transient() => {
                return RecordOutcome::Retry {
                    reason: format!("reading the tenant failed: {error}"),
                };
            }
            Err(error) => {
                let rejection = Rejection {
                    code: FailureCode::Internal,
                    reason: "tenant_unreadable".into(),
                    message: format!("the tenant configuration cannot be read: {error}"),
                };
                return self.reject(&command, None, message_id, rejection).await;
            }
        };
        if tenant.paused {
            let rejection = Rejection {
                code: FailureCode::Internal,
                reason: "tenant_paused".into(),
                message: format!(
                    "tenant {} is paused; the command waits in the dead-letter queue: replay it after resuming the tenant",
                    tenant.id
                ),
            };
            return self.reject(&command, None, message_id, rejection).await;
        }

        let key = match IdempotencyKey::new(format!("{}:command:{}", tenant.id, command.id)) {
            Ok(key) => key,
            Err(error) => {
                let rejection = Rejection {
                    code: FailureCode::InvalidCommand,
                    reason: "invalid_value".into(),
                    message: format!("`id`: {error}"),
                };
                return self.reject(&command, None, message_id, rejection).await;
            }
        };
        let now = self.clock.now();
        if deadline <= now {
            return RecordOutcome::Retry {
                reason: ApplyError::NoTimeLeft.to_string(),
            };
        }
        let expires_at = chrono::TimeDelta::from_std(self.settings.idempotency_ttl)
            .ok()
            .and_then(|ttl| now.checked_add_signed(ttl))
            .unwrap_or(deadline)
            .max(deadline);
        match self
            .stores
            .idempotency
            .claim(&key, deadline, expires_at, now)
            .await
        {
            Ok(ClaimOutcome::Claimed) => {}
            Ok(ClaimOutcome::AlreadyCompleted(record)) => {
                // A duplicate: one effect, and the same result event again (same id).
                self.metrics.incr(Metric::CommandsSkipped);
                return match result::from_record(&record) {
                    Some((event, group)) => {
                        tracing::info!(outcome = result::result_type(&event), "duplicate command");
                        self.emit(&event, &group).await
                    }
                    None => RecordOutcome::Done,
                };
            }
            Ok(ClaimOutcome::InProgress { until }) => {
                return RecordOutcome::Retry {
                    reason: format!("another attempt holds the command until {until}"),
                };
            }
            Err(error) => {
                return RecordOutcome::Retry {
                    reason: format!("claiming the command failed: {error}"),
                };
            }
        }

        match self.execute(&tenant, &command).await {
            Ok(executed) => {
                match &executed.outcome {
                    ResultOutcome::Applied(_) => self.metrics.incr(Metric::CommandsApplied),
                    ResultOutcome::Skipped(_) => self.metrics.incr(Metric::CommandsSkipped),
                    // `execute` reports failures as errors: counted once dead-lettered.
                    ResultOutcome::Failed(_) => {}
                }
                let event = result::result_about(
                    &command,
                    executed.epages_order_id,
                    executed.outcome,
                    self.clock.now(),
                );
                let group = command.message_group_id();
                if let Err(error) = self
                    .stores
                    .idempotency
                    .complete(&key, &result::to_record(&event, &group))
                    .await
                {
                    // The effect is in the shop; a retry re-plans to "already in effect".
                    tracing::warn!(%error, "completing the idempotency record failed");
                }
                self.log(&command, &event, message_id, None).await;
                self.emit(&event, &group).await
            }
            // A test's injected crash stops right here, as a dead process would: no
            // release, no result.
            #[cfg(feature = "testing")]
            Err(error @ ApplyError::InjectedCrash { .. }) => RecordOutcome::Retry {
                reason: error.to_string(),
            },
            Err(error) => match error.disposition() {
                Disposition::Retry | Disposition::Ambiguous => {
                    self.release(&key).await;
                    tracing::warn!(error = %error.explain(), "transient failure; retrying");
                    RecordOutcome::Retry {
                        reason: error.explain(),
                    }
                }
                Disposition::Reject => {
                    self.release(&key).await;
                    let code = error.failure_code();
                    let rejection = Rejection {
                        code,
                        reason: code_name(code),
                        message: error.explain(),
                    };
                    self.reject(&command, None, message_id, rejection).await
                }
            },
        }
    }

    async fn execute(
        &self,
        tenant: &TenantConfig,
        command: &Command,
    ) -> Result<Executed, ApplyError> {
        let flows = &tenant.flows;
        let (enabled, flow) = match command.command_type() {
            CommandType::Cancel => (flows.cancellations, "cancellations"),
            CommandType::Return => (flows.returns, "returns"),
            CommandType::Ship
            | CommandType::Deliver
            | CommandType::ReadyForPickup
            | CommandType::PickedUp => (flows.shipments, "shipments"),
            CommandType::Stock => (flows.stock, "stock"),
        };
        if !enabled {
            return Ok(Executed::skipped(
                SkipCode::FlowDisabled,
                format!("the {flow} flow is switched off for this tenant"),
                Vec::new(),
                None,
            ));
        }
        let client = self.clients.client_for(tenant).await?;
        match &command.action {
            Action::Stock(stock) => self.execute_stock(tenant, &client, command, stock).await,
            _ => self.execute_order(tenant, &client, command).await,
        }
    }

    #[cfg(not(feature = "testing"))]
    fn check_crash(&self, _command: &Command, _step: &str) -> Result<(), ApplyError> {
        Ok(())
    }

    #[cfg(feature = "testing")]
    fn check_crash(&self, command: &Command, step: &str) -> Result<(), ApplyError> {
        match &self.hook {
            Some(hook) if hook.crash_after(command.id.as_str(), step) => {
                Err(ApplyError::InjectedCrash {
                    step: step.to_owned(),
                })
            }
            _ => Ok(()),
        }
    }

    async fn release(&self, key: &IdempotencyKey) {
        if let Err(error) = self.stores.idempotency.release(key).await {
            // The claim then expires with the invocation's deadline.
            tracing::warn!(%error, "releasing the idempotency record failed");
        }
    }

    /// Sends a result event; a failed send is retried with the message (the stored result
    /// is re-emitted with the same id).
    async fn emit(&self, event: &CommandResult, group: &str) -> RecordOutcome {
        let message = match result::to_message(event, group) {
            Ok(message) => message,
            Err(error) => {
                return RecordOutcome::Retry {
                    reason: format!("encoding the result event failed: {error}"),
                };
            }
        };
        match self.results.send_batch(vec![message]).await {
            Ok(report) => match report.failures().next() {
                None => RecordOutcome::Done,
                Some((_, failure)) => RecordOutcome::Retry {
                    reason: format!(
                        "sending the result event failed ({}): {}",
                        failure.code, failure.message
                    ),
                },
            },
            Err(error) => RecordOutcome::Retry {
                reason: format!("sending the result event failed: {error}"),
            },
        }
    }

    /// A permanent failure of a parsed command: `command.failed`, activity, DLQ.
    async fn reject(
        &self,
        command: &Command,
        epages_order_id: Option<Uuid>,
        message_id: &str,
        rejection: Rejection,
    ) -> RecordOutcome {
        let event = CommandResult::failed(
            command,
            epages_order_id,
            rejection.code,
            rejection.message.clone(),
            RetryDisposition::Permanent,
            self.clock.now(),
        );
        let reason = format!("{}: {}", rejection.reason, rejection.message);
        self.log(command, &event, message_id, Some(&reason)).await;
        self.finish_reject(&event, &command.message_group_id(), reason)
            .await
    }

    /// A body that is not a valid command. When its id and tenant can still be read,
    /// Afosto gets `command.failed` and the tenant's activity log the reason.
    async fn reject_invalid(
        &self,
        body: &str,
        message_id: &str,
        error: &CommandError,
    ) -> RecordOutcome {
        let reason = format!("{}: {error}", error.kind());
        tracing::warn!(message_id, %reason, "invalid command");
        let Some(identity) = peek_identity(body.as_bytes()) else {
            return RecordOutcome::Reject { reason };
        };
        let event = CommandResult::invalid(&identity, error, self.clock.now());
        let entry = ActivityEntry {
            tenant: identity.tenant.clone(),
            entry_id: event.event_id.to_string(),
            at: event.occurred_at,
            entity: EntityRef {
                kind: domain::activity::EntityKind::Tenant,
                id: identity.tenant.to_string(),
                number: None,
            },
            direction: Direction::AfostoToEpages,
            action: format!(
                "command.{}",
                identity.command_type.map_or("unknown", CommandType::as_str)
            ),
            outcome: ActivityOutcome::Failed,
            error: Some(reason.clone()),
            correlation: Correlation {
                message_id: Some(message_id.to_owned()),
                command_id: Some(identity.id.to_string()),
                event_id: Some(event.event_id.to_string()),
            },
        };
        self.append(entry).await;
        let group = format!("{}:command:{}", identity.tenant, identity.id);
        self.finish_reject(&event, &group, reason).await
    }

    async fn finish_reject(
        &self,
        event: &CommandResult,
        group: &str,
        reason: String,
    ) -> RecordOutcome {
        match self.emit(event, group).await {
            RecordOutcome::Done => RecordOutcome::Reject { reason },
            // Report to Afosto before parking the message: retry until the event is out.
            retry => retry,
        }
    }

    async fn log(
        &self,
        command: &Command,
        event: &CommandResult,
        message_id: &str,
        failure: Option<&str>,
    ) {
        let entity = match &command.action {
            Action::Stock(stock) => EntityRef::sku(stock.sku.as_str()),
            other => match other.order_ref() {
                Some(OrderRef::Id(id)) => EntityRef::order(id.to_string(), None),
                Some(OrderRef::Number(number)) => {
                    EntityRef::order(number.as_str(), Some(number.to_string()))
                }
                None => EntityRef::sku(command.id.as_str()),
            },
        };
        let (outcome, detail) = match &event.outcome {
            ResultOutcome::Applied(applied) => (
                ActivityOutcome::Ok,
                (!applied.notes.is_empty()).then(|| applied.notes.join("; ")),
            ),
            ResultOutcome::Skipped(skipped) => (
                ActivityOutcome::Skipped,
                Some(format!(
                    "{}: {}",
                    code_name_skip(skipped.reason),
                    skipped.message
                )),
            ),
            ResultOutcome::Failed(failed) => (
                ActivityOutcome::Failed,
                Some(
                    failure
                        .map(str::to_owned)
                        .unwrap_or_else(|| failed.message.clone()),
                ),
            ),
        };
        let entry = ActivityEntry {
            tenant: command.tenant.clone(),
            entry_id: event.event_id.to_string(),
            at: event.occurred_at,
            entity,
            direction: Direction::AfostoToEpages,
            action: format!("command.{}", command.command_type()),
            outcome,
            error: detail,
            correlation: Correlation {
                message_id: Some(message_id.to_owned()),
                command_id: Some(command.id.to_string()),
                event_id: Some(event.event_id.to_string()),
            },
        };
        self.append(entry).await;
    }

    async fn append(&self, entry: ActivityEntry) {
        if let Err(error) = self.stores.activity.append(&[entry]).await {
            // The result event and the DLQ still carry the reason.
            tracing::warn!(%error, "writing the activity log failed");
        }
    }
}

fn code_name_skip(code: SkipCode) -> String {
    serde_json::to_value(code)
        .ok()
        .and_then(|value| value.as_str().map(str::to_owned))
        .unwrap_or_else(|| format!("{code:?}"))
}
