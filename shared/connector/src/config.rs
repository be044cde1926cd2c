//! The one configuration reader. Every setting of every function and of the local runner
//! comes from an environment variable, read once at start-up through these functions, and
//! every problem is a [`ConfigError`] that names the variable (never its value when the
//! value is unreadable).
//!
//! Values are trimmed; an empty value counts as unset, so a template can leave an optional
//! parameter blank.

use std::fmt::Display;
use std::str::FromStr;

/// A missing or malformed environment variable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    #[error("environment variable {name} is not set")]
    Missing { name: &'static str },
    #[error("environment variable {name} is invalid: {reason}")]
    Invalid { name: &'static str, reason: String },
}

impl ConfigError {
    pub fn invalid(name: &'static str, reason: impl Into<String>) -> Self {
        ConfigError::Invalid {
            name,
            reason: reason.into(),
        }
    }

    /// The variable the error is about.
    pub fn name(&self) -> &'static str {
        match self {
            ConfigError::Missing { name } | ConfigError::Invalid { name, .. } => name,
        }
    }
}

/// The trimmed value of `name`, or `None` when it is unset or blank.
pub fn optional(name: &'static str) -> Result<Option<String>, ConfigError> {
    match std::env::var(name) {
        Ok(value) if !value.trim().is_empty() => Ok(Some(value.trim().to_owned())),
        Ok(_) | Err(std::env::VarError::NotPresent) => Ok(None),
        Err(std::env::VarError::NotUnicode(_)) => {
            Err(ConfigError::invalid(name, "not valid UTF-8"))
        }
    }
}

/// The trimmed value of `name`; unset or blank is [`ConfigError::Missing`].
pub fn required(name: &'static str) -> Result<String, ConfigError> {
    optional(name)?.ok_or(ConfigError::Missing { name })
}

/// `name` parsed as `T`, or `None` when unset.
pub fn parsed<T>(name: &'static str) -> Result<Option<T>, ConfigError>
where
    T: FromStr,
    T::Err: Display,
{
    optional(name)?
        .map(|raw| {
            raw.parse()
                .map_err(|error: T::Err| ConfigError::invalid(name, error.to_string()))
        })
        .transpose()
}

/// A whole number from `name`, or `default` when unset.
pub fn number_or(name: &'static str, default: u64) -> Result<u64, ConfigError> {
    Ok(parsed(name)?.unwrap_or(default))
}

/// A flag: `true`/`1` or `false`/`0`, or `None` when unset.
pub fn flag(name: &'static str) -> Result<Option<bool>, ConfigError> {
    match optional(name)?.as_deref() {
        None => Ok(None),
        Some("true" | "1") => Ok(Some(true)),
        Some("false" | "0") => Ok(Some(false)),
        Some(other) => Err(ConfigError::invalid(
            name,
            format!("{other:?} is not true or false"),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Each test uses its own variable names: tests run in parallel in one process.
    #[test]
    fn blank_is_unset_and_values_are_trimmed() {
        // SAFETY (edition 2024): no other test reads or writes these names.
        unsafe {
            std::env::set_var("EPAGES_SYNC_CONFIG_TEST_BLANK", "  ");
            std::env::set_var("EPAGES_SYNC_CONFIG_TEST_NUMBER", " 42 ");
            std::env::set_var("EPAGES_SYNC_CONFIG_TEST_BAD", "4x");
            std::env::set_var("EPAGES_SYNC_CONFIG_TEST_FLAG", "yes");
        }
        assert_eq!(optional("EPAGES_SYNC_CONFIG_TEST_BLANK"), Ok(None));
        assert_eq!(
            required("EPAGES_SYNC_CONFIG_TEST_BLANK"),
            Err(ConfigError::Missing {
                name: "EPAGES_SYNC_CONFIG_TEST_BLANK"
            })
        );
        assert_eq!(number_or("EPAGES_SYNC_CONFIG_TEST_NUMBER", 1), Ok(42));
        assert_eq!(number_or("EPAGES_SYNC_CONFIG_TEST_UNSET", 7), Ok(7));
        let bad = number_or("EPAGES_SYNC_CONFIG_TEST_BAD", 1).unwrap_err();
        assert_eq!(bad.name(), "EPAGES_SYNC_CONFIG_TEST_BAD");
        assert!(bad.to_string().contains("EPAGES_SYNC_CONFIG_TEST_BAD"));
        assert!(flag("EPAGES_SYNC_CONFIG_TEST_FLAG").is_err());
    }
}
