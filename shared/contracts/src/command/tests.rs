use super::*;
use serde_json::json;

fn ship_example() -> Value {
    json!({
        "schemaVersion": 1,
        "id": "cmd-ship-1",
        "tenant": "shop-1",
        "issuedAt": "2025-03-01T10:00:00Z",
        "type": "ship",
        "order": { "number": "10001" },
        "lines": [
            { "sku": "EB001", "quantity": 2 },
            { "sku": "sh-001", "lineItemId": "feb55dc7-862c-47c8-b953-4e0313acc0c9", "quantity": 1 }
        ],
        "trackingCode": "3SABCD1234567",
        "trackingLink": "https://tracking.example.com/3SABCD1234567",
        "carrier": "POSTNL",
        "shipmentReference": "parcel-77"
    })
}

fn parse(value: &Value) -> Result<Command, CommandError> {
    parse_command(value.to_string().as_bytes())
}

fn with(mut value: Value, pointer: &str, field: Value) -> Value {
    let (parent, name) = pointer.rsplit_once('/').unwrap_or(("", pointer));
    let target = if parent.is_empty() {
        &mut value
    } else {
        value
            .pointer_mut(&format!("/{parent}"))
            .expect("parent exists")
    };
    target
        .as_object_mut()
        .expect("an object")
        .insert(name.to_owned(), field);
    value
}

fn without(mut value: Value, pointer: &str) -> Value {
    let (parent, name) = pointer.rsplit_once('/').unwrap_or(("", pointer));
    let target = if parent.is_empty() {
        &mut value
    } else {
        value
            .pointer_mut(&format!("/{parent}"))
            .expect("parent exists")
    };
    target.as_object_mut().expect("an object").remove(name);
    value
}

fn error_of(value: &Value) -> CommandError {
    match parse(value) {
        Ok(command) => panic!("expected an error, parsed {command:?}"),
        Err(error) => error,
    }
}

#[test]
fn a_ship_command_parses_into_typed_fields() {
    let command = parse(&ship_example()).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(command.id.as_str(), "cmd-ship-1");
    assert_eq!(command.tenant.as_str(), "shop-1");
    assert_eq!(command.command_type(), CommandType::Ship);
    let Action::Ship(ship) = &command.action else {
        panic!("not a ship command")
    };
    assert_eq!(ship.order, OrderRef::Number(Text::parse("10001").unwrap()));
    assert_eq!(ship.lines.len(), 2);
    assert_eq!(ship.lines[0].quantity.get(), 2);
    assert_eq!(ship.scope(), ShipScope::Lines(&ship.lines));
    assert_eq!(
        ship.tracking_link.as_ref().map(TrackingLink::as_str),
        Some("https://tracking.example.com/3SABCD1234567")
    );
}

#[test]
fn serializing_and_parsing_again_gives_the_same_command() {
    let command = parse(&ship_example()).unwrap_or_else(|e| panic!("{e}"));
    let text = serde_json::to_string(&command).expect("serializable");
    let again = parse_command(text.as_bytes()).unwrap_or_else(|e| panic!("{e}: {text}"));
    assert_eq!(command, again);
    let via_serde: Command = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(command, via_serde);
}

#[test]
fn oversized_messages_are_refused_before_parsing() {
    let bytes = vec![b' '; MAX_COMMAND_BYTES + 1];
    let error = parse_command(&bytes).unwrap_err();
    assert!(matches!(error, CommandError::TooLarge { size, limit }
        if size == MAX_COMMAND_BYTES + 1 && limit == MAX_COMMAND_BYTES));
    assert!(error.is_permanent());
}

#[test]
fn malformed_json_reports_its_position() {
    let error = parse_command(b"{\n  \"id\": \"x\",\n  oops\n}").unwrap_err();
    let CommandError::Malformed { line, column, .. } = &error else {
        panic!("{error:?}")
    };
    assert_eq!((*line, *column), (3, 3));
    assert!(error.to_string().contains("line 3, column 3"), "{error}");
    assert!(
        std::error::Error::source(&error).is_some(),
        "the serde error is kept"
    );
}

#[test]
fn a_non_object_is_refused() {
    let error = parse_command(b"[1,2]").unwrap_err();
    assert!(matches!(
        error,
        CommandError::NotAnObject { found: "an array" }
    ));
}

