//! The tenant identifier every message carries. It lives with the contracts because
//! commands and results name their tenant; the domain re-exports it as
//! `domain::tenant::TenantId`.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// A tenant's identifier. It becomes part of storage keys, queue group ids and secret names,
/// so it is restricted to characters that are safe in all three (no `#`, `:` or `/`).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct TenantId(String);

/// Why a string is not a valid [`TenantId`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvalidTenantId {
    #[error("tenant id is empty")]
    Empty,
    #[error("tenant id is {len} characters long; at most {max} are allowed")]
    TooLong { len: usize, max: usize },
    #[error(
        "tenant id contains {found:?}; only lowercase ASCII letters, digits, '-' and '_' are allowed"
    )]
    InvalidCharacter { found: char },
    #[error("tenant id must start with a letter or a digit")]
    BadStart,
}

impl TenantId {
    /// Long enough for a uuid plus a prefix, short enough to keep keys and names readable.
    pub const MAX_LEN: usize = 64;

    pub fn parse(raw: &str) -> Result<Self, InvalidTenantId> {
        if raw.is_empty() {
            return Err(InvalidTenantId::Empty);
        }
        let len = raw.chars().count();
        if len > Self::MAX_LEN {
            return Err(InvalidTenantId::TooLong {
                len,
                max: Self::MAX_LEN,
            });
        }
        if let Some(found) = raw
            .chars()
            .find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '-' || *c == '_'))
        {
            return Err(InvalidTenantId::InvalidCharacter { found });
        }
        if raw.starts_with(['-', '_']) {
            return Err(InvalidTenantId::BadStart);
        }
        Ok(Self(raw.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for TenantId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for TenantId {
    type Err = InvalidTenantId;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl TryFrom<String> for TenantId {
    type Error = InvalidTenantId;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<TenantId> for String {
    fn from(value: TenantId) -> Self {
        value.0
    }
}

impl AsRef<str> for TenantId {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tenant_id_accepts_safe_names_and_rejects_the_rest() {
        assert!(TenantId::parse("shop-1_a").is_ok());
        assert_eq!(TenantId::parse(""), Err(InvalidTenantId::Empty));
        assert_eq!(
            TenantId::parse("a#b"),
            Err(InvalidTenantId::InvalidCharacter { found: '#' })
        );
        assert_eq!(
            TenantId::parse("Shop"),
            Err(InvalidTenantId::InvalidCharacter { found: 'S' })
        );
        assert_eq!(TenantId::parse("-x"), Err(InvalidTenantId::BadStart));
        assert!(matches!(
            TenantId::parse(&"a".repeat(65)),
            Err(InvalidTenantId::TooLong { len: 65, .. })
        ));
    }

    #[test]
    fn tenant_id_deserialization_validates() {
        let bad: Result<TenantId, _> = serde_json::from_str("\"a:b\"");
        assert!(bad.is_err());
        let good: TenantId = serde_json::from_str("\"ab\"").expect("valid id");
        assert_eq!(good.as_str(), "ab");
    }
}
