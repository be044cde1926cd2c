//! Reading and writing DynamoDB attribute values, and JSON documents as native maps.

use std::collections::HashMap;
use std::str::FromStr;

use aws_sdk_dynamodb::types::AttributeValue;
use chrono::{DateTime, Utc};
use serde::Serialize;
use serde::de::DeserializeOwned;

use connector::ports::StoreError;
use connector::ports::clock::from_millis;

pub(crate) type Item = HashMap<String, AttributeValue>;

pub(crate) fn s(value: impl Into<String>) -> AttributeValue {
    AttributeValue::S(value.into())
}

pub(crate) fn n(value: impl ToString) -> AttributeValue {
    AttributeValue::N(value.to_string())
}

pub(crate) fn millis(at: DateTime<Utc>) -> AttributeValue {
    n(at.timestamp_millis())
}

pub(crate) fn opt_s<'a>(item: &'a Item, name: &str) -> Result<Option<&'a str>, StoreError> {
    match item.get(name) {
        None | Some(AttributeValue::Null(_)) => Ok(None),
        Some(AttributeValue::S(value)) => Ok(Some(value)),
        Some(_) => Err(StoreError::corrupt(name, "is not a string")),
    }
}

pub(crate) fn get_s<'a>(item: &'a Item, name: &str) -> Result<&'a str, StoreError> {
    opt_s(item, name)?.ok_or_else(|| StoreError::corrupt(name, "is missing"))
}

pub(crate) fn opt_n<T: FromStr>(item: &Item, name: &str) -> Result<Option<T>, StoreError>
where
    T::Err: std::error::Error + Send + Sync + 'static,
{
    match item.get(name) {
        None | Some(AttributeValue::Null(_)) => Ok(None),
        Some(AttributeValue::N(value)) => value
            .parse()
            .map(Some)
            .map_err(|e| StoreError::corrupt_from(name, e)),
        Some(_) => Err(StoreError::corrupt(name, "is not a number")),
    }
}

pub(crate) fn get_n<T: FromStr>(item: &Item, name: &str) -> Result<T, StoreError>
where
    T::Err: std::error::Error + Send + Sync + 'static,
{
    opt_n(item, name)?.ok_or_else(|| StoreError::corrupt(name, "is missing"))
}

pub(crate) fn opt_millis(item: &Item, name: &str) -> Result<Option<DateTime<Utc>>, StoreError> {
    opt_n::<i64>(item, name)?
        .map(|ms| from_millis(ms, name))
        .transpose()
}

pub(crate) fn get_millis(item: &Item, name: &str) -> Result<DateTime<Utc>, StoreError> {
    opt_millis(item, name)?.ok_or_else(|| StoreError::corrupt(name, "is missing"))
}

/// A JSON value as a native DynamoDB value, so items stay readable in the console.
pub(crate) fn json_to_attr(value: &serde_json::Value) -> AttributeValue {
    use serde_json::Value;
    match value {
        Value::Null => AttributeValue::Null(true),
        Value::Bool(b) => AttributeValue::Bool(*b),
        Value::Number(number) => AttributeValue::N(number.to_string()),
        Value::String(text) => AttributeValue::S(text.clone()),
        Value::Array(items) => AttributeValue::L(items.iter().map(json_to_attr).collect()),
        Value::Object(map) => AttributeValue::M(
            map.iter()
                .map(|(k, v)| (k.clone(), json_to_attr(v)))
                .collect(),
        ),
    }
}

pub(crate) fn attr_to_json(value: &AttributeValue) -> Result<serde_json::Value, StoreError> {
    use serde_json::Value;
    Ok(match value {
        AttributeValue::Null(_) => Value::Null,
        AttributeValue::Bool(b) => Value::Bool(*b),
        AttributeValue::N(number) => Value::Number(
            serde_json::from_str(number).map_err(|e| StoreError::corrupt_from("number", e))?,
        ),
        AttributeValue::S(text) => Value::String(text.clone()),
        AttributeValue::L(items) => {
            Value::Array(items.iter().map(attr_to_json).collect::<Result<_, _>>()?)
        }
        AttributeValue::M(map) => Value::Object(
            map.iter()
                .map(|(k, v)| Ok((k.clone(), attr_to_json(v)?)))
                .collect::<Result<_, StoreError>>()?,
        ),
        _ => {
            return Err(StoreError::corrupt(
                "document",
                "holds a set or binary value, which JSON documents never produce",
            ));
        }
    })
}

pub(crate) fn to_doc<T: Serialize>(
    value: &T,
    what: &'static str,
) -> Result<AttributeValue, StoreError> {
    let json = serde_json::to_value(value).map_err(|e| StoreError::invalid(what, e.to_string()))?;
    Ok(json_to_attr(&json))
}

pub(crate) fn from_doc<T: DeserializeOwned>(item: &Item, name: &str) -> Result<T, StoreError> {
    let value = item
        .get(name)
        .ok_or_else(|| StoreError::corrupt(name, "is missing"))?;
    serde_json::from_value(attr_to_json(value)?).map_err(|e| StoreError::corrupt_from(name, e))
}

/// The `#name` placeholders used in expressions, mapped to attribute names. DynamoDB
/// refuses unused placeholders, so the map is derived from the expressions themselves;
/// every attribute in our expressions is written as `#name` to stay clear of reserved words.
pub(crate) fn names(expressions: &[&str]) -> HashMap<String, String> {
    let mut names = HashMap::new();
    for expression in expressions {
        let mut rest = *expression;
        while let Some(start) = rest.find('#') {
            let tail = &rest[start + 1..];
            let end = tail
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(tail.len());
            let name = &tail[..end];
            if !name.is_empty() {
                names.insert(format!("#{name}"), name.to_owned());
            }
            rest = &tail[end..];
        }
    }
    names
}

/// Builds an expression-values map.
pub(crate) fn values<const N: usize>(
    pairs: [(&str, AttributeValue); N],
) -> HashMap<String, AttributeValue> {
    pairs.into_iter().map(|(k, v)| (k.to_owned(), v)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_round_trips_through_attribute_values() {
        let value = serde_json::json!({
            "a": [1, 2.5, -3, "x", null, true],
            "b": {"c": 18446744073709551615u64, "d": ""},
        });
        assert_eq!(
            attr_to_json(&json_to_attr(&value)).expect("round trip"),
            value
        );
    }

    #[test]
    fn names_are_collected_from_expressions() {
        let found = names(&[
            "SET #status = :s, #data = :d",
            "#version = :v AND attribute_exists(#pk)",
        ]);
        let mut keys: Vec<_> = found.keys().cloned().collect();
        keys.sort();
        assert_eq!(keys, ["#data", "#pk", "#status", "#version"]);
        assert_eq!(found["#status"], "status");
    }
}
