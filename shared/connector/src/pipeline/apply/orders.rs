//! Order commands: read the order and its processes, plan, run the calls one by one, and
//! re-read and re-plan after any call whose outcome is unknown.

use uuid::Uuid;

use super::{ApplyError, CommandApplier, Executed};
use crate::pipeline::shop_offset::{self, ClockSample};
use crate::ports::idempotency::{ClaimOutcome, IdempotencyKey};
use beyond::model::{Order, OrderProcesses};
use beyond::{BeyondClient, BeyondError, OrderQuery};
use contracts::command::{Action, Command, OrderRef};
use contracts::command_result::SkipCode;
use domain::command_plan::{
    OrderSnapshot, Outcome, PlannedCall, ProcessTarget, plan_order_command,
};
use domain::tenant::{TenantConfig, TenantId};

/// Beyond's 409 when a partial cancelation would need a partial refund.
const PARTIAL_CANCEL_NOT_ALLOWED: &str = "cancel-process-partial-refund-not-allowed";
const PARTIAL_RETURN_NOT_ALLOWED: &str = "return-process-partial-refund-not-allowed";

impl CommandApplier {
    pub(super) async fn execute_order(
        &self,
        tenant: &TenantConfig,
        client: &BeyondClient,
        command: &Command,
    ) -> Result<Executed, ApplyError> {
        let Some(reference) = command.order_ref() else {
            return Err(ApplyError::Plan(
                domain::command_plan::PlanError::NotAnOrderCommand {
                    command_type: command.command_type(),
                },
            ));
        };
        let mut calls_made: Vec<String> = Vec::new();
        let mut notes: Vec<String> = Vec::new();
        for _round in 0..=self.settings.max_replans {
            let order = fetch_order(client, reference).await?;
            let processes = client.order_processes(order.id).await?;
            let recorded = self.recorded_shipment(&tenant.id, &order, command).await?;
            let plan = plan_order_command(
                &command.action,
                &OrderSnapshot {
                    order: &order,
                    processes: &processes,
                    recorded_shipping_process: recorded,
                },
            )?;
            for note in &plan.notes {
                let note = note.to_string();
                if !notes.contains(&note) {
                    notes.push(note);
                }
            }
            match &plan.outcome {
                Outcome::Skip(reason) => {
                    return Ok(Executed::skipped(
                        reason.into(),
                        reason.to_string(),
                        notes,
                        Some(order.id),
                    ));
                }
                Outcome::AlreadyInEffect if calls_made.is_empty() => {
                    return Ok(Executed::skipped(
                        SkipCode::AlreadyInEffect,
                        "ePages already shows what the command asks".to_owned(),
                        notes,
                        Some(order.id),
                    ));
                }
                // An earlier round of this attempt got it there.
                Outcome::AlreadyInEffect => {
                    return Ok(Executed::applied(calls_made, notes, Some(order.id)));
                }
                Outcome::Apply => {}
            }
            if self
                .run_plan(
                    tenant,
                    client,
                    command,
                    &order,
                    &processes,
                    &plan.calls,
                    &mut calls_made,
                )
                .await?
            {
                return Ok(Executed::applied(calls_made, notes, Some(order.id)));
            }
            // Ambiguous: the next round reads the order again and re-plans.
        }
        Err(ApplyError::StillAmbiguous {
            rounds: self.settings.max_replans + 1,
        })
    }

    /// Runs the calls; `Ok(false)` when an UNSAFE call's outcome is unknown (re-plan).
    #[allow(clippy::too_many_arguments)]
    async fn run_plan(
        &self,
        tenant: &TenantConfig,
        client: &BeyondClient,
        command: &Command,
        order: &Order,
        _processes: &OrderProcesses,
        calls: &[PlannedCall],
        calls_made: &mut Vec<String>,
    ) -> Result<bool, ApplyError> {
        let mut created: Option<Uuid> = None;
        for call in calls {
            let answer = run_call(client, order.id, call, created).await;
            let new_process = match answer {
                Ok(CallAnswer {
                    new_process,
                    clock: Some(sample),
                }) => {
                    // The order in this answer changed just now: it shows the shop's clock.
                    let now = self.clock.now();
                    shop_offset::learn(&self.stores, &self.metrics, tenant, sample, now).await;
                    new_process
                }
                Ok(CallAnswer { new_process, .. }) => new_process,
                Err(error) if error.is_ambiguous() || is_stale_transition(&error) => {
                    tracing::warn!(call = call.name(), %error, "outcome unknown; re-reading the order");
                    // The call was made and may have landed: if the re-read shows the
                    // command in effect, it was this call (reported as applied, not as
                    // "already in effect").
                    calls_made.push(call.name().to_owned());
                    return Ok(false);
                }
                Err(error) => return Err(explain_refusal(error)),
            };
            if let Some(process_id) = new_process {
                created = Some(process_id);
                if let (PlannedCall::CreateShippingProcess(_), Action::Ship(ship)) =
                    (call, &command.action)
                    && let Some(reference) = &ship.shipment_reference
                {
                    self.record_shipment(&tenant.id, order.id, reference.as_str(), process_id)
                        .await?;
                }
            }
            calls_made.push(call.name().to_owned());
            self.check_crash(command, call.name())?;
        }
        Ok(true)
    }