#[test]
fn schema_version_is_required_and_checked() {
    let error = error_of(&without(ship_example(), "schemaVersion"));
    assert!(matches!(&error, CommandError::MissingField { field, .. } if field == "schemaVersion"));
    let error = error_of(&with(ship_example(), "schemaVersion", json!(2)));
    assert!(matches!(&error, CommandError::UnsupportedSchemaVersion { found, .. } if found == "2"));
    assert_eq!(error.field(), Some("schemaVersion"));
    let error = error_of(&with(ship_example(), "schemaVersion", json!("1")));
    assert!(matches!(&error, CommandError::WrongType { field, .. } if field == "schemaVersion"));
}

#[test]
fn unknown_and_missing_types_are_named() {
    let error = error_of(&with(ship_example(), "type", json!("teleport")));
    assert!(matches!(&error, CommandError::UnknownType { found, .. } if found == "teleport"));
    assert!(error.to_string().contains("ready_for_pickup"), "{error}");
    let error = error_of(&without(ship_example(), "type"));
    assert!(matches!(&error, CommandError::MissingField { field, .. } if field == "type"));
    let error = error_of(&with(ship_example(), "type", json!(3)));
    assert!(matches!(&error, CommandError::WrongType { field, .. } if field == "type"));
}

#[test]
fn missing_fields_are_named_by_path() {
    for (pointer, field) in [
        ("id", "id"),
        ("tenant", "tenant"),
        ("issuedAt", "issuedAt"),
        ("order", "order"),
        ("lines/0/sku", "lines[0].sku"),
        ("lines/1/quantity", "lines[1].quantity"),
    ] {
        let error = error_of(&without(ship_example(), pointer));
        assert!(
            matches!(&error, CommandError::MissingField { field: f, .. } if f == field),
            "{pointer}: {error:?}"
        );
        assert_eq!(error.field(), Some(field));
        assert!(error.to_string().contains(field), "{error}");
    }
}

#[test]
fn unknown_fields_are_refused_with_their_name() {
    let error = error_of(&with(ship_example(), "trackingcode", json!("x")));
    assert!(
        matches!(&error, CommandError::UnknownField { field, command_type, .. }
            if field == "trackingcode" && command_type == "ship"),
        "{error:?}"
    );
    let error = error_of(&with(ship_example(), "lines/0/colour", json!("red")));
    assert!(
        matches!(&error, CommandError::UnknownField { field, .. } if field == "lines[0].colour"),
        "{error:?}"
    );
    let error = error_of(&with(ship_example(), "order/orderId", json!("x")));
    assert!(
        matches!(&error, CommandError::UnknownField { field, .. } if field == "order.orderId"),
        "{error:?}"
    );
}

#[test]
fn wrong_types_are_named_by_path() {
    for (pointer, value, field) in [
        ("lines/0/quantity", json!("2"), "lines[0].quantity"),
        ("lines/0/quantity", json!(1.5), "lines[0].quantity"),
        ("lines", json!({}), "lines"),
        ("trackingCode", json!(12), "trackingCode"),
        ("notifyCustomer", json!("yes"), "notifyCustomer"),
        ("id", json!(null), "id"),
    ] {
        let error = error_of(&with(ship_example(), pointer, value.clone()));
        assert!(
            matches!(&error, CommandError::WrongType { field: f, .. } if f == field),
            "{pointer}={value}: {error:?}"
        );
    }
}

#[test]
fn zero_negative_and_huge_quantities_are_invalid_quantities() {
    for value in [
        json!(0),
        json!(-3),
        json!(5_000_000_000_i64),
        json!(u64::MAX),
    ] {
        let error = error_of(&with(ship_example(), "lines/1/quantity", value.clone()));
        assert!(
            matches!(&error, CommandError::InvalidQuantity { field, .. } if field == "lines[1].quantity"),
            "{value}: {error:?}"
        );
        assert!(error.to_string().contains("from 1 to"), "{error}");
    }
}

