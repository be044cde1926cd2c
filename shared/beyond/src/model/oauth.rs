//! The OAuth token response of `POST {api_url}/oauth/token` (beyond-api.md §1.1).

use std::collections::BTreeSet;
use std::fmt;

use secrecy::SecretString;
use serde::de::{SeqAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::serde_util::{expose_secret, expose_secret_option};

/// A set of scopes such as `ordr:r`. On the wire it is one space-separated string; the
/// JWT claim form (an array) is accepted too.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Scopes(pub BTreeSet<String>);

impl Scopes {
    /// Parses a space-separated list.
    pub fn parse(text: &str) -> Self {
        Self(text.split_whitespace().map(str::to_owned).collect())
    }

    pub fn contains(&self, scope: &str) -> bool {
        self.0.contains(scope)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The scopes of `required` that are not granted.
    pub fn missing<'a>(&self, required: &[&'a str]) -> Vec<&'a str> {
        required
            .iter()
            .copied()
            .filter(|scope| !self.contains(scope))
            .collect()
    }
}

impl fmt::Display for Scopes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut first = true;
        for scope in &self.0 {
            if !first {
                f.write_str(" ")?;
            }
            f.write_str(scope)?;
            first = false;
        }
        Ok(())
    }
}

impl<S: AsRef<str>> FromIterator<S> for Scopes {
    fn from_iter<I: IntoIterator<Item = S>>(iter: I) -> Self {
        Self(iter.into_iter().map(|s| s.as_ref().to_owned()).collect())
    }
}

impl Serialize for Scopes {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Scopes {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ScopesVisitor;

        impl<'de> Visitor<'de> for ScopesVisitor {
            type Value = Scopes;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a space-separated scope string or an array of scopes")
            }

            fn visit_str<E: serde::de::Error>(self, text: &str) -> Result<Scopes, E> {
                Ok(Scopes::parse(text))
            }

            fn visit_unit<E: serde::de::Error>(self) -> Result<Scopes, E> {
                Ok(Scopes::default())
            }

            fn visit_none<E: serde::de::Error>(self) -> Result<Scopes, E> {
                Ok(Scopes::default())
            }

            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Scopes, A::Error> {
                let mut scopes = BTreeSet::new();
                while let Some(scope) = seq.next_element::<String>()? {
                    scopes.insert(scope);
                }
                Ok(Scopes(scopes))
            }
        }

        deserializer.deserialize_any(ScopesVisitor)
    }
}

/// A successful token response. Tokens are secrets: `Debug` redacts them. `Serialize`
/// writes them in clear because the sandbox must answer with this exact shape; never
/// serialize a token response into a log.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TokenResponse {
    #[serde(serialize_with = "expose_secret")]
    pub access_token: SecretString,
    /// `bearer`.
    #[serde(default)]
    pub token_type: Option<String>,
    /// Absent for `client_credentials`. A refresh returns a new refresh token.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        serialize_with = "expose_secret_option"
    )]
    pub refresh_token: Option<SecretString>,
    /// Seconds; 43199 (12 h) in practice.
    #[serde(default)]
    pub expires_in: Option<u64>,
    #[serde(default)]
    pub scope: Scopes,
    #[serde(rename = "tenantId", default)]
    pub tenant_id: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iat: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jti: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::ExposeSecret;

    #[test]
    fn scopes_parse_from_string_and_array_and_serialize_as_string() {
        let from_string: Scopes = serde_json::from_str(r#""ordr:r  prda:u""#).unwrap();
        let from_array: Scopes = serde_json::from_str(r#"["prda:u","ordr:r"]"#).unwrap();
        assert_eq!(from_string, from_array);
        assert_eq!(
            serde_json::to_string(&from_string).unwrap(),
            r#""ordr:r prda:u""#
        );
        assert_eq!(from_string.missing(&["ordr:r", "shpr:c"]), vec!["shpr:c"]);
    }

    #[test]
    fn token_debug_redacts_and_serialize_exposes() {
        let token: TokenResponse = serde_json::from_str(
            r#"{"access_token":"AT-secret","token_type":"bearer","refresh_token":"RT-secret",
                "expires_in":43199,"scope":"ordr:r","tenantId":135}"#,
        )
        .unwrap();
        let debug = format!("{token:?}");
        assert!(!debug.contains("AT-secret") && !debug.contains("RT-secret"));
        assert_eq!(token.access_token.expose_secret(), "AT-secret");
        let wire = serde_json::to_value(&token).unwrap();
        assert_eq!(wire["access_token"], "AT-secret");
        assert_eq!(wire["refresh_token"], "RT-secret");
        assert_eq!(wire["scope"], "ordr:r");
        assert_eq!(wire["tenantId"], 135);
    }
}