    /// The idempotency key under which the shipping process of a `shipmentReference` is
    /// kept (`TenantConfig` and the ledger have no place for it; the idempotency store is
    /// a durable conditional map with the retention we need).
    fn shipment_key(
        tenant: &TenantId,
        order_id: Uuid,
        reference: &str,
    ) -> Result<IdempotencyKey, ApplyError> {
        Ok(IdempotencyKey::new(format!(
            "{tenant}:shipment:{order_id}:{reference}"
        ))?)
    }

    async fn record_shipment(
        &self,
        tenant: &TenantId,
        order_id: Uuid,
        reference: &str,
        process_id: Uuid,
    ) -> Result<(), ApplyError> {
        let key = Self::shipment_key(tenant, order_id, reference)?;
        let now = self.clock.now();
        let expires = now
            + chrono::TimeDelta::from_std(self.settings.idempotency_ttl)
                .unwrap_or(chrono::TimeDelta::days(30));
        let hold = now + chrono::TimeDelta::seconds(60);
        if let ClaimOutcome::Claimed = self
            .stores
            .idempotency
            .claim(&key, hold, expires.max(hold), now)
            .await?
        {
            self.stores
                .idempotency
                .complete(&key, &serde_json::json!({ "processId": process_id }))
                .await?;
        }
        Ok(())
    }

    /// The shipping process recorded for the command's `shipmentReference`, if any. Reading
    /// goes through a claim (the port has no plain get): a claim that finds nothing is
    /// released at once. Commands of one order are serialised by their FIFO group, so no
    /// writer races this read.
    async fn recorded_shipment(
        &self,
        tenant: &TenantId,
        order: &Order,
        command: &Command,
    ) -> Result<Option<Uuid>, ApplyError> {
        let reference = match &command.action {
            Action::Ship(ship) => ship.shipment_reference.as_ref(),
            Action::Deliver(deliver) => deliver.shipment_reference.as_ref(),
            _ => None,
        };
        let Some(reference) = reference else {
            return Ok(None);
        };
        let key = Self::shipment_key(tenant, order.id, reference.as_str())?;
        let now = self.clock.now();
        let hold = now + chrono::TimeDelta::seconds(5);
        match self.stores.idempotency.claim(&key, hold, hold, now).await? {
            ClaimOutcome::AlreadyCompleted(value) => Ok(value
                .get("processId")
                .and_then(|id| id.as_str())
                .and_then(|id| Uuid::parse_str(id).ok())),
            ClaimOutcome::Claimed => {
                self.stores.idempotency.release(&key).await?;
                Ok(None)
            }
            ClaimOutcome::InProgress { .. } => Ok(None),
        }
    }
}

/// The order by id, or by number through the list filter (exact match only).
async fn fetch_order(client: &BeyondClient, reference: &OrderRef) -> Result<Order, ApplyError> {
    match reference {
        OrderRef::Id(id) => client.get_order(*id).await.map_err(|error| {
            if error.is_not_found() {
                ApplyError::OrderNotFound {
                    reference: reference.to_string(),
                    source: Some(error),
                }
            } else {
                ApplyError::Beyond(error)
            }
        }),
        OrderRef::Number(number) => {
            let query = OrderQuery {
                order_number: Some(number.to_string()),
                ..OrderQuery::default()
            };
            let page = client.list_orders(&query).await?;
            page.into_items()
                .into_iter()
                .find(|order| order.order_number.as_deref() == Some(number.as_str()))
                .ok_or_else(|| ApplyError::OrderNotFound {
                    reference: reference.to_string(),
                    source: None,
                })
        }
    }
}

