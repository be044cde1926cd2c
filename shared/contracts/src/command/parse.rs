//! The strict parser: [`parse_command`], its typed [`CommandError`] and the best-effort
//! [`peek_identity`] for messages that do not parse.

use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};
use uuid::Uuid;

use super::wire::order_ref_message;
use super::{
    Action, Command, CommandId, CommandType, LineSelector, MAX_COMMAND_BYTES, MAX_LINES,
    MAX_STOCK_LEVEL, OrderRefProblem, RangeError, SCHEMA_VERSION,
};
use crate::TenantId;

/// The header every command carries, beside `type`.
#[derive(Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(super) struct Header {
    /// The contract version; this is version 1.
    #[schemars(extend("const" = SCHEMA_VERSION))]
    schema_version: u32,
    id: CommandId,
    /// The epages-sync tenant (one shop connected to one Afosto account).
    #[schemars(
        with = "String",
        length(min = 1, max = TenantId::MAX_LEN),
        regex(pattern = "^[a-z0-9][a-z0-9_-]*$")
    )]
    tenant: TenantId,
    /// When the producer issued the command (RFC 3339).
    issued_at: DateTime<Utc>,
}

const HEADER_FIELDS: [&str; 4] = ["schemaVersion", "id", "tenant", "issuedAt"];

// ---- errors ---------------------------------------------------------------------------

/// Why a message is not a valid command. Every kind is permanent: the same bytes fail the
/// same way on every retry, so the consumer sends them straight to the DLQ with this text.
#[derive(Debug, thiserror::Error)]
pub enum CommandError {
    #[error("the message is {size} bytes; a command may have at most {limit}")]
    TooLarge { size: usize, limit: usize },
    #[error("malformed JSON at line {line}, column {column}: {detail}")]
    Malformed {
        line: usize,
        column: usize,
        detail: String,
        #[source]
        source: serde_json::Error,
    },
    #[error("a command must be a JSON object, got {found}")]
    NotAnObject { found: &'static str },
    #[error("`schemaVersion` {found} is not supported; this consumer reads version {supported}")]
    UnsupportedSchemaVersion { found: String, supported: u32 },
    #[error("`type` {found:?} is not a known command type; expected one of {expected}")]
    UnknownType { found: String, expected: String },
    #[error("`{field}` is missing")]
    MissingField {
        field: String,
        #[source]
        source: Option<serde_json::Error>,
    },
    #[error("`{field}` is not a field of a {command_type} command")]
    UnknownField {
        field: String,
        command_type: String,
        #[source]
        source: serde_json::Error,
    },
    #[error("`{field}` has the wrong type: {detail}")]
    WrongType {
        field: String,
        detail: String,
        #[source]
        source: Option<serde_json::Error>,
    },
    #[error("`{field}` {reason}")]
    InvalidValue {
        field: String,
        reason: String,
        #[source]
        source: Option<serde_json::Error>,
    },
    #[error("`{field}` {source}")]
    InvalidQuantity {
        field: String,
        #[source]
        source: RangeError,
    },
    #[error("`{field}` repeats the line of `{first}` (SKU {sku:?}); each line may appear once")]
    DuplicateLine {
        field: String,
        first: String,
        sku: String,
    },
    #[error("`order`: {}", order_ref_message(*problem))]
    OrderReference { problem: OrderRefProblem },
}

impl CommandError {
    /// Whether retrying can never help. Always true: a parse depends only on the bytes.
    pub fn is_permanent(&self) -> bool {
        true
    }

    /// The offending field as a JSON path (`lines[2].quantity`), when there is one.
    pub fn field(&self) -> Option<&str> {
        match self {
            CommandError::TooLarge { .. }
            | CommandError::Malformed { .. }
            | CommandError::NotAnObject { .. } => None,
            CommandError::UnsupportedSchemaVersion { .. } => Some("schemaVersion"),
            CommandError::UnknownType { .. } => Some("type"),
            CommandError::OrderReference { .. } => Some("order"),
            CommandError::MissingField { field, .. }
            | CommandError::UnknownField { field, .. }
            | CommandError::WrongType { field, .. }
            | CommandError::InvalidValue { field, .. }
            | CommandError::InvalidQuantity { field, .. }
            | CommandError::DuplicateLine { field, .. } => Some(field),
        }
    }

