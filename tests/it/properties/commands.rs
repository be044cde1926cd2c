//! The strict command parser under generated commands and targeted mutations.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use chrono::{DateTime, Utc};
use contracts::command::{
    Action, CancelCommand, Command, CommandError, CommandId, CommandLine, Comment, DeliverCommand,
    MAX_COMMAND_BYTES, MAX_STOCK_LEVEL, OrderRef, PickupCommand, Quantity, ReturnCommand,
    ReturnCommandLine, ReturnDecision, SCHEMA_VERSION, ShipCommand, StockCommand, StockLevel, Text,
    TrackingLink, parse_command, peek_identity,
};
use domain::tenant::TenantId;
use proptest::prelude::*;
use serde_json::{Map, Value, json};
use uuid::Uuid;

// ---- the invariants every input must keep (shared with the fuzz seed test) -------------

/// What the fuzz target checks, for one input: no panic (the caller runs it), a parsed
/// command serialises and parses again to itself with a matching identity, an error names
/// its field in its message, and the same bytes always give the same answer.
pub(super) fn check_invariants(bytes: &[u8]) -> Result<Command, CommandError> {
    let first = parse_command(bytes);
    let second = parse_command(bytes);
    match (&first, &second) {
        (Ok(command), Ok(again)) => {
            assert_eq!(command, again, "parsing is deterministic");
            let text = serde_json::to_vec(command).expect("a parsed command serialises");
            let reparsed = parse_command(&text)
                .unwrap_or_else(|error| panic!("re-parse of {command:?} failed: {error}"));
            assert_eq!(&reparsed, command, "serialise → parse changed the command");
            let identity = peek_identity(bytes).expect("a valid command has an identity");
            assert_eq!(identity.id, command.id);
            assert_eq!(identity.tenant, command.tenant);
            assert_eq!(identity.command_type, Some(command.command_type()));
        }
        (Err(error), Err(again)) => {
            let message = error.to_string();
            assert_eq!(message, again.to_string(), "parsing is deterministic");
            assert_eq!(error.kind(), again.kind());
            assert!(error.is_permanent());
            if let Some(field) = error.field() {
                assert!(
                    message.contains(&format!("`{field}`")),
                    "{message:?} does not name `{field}`"
                );
            }
        }
        _ => panic!("the same bytes parsed once and failed once: {first:?} / {second:?}"),
    }
    first
}

// ---- strategies for valid commands -----------------------------------------------------

/// Single-line text: printable (no control characters), not blank, any script.
fn text<const MAX: usize>() -> impl Strategy<Value = Text<MAX>> {
    prop_oneof![
        4 => "[A-Za-z0-9._-]{1,12}",
        2 => "\\PC{1,16}",
        // The longest allowed value: the limit is inclusive.
        1 => Just("x".repeat(MAX)),
    ]
    .prop_filter_map("blank text", |raw| Text::<MAX>::parse(raw).ok())
}

fn comment() -> impl Strategy<Value = Comment> {
    prop_oneof![
        "[A-Za-z0-9 .,]{1,30}",
        "[\\PC\n\r\t]{1,40}",
        Just("é".repeat(Comment::MAX_LEN)),
    ]
    .prop_filter_map("blank comment", |raw| Comment::parse(raw).ok())
}

fn command_id() -> impl Strategy<Value = CommandId> {
    prop_oneof!["[!-~]{1,40}", Just("~".repeat(CommandId::MAX_LEN))]
        .prop_filter_map("invalid id", |raw| CommandId::parse(&raw).ok())
}

fn tenant() -> impl Strategy<Value = TenantId> {
    "[a-z0-9][a-z0-9_-]{0,63}".prop_filter_map("invalid tenant", |raw| TenantId::parse(&raw).ok())
}

/// Any instant from 1970 to 2100, nanosecond precision (RFC 3339 keeps it).
fn instant() -> impl Strategy<Value = DateTime<Utc>> {
    (0i64..4_102_444_800, 0u32..1_000_000_000).prop_filter_map("out of range", |(secs, nanos)| {
        DateTime::from_timestamp(secs, nanos)
    })
}

