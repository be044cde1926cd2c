//! What every store adapter (AWS and embedded) shares: escaped composite keys and opaque
//! page tokens, so both encode keys and resume positions the same way.

use std::borrow::Cow;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::{PageToken, StoreError};

/// Escapes a free-form key component (a SKU may contain anything) so that joining
/// components with `#` stays unambiguous.
pub fn key_part(raw: &str) -> Cow<'_, str> {
    if raw.contains(['%', '#']) {
        Cow::Owned(raw.replace('%', "%25").replace('#', "%23"))
    } else {
        Cow::Borrowed(raw)
    }
}

/// Joins escaped components with `#`.
pub fn composite_key(parts: &[&str]) -> String {
    parts
        .iter()
        .map(|part| key_part(part))
        .collect::<Vec<_>>()
        .join("#")
}

/// Wraps a store's resume position in an opaque page token.
pub fn encode_page_token<T: Serialize>(position: &T) -> Result<PageToken, StoreError> {
    let json = serde_json::to_vec(position)
        .map_err(|e| StoreError::invalid("page position", e.to_string()))?;
    Ok(PageToken(URL_SAFE_NO_PAD.encode(json)))
}

pub fn decode_page_token<T: DeserializeOwned>(token: &PageToken) -> Result<T, StoreError> {
    let bytes = URL_SAFE_NO_PAD
        .decode(token.0.as_bytes())
        .map_err(|e| StoreError::invalid("page token", e.to_string()))?;
    serde_json::from_slice(&bytes).map_err(|e| StoreError::invalid("page token", e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn composite_keys_do_not_collide() {
        assert_ne!(composite_key(&["a#b", "c"]), composite_key(&["a", "b#c"]));
        assert_ne!(composite_key(&["a%23", "b"]), composite_key(&["a#", "b"]));
        assert_eq!(composite_key(&["shop", "SKU-1"]), "shop#SKU-1");
    }

    #[test]
    fn page_tokens_round_trip_and_reject_garbage() {
        let token = encode_page_token(&("t1", 5)).expect("encodes");
        let back: (String, i32) = decode_page_token(&token).expect("decodes");
        assert_eq!(back, ("t1".to_owned(), 5));
        let garbage = decode_page_token::<(String, i32)>(&PageToken("!!".into()));
        assert!(matches!(garbage, Err(StoreError::InvalidInput { .. })));
    }
}
