//! One module per subcommand.

pub mod demo;
pub mod resync;
pub mod sandbox;
pub mod tenant;

/// An error with its chain of causes, one per `: `.
pub fn report(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