fn uuid() -> impl Strategy<Value = Uuid> {
    any::<u128>().prop_map(Uuid::from_u128)
}

fn quantity() -> impl Strategy<Value = Quantity> {
    prop_oneof![1u32..10, Just(u32::MAX)].prop_filter_map("zero", Quantity::new)
}

fn order_ref() -> impl Strategy<Value = OrderRef> {
    prop_oneof![
        uuid().prop_map(OrderRef::Id),
        text::<64>().prop_map(OrderRef::Number)
    ]
}

fn tracking_link() -> impl Strategy<Value = TrackingLink> {
    ("https?", "[a-z]{1,10}", "[A-Za-z0-9/_-]{0,20}").prop_filter_map(
        "not a URL",
        |(scheme, host, path)| {
            TrackingLink::parse(&format!("{scheme}://{host}.example/{path}")).ok()
        },
    )
}

/// 1 to 4 lines, one per SKU, some with a line item id: never a duplicate line.
fn lines() -> impl Strategy<Value = Vec<CommandLine>> {
    prop::collection::btree_map(text::<255>(), (prop::option::of(uuid()), quantity()), 1..5)
        .prop_map(|lines| {
            lines
                .into_iter()
                .map(|(sku, (line_item_id, quantity))| CommandLine {
                    sku,
                    line_item_id,
                    quantity,
                })
                .collect()
        })
}

fn decision() -> impl Strategy<Value = ReturnDecision> {
    prop_oneof![
        Just(ReturnDecision::Accepted),
        Just(ReturnDecision::Rejected)
    ]
}

/// Return lines: a SKU may appear twice, once per decision (a line part accepted, part
/// rejected), as the contract allows.
fn return_lines() -> impl Strategy<Value = Vec<ReturnCommandLine>> {
    prop::collection::btree_map(
        (text::<255>(), decision()),
        (prop::option::of(uuid()), quantity()),
        1..5,
    )
    .prop_map(|lines: BTreeMap<_, _>| {
        lines
            .into_iter()
            .map(
                |((sku, decision), (line_item_id, quantity))| ReturnCommandLine {
                    sku,
                    line_item_id,
                    quantity,
                    decision,
                },
            )
            .collect()
    })
}

fn cancel() -> impl Strategy<Value = Action> {
    (
        order_ref(),
        prop::option::of(lines()),
        prop::option::of(comment()),
    )
        .prop_map(|(order, lines, comment)| {
            Action::Cancel(CancelCommand {
                order,
                whole_order: lines.is_none(),
                lines: lines.unwrap_or_default(),
                comment,
            })
        })
}

fn return_action() -> impl Strategy<Value = Action> {
    (
        order_ref(),
        return_lines(),
        any::<bool>(),
        prop::option::of(comment()),
        prop::option::of(any::<bool>()),
    )
        .prop_map(
            |(order, lines, refund_shipping, comment, notify_customer)| {
                Action::Return(ReturnCommand {
                    order,
                    lines,
                    refund_shipping,
                    comment,
                    notify_customer,
                })
            },
        )
}

/// At least one of tracking code and shipment reference, as the contract requires.
fn shipment_identity() -> impl Strategy<Value = (Option<Text<255>>, Option<Text<255>>)> {
    prop_oneof![
        text::<255>().prop_map(|code| (Some(code), None)),
        text::<255>().prop_map(|reference| (None, Some(reference))),
        (text::<255>(), text::<255>()).prop_map(|(code, reference)| (Some(code), Some(reference))),
    ]
}