#[test]
fn invalid_values_name_the_field() {
    for (pointer, value, field) in [
        ("tenant", json!("Shop:1"), "tenant"),
        ("id", json!(""), "id"),
        ("id", json!("has space"), "id"),
        ("id", json!("x".repeat(129)), "id"),
        ("issuedAt", json!("yesterday"), "issuedAt"),
        ("lines/0/sku", json!("  "), "lines[0].sku"),
        ("lines/0/sku", json!("a\u{0007}b"), "lines[0].sku"),
        ("lines/0/sku", json!("s".repeat(256)), "lines[0].sku"),
        (
            "lines/0/lineItemId",
            json!("not-a-uuid"),
            "lines[0].lineItemId",
        ),
        ("trackingLink", json!("ftp://example.com/x"), "trackingLink"),
        ("trackingLink", json!("/relative"), "trackingLink"),
        ("order/number", json!(""), "order.number"),
    ] {
        let error = error_of(&with(ship_example(), pointer, value.clone()));
        assert!(
            matches!(&error, CommandError::InvalidValue { field: f, .. } if f == field),
            "{pointer}={value}: {error:?}"
        );
        assert!(
            error.to_string().starts_with(&format!("`{field}`")),
            "{error}"
        );
    }
}

#[test]
fn the_order_needs_exactly_one_reference() {
    let both = with(
        ship_example(),
        "order/id",
        json!("0da86a9c-8633-4c26-9647-e85dda934669"),
    );
    let error = error_of(&both);
    assert!(matches!(
        error,
        CommandError::OrderReference {
            problem: OrderRefProblem::Both
        }
    ));
    assert_eq!(error.field(), Some("order"));
    let neither = with(ship_example(), "order", json!({}));
    assert!(matches!(
        error_of(&neither),
        CommandError::OrderReference {
            problem: OrderRefProblem::Neither
        }
    ));
    let by_id = with(
        ship_example(),
        "order",
        json!({ "id": "0da86a9c-8633-4c26-9647-e85dda934669" }),
    );
    let command = parse(&by_id).unwrap_or_else(|e| panic!("{e}"));
    assert!(matches!(command.order_ref(), Some(OrderRef::Id(_))));
}

#[test]
fn a_line_may_appear_only_once() {
    let twice = with(
        ship_example(),
        "lines",
        json!([{ "sku": "A", "quantity": 1 }, { "sku": "B", "quantity": 1 }, { "sku": "A", "quantity": 2 }]),
    );
    let error = error_of(&twice);
    assert!(
        matches!(&error, CommandError::DuplicateLine { field, first, sku }
            if field == "lines[2]" && first == "lines[0]" && sku == "A"),
        "{error:?}"
    );
    // With and without a line id, the SKU would address the same pieces twice.
    let mixed = with(
        ship_example(),
        "lines",
        json!([
            { "sku": "A", "lineItemId": "feb55dc7-862c-47c8-b953-4e0313acc0c9", "quantity": 1 },
            { "sku": "A", "quantity": 1 }
        ]),
    );
    assert!(matches!(
        error_of(&mixed),
        CommandError::DuplicateLine { .. }
    ));
    // Distinct line ids for one SKU are distinct lines.
    let distinct = with(
        ship_example(),
        "lines",
        json!([
            { "sku": "A", "lineItemId": "feb55dc7-862c-47c8-b953-4e0313acc0c9", "quantity": 1 },
            { "sku": "A", "lineItemId": "d4d5aea9-222a-44b1-9a8c-2af14c43d661", "quantity": 1 }
        ]),
    );
    assert!(parse(&distinct).is_ok());
}

fn return_example() -> Value {
    json!({
        "schemaVersion": 1,
        "id": "cmd-return-1",
        "tenant": "shop-1",
        "issuedAt": "2025-03-05T09:30:00+01:00",
        "type": "return",
        "order": { "id": "13b74621-b279-46b8-bc8d-4b8769769f5a" },
        "lines": [
            { "sku": "EB001", "quantity": 2, "decision": "accepted" },
            { "sku": "EB001", "quantity": 1, "decision": "rejected" }
        ],
        "refundShipping": true,
        "comment": "RMA 555"
    })
}

#[test]
fn a_return_may_split_one_line_between_decisions() {
    let command = parse(&return_example()).unwrap_or_else(|e| panic!("{e}"));
    let Action::Return(ret) = &command.action else {
        panic!("not a return")
    };
    assert_eq!(ret.lines[1].decision, ReturnDecision::Rejected);
    assert!(ret.refund_shipping);
    // Offsets are normalised to UTC.
    assert_eq!(command.issued_at.to_rfc3339(), "2025-03-05T08:30:00+00:00");
    let repeated = with(return_example(), "lines/1/decision", json!("accepted"));
    assert!(matches!(
        error_of(&repeated),
        CommandError::DuplicateLine { .. }
    ));
    let unknown = with(return_example(), "lines/1/decision", json!("defect"));
    let error = error_of(&unknown);
    assert!(
        matches!(&error, CommandError::InvalidValue { field, .. } if field == "lines[1].decision"),
        "{error:?}"
    );
    let empty = with(return_example(), "lines", json!([]));
    assert!(
        matches!(error_of(&empty), CommandError::InvalidValue { field, .. } if field == "lines")
    );
}

