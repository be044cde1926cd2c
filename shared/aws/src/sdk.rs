//! The one AWS SDK configuration every client is built from.

use aws_config::{BehaviorVersion, SdkConfig};
use aws_smithy_http_client::Builder;
use aws_smithy_http_client::tls::{Provider, rustls_provider::CryptoMode};

/// Loads region, credentials and endpoint from the environment (`AWS_ENDPOINT_URL` points
/// every client at moto in tests, with no test-only code path). Build it once per process
/// and derive all clients from it.
///
/// The aws-* crates are built without their default TLS stack (one rustls with ring for
/// the whole workspace), so the HTTPS client is given explicitly: without it aws-config
/// panics for lack of an HTTP client.
pub async fn load_sdk_config() -> SdkConfig {
    let http = Builder::new()
        .tls_provider(Provider::Rustls(CryptoMode::Ring))
        .build_https();
    aws_config::defaults(BehaviorVersion::latest())
        .http_client(http)
        .load()
        .await
}
