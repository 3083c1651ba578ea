//! Purse's forward proxy on 127.0.0.1, the one browsers and command-line tools point at.
//!
//! - Plain HTTP: absolute-form requests, keep-alive, chunked and streamed bodies both ways.
//! - HTTPS: `CONNECT`, then TLS with a per-host certificate from the local
//!   [`CertificateAuthority`] (ECDSA P-256, made on first use and cached), then HTTP/1.1 or
//!   HTTP/2 inside the tunnel, as the client's ALPN says. Upstream TLS is verified against
//!   the system roots plus any extra CA; a bad upstream certificate becomes a 502 the client
//!   sees, never a silent accept. Hosts on the passthrough list (or off the intercept-only
//!   list) are relayed untouched: the client sees the upstream's own certificate.
//! - WebSocket and other HTTP/1.1 upgrades are relayed after the handshake; upstream
//!   servers that prefer HTTP/2 get it.
//! - Behind a corporate proxy, everything can go through an [`UpstreamProxy`]: plain HTTP in
//!   absolute form, HTTPS through a `CONNECT` tunnel on it.
//! - Safety: it listens on loopback only and drops any other peer; it can require proxy
//!   credentials; it refuses requests to itself (508); it limits connections (503), head
//!   size (431) and idle time, logging each refusal.
//! - Payments plug in through [`PaymentHook`]: every 402 is handed over with a bounded copy
//!   of its request ([`RequestSnapshot`]), and the hook answers pass through (with extra
//!   headers) or re-send with extra headers. The proxy knows nothing of x402 itself.
//!
//! ## Why not hudsucker
//!
//! hudsucker is built from the same parts (hyper, hyper-util, tokio-rustls, rcgen), but as
//! of 0.25 it leaves Nagle's algorithm on for accepted, upstream and tunnelled sockets
//! (40 ms stalls on responses written in pieces), issues DNS SANs for IP literals (so
//! `https://127.0.0.1` fails), has no way to refuse non-loopback peers or to bound
//! connections before a request is read, cannot chain to an upstream proxy, and splits each
//! exchange into separate request and response callbacks, which makes "re-send this exact
//! request with a payment" awkward. Composing hyper, hyper-util, tokio-rustls and rcgen
//! directly keeps all of that in our hands in about as many lines as tuning hudsucker
//! would take, with no protocol parsing of our own.
//!
//! ## The plain-HTTP fast path
//!
//! Measured with `benches/proxy.sh` and perf, most of a small request's cost is the four
//! socket calls any proxy makes; of the rest, the shared connection pool (a lock, a hashed
//! lookup and a task spawned per request) was the largest part we control. So each client
//! connection keeps its own upstream connection for plain HTTP (`affinity.rs`), and
//! everything else still goes through the pool. No HTTP is parsed by hand: both ends are
//! hyper's.

mod affinity;
mod ca;
mod chain;
mod forward;
mod holder;
mod hook;
mod pattern;
mod rewind;
mod server;
mod upstream;

pub use ca::{CaError, CertificateAuthority, StoredCa};
pub use chain::{UpstreamProxy, UpstreamProxyError};
pub use hook::{HookFuture, PassThrough, PaymentHook, RequestSnapshot, ResponseSnapshot, Verdict};
pub use pattern::{HostPattern, PatternError};
pub use rustls::crypto::CryptoProvider;
pub use server::{Config, Credentials, Limits, Proxy, StartError};

/// The rustls crypto provider Purse uses everywhere (ring), passed explicitly rather than
/// installed as a process-wide default.
pub fn crypto_provider() -> std::sync::Arc<rustls::crypto::CryptoProvider> {
    std::sync::Arc::new(rustls::crypto::ring::default_provider())
}

/// Reads PEM certificates (an extra upstream CA file).
pub fn parse_pem_certificates(
    text: &str,
) -> Result<Vec<rustls::pki_types::CertificateDer<'static>>, String> {
    let blocks = pem::parse_many(text).map_err(|e| e.to_string())?;
    let certs: Vec<_> = blocks
        .into_iter()
        .filter(|b| b.tag() == "CERTIFICATE")
        .map(|b| rustls::pki_types::CertificateDer::from(b.into_contents()))
        .collect();
    if certs.is_empty() {
        return Err("no CERTIFICATE block".into());
    }
    Ok(certs)
}
