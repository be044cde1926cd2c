//! The published JSON Schemas (`shared/contracts/v1/`), compiled once: the demo checks every
//! command it sends and every message it receives against them, as an Afosto developer
//! working from the schemas alone would.

use serde_json::Value;

const COMMAND: &str = include_str!("../../../../shared/contracts/v1/command.schema.json");
const ORDER_EVENT: &str = include_str!("../../../../shared/contracts/v1/order-event.schema.json");
const RESULT: &str = include_str!("../../../../shared/contracts/v1/command-result.schema.json");

pub struct Contracts {
    command: jsonschema::Validator,
    order_event: jsonschema::Validator,
    result: jsonschema::Validator,
}

#[derive(Debug, thiserror::Error)]
#[error("the bundled schema {name} does not compile: {reason}")]
pub struct SchemaError {
    name: &'static str,
    reason: String,
}

fn compile(name: &'static str, text: &str) -> Result<jsonschema::Validator, SchemaError> {
    let schema: Value = serde_json::from_str(text).map_err(|error| SchemaError {
        name,
        reason: error.to_string(),
    })?;
    jsonschema::validator_for(&schema).map_err(|error| SchemaError {
        name,
        reason: error.to_string(),
    })
}

/// Which contract a message is checked against.
#[derive(Debug, Clone, Copy)]
pub enum Contract {
    Command,
    OrderEvent,
    CommandResult,
}

impl Contracts {
    pub fn load() -> Result<Self, SchemaError> {
        Ok(Self {
            command: compile("command.schema.json", COMMAND)?,
            order_event: compile("order-event.schema.json", ORDER_EVENT)?,
            result: compile("command-result.schema.json", RESULT)?,
        })
    }

    /// `None` when `body` conforms; otherwise the first violation.
    pub fn violation(&self, contract: Contract, body: &str) -> Option<String> {
        let value: Value = match serde_json::from_str(body) {
            Ok(value) => value,
            Err(error) => return Some(format!("not JSON: {error}")),
        };
        let validator = match contract {
            Contract::Command => &self.command,
            Contract::OrderEvent => &self.order_event,
            Contract::CommandResult => &self.result,
        };
        validator
            .iter_errors(&value)
            .next()
            .map(|error| format!("{error} at `{}`", error.instance_path()))
    }
}