    /// A stable machine-readable name of the kind, for result events and metrics.
    pub fn kind(&self) -> &'static str {
        match self {
            CommandError::TooLarge { .. } => "too_large",
            CommandError::Malformed { .. } => "malformed_json",
            CommandError::NotAnObject { .. } => "not_an_object",
            CommandError::UnsupportedSchemaVersion { .. } => "unsupported_schema_version",
            CommandError::UnknownType { .. } => "unknown_type",
            CommandError::MissingField { .. } => "missing_field",
            CommandError::UnknownField { .. } => "unknown_field",
            CommandError::WrongType { .. } => "wrong_type",
            CommandError::InvalidValue { .. } => "invalid_value",
            CommandError::InvalidQuantity { .. } => "invalid_quantity",
            CommandError::DuplicateLine { .. } => "duplicate_line",
            CommandError::OrderReference { .. } => "order_reference",
        }
    }
}

// ---- parsing --------------------------------------------------------------------------

/// Parses and validates one command from the raw message body.
pub fn parse_command(bytes: &[u8]) -> Result<Command, CommandError> {
    if bytes.len() > MAX_COMMAND_BYTES {
        return Err(CommandError::TooLarge {
            size: bytes.len(),
            limit: MAX_COMMAND_BYTES,
        });
    }
    let value: Value = serde_json::from_slice(bytes).map_err(|source| {
        // serde_json appends the position to its message; it is in the error's own fields.
        let position = format!(" at line {} column {}", source.line(), source.column());
        let message = source.to_string();
        CommandError::Malformed {
            line: source.line(),
            column: source.column(),
            detail: message
                .strip_suffix(&position)
                .unwrap_or(&message)
                .to_owned(),
            source,
        }
    })?;
    parse_value(value)
}

/// The id and tenant of a message, when they can be read even though the command is
/// invalid: lets the consumer report `command.failed` for it to Afosto, not only to the DLQ.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CommandIdentity {
    pub id: CommandId,
    pub tenant: TenantId,
    pub command_type: Option<CommandType>,
}

/// Best effort: never fails, reads only `id`, `tenant` and `type`.
pub fn peek_identity(bytes: &[u8]) -> Option<CommandIdentity> {
    if bytes.len() > MAX_COMMAND_BYTES {
        return None;
    }
    let value: Value = serde_json::from_slice(bytes).ok()?;
    let object = value.as_object()?;
    let id = CommandId::parse(object.get("id")?.as_str()?).ok()?;
    let tenant = TenantId::parse(object.get("tenant")?.as_str()?).ok()?;
    let command_type = object
        .get("type")
        .and_then(Value::as_str)
        .and_then(CommandType::parse);
    Some(CommandIdentity {
        id,
        tenant,
        command_type,
    })
}

fn json_kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

pub(super) fn parse_value(value: Value) -> Result<Command, CommandError> {
    let Value::Object(mut object) = value else {
        return Err(CommandError::NotAnObject {
            found: json_kind(&value),
        });
    };
    // The version comes first: a newer version may have types this consumer does not know.
    check_schema_version(object.get("schemaVersion"))?;
    let command_type = read_type(object.remove("type"))?;

    let mut header_fields = Map::new();
    for name in HEADER_FIELDS {
        if let Some(field) = object.remove(name) {
            header_fields.insert(name.to_owned(), field);
        }
    }
    let header: Header = typed(Value::Object(header_fields), command_type)?;

    precheck_body(&object, command_type)?;
    let body = Value::Object(object);
    let action = match command_type {
        CommandType::Cancel => Action::Cancel(typed(body, command_type)?),
        CommandType::Return => Action::Return(typed(body, command_type)?),
        CommandType::Ship => Action::Ship(typed(body, command_type)?),
        CommandType::ReadyForPickup => Action::ReadyForPickup(typed(body, command_type)?),
        CommandType::PickedUp => Action::PickedUp(typed(body, command_type)?),
        CommandType::Deliver => Action::Deliver(typed(body, command_type)?),
        CommandType::Stock => Action::Stock(typed(body, command_type)?),
    };
    validate_action(&action)?;
    Ok(Command {
        schema_version: header.schema_version,
        id: header.id,
        tenant: header.tenant,
        issued_at: header.issued_at,
        action,
    })
}