fn ship() -> impl Strategy<Value = Action> {
    (
        order_ref(),
        prop::option::of(lines()),
        shipment_identity(),
        prop::option::of(tracking_link()),
        prop::option::of(text::<64>()),
        prop::option::of(comment()),
        prop::option::of(any::<bool>()),
    )
        .prop_map(
            |(
                order,
                lines,
                (tracking_code, shipment_reference),
                tracking_link,
                carrier,
                comment,
                notify_customer,
            )| {
                Action::Ship(ShipCommand {
                    order,
                    all_unshipped: lines.is_none(),
                    lines: lines.unwrap_or_default(),
                    tracking_code,
                    tracking_link,
                    carrier,
                    shipment_reference,
                    comment,
                    notify_customer,
                })
            },
        )
}

fn pickup() -> impl Strategy<Value = PickupCommand> {
    (
        order_ref(),
        prop::option::of(comment()),
        prop::option::of(any::<bool>()),
    )
        .prop_map(|(order, comment, notify_customer)| PickupCommand {
            order,
            comment,
            notify_customer,
        })
}

fn deliver() -> impl Strategy<Value = Action> {
    (
        order_ref(),
        shipment_identity(),
        prop::option::of(comment()),
    )
        .prop_map(|(order, (tracking_code, shipment_reference), comment)| {
            Action::Deliver(DeliverCommand {
                order,
                tracking_code,
                shipment_reference,
                comment,
            })
        })
}

fn stock() -> impl Strategy<Value = Action> {
    (
        text::<255>(),
        prop_oneof![0i64..100, Just(MAX_STOCK_LEVEL)],
        text::<128>(),
        instant(),
    )
        .prop_filter_map("stock level", |(sku, level, location, observed_at)| {
            Some(Action::Stock(StockCommand {
                sku,
                quantity: StockLevel::new(level)?,
                location,
                observed_at,
            }))
        })
}

/// Every command type, in every shape the contract allows.
fn action() -> impl Strategy<Value = Action> {
    prop_oneof![
        cancel(),
        return_action(),
        ship(),
        pickup().prop_map(Action::ReadyForPickup),
        pickup().prop_map(Action::PickedUp),
        deliver(),
        stock(),
    ]
}

fn command() -> impl Strategy<Value = Command> {
    (command_id(), tenant(), instant(), action()).prop_map(|(id, tenant, issued_at, action)| {
        Command {
            schema_version: SCHEMA_VERSION,
            id,
            tenant,
            issued_at,
            action,
        }
    })
}

fn to_object(command: &Command) -> Map<String, Value> {
    match serde_json::to_value(command).expect("a command serialises") {
        Value::Object(object) => object,
        other => panic!("a command serialises to an object, got {other}"),
    }
}

fn parse_object(object: &Map<String, Value>) -> Result<Command, CommandError> {
    let text = serde_json::to_vec(object).expect("JSON serialises");
    check_invariants(&text)
}

fn expect_error(object: &Map<String, Value>, context: &str) -> Result<CommandError, TestCaseError> {
    match parse_object(object) {
        Ok(command) => Err(TestCaseError::fail(format!(
            "{context}: expected an error, parsed {command:?}"
        ))),
        Err(error) => Ok(error),
    }
}

/// The committed contract schema, compiled once per test binary.
fn schema() -> &'static jsonschema::Validator {
    static VALIDATOR: OnceLock<jsonschema::Validator> = OnceLock::new();
    VALIDATOR.get_or_init(|| {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../shared/contracts/v1/command.schema.json"
        );
        let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{path}: {e}"));
        let schema: Value = serde_json::from_str(&text).expect("the schema is JSON");
        jsonschema::validator_for(&schema).unwrap_or_else(|e| panic!("invalid schema: {e}"))
    })
}

/// The fields a command of this type cannot go without, as (JSON key, field path).
fn required_fields(object: &Map<String, Value>) -> Vec<String> {
    let mut required: Vec<String> = ["schemaVersion", "id", "tenant", "issuedAt", "type"]
        .map(str::to_owned)
        .to_vec();
    match object.get("type").and_then(Value::as_str) {
        Some("stock") => {
            required.extend(["sku", "quantity", "location", "observedAt"].map(str::to_owned))
        }
        Some("return") => required.extend(["order", "lines"].map(str::to_owned)),
        _ => required.push("order".to_owned()),
    }
    required
}

