//! The bounded values a command is made of: its id, texts of limited length, the tracking
//! link, quantities and stock levels, each checked when it is built or deserialized.

use std::borrow::Cow;
use std::fmt;
use std::num::NonZeroU32;

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::{Deserialize, Serialize};
use url::Url;

use super::MAX_STOCK_LEVEL;

// ---- identifiers and bounded values ---------------------------------------------------

/// The unique id of a command. It doubles as the SQS FIFO `MessageDeduplicationId` and the
/// idempotency key, so it follows the SQS rule: 1 to 128 printable ASCII characters.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct CommandId(String);

impl CommandId {
    pub const MAX_LEN: usize = 128;

    pub fn parse(raw: &str) -> Result<Self, TextError> {
        if raw.is_empty() {
            return Err(TextError::Blank);
        }
        let len = raw.chars().count();
        if len > Self::MAX_LEN {
            return Err(TextError::TooLong {
                len,
                max: Self::MAX_LEN,
            });
        }
        if let Some(found) = raw.chars().find(|c| !matches!(c, '!'..='~')) {
            return Err(TextError::NotPrintableAscii { found });
        }
        Ok(Self(raw.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for CommandId {
    type Error = TextError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<CommandId> for String {
    fn from(value: CommandId) -> Self {
        value.0
    }
}

impl fmt::Display for CommandId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl JsonSchema for CommandId {
    fn inline_schema() -> bool {
        true
    }
    fn schema_name() -> Cow<'static, str> {
        "CommandId".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "type": "string",
            "minLength": 1,
            "maxLength": Self::MAX_LEN,
            "pattern": "^[!-~]+$",
            "description": "Unique command id: 1-128 printable ASCII characters (the SQS FIFO deduplication id rule)."
        })
    }
}

/// Why a text value is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TextError {
    #[error("must not be empty or blank")]
    Blank,
    #[error("is {len} characters long; at most {max} are allowed")]
    TooLong { len: usize, max: usize },
    #[error("contains the control character {found:?}")]
    ControlCharacter { found: char },
    #[error("contains {found:?}; only printable ASCII characters without spaces are allowed")]
    NotPrintableAscii { found: char },
    #[error("is not an absolute http(s) URL")]
    NotHttpUrl,
}

/// Checks the rules every text field shares: not blank, at most `max` characters, and no
/// control characters except, where `multiline`, line breaks and tabs.
fn check_text(raw: &str, max: usize, multiline: bool) -> Result<(), TextError> {
    if raw.trim().is_empty() {
        return Err(TextError::Blank);
    }
    let len = raw.chars().count();
    if len > max {
        return Err(TextError::TooLong { len, max });
    }
    let allowed = |c: char| multiline && matches!(c, '\n' | '\r' | '\t');
    if let Some(found) = raw.chars().find(|c| c.is_control() && !allowed(*c)) {
        return Err(TextError::ControlCharacter { found });
    }
    Ok(())
}

/// Single-line text of 1 to `MAX` characters: not blank, no control characters.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Text<const MAX: usize>(String);

impl<const MAX: usize> Text<MAX> {
    pub fn parse(raw: impl Into<String>) -> Result<Self, TextError> {
        let raw = raw.into();
        check_text(&raw, MAX, false)?;
        Ok(Self(raw))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl<const MAX: usize> TryFrom<String> for Text<MAX> {
    type Error = TextError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(value)
    }
}

impl<const MAX: usize> From<Text<MAX>> for String {
    fn from(value: Text<MAX>) -> Self {
        value.0
    }
}

impl<const MAX: usize> fmt::Display for Text<MAX> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl<const MAX: usize> JsonSchema for Text<MAX> {
    fn inline_schema() -> bool {
        true
    }
    fn schema_name() -> Cow<'static, str> {
        format!("Text{MAX}").into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "type": "string",
            "minLength": 1,
            "maxLength": MAX,
            "pattern": "\\S",
            "description": "Single-line text: not blank, no control characters."
        })
    }
}

/// A SKU; Beyond allows 1 to 255 characters.
pub type Sku = Text<255>;
/// An ePages order number.
pub type OrderNumber = Text<64>;
/// An Afosto stock location id.
pub type LocationId = Text<128>;
/// A carrier's tracking code.
pub type TrackingCode = Text<255>;
/// A carrier name, free text (Afosto's carrier enum grows; the value only ends up in a comment).
pub type Carrier = Text<64>;
/// The producer's id of a shipment (an Afosto parcel).
pub type ShipmentReference = Text<255>;