fn check_schema_version(value: Option<&Value>) -> Result<(), CommandError> {
    let Some(value) = value else {
        return Err(CommandError::MissingField {
            field: "schemaVersion".into(),
            source: None,
        });
    };
    match value.as_u64() {
        Some(version) if version == u64::from(SCHEMA_VERSION) => Ok(()),
        Some(_) => Err(CommandError::UnsupportedSchemaVersion {
            found: value.to_string(),
            supported: SCHEMA_VERSION,
        }),
        None if value.is_number() => Err(CommandError::UnsupportedSchemaVersion {
            found: value.to_string(),
            supported: SCHEMA_VERSION,
        }),
        None => Err(CommandError::WrongType {
            field: "schemaVersion".into(),
            detail: format!("expected an integer, got {}", json_kind(value)),
            source: None,
        }),
    }
}

fn read_type(value: Option<Value>) -> Result<CommandType, CommandError> {
    let Some(value) = value else {
        return Err(CommandError::MissingField {
            field: "type".into(),
            source: None,
        });
    };
    let Value::String(raw) = value else {
        return Err(CommandError::WrongType {
            field: "type".into(),
            detail: format!("expected a string, got {}", json_kind(&value)),
            source: None,
        });
    };
    CommandType::parse(&raw).ok_or_else(|| CommandError::UnknownType {
        found: raw,
        expected: CommandType::ALL
            .iter()
            .map(|kind| kind.as_str())
            .collect::<Vec<_>>()
            .join(", "),
    })
}

/// Checks done on the raw JSON because they deserve their own error kind and the exact
/// path, which serde would fold into a generic message: the order reference's
/// either-or rule and quantity ranges.
fn precheck_body(body: &Map<String, Value>, command_type: CommandType) -> Result<(), CommandError> {
    if let Some(Value::Object(order)) = body.get("order") {
        let present = |name: &str| order.get(name).is_some_and(|v| !v.is_null());
        match (present("id"), present("number")) {
            (true, true) => {
                return Err(CommandError::OrderReference {
                    problem: OrderRefProblem::Both,
                });
            }
            (false, false) => {
                return Err(CommandError::OrderReference {
                    problem: OrderRefProblem::Neither,
                });
            }
            _ => {}
        }
    }
    if command_type == CommandType::Stock {
        if let Some(quantity) = body.get("quantity") {
            check_integer(quantity, "quantity", 0, MAX_STOCK_LEVEL)?;
        }
    } else if let Some(Value::Array(lines)) = body.get("lines") {
        for (index, line) in lines.iter().enumerate() {
            if let Some(quantity) = line.get("quantity") {
                let field = format!("lines[{index}].quantity");
                check_integer(quantity, &field, 1, i64::from(u32::MAX))?;
            }
        }
    }
    Ok(())
}

/// A JSON integer outside `min..=max` is an `InvalidQuantity`; other types are left to serde.
fn check_integer(value: &Value, field: &str, min: i64, max: i64) -> Result<(), CommandError> {
    let Value::Number(number) = value else {
        return Ok(());
    };
    let in_range = match (number.as_i64(), number.as_u64()) {
        (Some(n), _) => (min..=max).contains(&n),
        (None, Some(_)) => false,
        // A float: serde reports the wrong type.
        (None, None) => return Ok(()),
    };
    if in_range {
        Ok(())
    } else {
        Err(CommandError::InvalidQuantity {
            field: field.to_owned(),
            source: RangeError {
                found: number.to_string(),
                min,
                max,
            },
        })
    }
}

/// Deserializes a part of the command, turning serde's message into a typed error that
/// names the field by its JSON path.
fn typed<T: DeserializeOwned>(value: Value, command_type: CommandType) -> Result<T, CommandError> {
    serde_path_to_error::deserialize(value).map_err(|error| {
        let path = error.path().to_string();
        let source = error.into_inner();
        classify(path, source, command_type)
    })
}

fn classify(path: String, source: serde_json::Error, command_type: CommandType) -> CommandError {
    let message = source.to_string();
    // serde names a missing or unknown field in the message and puts the path of the object
    // that holds it in `path`; join the two so the error names the field itself.
    let child = |name: &str| {
        if path == "." {
            name.to_owned()
        } else {
            format!("{path}.{name}")
        }
    };
    let field = if path == "." {
        String::new()
    } else {
        path.clone()
    };
    if let Some(name) = backticked_after(&message, "missing field ") {
        CommandError::MissingField {
            field: child(name),
            source: Some(source),
        }
    } else if let Some(name) = backticked_after(&message, "unknown field ") {
        // Here the path already ends with the unknown key itself.
        let named = path == name || path.ends_with(&format!(".{name}"));
        CommandError::UnknownField {
            field: if named { path.clone() } else { child(name) },
            command_type: command_type.as_str().to_owned(),
            source,
        }
    } else if let Some(detail) = message.strip_prefix("invalid type: ") {
        CommandError::WrongType {
            field,
            detail: detail.to_owned(),
            source: Some(source),
        }
    } else {
        CommandError::InvalidValue {
            field,
            reason: message,
            source: Some(source),
        }
    }
}