/// A value of another JSON type than `value`, that no field of that type accepts.
fn wrong_type_for(value: &Value) -> Value {
    match value {
        Value::String(_) => json!(42),
        Value::Number(_) => json!("1"),
        Value::Bool(_) => json!("true"),
        // Not an array: serde reads a struct from an array too, which would be a length error.
        Value::Object(_) => json!("x"),
        Value::Array(_) => json!(7),
        Value::Null => json!({}),
    }
}

/// The text fields and the longest value each accepts, as (JSON pointer, field path, max).
fn text_limits(object: &Map<String, Value>) -> Vec<(String, String, usize)> {
    let mut limits = vec![
        ("/id".to_owned(), "id".to_owned(), CommandId::MAX_LEN),
        ("/tenant".to_owned(), "tenant".to_owned(), TenantId::MAX_LEN),
    ];
    let simple = [
        ("sku", 255),
        ("location", 128),
        ("trackingCode", 255),
        ("carrier", 64),
        ("shipmentReference", 255),
        ("comment", Comment::MAX_LEN),
        ("trackingLink", TrackingLink::MAX_LEN),
    ];
    for (name, max) in simple {
        if object.contains_key(name) {
            limits.push((format!("/{name}"), name.to_owned(), max));
        }
    }
    if object
        .get("order")
        .and_then(|order| order.get("number"))
        .is_some()
    {
        limits.push(("/order/number".to_owned(), "order.number".to_owned(), 64));
    }
    if let Some(Value::Array(lines)) = object.get("lines") {
        for index in 0..lines.len() {
            limits.push((
                format!("/lines/{index}/sku"),
                format!("lines[{index}].sku"),
                255,
            ));
        }
    }
    limits
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Producer and consumer agree: what `Serialize` writes, `parse_command` reads back
    /// as the same command, and the committed schema accepts it too.
    #[test]
    fn every_generated_command_round_trips(command in command()) {
        let text = serde_json::to_vec(&command).expect("a command serialises");
        let parsed = check_invariants(&text)
            .map_err(|error| TestCaseError::fail(format!("{error}: {}", String::from_utf8_lossy(&text))))?;
        prop_assert_eq!(&parsed, &command);
        let value: Value = serde_json::from_slice(&text).expect("JSON");
        let errors: Vec<String> = schema().iter_errors(&value).map(|e| e.to_string()).collect();
        prop_assert!(errors.is_empty(), "the schema refuses {}: {:?}", value, errors);
        // Pretty-printed JSON (another producer's formatting) is the same command.
        let pretty = serde_json::to_vec_pretty(&value).expect("JSON");
        prop_assert_eq!(check_invariants(&pretty).ok(), Some(command));
    }

    /// Dropping any one required field is a `missing_field` error naming exactly it.
    #[test]
    fn a_dropped_required_field_is_named(command in command(), pick in any::<prop::sample::Index>()) {
        let object = to_object(&command);
        let required = required_fields(&object);
        let field = pick.get(&required).clone();
        let mut broken = object.clone();
        broken.remove(&field);
        let error = expect_error(&broken, &field)?;
        prop_assert_eq!(error.kind(), "missing_field", "{}", error);
        prop_assert_eq!(error.field(), Some(field.as_str()));
        prop_assert_eq!(error.to_string(), format!("`{field}` is missing"));
    }

    /// The same inside a line: `lines[i].sku`, `lines[i].quantity`, `lines[i].decision`.
    #[test]
    fn a_dropped_line_field_is_named_by_its_path(
        command in command(),
        pick_line in any::<prop::sample::Index>(),
        pick_field in any::<prop::sample::Index>(),
    ) {
        let mut object = to_object(&command);
        let Some(Value::Array(lines)) = object.get_mut("lines") else { return Ok(()) };
        let index = pick_line.index(lines.len());
        let line = lines[index].as_object_mut().expect("a line is an object");
        let fields: Vec<String> = ["sku", "quantity", "decision"]
            .into_iter()
            .filter(|name| line.contains_key(*name))
            .map(str::to_owned)
            .collect();
        let name = pick_field.get(&fields).clone();
        line.remove(&name);
        let error = expect_error(&object, &name)?;
        let path = format!("lines[{index}].{name}");
        prop_assert_eq!(error.kind(), "missing_field", "{}", error);
        prop_assert_eq!(error.field(), Some(path.as_str()));
    }

    /// Any present field given a value of the wrong JSON type is a `wrong_type` error
    /// naming it.
    #[test]
    fn a_wrong_json_type_is_named(command in command(), pick in any::<prop::sample::Index>()) {
        let object = to_object(&command);
        let keys: Vec<String> = object.keys().cloned().collect();
        let field = pick.get(&keys).clone();
        let mut broken = object.clone();
        let replacement = wrong_type_for(&object[&field]);
        broken.insert(field.clone(), replacement.clone());
        let error = expect_error(&broken, &field)?;
        prop_assert_eq!(error.kind(), "wrong_type", "{} = {}: {}", field, replacement, error);
        prop_assert_eq!(error.field(), Some(field.as_str()));
    }

    /// A type or return decision this consumer does not know is refused, never guessed.
    #[test]
    fn an_unknown_enum_value_is_refused(
        command in command(),
        unknown in "[a-z_]{1,16}",
        pick in any::<prop::sample::Index>(),
    ) {
        let known = ["cancel", "return", "ship", "ready_for_pickup", "picked_up", "deliver", "stock", "accepted", "rejected"];
        prop_assume!(!known.contains(&unknown.as_str()));
        let mut object = to_object(&command);
        object.insert("type".into(), json!(unknown));
        let error = expect_error(&object, "type")?;
        prop_assert_eq!(error.kind(), "unknown_type");
        prop_assert_eq!(error.field(), Some("type"));

        let mut object = to_object(&command);
        let Some(Value::Array(lines)) = object.get_mut("lines") else { return Ok(()) };
        let index = pick.index(lines.len());
        let Some(decision) = lines[index].get_mut("decision") else { return Ok(()) };
        *decision = json!(unknown);
        let error = expect_error(&object, "decision")?;
        let path = format!("lines[{index}].decision");
        prop_assert_eq!(error.kind(), "invalid_value", "{}", error);
        prop_assert_eq!(error.field(), Some(path.as_str()));
    }

    /// One character over any text limit is an `invalid_value` naming the field; the
    /// limit itself is allowed (`text()` generates values of exactly the limit).
    #[test]
    fn an_oversized_string_is_named(command in command(), pick in any::<prop::sample::Index>()) {
        let object = to_object(&command);
        let limits = text_limits(&object);
        let (pointer, field, max) = pick.get(&limits).clone();
        let mut value = Value::Object(object);
        let target = value.pointer_mut(&pointer).expect("the field exists");
        *target = if field == "trackingLink" {
            json!(format!("https://t.example/{}", "a".repeat(max)))
        } else if field == "tenant" {
            json!("a".repeat(max + 1))
        } else {
            json!("ü".repeat(max + 1))
        };
        let Value::Object(broken) = value else { unreachable!("still an object") };
        let error = expect_error(&broken, &field)?;
        prop_assert_eq!(error.kind(), "invalid_value", "{}", error);
        prop_assert_eq!(error.field(), Some(field.as_str()));
        prop_assert!(error.to_string().contains("characters long"), "{}", error);
    }

    /// Every proper prefix of a valid command is malformed JSON, never a half command.
    #[test]
    fn a_truncated_command_is_malformed(command in command(), cut in any::<prop::sample::Index>()) {
        let text = serde_json::to_vec(&command).expect("a command serialises");
        let cut = cut.index(text.len());
        let error = match check_invariants(&text[..cut]) {
            Ok(parsed) => return Err(TestCaseError::fail(format!("a prefix parsed: {parsed:?}"))),
            Err(error) => error,
        };
        prop_assert_eq!(error.kind(), "malformed_json", "{}", error);
        prop_assert_eq!(error.field(), None);
    }

    /// Random bytes written over, or spliced into, a valid command: no panic, and the
    /// fuzzer's invariants hold whatever comes out.
    #[test]
    fn spliced_bytes_keep_the_invariants(
        command in command(),
        at in any::<prop::sample::Index>(),
        bytes in prop::collection::vec(any::<u8>(), 1..16),
        overwrite in any::<bool>(),
    ) {
        let mut text = serde_json::to_vec(&command).expect("a command serialises");
        let at = at.index(text.len());
        if overwrite {
            for (offset, byte) in bytes.iter().enumerate() {
                if let Some(slot) = text.get_mut(at + offset) {
                    *slot = *byte;
                }
            }
        } else {
            text.splice(at..at, bytes);
        }
        let _ = check_invariants(&text);
    }
}

