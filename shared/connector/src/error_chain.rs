//! One way to print an error with its causes, for logs, the activity log and the CLI.
//!
//! Every message that leaves the process goes through [`sink_text`] (issue 13): registered
//! secrets and token-like strings redacted, length capped. [`error_chain`] applies it.

pub use beyond::redact::{MAX_SINK_CHARS, register as register_secret, sink_text};

/// The error and each of its sources, `: `-joined, redacted and capped ([`sink_text`]).
pub fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    sink_text(&text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, thiserror::Error)]
    #[error("outer")]
    struct Outer(#[source] Inner);

    #[derive(Debug, thiserror::Error)]
    #[error("Invalid access token: {0}")]
    struct Inner(String);

    #[test]
    fn chains_are_redacted_and_capped() {
        register_secret("error-chain-held-secret-1");
        let text = error_chain(&Outer(Inner("error-chain-held-secret-1".into())));
        assert_eq!(text, "outer: Invalid access token: [REDACTED]");
        let long = error_chain(&Outer(Inner("x ".repeat(5000))));
        assert!(long.chars().count() <= MAX_SINK_CHARS + 20);
    }
}