/// `"missing field `x`"` → `x`.
fn backticked_after<'m>(message: &'m str, prefix: &str) -> Option<&'m str> {
    let rest = message.strip_prefix(prefix)?.strip_prefix('`')?;
    rest.split('`').next()
}

fn invalid(field: &str, reason: impl Into<String>) -> CommandError {
    CommandError::InvalidValue {
        field: field.to_owned(),
        reason: reason.into(),
        source: None,
    }
}

/// The rules across fields that serde cannot express.
fn validate_action(action: &Action) -> Result<(), CommandError> {
    match action {
        Action::Cancel(cancel) => {
            match (cancel.whole_order, cancel.lines.is_empty()) {
                (true, false) => {
                    return Err(invalid("lines", "must be absent when `wholeOrder` is true"));
                }
                (false, true) => {
                    return Err(invalid(
                        "lines",
                        "is required (at least one line) unless `wholeOrder` is true",
                    ));
                }
                _ => {}
            }
            check_lines(&cancel.lines, |_| ())
        }
        Action::Return(ret) => {
            if ret.lines.is_empty() {
                return Err(invalid("lines", "must hold at least one line"));
            }
            check_lines(&ret.lines, |line| line.decision)
        }
        Action::Ship(ship) => {
            match (ship.all_unshipped, ship.lines.is_empty()) {
                (true, false) => {
                    return Err(invalid(
                        "lines",
                        "must be absent when `allUnshipped` is true",
                    ));
                }
                (false, true) => {
                    return Err(invalid(
                        "lines",
                        "is required (at least one line) unless `allUnshipped` is true",
                    ));
                }
                _ => {}
            }
            if ship.tracking_code.is_none() && ship.shipment_reference.is_none() {
                return Err(invalid(
                    "trackingCode",
                    "or `shipmentReference` is required: it identifies the shipment",
                ));
            }
            check_lines(&ship.lines, |_| ())
        }
        Action::Deliver(deliver) => {
            if deliver.tracking_code.is_none() && deliver.shipment_reference.is_none() {
                return Err(invalid(
                    "trackingCode",
                    "or `shipmentReference` is required to find the shipment",
                ));
            }
            Ok(())
        }
        Action::ReadyForPickup(_) | Action::PickedUp(_) | Action::Stock(_) => Ok(()),
    }
}

/// At most [`MAX_LINES`], and no line twice. Lines are grouped by SKU and `group` (the
/// return decision: one line may be part accepted, part rejected). Within a group a SKU
/// appears either once without `lineItemId`, or any number of times with distinct
/// `lineItemId`s: a SKU both with and without an id would address the same pieces twice.
fn check_lines<L: LineSelector, G: PartialEq>(
    lines: &[L],
    group: impl Fn(&L) -> G,
) -> Result<(), CommandError> {
    if lines.len() > MAX_LINES {
        return Err(invalid(
            "lines",
            format!(
                "holds {} lines; at most {MAX_LINES} are allowed",
                lines.len()
            ),
        ));
    }
    // A linear scan: at most MAX_LINES lines, and it keeps the first clash's index at hand.
    let mut seen: Vec<(&str, G, Option<Uuid>, usize)> = Vec::with_capacity(lines.len());
    for (index, line) in lines.iter().enumerate() {
        let (sku, kind, id) = (line.sku().as_str(), group(line), line.line_item_id());
        let clash = seen.iter().find(|(seen_sku, seen_kind, seen_id, _)| {
            *seen_sku == sku
                && *seen_kind == kind
                && (seen_id.is_none() || id.is_none() || *seen_id == id)
        });
        if let Some((_, _, _, first)) = clash {
            return Err(CommandError::DuplicateLine {
                field: format!("lines[{index}]"),
                first: format!("lines[{first}]"),
                sku: sku.to_owned(),
            });
        }
        seen.push((sku, kind, id, index));
    }
    Ok(())
}
