//! A test request through the proxy, as a browser or curl would send it: plain HTTP in
//! absolute form, HTTPS through `CONNECT` with TLS checked against the Purse CA alone
//! (so a success also proves the interception works).

use std::{net::SocketAddr, sync::Arc, time::Duration};

use serde::Serialize;
use tokio::{
    io::{AsyncRead, AsyncReadExt as _, AsyncWrite, AsyncWriteExt as _},
    net::TcpStream,
};

use crate::Failure;

/// How long a test request may take.
const TIMEOUT: Duration = Duration::from_secs(20);
/// The most bytes of an answer's head read.
const MAX_HEAD: usize = 64 * 1024;

/// What a test request got.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Probe {
    /// The URL asked for.
    pub url: String,
    /// The answer's status.
    pub status: u16,
    /// `X-Purse-Reason`, when Purse refused to pay.
    pub purse_reason: Option<String>,
    /// Milliseconds from connect to the answer's head.
    pub elapsed_ms: u64,
    /// Whether the request went through TLS interception.
    pub intercepted: bool,
}

/// Sends `GET url` through the proxy at `proxy`, trusting only the data dir's Purse CA
/// for HTTPS.
pub async fn through(
    place: &crate::DataDir,
    proxy: SocketAddr,
    url: &str,
) -> Result<Probe, Failure> {
    let ca = crate::ca::load_or_create(place, purse_proxy::crypto_provider())?;
    test_request(proxy, url, ca.cert_pem()).await
}

/// Sends `GET url` through the proxy at `proxy`, trusting only `ca_pem` for HTTPS.
pub async fn test_request(proxy: SocketAddr, url: &str, ca_pem: &str) -> Result<Probe, Failure> {
    match tokio::time::timeout(TIMEOUT, send(proxy, url, ca_pem)).await {
        Ok(result) => result,
        Err(_) => Err(Failure::Invalid(format!("{url}: no answer within {} s", TIMEOUT.as_secs()))),
    }
}

async fn send(proxy: SocketAddr, url: &str, ca_pem: &str) -> Result<Probe, Failure> {
    let uri: http::Uri =
        url.trim().parse().map_err(|e| Failure::Invalid(format!("{url:?} is not a URL: {e}")))?;
    let https = match uri.scheme_str() {
        Some("https") => true,
        Some("http") => false,
        _ => return Err(Failure::Invalid(format!("{url:?}: only http:// and https:// URLs"))),
    };
    let host = uri.host().ok_or_else(|| Failure::Invalid(format!("{url:?} has no host")))?;
    let port = uri.port_u16().unwrap_or(if https { 443 } else { 80 });
    let authority = uri.authority().map_or_else(|| host.to_owned(), ToString::to_string);
    let path = uri.path_and_query().map_or("/", |p| p.as_str());
    let started = std::time::Instant::now();
    let failed = |e: std::io::Error| Failure::Invalid(format!("through the proxy at {proxy}: {e}"));
    let mut stream = TcpStream::connect(proxy).await.map_err(failed)?;
    let head = if https {
        let target = format!("{host}:{port}");
        let connect = format!("CONNECT {target} HTTP/1.1\r\nHost: {target}\r\n\r\n");
        stream.write_all(connect.as_bytes()).await.map_err(failed)?;
        let answer = read_head(&mut stream).await.map_err(failed)?;
        let status = status_of(&answer)?;
        if status != 200 {
            return Err(Failure::Invalid(format!("the proxy refused CONNECT {target}: {status}")));
        }
        let roots = purse_proxy::parse_pem_certificates(ca_pem).map_err(Failure::Ca)?;
        let mut store = rustls::RootCertStore::empty();
        for root in roots {
            store.add(root).map_err(|e| Failure::Ca(format!("the Purse CA is unusable: {e}")))?;
        }
        let config = rustls::ClientConfig::builder_with_provider(purse_proxy::crypto_provider())
            .with_safe_default_protocol_versions()
            .map_err(|e| Failure::Ca(e.to_string()))?
            .with_root_certificates(store)
            .with_no_client_auth();
        let name = rustls::pki_types::ServerName::try_from(host.to_owned())
            .map_err(|e| Failure::Invalid(format!("{host:?}: {e}")))?;
        let mut tls = tokio_rustls::TlsConnector::from(Arc::new(config))
            .connect(name, stream)
            .await
            .map_err(|e| Failure::Ca(format!("TLS through the proxy failed: {e}")))?;
        request(&mut tls, &format!("GET {path} HTTP/1.1\r\nHost: {authority}\r\n")).await
    } else {
        request(&mut stream, &format!("GET {url} HTTP/1.1\r\nHost: {authority}\r\n")).await
    }
    .map_err(failed)?;
    Ok(Probe {
        url: url.trim().to_owned(),
        status: status_of(&head)?,
        purse_reason: header(&head, crate::PURSE_REASON),
        elapsed_ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
        intercepted: https,
    })
}

async fn request<S: AsyncRead + AsyncWrite + Unpin>(
    stream: &mut S,
    start: &str,
) -> std::io::Result<String> {
    let text = format!("{start}User-Agent: purse-test\r\nAccept: */*\r\nConnection: close\r\n\r\n");
    stream.write_all(text.as_bytes()).await?;
    read_head(stream).await
}

async fn read_head<S: AsyncRead + Unpin>(stream: &mut S) -> std::io::Result<String> {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") && head.len() < MAX_HEAD {
        if stream.read(&mut byte).await? == 0 {
            break;
        }
        head.push(byte[0]);
    }
    Ok(String::from_utf8_lossy(&head).into_owned())
}

fn status_of(head: &str) -> Result<u16, Failure> {
    head.split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| Failure::Invalid(format!("not an HTTP answer: {:?}", head.lines().next())))
}

fn header(head: &str, name: &str) -> Option<String> {
    head.lines().find_map(|line| {
        let (n, v) = line.split_once(':')?;
        n.trim().eq_ignore_ascii_case(name).then(|| v.trim().to_owned())
    })
}
