//! Property tests of the planners: random orders go through random command sequences, each
//! plan is run through the model of Beyond (which refuses what Beyond refuses), and
//! planning the same command again must find nothing left to do. Crashes between the two
//! calls of a shipment or pickup are simulated too.

use std::collections::BTreeMap;

use proptest::prelude::*;
use uuid::Uuid;

use super::test_support::*;
use super::{
    AdjustIntent, AdjustReconciliation, Outcome, Plan, PlanError, PlannedCall, ProcessTarget,
    StockSettings, plan_cancel, plan_deliver, plan_picked_up, plan_ready_for_pickup, plan_return,
    plan_ship, plan_stock, reconcile_ambiguous_adjustment,
};
use contracts::command::{DeliverCommand, MAX_STOCK_LEVEL, ReturnCommandLine, ReturnDecision};

const SKUS: [&str; 3] = ["A", "B", "C"];

#[derive(Debug, Clone)]
enum Step {
    CancelWhole,
    CancelLines(Vec<(usize, u32)>),
    Return(Vec<(usize, u32, bool)>, bool),
    Ship(Vec<(usize, u32)>, bool),
    ShipAll(bool),
    Ready,
    PickedUp,
    Deliver(usize),
}

fn step() -> impl Strategy<Value = Step> {
    let lines = || prop::collection::vec((0..SKUS.len(), 1..6u32), 1..4);
    prop_oneof![
        1 => Just(Step::CancelWhole),
        3 => lines().prop_map(Step::CancelLines),
        4 => (prop::collection::vec((0..SKUS.len(), 1..6u32, any::<bool>()), 1..4), any::<bool>())
            .prop_map(|(lines, refund)| Step::Return(lines, refund)),
        4 => (lines(), any::<bool>()).prop_map(|(lines, code)| Step::Ship(lines, code)),
        1 => any::<bool>().prop_map(Step::ShipAll),
        1 => Just(Step::Ready),
        1 => Just(Step::PickedUp),
        2 => (0..4usize).prop_map(Step::Deliver),
    ]
}

#[derive(Debug, Clone)]
struct Scenario {
    pickup: bool,
    full_refund_only: bool,
    free_shipping: bool,
    lines: Vec<(usize, u32)>,
    steps: Vec<(Step, bool)>,
}

fn scenario() -> impl Strategy<Value = Scenario> {
    (
        any::<bool>(),
        prop::bool::weighted(0.3),
        any::<bool>(),
        prop::collection::vec((0..SKUS.len(), 1..5u32), 1..5),
        prop::collection::vec((step(), prop::bool::weighted(0.3)), 1..8),
    )
        .prop_map(
            |(pickup, full_refund_only, free_shipping, lines, steps)| Scenario {
                pickup,
                full_refund_only,
                free_shipping,
                lines,
                steps,
            },
        )
}

fn build(scenario: &Scenario) -> Shop {
    let mut builder = if scenario.pickup {
        OrderBuilder::pickup()
    } else {
        OrderBuilder::shipping()
    };
    if scenario.full_refund_only {
        builder = builder.refund_policy("FULL_REFUND_ONLY");
    }
    if scenario.free_shipping {
        builder = builder.free_shipping();
    }
    for (sku, quantity) in &scenario.lines {
        builder = builder.line(SKUS[*sku], *quantity);
    }
    Shop::new(builder.build())
}

/// Command lines without repeats (the parser refuses those).
fn unique_lines(lines: &[(usize, u32)]) -> Vec<(&'static str, u32)> {
    let mut seen = Vec::new();
    lines
        .iter()
        .filter(|(sku, _)| {
            let new = !seen.contains(sku);
            seen.push(*sku);
            new
        })
        .map(|(sku, quantity)| (SKUS[*sku], *quantity))
        .collect()
}

/// The shipments the steps created so far: reference → (tracking code, recorded process).
type Shipments = BTreeMap<String, (Option<String>, Option<Uuid>)>;

/// Plans one step; `index` makes each ship step its own shipment.
fn plan_step(
    shop: &Shop,
    step: &Step,
    index: usize,
    shipments: &Shipments,
) -> Result<Plan, PlanError> {
    let (order, processes) = (&shop.order, &shop.processes);
    let reference = format!("parcel-{index}");
    let code = format!("T{index}");
    let recorded = shipments.get(&reference).and_then(|(_, id)| *id);
    match step {
        Step::CancelWhole => plan_cancel(order, &cancel_whole()),
        Step::CancelLines(lines) => plan_cancel(order, &cancel_lines(&unique_lines(lines))),
        Step::Return(lines, refund) => {
            let mut command = return_command(&[], *refund);
            let mut seen = Vec::new();
            for (sku, quantity, accepted) in lines {
                if seen.contains(&(*sku, *accepted)) {
                    continue;
                }
                seen.push((*sku, *accepted));
                command.lines.push(ReturnCommandLine {
                    sku: text(SKUS[*sku]),
                    line_item_id: None,
                    quantity: quantity_of(*quantity),
                    decision: if *accepted {
                        ReturnDecision::Accepted
                    } else {
                        ReturnDecision::Rejected
                    },
                });
            }
            plan_return(order, processes, &command)
        }
        Step::Ship(lines, with_code) => {
            let mut command = ship_lines(&unique_lines(lines), with_code.then_some(code.as_str()));
            command.shipment_reference = Some(text(&reference));
            plan_ship(order, processes, &command, recorded)
        }
        Step::ShipAll(with_code) => {
            let mut command = ship_all(with_code.then_some(code.as_str()));
            command.shipment_reference = Some(text(&reference));
            plan_ship(order, processes, &command, recorded)
        }
        Step::Ready => plan_ready_for_pickup(order, processes, &pickup_command()),
        Step::PickedUp => plan_picked_up(order, processes, &pickup_command()),
        Step::Deliver(which) => {
            let Some((reference, (tracking, recorded))) = shipments.iter().nth(*which) else {
                return plan_deliver(order, processes, &deliver_by_code("T-none"), None);
            };
            let command = DeliverCommand {
                tracking_code: tracking.as_deref().map(text),
                shipment_reference: Some(text(reference)),
                ..deliver_by_code("unused")
            };
            plan_deliver(order, processes, &command, *recorded)
        }
    }
}