/// A free-text comment stored on the ePages process; line breaks allowed.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Comment(String);

impl Comment {
    pub const MAX_LEN: usize = 2000;

    pub fn parse(raw: impl Into<String>) -> Result<Self, TextError> {
        let raw = raw.into();
        check_text(&raw, Self::MAX_LEN, true)?;
        Ok(Self(raw))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Comment {
    type Error = TextError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(value)
    }
}

impl From<Comment> for String {
    fn from(value: Comment) -> Self {
        value.0
    }
}

impl JsonSchema for Comment {
    fn inline_schema() -> bool {
        true
    }
    fn schema_name() -> Cow<'static, str> {
        "Comment".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "type": "string",
            "minLength": 1,
            "maxLength": Self::MAX_LEN,
            "pattern": "\\S",
            "description": "Free text stored on the ePages process; line breaks allowed."
        })
    }
}

/// The carrier's tracking page: an absolute http(s) URL of at most 2048 characters.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct TrackingLink(Url);

impl TrackingLink {
    pub const MAX_LEN: usize = 2048;

    pub fn parse(raw: &str) -> Result<Self, TextError> {
        check_text(raw, Self::MAX_LEN, false)?;
        let url = Url::parse(raw).map_err(|_| TextError::NotHttpUrl)?;
        if !matches!(url.scheme(), "http" | "https") || !url.has_host() {
            return Err(TextError::NotHttpUrl);
        }
        Ok(Self(url))
    }

    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }
}

impl TryFrom<String> for TrackingLink {
    type Error = TextError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<TrackingLink> for String {
    fn from(value: TrackingLink) -> Self {
        value.0.into()
    }
}

impl JsonSchema for TrackingLink {
    fn inline_schema() -> bool {
        true
    }
    fn schema_name() -> Cow<'static, str> {
        "TrackingLink".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "type": "string",
            "format": "uri",
            "maxLength": Self::MAX_LEN,
            "pattern": "^[hH][tT][tT][pP][sS]?://",
            "description": "Absolute http(s) URL of the carrier's tracking page."
        })
    }
}

/// A number of pieces: at least 1.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "i64", into = "u32")]
pub struct Quantity(NonZeroU32);

impl Quantity {
    pub fn new(pieces: u32) -> Option<Self> {
        NonZeroU32::new(pieces).map(Self)
    }

    pub fn get(self) -> u32 {
        self.0.get()
    }
}

/// Why a number is refused as a quantity or stock level.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("must be a whole number from {min} to {max}, got {found}")]
pub struct RangeError {
    pub found: String,
    pub min: i64,
    pub max: i64,
}

impl TryFrom<i64> for Quantity {
    type Error = RangeError;
    fn try_from(value: i64) -> Result<Self, Self::Error> {
        u32::try_from(value)
            .ok()
            .and_then(Quantity::new)
            .ok_or_else(|| RangeError {
                found: value.to_string(),
                min: 1,
                max: i64::from(u32::MAX),
            })
    }
}

impl From<Quantity> for u32 {
    fn from(value: Quantity) -> Self {
        value.get()
    }
}

impl JsonSchema for Quantity {
    fn inline_schema() -> bool {
        true
    }
    fn schema_name() -> Cow<'static, str> {
        "Quantity".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({ "type": "integer", "minimum": 1, "maximum": u32::MAX })
    }
}

/// An absolute stock level: 0 to [`MAX_STOCK_LEVEL`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "i64", into = "i64")]
pub struct StockLevel(i64);

impl StockLevel {
    pub fn new(level: i64) -> Option<Self> {
        (0..=MAX_STOCK_LEVEL)
            .contains(&level)
            .then_some(Self(level))
    }

    pub fn get(self) -> i64 {
        self.0
    }
}

impl TryFrom<i64> for StockLevel {
    type Error = RangeError;
    fn try_from(value: i64) -> Result<Self, Self::Error> {
        Self::new(value).ok_or_else(|| RangeError {
            found: value.to_string(),
            min: 0,
            max: MAX_STOCK_LEVEL,
        })
    }
}

impl From<StockLevel> for i64 {
    fn from(value: StockLevel) -> Self {
        value.0
    }
}

impl JsonSchema for StockLevel {
    fn inline_schema() -> bool {
        true
    }
    fn schema_name() -> Cow<'static, str> {
        "StockLevel".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({ "type": "integer", "minimum": 0, "maximum": MAX_STOCK_LEVEL })
    }
}
