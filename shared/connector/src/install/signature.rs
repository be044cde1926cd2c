//! The install callback's signature: `base64(HMAC(client_secret, code + ":" +
//! access_token_url))`. The documentation names HMAC-SHA1, but its own example decodes to
//! 32 bytes, so the hash is chosen by the decoded length: 20 bytes SHA-1, 32 bytes
//! SHA-256, anything else is refused. The official Rails engine URL-decodes the parameter
//! once more after the framework did, so a doubly encoded value (`%2B`, `%3D` left after
//! the first decoding) is accepted, and so is `+` that a sloppy encoder left to become a
//! space. Every comparison is constant-time (`verify_slice`).

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use secrecy::{ExposeSecret, SecretString};
use sha1::Sha1;
use sha2::Sha256;

/// A base64 SHA-256 HMAC is 44 characters, triple-encoded at most about 3× that: longer
/// values are not signatures and are refused before any decoding.
const MAX_SIGNATURE_CHARS: usize = 256;

/// Whether `signature` is the app's signature of `code:access_token_url`.
pub fn verify_install_signature(
    client_secret: &SecretString,
    code: &str,
    access_token_url: &str,
    signature: &str,
) -> bool {
    // A space is a `+` that lost its encoding (it may be the first or last character, so
    // it is restored before any trimming).
    let signature = signature.replace(' ', "+");
    let signature = signature.trim();
    if signature.is_empty() || signature.len() > MAX_SIGNATURE_CHARS {
        return false;
    }
    let once = signature.to_owned();
    // A value still holding `%XX` after the framework's decoding was encoded twice.
    let twice = signature.contains('%').then(|| percent_decode(signature));
    let mut any = false;
    for candidate in std::iter::once(Some(once))
        .chain(std::iter::once(twice))
        .flatten()
    {
        let Ok(given) = STANDARD.decode(candidate.trim()) else {
            continue;
        };
        let secret = client_secret.expose_secret().as_bytes();
        any |= match given.len() {
            20 => Hmac::<Sha1>::new_from_slice(secret)
                .map(|mac| {
                    signed(mac, code, access_token_url)
                        .verify_slice(&given)
                        .is_ok()
                })
                .unwrap_or(false),
            32 => Hmac::<Sha256>::new_from_slice(secret)
                .map(|mac| {
                    signed(mac, code, access_token_url)
                        .verify_slice(&given)
                        .is_ok()
                })
                .unwrap_or(false),
            _ => false,
        };
    }
    any
}

fn signed<M: Mac>(mut mac: M, code: &str, access_token_url: &str) -> M {
    mac.update(code.as_bytes());
    mac.update(b":");
    mac.update(access_token_url.as_bytes());
    mac
}

/// `%XX` → byte; anything else (a lone `%`, bad hex) is kept as it is.
fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let (Some(high), Some(low)) = (hex(bytes[i + 1]), hex(bytes[i + 2]))
        {
            out.push((high * 16 + low) as u8);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The SHA-1 signature ePages documents (for tests and the sandbox-driven local runner).
pub fn install_signature(
    client_secret: &SecretString,
    code: &str,
    access_token_url: &str,
) -> String {
    Hmac::<Sha1>::new_from_slice(client_secret.expose_secret().as_bytes())
        .map(|mac| STANDARD.encode(signed(mac, code, access_token_url).finalize().into_bytes()))
        .unwrap_or_default()
}

/// The same signature as HMAC-SHA256 (the length the documentation's example has).
pub fn install_signature_sha256(
    client_secret: &SecretString,
    code: &str,
    access_token_url: &str,
) -> String {
    Hmac::<Sha256>::new_from_slice(client_secret.expose_secret().as_bytes())
        .map(|mac| STANDARD.encode(signed(mac, code, access_token_url).finalize().into_bytes()))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sha1_sha256_double_encoding_and_spaces_are_accepted_nothing_else() {
        let secret = SecretString::from("app-secret".to_owned());
        let url = "https://s.beyondshop.cloud/api/oauth/token";
        let sha1 = install_signature(&secret, "abc", url);
        let sha256 = install_signature_sha256(&secret, "abc", url);
        assert_eq!(STANDARD.decode(&sha256).map(|b| b.len()).ok(), Some(32));
        let encoded = |s: &str| {
            s.replace('+', "%2B")
                .replace('/', "%2F")
                .replace('=', "%3D")
        };
        for good in [
            sha1.clone(),
            sha256.clone(),
            sha1.replace('+', " "),
            encoded(&sha1),
            encoded(&sha256),
        ] {
            assert!(
                verify_install_signature(&secret, "abc", url, &good),
                "{good}"
            );
        }
        // A `+` at either end that became a space survives the trimming.
        let (code, edge) = (0..5000)
            .map(|n| format!("code-{n}"))
            .map(|code| (code.clone(), install_signature(&secret, &code, url)))
            .find(|(_, s)| s.starts_with('+'))
            .expect("some signature starts with +");
        assert!(verify_install_signature(
            &secret,
            &code,
            url,
            &edge.replace('+', " ")
        ));
        let other = SecretString::from("other".to_owned());
        let truncated = STANDARD.encode(&STANDARD.decode(&sha256).expect("b64")[..31]);
        for bad in [
            install_signature(&other, "abc", url),
            install_signature(&secret, "abd", url),
            truncated,
            "not base64!".to_owned(),
            String::new(),
            "%".to_owned(),
            "%zz%4".to_owned(),
            "A".repeat(MAX_SIGNATURE_CHARS + 1),
        ] {
            assert!(
                !verify_install_signature(&secret, "abc", url, &bad),
                "{bad}"
            );
        }
    }
}