fn cancel_example() -> Value {
    json!({
        "schemaVersion": 1,
        "id": "cmd-cancel-1",
        "tenant": "shop-1",
        "issuedAt": "2025-03-01T10:00:00Z",
        "type": "cancel",
        "order": { "number": "10001" },
        "wholeOrder": true
    })
}

#[test]
fn cancel_takes_the_whole_order_or_lines_never_both() {
    let command = parse(&cancel_example()).unwrap_or_else(|e| panic!("{e}"));
    let Action::Cancel(cancel) = &command.action else {
        panic!("not a cancel")
    };
    assert_eq!(cancel.scope(), CancelScope::WholeOrder);
    let both = with(
        cancel_example(),
        "lines",
        json!([{ "sku": "A", "quantity": 1 }]),
    );
    assert!(
        matches!(error_of(&both), CommandError::InvalidValue { field, .. } if field == "lines")
    );
    let neither = without(cancel_example(), "wholeOrder");
    assert!(
        matches!(error_of(&neither), CommandError::InvalidValue { field, .. } if field == "lines")
    );
    let lines = with(neither, "lines", json!([{ "sku": "A", "quantity": 1 }]));
    assert!(parse(&lines).is_ok());
}

#[test]
fn ship_needs_a_shipment_identity_and_one_scope() {
    let anonymous = without(without(ship_example(), "trackingCode"), "shipmentReference");
    assert!(
        matches!(error_of(&anonymous), CommandError::InvalidValue { field, .. } if field == "trackingCode")
    );
    let both = with(ship_example(), "allUnshipped", json!(true));
    assert!(
        matches!(error_of(&both), CommandError::InvalidValue { field, .. } if field == "lines")
    );
    let all = with(
        without(ship_example(), "lines"),
        "allUnshipped",
        json!(true),
    );
    let command = parse(&all).unwrap_or_else(|e| panic!("{e}"));
    let Action::Ship(ship) = &command.action else {
        panic!("not a ship")
    };
    assert_eq!(ship.scope(), ShipScope::AllUnshipped);
}

fn stock_example() -> Value {
    json!({
        "schemaVersion": 1,
        "id": "cmd-stock-1",
        "tenant": "shop-1",
        "issuedAt": "2025-03-01T10:00:01Z",
        "type": "stock",
        "sku": "EB001",
        "quantity": 0,
        "location": "warehouse-amsterdam",
        "observedAt": "2025-03-01T10:00:00.250Z"
    })
}

#[test]
fn stock_levels_are_absolute_and_not_negative() {
    let command = parse(&stock_example()).unwrap_or_else(|e| panic!("{e}"));
    let Action::Stock(stock) = &command.action else {
        panic!("not stock")
    };
    assert_eq!(stock.quantity.get(), 0);
    let negative = with(stock_example(), "quantity", json!(-1));
    assert!(
        matches!(error_of(&negative), CommandError::InvalidQuantity { field, .. } if field == "quantity")
    );
    let huge = with(stock_example(), "quantity", json!(MAX_STOCK_LEVEL + 1));
    assert!(matches!(
        error_of(&huge),
        CommandError::InvalidQuantity { .. }
    ));
    let missing = without(stock_example(), "observedAt");
    assert!(
        matches!(error_of(&missing), CommandError::MissingField { field, .. } if field == "observedAt")
    );
    let stray = with(stock_example(), "order", json!({ "number": "1" }));
    let error = error_of(&stray);
    assert!(
        matches!(&error, CommandError::UnknownField { field, .. } if field == "order"),
        "{error:?}"
    );
}