/// What a call's answer gives the plan: the process it created, and the shop's clock when
/// the answer carries the order it changed.
struct CallAnswer {
    new_process: Option<Uuid>,
    clock: Option<ClockSample>,
}

impl From<Option<Uuid>> for CallAnswer {
    fn from(new_process: Option<Uuid>) -> Self {
        Self {
            new_process,
            clock: None,
        }
    }
}

/// Makes one planned call.
async fn run_call(
    client: &BeyondClient,
    order_id: Uuid,
    call: &PlannedCall,
    created: Option<Uuid>,
) -> Result<CallAnswer, BeyondError> {
    Ok(match make_call(client, order_id, call, created).await? {
        Made::Order(sample) => CallAnswer {
            new_process: None,
            clock: Some(sample),
        },
        Made::Process(new_process) => new_process.into(),
    })
}

enum Made {
    /// An answer carrying the order the call changed: what it shows of the shop's clock.
    Order(ClockSample),
    Process(Option<Uuid>),
}

async fn make_call(
    client: &BeyondClient,
    order_id: Uuid,
    call: &PlannedCall,
    created: Option<Uuid>,
) -> Result<Made, BeyondError> {
    let target = |process: &ProcessTarget| match process {
        ProcessTarget::Existing(id) => Ok(*id),
        ProcessTarget::CreatedByPreviousCall => created.ok_or_else(|| BeyondError::Config {
            reason: format!("{} follows no create call", call.name()),
            source: None,
        }),
    };
    let new_process = match call {
        PlannedCall::CancelOrder(body) => {
            return client
                .cancel_order_dated(order_id, body)
                .await
                .map(|answer| Made::Order(ClockSample::of(answer.date, &answer.value)));
        }
        PlannedCall::CreateCancelation(body) => client
            .create_cancel_process(order_id, body)
            .await
            .map(|p| Some(p.id)),
        PlannedCall::CreateReturn(body) => client
            .create_return_process(order_id, body)
            .await
            .map(|p| Some(p.id)),
        PlannedCall::CreateShippingProcess(body) => client
            .create_shipping_process(order_id, body)
            .await
            .map(|p| Some(p.id)),
        PlannedCall::MarkShipped { process, body } => client
            .mark_shipped(order_id, target(process)?, body)
            .await
            .map(|_| None),
        PlannedCall::MarkDelivered { process_id, body } => client
            .mark_delivered(order_id, *process_id, body)
            .await
            .map(|_| None),
        PlannedCall::CreatePickupProcess(body) => client
            .create_pickup_process(order_id, body)
            .await
            .map(|p| Some(p.id)),
        PlannedCall::MarkPickedUp { process, body } => client
            .mark_picked_up(order_id, target(process)?, body)
            .await
            .map(|_| None),
        PlannedCall::AdjustStock { .. } | PlannedCall::EnableStockManagement { .. } => {
            Err(BeyondError::Config {
                reason: format!("{} is not an order call", call.name()),
                source: None,
            })
        }
    };
    new_process.map(Made::Process)
}

/// Turns Beyond's refusals that have a known business meaning into a clear error.
/// A transition (cancel the order, mark shipped, delivered or picked up) refused with 409
/// `illegal-status-transition`: the order is no longer as planned. Usually the client
/// repeated this REPEATABLE call after its first answer was lost, and the first one had
/// landed; it may also be someone else's change. Either way a fresh read decides, as after
/// an ambiguous failure: reporting a permanent failure would dead-letter a command whose
/// effect is in the shop.
fn is_stale_transition(error: &BeyondError) -> bool {
    error.status() == Some(http::StatusCode::CONFLICT)
        && error.error_id() == Some("illegal-status-transition")
}

fn explain_refusal(error: BeyondError) -> ApplyError {
    match error.error_id() {
        Some(PARTIAL_CANCEL_NOT_ALLOWED) => ApplyError::PartialCancelNotAllowed { source: error },
        Some(PARTIAL_RETURN_NOT_ALLOWED) => ApplyError::PartialReturnNotAllowed { source: error },
        _ => ApplyError::Beyond(error),
    }
}