fn quantity_of(pieces: u32) -> contracts::command::Quantity {
    contracts::command::Quantity::new(pieces).expect("at least 1")
}

/// Remembers which process a ship step's shipment is, as the consumer records it.
fn record(step: &Step, index: usize, plan: &Plan, created: &[Uuid], shipments: &mut Shipments) {
    let with_code = match step {
        Step::Ship(_, code) | Step::ShipAll(code) => *code,
        _ => return,
    };
    let process = created.first().copied().or_else(|| {
        plan.calls.iter().find_map(|call| match call {
            PlannedCall::MarkShipped {
                process: ProcessTarget::Existing(id),
                ..
            } => Some(*id),
            _ => None,
        })
    });
    let entry = shipments
        .entry(format!("parcel-{index}"))
        .or_insert((with_code.then(|| format!("T{index}")), None));
    if process.is_some() {
        entry.1 = process;
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// Every plan is one Beyond accepts, and once it ran the same command is in effect,
    /// also after a crash between the two calls of a shipment or pickup.
    #[test]
    fn plans_are_executable_and_idempotent(scenario in scenario()) {
        let mut shop = build(&scenario);
        let mut shipments = Shipments::new();
        for (index, (step, crash)) in scenario.steps.iter().enumerate() {
            let Ok(plan) = plan_step(&shop, step, index, &shipments) else {
                continue;
            };
            match plan.outcome {
                Outcome::Apply => prop_assert!(!plan.calls.is_empty()),
                _ => {
                    prop_assert!(plan.calls.is_empty());
                    continue;
                }
            }
            let plan = if *crash && plan.calls.len() > 1 {
                // The consumer dies after the first call, before recording anything.
                let first = shop.apply(&plan.calls[0], None);
                prop_assert!(first.is_ok(), "Beyond refuses {:?}: {:?}", plan.calls[0], first);
                let resumed = plan_step(&shop, step, index, &shipments);
                prop_assert!(resumed.is_ok(), "re-planning after a crash fails: {:?}", resumed);
                let resumed = resumed.unwrap_or_else(|_| unreachable!());
                prop_assert!(
                    !resumed.calls.iter().any(|c| matches!(
                        c,
                        PlannedCall::CreateShippingProcess(_) | PlannedCall::CreatePickupProcess(_)
                    )),
                    "a crash leads to a second process: {resumed:?}"
                );
                resumed
            } else {
                plan
            };
            let created = shop.run(&plan);
            prop_assert!(created.is_ok(), "Beyond refuses {:?}: {:?}", plan, created);
            let created = created.unwrap_or_default();
            record(step, index, &plan, &created, &mut shipments);

            let again = plan_step(&shop, step, index, &shipments);
            prop_assert!(
                matches!(&again, Ok(p) if p.outcome == Outcome::AlreadyInEffect),
                "not idempotent: {step:?} planned {plan:?}, then {again:?}"
            );
        }
    }

    /// A stock plan reaches the target exactly and never moves away from it.
    #[test]
    fn stock_deltas_always_move_to_the_target(
        available in prop::option::of(-1_000_000i64..=MAX_STOCK_LEVEL),
        target in 0..=MAX_STOCK_LEVEL,
        allow_enable in any::<bool>(),
    ) {
        let settings = StockSettings {
            enable_stock_management_if_unmanaged: allow_enable,
        };
        match plan_stock("S", target, available, &settings, Vec::new()) {
            Ok(plan) => {
                for call in &plan.calls {
                    match (call, available) {
                        (PlannedCall::AdjustStock { target: t, delta }, Some(current)) => {
                            prop_assert_eq!(*t, target);
                            prop_assert_ne!(*delta, 0);
                            prop_assert_eq!(current + delta, target);
                            prop_assert!((current + delta - target).abs() < (current - target).abs());
                        }
                        (PlannedCall::EnableStockManagement { initial }, None) => {
                            prop_assert!(allow_enable);
                            prop_assert_eq!(*initial, target);
                        }
                        other => prop_assert!(false, "unexpected {:?}", other),
                    }
                }
                if plan.outcome == Outcome::AlreadyInEffect {
                    prop_assert_eq!(available, Some(target));
                }
            }
            Err(error) => {
                prop_assert!(available.is_none() && !allow_enable, "{}", error);
            }
        }
    }

    /// Reconciliation says `Applied` exactly when the fresh read shows the delta landed.
    #[test]
    fn reconciliation_matches_the_arithmetic(
        before in -1000i64..1000,
        delta in (-1000i64..1000).prop_filter("never 0", |d| *d != 0),
        fresh in prop::option::of(-3000i64..3000),
    ) {
        let verdict = reconcile_ambiguous_adjustment(&AdjustIntent { before, delta }, fresh);
        match verdict {
            AdjustReconciliation::Applied => prop_assert_eq!(fresh, Some(before + delta)),
            AdjustReconciliation::NotApplied => prop_assert_eq!(fresh, Some(before)),
            AdjustReconciliation::ChangedElsewhere { current } => {
                prop_assert_eq!(current, fresh);
                prop_assert!(fresh != Some(before) && fresh != Some(before + delta));
            }
        }
    }
}