/// Exact messages for a few mutations, the way they reach the DLQ and Afosto.
#[test]
fn specific_mutations_give_exact_messages() {
    let base = json!({
        "schemaVersion": 1, "id": "c-1", "tenant": "shop-1",
        "issuedAt": "2025-03-01T10:00:00Z", "type": "return",
        "order": { "number": "10001" },
        "lines": [
            { "sku": "A", "quantity": 1, "decision": "accepted" },
            { "sku": "B", "quantity": 2, "decision": "rejected" }
        ]
    });
    let Value::Object(base) = base else {
        unreachable!("an object literal")
    };
    let with = |pointer: &str, value: Value| {
        let mut object = Value::Object(base.clone());
        *object.pointer_mut(pointer).expect("the field exists") = value;
        object
    };
    let cases: Vec<(Value, &str, &str)> = vec![
        (
            with("/lines/1/quantity", json!(0)),
            "invalid_quantity",
            "`lines[1].quantity` must be a whole number from 1 to 4294967295, got 0",
        ),
        (
            with("/lines/1/quantity", json!(1.5)),
            "wrong_type",
            "`lines[1].quantity` has the wrong type: floating point `1.5`, expected i64",
        ),
        (
            with("/lines/0/decision", json!("defect")),
            "invalid_value",
            "`lines[0].decision` unknown variant `defect`, expected `accepted` or `rejected`",
        ),
        (
            with("/order", json!({ "number": "1", "id": null, "shop": "x" })),
            "unknown_field",
            "`order.shop` is not a field of a return command",
        ),
        (
            with("/schemaVersion", json!("1")),
            "wrong_type",
            "`schemaVersion` has the wrong type: expected an integer, got a string",
        ),
        (
            with("/schemaVersion", json!(1.0)),
            "unsupported_schema_version",
            "`schemaVersion` 1.0 is not supported; this consumer reads version 1",
        ),
        (
            with("/tenant", json!("")),
            "invalid_value",
            "`tenant` tenant id is empty",
        ),
        (
            with("/issuedAt", json!("yesterday")),
            "invalid_value",
            "`issuedAt` input contains invalid characters",
        ),
        (
            with("/lines/0/sku", json!("   ")),
            "invalid_value",
            "`lines[0].sku` must not be empty or blank",
        ),
        (
            with("/lines/0/sku", json!("A\u{0007}")),
            "invalid_value",
            "`lines[0].sku` contains the control character '\\u{7}'",
        ),
    ];
    for (value, kind, message) in cases {
        let Value::Object(object) = &value else {
            unreachable!("still an object")
        };
        let error = parse_object(object).expect_err("the mutation is invalid");
        assert_eq!(error.kind(), kind, "{value}");
        assert_eq!(error.to_string(), message, "{value}");
    }

    // A body over the SQS limit is refused before it is read.
    let mut huge = base.clone();
    huge.insert("comment".into(), json!("x".repeat(MAX_COMMAND_BYTES)));
    let error = parse_object(&huge).expect_err("too large");
    assert_eq!(error.kind(), "too_large");
    assert_eq!(error.field(), None);
}
