//! `apply-commands.json`: an SQS batch from the FIFO command queue with a `ship` and a
//! `stock` command of contract v1.

use std::sync::Arc;
use std::time::Duration;

use aws_adapters::provision::QueueSpec;
use aws_lambda_events::event::sqs::SqsEvent;
use beyond::model::OrderShippingStatus;
use connector::auth::ShopClients;
use connector::lambda::ApplyCommands;
use connector::pipeline::apply::{ApplySettings, CommandApplier};
use contracts::command::parse_command;
use serde_json::Value;

use super::{LOCATION, ORDER_NUMBER, SHOP, SKU, World, drain, event, files};
use crate::auth::support::fast_http;

/// The committed contract schema.
fn command_schema() -> jsonschema::Validator {
    let text = include_str!("../../../shared/contracts/v1/command.schema.json");
    let schema: Value = serde_json::from_str(text).expect("the schema is JSON");
    jsonschema::validator_for(&schema).unwrap_or_else(|e| panic!("invalid schema: {e}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_ship_and_stock_commands_are_applied_and_their_results_sent() {
    let world = World::start().await;
    let dead_letters = crate::support::embedded::queue_pair(QueueSpec::fifo("commands")).await;
    let results = crate::support::embedded::queue_pair(QueueSpec::fifo("order-events")).await;
    let stores = &world.backend.stores;
    let clock = world.backend.dyn_clock();
    let handler = ApplyCommands::new(
        CommandApplier::new(
            stores.clone(),
            Arc::new(ShopClients::new(stores, fast_http(), clock.clone())),
            results.queue.clone(),
            clock.clone(),
            ApplySettings::default(),
        ),
        dead_letters.dead_letters.clone(),
        clock,
    );

    let sample = event::<SqsEvent>("apply-commands.json", files::APPLY_COMMANDS);
    // The transport rules of docs/COMMANDS.md: a valid v1 command per record, grouped and
    // deduplicated the way Afosto must send it.
    let schema = command_schema();
    let mut command_ids = Vec::new();
    let mut types = Vec::new();
    for record in &sample.payload.records {
        let body = record.body.as_deref().unwrap_or_default();
        let command = parse_command(body.as_bytes())
            .unwrap_or_else(|error| panic!("{:?} is not a v1 command: {error}", record.message_id));
        let json: Value = serde_json::from_str(body).expect("the body is JSON");
        let problems: Vec<String> = schema.iter_errors(&json).map(|e| e.to_string()).collect();
        assert!(problems.is_empty(), "{}: {problems:?}", command.id);
        assert_eq!(
            record.attributes.get("MessageGroupId"),
            Some(&command.message_group_id()),
            "{}",
            command.id
        );
        assert_eq!(
            record
                .attributes
                .get("MessageDeduplicationId")
                .map(String::as_str),
            Some(command.id.as_str())
        );
        assert_eq!(command.tenant.as_str(), world.tenant.as_str());
        command_ids.push(command.id.to_string());
        types.push(json["type"].as_str().unwrap_or_default().to_owned());
    }
    assert_eq!(types, ["ship", "stock"]);

    let (response, summary) = handler
        .handle_with_summary(sample)
        .await
        .expect("the invocation succeeds");
    assert!(
        response.batch_item_failures.is_empty(),
        "no record failed: {summary:?}"
    );
    assert_eq!(summary.done, 2, "{summary:?}");
    let dead = drain(
        dead_letters.dead_letters.as_ref(),
        Duration::from_millis(100),
    )
    .await;
    assert!(dead.is_empty(), "nothing dead-lettered: {dead:?}");

    let sent = drain(results.queue.as_ref(), Duration::from_millis(200)).await;
    let mut applied: Vec<(String, String)> = sent
        .iter()
        .map(|m| serde_json::from_str::<Value>(&m.body).expect("a result is JSON"))
        .map(|r| {
            (
                r["commandId"].as_str().unwrap_or_default().to_owned(),
                r["type"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    applied.sort();
    let mut expected: Vec<(String, String)> = command_ids
        .into_iter()
        .map(|id| (id, "command.applied".to_owned()))
        .collect();
    expected.sort();
    assert_eq!(applied, expected);

    // The effects, in the shop's own state.
    let order = world
        .sandbox
        .order(SHOP, world.order_id)
        .expect("the order exists");
    assert_eq!(order.order_number.as_deref(), Some(ORDER_NUMBER));
    assert_eq!(order.shipping_status, Some(OrderShippingStatus::Shipped));
    let availability = world
        .sandbox
        .availability(SHOP, SKU)
        .expect("the product exists");
    assert_eq!(
        availability.available_stock,
        Some(17),
        "the absolute level Afosto observed at {LOCATION}"
    );
}