#[test]
fn deliver_and_pickup_commands_parse() {
    let deliver = json!({
        "schemaVersion": 1, "id": "d-1", "tenant": "shop-1",
        "issuedAt": "2025-03-02T10:00:00Z", "type": "deliver",
        "order": { "number": "10001" }, "trackingCode": "3SABCD1234567"
    });
    assert!(parse(&deliver).is_ok());
    let unidentified = without(deliver, "trackingCode");
    assert!(
        matches!(error_of(&unidentified), CommandError::InvalidValue { field, .. } if field == "trackingCode")
    );
    for kind in ["ready_for_pickup", "picked_up"] {
        let pickup = json!({
            "schemaVersion": 1, "id": "p-1", "tenant": "shop-1",
            "issuedAt": "2025-03-02T10:00:00Z", "type": kind,
            "order": { "number": "10001" }, "notifyCustomer": true
        });
        let command = parse(&pickup).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(command.command_type().as_str(), kind);
    }
}

#[test]
fn every_error_is_permanent_and_keeps_serde_causes() {
    let error = error_of(&with(ship_example(), "lines/0/quantity", json!("2")));
    assert!(error.is_permanent());
    assert!(std::error::Error::source(&error).is_some());
    assert_eq!(error.kind(), "wrong_type");
}

#[test]
fn identity_can_be_read_from_an_invalid_command() {
    let invalid = with(ship_example(), "lines", json!([]));
    let bytes = invalid.to_string();
    assert!(parse_command(bytes.as_bytes()).is_err());
    let identity = peek_identity(bytes.as_bytes()).expect("id and tenant are valid");
    assert_eq!(identity.id.as_str(), "cmd-ship-1");
    assert_eq!(identity.command_type, Some(CommandType::Ship));
    assert_eq!(peek_identity(b"not json"), None);
}

#[test]
fn message_group_ids_follow_the_fifo_rules() {
    let ship = parse(&ship_example()).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(ship.message_group_id(), "shop-1:order:10001");
    let stock = parse(&stock_example()).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(stock.message_group_id(), "shop-1:sku:EB001");
    // One group per SKU whatever the location: the shop has one number per SKU.
    let elsewhere = parse(&with(
        stock_example(),
        "location",
        json!("warehouse-utrecht"),
    ))
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(elsewhere.message_group_id(), stock.message_group_id());
    let other_sku =
        parse(&with(stock_example(), "sku", json!("EB002"))).unwrap_or_else(|e| panic!("{e}"));
    assert_ne!(other_sku.message_group_id(), stock.message_group_id());
    let long = parse(&with(
        stock_example(),
        "sku",
        json!("ä long SKU ".repeat(20)),
    ))
    .unwrap_or_else(|e| panic!("{e}"));
    let group = long.message_group_id();
    assert!(group.starts_with("shop-1:sku#"), "{group}");
    assert!(
        CommandId::parse(&group).is_ok(),
        "{group} is a valid group id"
    );
    assert_eq!(group, long.message_group_id(), "deterministic");
}

/// The committed schema accepts what the parser accepts and refuses unknown fields.
fn validator() -> jsonschema::Validator {
    let schema: Value =
        serde_json::from_str(&crate::schema::generate::<Command>()).expect("schema is JSON");
    jsonschema::validator_for(&schema).unwrap_or_else(|e| panic!("invalid schema: {e}"))
}

#[test]
fn the_schema_agrees_with_the_parser_on_examples() {
    let validator = validator();
    for example in [
        ship_example(),
        return_example(),
        cancel_example(),
        stock_example(),
    ] {
        assert!(parse(&example).is_ok());
        let errors: Vec<String> = validator
            .iter_errors(&example)
            .map(|e| e.to_string())
            .collect();
        assert!(errors.is_empty(), "{example}: {errors:?}");
    }
    for refused in [
        with(ship_example(), "trackingcode", json!("x")),
        with(ship_example(), "type", json!("teleport")),
        with(ship_example(), "lines/0/quantity", json!(0)),
        with(ship_example(), "schemaVersion", json!(2)),
        without(ship_example(), "order"),
        with(ship_example(), "order", json!({})),
        with(stock_example(), "quantity", json!(-1)),
    ] {
        assert!(parse(&refused).is_err());
        assert!(!validator.is_valid(&refused), "schema accepts {refused}");
    }
}

/// Any JSON value, nested a few levels.
fn arbitrary_json() -> impl proptest::strategy::Strategy<Value = Value> {
    use proptest::prelude::*;
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
        "[ -~]{0,12}".prop_map(Value::from),
    ];
    leaf.prop_recursive(4, 32, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map(
                prop_oneof![
                    Just("type".to_owned()),
                    Just("order".to_owned()),
                    Just("lines".to_owned()),
                    Just("quantity".to_owned()),
                    "[a-zA-Z]{1,8}"
                ],
                inner,
                0..6
            )
            .prop_map(|map| Value::Object(map.into_iter().collect())),
        ]
    })
}

