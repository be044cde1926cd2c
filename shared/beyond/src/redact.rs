//! The one redaction rule for text that leaves the process (issue 13): logs, the activity
//! log, poll state, dead-letter reasons, results sent to Afosto, CLI output.
//!
//! Three nets, cheapest first:
//! - every secret this process holds (access and refresh tokens, client secrets, codes,
//!   signer secrets) is registered when it is loaded, and replaced wherever it appears;
//! - JWT-like strings and long opaque mixed-case runs (how bearer tokens look) are
//!   replaced even when nobody registered them;
//! - every message is capped in length, so nothing can smuggle a whole response out.
//!
//! Errors should not carry response values in the first place (decode errors name the
//! path and the type, token errors drop the body); this is the net under that rule.
//! It lives here, without the `client` feature, so every crate above can call it.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::{LazyLock, RwLock};

/// What replaces a secret.
pub const REDACTED: &str = "[REDACTED]";

/// The longest message a sink gets, in characters.
pub const MAX_SINK_CHARS: usize = 1000;

/// Shorter strings are not registered: they would redact ordinary words, and a secret this
/// short protects nothing anyway.
pub const MIN_SECRET_LEN: usize = 8;

/// Registered secrets kept at most; the oldest are forgotten first. A Lambda container
/// serving many tenants keeps registering rotated tokens, so the registry must not grow
/// without bound.
const MAX_SECRETS: usize = 4096;

/// Opaque runs at least this long with upper case, lower case and digits look like tokens.
const OPAQUE_RUN_LEN: usize = 40;

/// The registry: secrets indexed by their first [`MIN_SECRET_LEN`] bytes, so a scan costs
/// one hash lookup per byte of text, however many secrets are held.
#[derive(Default)]
struct Registry {
    by_prefix: HashMap<[u8; MIN_SECRET_LEN], Vec<Box<str>>>,
    known: HashSet<Box<str>>,
    order: VecDeque<Box<str>>,
}

static REGISTRY: LazyLock<RwLock<Registry>> = LazyLock::new(RwLock::default);

fn prefix(bytes: &[u8]) -> Option<[u8; MIN_SECRET_LEN]> {
    bytes.get(..MIN_SECRET_LEN)?.try_into().ok()
}

/// Remembers a secret value the process holds, so [`redact`] replaces it everywhere.
pub fn register(secret: &str) {
    let secret = secret.trim();
    if secret.len() < MIN_SECRET_LEN {
        return;
    }
    // A poisoned lock only means another thread panicked mid-update; the data is still a
    // valid set, so keep using it rather than stop redacting.
    if REGISTRY
        .read()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
        .known
        .contains(secret)
    {
        return;
    }
    REGISTRY
        .write()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
        .insert(secret, MAX_SECRETS);
}

impl Registry {
    fn insert(&mut self, secret: &str, bound: usize) {
        let Some(key) = prefix(secret.as_bytes()) else {
            return;
        };
        if self.known.contains(secret) {
            return;
        }
        while self.order.len() >= bound.max(1)
            && let Some(oldest) = self.order.pop_front()
        {
            self.known.remove(&oldest);
            if let Some(key) = prefix(oldest.as_bytes())
                && let Some(list) = self.by_prefix.get_mut(&key)
            {
                list.retain(|held| held != &oldest);
                if list.is_empty() {
                    self.by_prefix.remove(&key);
                }
            }
        }
        let secret: Box<str> = secret.into();
        let list = self.by_prefix.entry(key).or_default();
        list.push(secret.clone());
        // Longest first, so a secret that extends another is replaced whole.
        list.sort_by_key(|held| std::cmp::Reverse(held.len()));
        self.known.insert(secret.clone());
        self.order.push_back(secret);
    }

    /// Byte ranges of registered secrets in `text`.
    fn ranges(&self, text: &str) -> Vec<(usize, usize)> {
        let mut ranges = Vec::new();
        if self.by_prefix.is_empty() {
            return ranges;
        }
        let bytes = text.as_bytes();
        let mut i = 0;
        while i + MIN_SECRET_LEN <= bytes.len() {
            let hit = prefix(&bytes[i..])
                .and_then(|key| self.by_prefix.get(&key))
                .and_then(|candidates| {
                    candidates
                        .iter()
                        .find(|secret| bytes[i..].starts_with(secret.as_bytes()))
                });
            match hit {
                Some(secret) => {
                    ranges.push((i, i + secret.len()));
                    i += secret.len();
                }
                None => i += 1,
            }
        }
        ranges
    }
}

/// [`register`] for a `secrecy` value.
pub fn register_secret(secret: &secrecy::SecretString) {
    register(secrecy::ExposeSecret::expose_secret(secret));
}

