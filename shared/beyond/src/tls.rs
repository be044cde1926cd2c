//! TLS setup. reqwest is built with `rustls-no-provider` so that exactly one crypto
//! provider (ring) is compiled in; it must be installed as the process default before the
//! first `reqwest::Client` is built.

use std::sync::Once;

/// Installs rustls' ring provider as the process default, once. Safe to call from
/// anywhere, any number of times; if another provider was installed first, that one stays.
pub fn install_crypto_provider() {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        // An `Err` only means a default already exists, which is what we need.
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
}
