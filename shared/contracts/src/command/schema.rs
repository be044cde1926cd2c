//! The hand-written JSON Schema of [`Command`]: one closed object per command type, as
//! committed in `v1/command.schema.json`.

use std::borrow::Cow;

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde_json::{Map, Value};

use super::parse::Header;
use super::{
    CancelCommand, Command, CommandType, DeliverCommand, PickupCommand, ReturnCommand, ShipCommand,
    StockCommand,
};

impl JsonSchema for Command {
    fn schema_name() -> Cow<'static, str> {
        "Command".into()
    }

    /// One closed object schema per type: the header, the `type` constant and that type's
    /// fields, with no other property allowed (the parser's rule).
    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        let header = Header::json_schema(generator);
        let variants = CommandType::ALL
            .into_iter()
            .map(|kind| {
                let body = match kind {
                    CommandType::Cancel => CancelCommand::json_schema(generator),
                    CommandType::Return => ReturnCommand::json_schema(generator),
                    CommandType::Ship => ShipCommand::json_schema(generator),
                    CommandType::ReadyForPickup | CommandType::PickedUp => {
                        PickupCommand::json_schema(generator)
                    }
                    CommandType::Deliver => DeliverCommand::json_schema(generator),
                    CommandType::Stock => StockCommand::json_schema(generator),
                };
                variant_schema(kind, &header, &body)
            })
            .collect::<Vec<_>>();
        json_schema!({
            "description": "A command from Afosto to apply to an ePages shop (docs/COMMANDS.md).",
            "oneOf": variants,
        })
    }
}

fn variant_schema(kind: CommandType, header: &Schema, body: &Schema) -> Value {
    let mut properties = Map::new();
    let mut required = Vec::new();
    absorb(header, &mut properties, &mut required);
    properties.insert(
        "type".into(),
        serde_json::json!({ "type": "string", "const": kind.as_str() }),
    );
    required.push(Value::String("type".into()));
    absorb(body, &mut properties, &mut required);
    let mut schema = Map::new();
    schema.insert("title".into(), kind.as_str().into());
    if let Some(description) = body.get("description") {
        schema.insert("description".into(), description.clone());
    }
    schema.insert("type".into(), "object".into());
    schema.insert("properties".into(), Value::Object(properties));
    schema.insert("required".into(), Value::Array(required));
    schema.insert("additionalProperties".into(), Value::Bool(false));
    Value::Object(schema)
}

/// Adds an object schema's properties and required names to a variant being assembled.
fn absorb(part: &Schema, properties: &mut Map<String, Value>, required: &mut Vec<Value>) {
    if let Some(Value::Object(props)) = part.get("properties") {
        properties.extend(props.clone());
    }
    if let Some(Value::Array(names)) = part.get("required") {
        required.extend(names.iter().cloned());
    }
}
