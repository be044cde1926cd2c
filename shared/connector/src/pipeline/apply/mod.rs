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
mod error;
mod orders;
mod result;
mod settings;
mod stock;

use std::sync::Arc;

use chrono::{DateTime, Utc};
use tokio::sync::Mutex;
use uuid::Uuid;

pub use clients::{ClientsError, TenantClients};
pub use error::ApplyError;
use error::{Executed, Rejection, code_name};
pub use result::result_type;
pub use settings::ApplySettings;
#[cfg(feature = "testing")]
pub use settings::StepHook;

use contracts::command_result::{
    CommandResult, FailureCode, ResultOutcome, RetryDisposition, SkipCode,
};

use crate::metrics::{Metric, Metrics};
use crate::pipeline::sqs_batch::{
    BatchError, BatchSummary, QueueOrdering, Record, RecordHandler, RecordOutcome, process_batch,
};
use crate::ports::idempotency::{ClaimOutcome, IdempotencyKey};
use crate::ports::{Clock, MessageQueue, StateStores};
use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};
use beyond::Disposition;
use contracts::command::{
    Action, Command, CommandError, CommandType, OrderRef, parse_command, peek_identity,
};
use domain::activity::{ActivityEntry, ActivityOutcome, Correlation, Direction, EntityRef};
use domain::tenant::TenantConfig;

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

    async fn append(&self, mut entry: ActivityEntry) {
        // The activity log is a sink: its reason is redacted and capped.
        entry.error = entry.error.as_deref().map(crate::error_chain::sink_text);
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
