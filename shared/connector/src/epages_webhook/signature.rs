//! ePages webhook signatures: `base64(HMAC-SHA1(sharedSecret, uri + ":" + body))`, or of
//! the URI alone when there is no body.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use secrecy::{ExposeSecret, SecretString};
use sha1::Sha1;

fn mac(secret: &SecretString, uri: &str, body: &str) -> Option<Hmac<Sha1>> {
    let mut mac = Hmac::<Sha1>::new_from_slice(secret.expose_secret().as_bytes()).ok()?;
    mac.update(uri.as_bytes());
    if !body.is_empty() {
        mac.update(b":");
        mac.update(body.as_bytes());
    }
    Some(mac)
}

/// The signature ePages sends for `body` posted to `uri`.
pub fn sign(secret: &SecretString, uri: &str, body: &str) -> String {
    mac(secret, uri, body)
        .map(|mac| STANDARD.encode(mac.finalize().into_bytes()))
        .unwrap_or_default()
}

/// Whether any of `signatures` is valid (one per signer of the shop), compared in
/// constant time.
pub fn verify_any(secret: &SecretString, uri: &str, body: &str, signatures: &[String]) -> bool {
    let mut any = false;
    for signature in signatures {
        let Ok(given) = STANDARD.decode(signature.trim()) else {
            continue;
        };
        if let Some(mac) = mac(secret, uri, body) {
            // `verify_slice` compares in constant time; every candidate is checked.
            any |= mac.verify_slice(&given).is_ok();
        }
    }
    any
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_the_documented_construction() {
        let secret = SecretString::from("key".to_owned());
        // HMAC-SHA1("key", "The quick brown fox jumps over the lazy dog").
        let expected = STANDARD.encode([
            0xde, 0x7c, 0x9b, 0x85, 0xb8, 0xb7, 0x8a, 0xa6, 0xbc, 0x8a, 0x7a, 0x36, 0xf7, 0x0a,
            0x90, 0x70, 0x1c, 0x9d, 0xb4, 0xd9,
        ]);
        assert_eq!(
            sign(&secret, "The quick brown fox jumps over the lazy dog", ""),
            expected
        );
        assert_eq!(sign(&secret, "uri", "body"), sign(&secret, "uri:body", ""));
        let good = sign(&secret, "https://x/?tenant=a", "{}");
        assert!(verify_any(
            &secret,
            "https://x/?tenant=a",
            "{}",
            &["bad".into(), good.clone()]
        ));
        assert!(!verify_any(
            &secret,
            "https://x/?tenant=a",
            "{ }",
            std::slice::from_ref(&good)
        ));
        assert!(!verify_any(&secret, "https://x/?tenant=b", "{}", &[good]));
        assert!(!verify_any(&secret, "https://x/?tenant=a", "{}", &[]));
    }
}
