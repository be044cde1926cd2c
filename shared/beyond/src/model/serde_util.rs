//! Small serde helpers shared by the models.

use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Deserializer, Serializer};

/// Reads `null` like a missing field: Beyond sends `null` for empty lists and objects in
/// places the spec does not promise, and that must not fail a whole order.
pub(crate) fn null_as_default<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(deserializer)?.unwrap_or_default())
}

/// Writes a secret in clear. Used only where the wire format requires the secret (the
/// sandbox answering `POST /signers` or the token endpoint); `Debug` stays redacted.
pub(crate) fn expose_secret<S: Serializer>(
    secret: &SecretString,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(secret.expose_secret())
}

/// [`expose_secret`] for an optional secret.
pub(crate) fn expose_secret_option<S: Serializer>(
    secret: &Option<SecretString>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    match secret {
        Some(secret) => serializer.serialize_some(secret.expose_secret()),
        None => serializer.serialize_none(),
    }
}