/// `text` with every registered secret, JWT-like string and opaque token-like run replaced
/// by [`REDACTED`].
pub fn redact(text: &str) -> String {
    let mut ranges = registered_ranges(text);
    ranges.extend(token_like_ranges(text));
    if ranges.is_empty() {
        return text.to_owned();
    }
    ranges.sort_unstable();
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    for (start, end) in ranges {
        if end <= at {
            continue;
        }
        let start = start.max(at);
        out.push_str(&text[at..start]);
        if !out.ends_with(REDACTED) {
            out.push_str(REDACTED);
        }
        at = end;
    }
    out.push_str(&text[at..]);
    out
}

/// `text` cut to `max_chars` characters, marked when cut.
pub fn cap(text: &str, max_chars: usize) -> String {
    match text.char_indices().nth(max_chars) {
        None => text.to_owned(),
        Some((cut, _)) => format!("{}… [truncated]", &text[..cut]),
    }
}

/// The one function every sink calls: redacted and capped at [`MAX_SINK_CHARS`].
pub fn sink_text(text: &str) -> String {
    // Redaction scans every byte; a huge input is cut first. The first cut is far enough
    // beyond the final one that a secret split by it lies wholly past the final cut.
    let pre = 4 * MAX_SINK_CHARS;
    let text = match text.char_indices().nth(pre) {
        None => text,
        Some((cut, _)) => &text[..cut],
    };
    cap(&redact(text), MAX_SINK_CHARS)
}

fn registered_ranges(text: &str) -> Vec<(usize, usize)> {
    REGISTRY
        .read()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
        .ranges(text)
}

fn is_token_byte(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b'+' | b'/' | b'=' | b'~')
}

/// Byte ranges of runs that look like bearer tokens: JWTs (`eyJ…`, base64 of `{"`) and
/// long runs mixing upper case, lower case and digits. Ids (UUIDs, error codes, trace ids)
/// are lower case or short and stay readable.
fn token_like_ranges(text: &str) -> Vec<(usize, usize)> {
    let bytes = text.as_bytes();
    let mut ranges = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if !is_token_byte(bytes[i]) {
            i += 1;
            continue;
        }
        let start = i;
        while i < bytes.len() && is_token_byte(bytes[i]) {
            i += 1;
        }
        let run = &bytes[start..i];
        if let Some(jwt) = find(run, b"eyJ")
            && run.len() - jwt >= 16
        {
            ranges.push((start + jwt, i));
        } else if run.len() >= OPAQUE_RUN_LEN
            && run.iter().any(u8::is_ascii_uppercase)
            && run.iter().any(u8::is_ascii_lowercase)
            && run.iter().any(u8::is_ascii_digit)
        {
            ranges.push((start, i));
        }
    }
    ranges
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack
        .windows(needle.len())
        .position(|window| window == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registered_secrets_are_replaced_wherever_they_appear() {
        register("held-secret-4711abc");
        register("short");
        let text = "refresh failed: Invalid refresh token: held-secret-4711abc; again \"held-secret-4711abc\"";
        let out = redact(text);
        assert!(!out.contains("held-secret-4711abc"), "{out}");
        assert_eq!(out.matches(REDACTED).count(), 2, "{out}");
        assert_eq!(redact("too short to register"), "too short to register");
        // Overlapping secrets: the longer one goes whole.
        register("overlap-secret-1");
        register("overlap-secret-1-and-more");
        assert_eq!(redact("x overlap-secret-1-and-more y"), "x [REDACTED] y");
    }

    #[test]
    fn jwt_like_and_opaque_tokens_are_replaced_ids_are_not() {
        let jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl";
        let out = redact(&format!("401 Invalid access token: {jwt}"));
        assert_eq!(out, "401 Invalid access token: [REDACTED]");
        let opaque = "aB3dE5fG7hJ9kL1mN3pQ5rS7tU9vW1xY3zA5bC7dE9";
        assert!(!redact(opaque).contains(opaque));
        let ordinary = "order 0b7e6a52-35c7-4a51-bb1a-3c2f5e1d9a10: cannot-create-shipping-process (trace 1-67891233-abcdef012345678912345678)";
        assert_eq!(redact(ordinary), ordinary);
    }

    #[test]
    fn sink_text_caps_long_messages_on_a_char_boundary() {
        let long = "ä".repeat(5 * MAX_SINK_CHARS);
        let out = sink_text(&long);
        assert!(out.chars().count() <= MAX_SINK_CHARS + 20);
        assert!(out.ends_with("[truncated]"));
        assert_eq!(sink_text("short"), "short");
    }

    #[test]
    fn the_registry_forgets_the_oldest_beyond_its_bound() {
        let mut registry = Registry::default();
        for n in 0..20 {
            registry.insert(&format!("bounded-registry-{n:08}"), 8);
        }
        assert_eq!(registry.order.len(), 8);
        assert_eq!(registry.known.len(), 8);
        assert!(registry.ranges("bounded-registry-00000001").is_empty());
        assert_eq!(
            registry.ranges("x bounded-registry-00000019"),
            vec![(2, 27)]
        );
    }
}
