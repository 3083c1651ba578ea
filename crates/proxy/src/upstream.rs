//! Connections to the servers the clients asked for.

use std::{sync::Arc, time::Duration};

use bytes::Bytes;
use http_body_util::combinators::UnsyncBoxBody;
use hyper_rustls::{HttpsConnector, HttpsConnectorBuilder};
use hyper_util::{
    client::legacy::{Client, connect::HttpConnector},
    rt::{TokioExecutor, TokioTimer},
};

use crate::chain::{Connector, UpstreamProxy};
use rustls::{ClientConfig, RootCertStore, crypto::CryptoProvider, pki_types::CertificateDer};

/// Any error a body may carry.
pub(crate) type BoxError = Box<dyn std::error::Error + Send + Sync>;
/// The body type the proxy moves in both directions.
pub(crate) type Body = UnsyncBoxBody<Bytes, BoxError>;
/// A pooled client to upstream servers (HTTP/1.1, and HTTP/2 where TLS ALPN offers it).
pub(crate) type UpstreamClient = Client<HttpsConnector<Connector>, Body>;

/// The trust anchors for upstream TLS: the system's roots and any extra CA certificates.
pub(crate) fn root_store(
    use_system_roots: bool,
    extra: &[CertificateDer<'static>],
) -> RootCertStore {
    let mut roots = RootCertStore::empty();
    if use_system_roots {
        let native = rustls_native_certs::load_native_certs();
        for error in &native.errors {
            tracing::warn!(%error, "could not read some system root certificates");
        }
        let (added, ignored) = roots.add_parsable_certificates(native.certs);
        tracing::debug!(added, ignored, "system root certificates");
    }
    let (added, ignored) = roots.add_parsable_certificates(extra.iter().cloned());
    if ignored > 0 {
        tracing::warn!(added, ignored, "some extra upstream CA certificates could not be used");
    }
    roots
}

/// Direct TCP connections to upstream servers.
pub(crate) fn tcp(connect_timeout: Duration) -> HttpConnector {
    let mut http = HttpConnector::new();
    http.enforce_http(false);
    // Responses written in pieces must not wait for delayed ACKs.
    http.set_nodelay(true);
    http.set_connect_timeout(Some(connect_timeout));
    http
}

/// Builds the upstream clients: one that negotiates HTTP/2 where the server prefers it,
/// and one limited to HTTP/1.1 for protocol upgrades (WebSocket), which HTTP/2 cannot carry.
pub(crate) fn clients(
    provider: Arc<CryptoProvider>,
    roots: RootCertStore,
    connect_timeout: Duration,
    upstream_proxy: Option<Arc<UpstreamProxy>>,
) -> Result<(UpstreamClient, UpstreamClient), rustls::Error> {
    let tls = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_root_certificates(roots)
        .with_no_client_auth();
    let connector = |http2: bool| {
        let tcp = Connector::new(tcp(connect_timeout), upstream_proxy.clone(), connect_timeout);
        let builder = HttpsConnectorBuilder::new().with_tls_config(tls.clone()).https_or_http();
        if http2 {
            builder.enable_http1().enable_http2().wrap_connector(tcp)
        } else {
            builder.enable_http1().wrap_connector(tcp)
        }
    };
    let build = |http2: bool| {
        Client::builder(TokioExecutor::new())
            .timer(TokioTimer::new())
            .pool_timer(TokioTimer::new())
            .pool_idle_timeout(Duration::from_secs(60))
            .http1_preserve_header_case(true)
            .build(connector(http2))
    };
    Ok((build(true), build(false)))
}
