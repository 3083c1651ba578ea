//! The HTTP client every provider shares.

use std::{sync::Arc, time::Duration};

use alloy::transports::http::reqwest;
use rustls::{ClientConfig, RootCertStore, crypto::ring};

/// A reqwest client on rustls with ring and the system's root certificates.
///
/// The TLS config is built here because reqwest's own `rustls` feature brings aws-lc-rs,
/// and reqwest without a provider panics when it builds its default one. No proxy is used,
/// not even `HTTPS_PROXY`: in a shell set up by `purse env` that variable points at Purse's
/// own proxy, and the wallet must not pay for, or loop through, its own chain reads.
pub(crate) fn client(connect_timeout: Duration) -> Result<reqwest::Client, String> {
    let mut roots = RootCertStore::empty();
    let native = rustls_native_certs::load_native_certs();
    // Unreadable roots are not fatal: plain-HTTP endpoints (a local node) still work, and
    // HTTPS ones then fail with an unknown-issuer error that names the problem.
    roots.add_parsable_certificates(native.certs);
    let tls = ClientConfig::builder_with_provider(Arc::new(ring::default_provider()))
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS setup failed: {e}"))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    reqwest::Client::builder()
        .tls_backend_preconfigured(tls)
        .no_proxy()
        .connect_timeout(connect_timeout)
        .user_agent(concat!("purse/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| format!("cannot build the HTTP client: {}", crate::chain_text(&e)))
}