proptest::proptest! {
    #[test]
    fn the_parser_never_panics_on_bytes(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..600)) {
        let _ = parse_command(&bytes);
        let _ = peek_identity(&bytes);
    }

    #[test]
    fn the_parser_never_panics_on_json(value in arbitrary_json()) {
        let _ = parse_command(value.to_string().as_bytes());
    }

    /// Valid commands with one field replaced by anything: a typed error or a command
    /// that survives a round trip, and every error names a field or is about the whole.
    #[test]
    fn one_bad_field_gives_a_typed_error(
        example in 0..4usize,
        field in 0..12usize,
        replacement in arbitrary_json(),
    ) {
        let base = [ship_example(), return_example(), cancel_example(), stock_example()][example].clone();
        let Value::Object(mut object) = base else { unreachable!() };
        let keys: Vec<String> = object.keys().cloned().collect();
        let key = keys[field % keys.len()].clone();
        object.insert(key, replacement);
        let text = Value::Object(object).to_string();
        match parse_command(text.as_bytes()) {
            Ok(command) => {
                let again = serde_json::to_string(&command).map_err(|e| e.to_string());
                proptest::prop_assert!(again.is_ok());
                let reparsed = parse_command(again.unwrap_or_default().as_bytes());
                proptest::prop_assert!(matches!(reparsed, Ok(ref c) if *c == command));
            }
            Err(error) => {
                proptest::prop_assert!(error.is_permanent());
                proptest::prop_assert!(!error.to_string().is_empty());
            }
        }
    }
}

const DOC: &str = include_str!("../../../../docs/COMMANDS.md");

/// The ```json blocks of docs/COMMANDS.md, so what integrators read is checked.
pub(crate) fn doc_json_blocks() -> Vec<Value> {
    DOC.split("```json")
        .skip(1)
        .map(|block| {
            let body = block.split("```").next().unwrap_or_default();
            serde_json::from_str(body).unwrap_or_else(|e| panic!("{e}: {body}"))
        })
        .collect()
}

#[test]
fn the_documented_commands_parse_and_match_the_schema() {
    let validator = validator();
    let mut types = Vec::new();
    for example in doc_json_blocks()
        .into_iter()
        .filter(|b| b.get("eventId").is_none())
    {
        let command = parse(&example).unwrap_or_else(|e| panic!("{e}: {example}"));
        assert!(validator.is_valid(&example), "{example}");
        types.push(command.command_type());
    }
    for kind in CommandType::ALL {
        assert!(
            types.contains(&kind),
            "docs/COMMANDS.md has no {kind} example"
        );
    }
}

#[test]
fn the_documented_error_messages_are_real() {
    let messages = [
        error_of(&with(ship_example(), "schemaVersion", json!(2))),
        error_of(&with(ship_example(), "type", json!("teleport"))),
        error_of(&without(ship_example(), "lines/0/sku")),
        error_of(&with(ship_example(), "trackingcode", json!("x"))),
        error_of(&with(ship_example(), "lines/0/quantity", json!("2"))),
        error_of(&with(ship_example(), "lines/1/quantity", json!(0))),
        error_of(&with(
            ship_example(),
            "lines",
            json!([{ "sku": "A", "quantity": 1 }, { "sku": "B", "quantity": 1 }, { "sku": "A", "quantity": 2 }]),
        )),
        error_of(&with(
            ship_example(),
            "order/id",
            json!("0da86a9c-8633-4c26-9647-e85dda934669"),
        )),
        error_of(&with(ship_example(), "tenant", json!("shop:1"))),
        parse_command(b"[1]").unwrap_err(),
        parse_command(b"{\n  \"id\": \"x\",\n  oops\n}").unwrap_err(),
    ]
    .map(|error| error.to_string());
    for message in messages {
        let shown = message.replace(
            "cancel, return, ship, ready_for_pickup, picked_up, deliver, stock",
            "cancel, return, …",
        );
        assert!(
            DOC.contains(&shown),
            "docs/COMMANDS.md does not show: {shown}"
        );
    }
}

#[test]
fn contracts_command_schema_is_committed() {
    crate::schema::check_committed::<Command>("v1/command.schema.json")
        .unwrap_or_else(|e| panic!("{e}"));
}
