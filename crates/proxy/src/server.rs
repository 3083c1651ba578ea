//! The listener, the connections, and CONNECT tunnels.

use std::{
    future::Future,
    net::{IpAddr, SocketAddr},
    sync::Arc,
    time::Duration,
};

use bytes::Bytes;
use http::{Method, Request, Response, StatusCode, header, uri::Authority};
use hyper::{
    body::Incoming,
    server::conn::{http1, http2},
    service::service_fn,
};
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use rustls::{crypto::CryptoProvider, pki_types::CertificateDer};
use tokio::{
    io::AsyncWriteExt,
    net::{TcpListener, TcpStream},
    sync::Semaphore,
};
use tokio_rustls::TlsAcceptor;

use crate::{
    CertificateAuthority, HostPattern, PaymentHook,
    affinity::Affinity,
    forward::{Forwarder, Target, text_response},
    rewind::Rewind,
    upstream::{self, Body},
};

/// Limits that keep one client from taking the proxy down.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Connections served at once; past it a client gets 503 and the connection is closed.
    pub max_connections: usize,
    /// The largest request head (request line and headers); past it, 431.
    pub max_header_bytes: usize,
    /// How long a client may take to send a request head, and how long an idle
    /// keep-alive connection stays open.
    pub idle_timeout: Duration,
    /// The largest request body kept for a paid re-send; larger bodies stream through
    /// and their requests are never paid.
    pub max_replay_body: usize,
    /// The largest 402 body read to look for x402 content; a larger one streams to the
    /// client, and the hook sees only its headers.
    pub max_402_body: usize,
    /// How long to wait for an upstream TCP connection.
    pub connect_timeout: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_connections: 1024,
            max_header_bytes: 64 * 1024,
            idle_timeout: Duration::from_secs(60),
            max_replay_body: 1024 * 1024,
            max_402_body: 256 * 1024,
            connect_timeout: Duration::from_secs(10),
        }
    }
}

/// Credentials a client must present in `Proxy-Authorization` (Basic).
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    /// User name.
    pub user: String,
    /// Password.
    pub password: String,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials").field("user", &self.user).finish_non_exhaustive()
    }
}

/// How the proxy runs.
#[derive(Debug, Clone)]
pub struct Config {
    /// Where to listen: a loopback address (port 0 picks a free port).
    pub listen: SocketAddr,
    /// Hosts tunnelled untouched, never intercepted.
    pub passthrough: Vec<HostPattern>,
    /// When not empty, only these hosts are intercepted; the rest are tunnelled.
    pub intercept_only: Vec<HostPattern>,
    /// Trust the operating system's root certificates for upstream TLS.
    pub use_system_roots: bool,
    /// Extra trusted CA certificates for upstream TLS (private servers, tests).
    pub extra_roots: Vec<CertificateDer<'static>>,
    /// Required `Proxy-Authorization`, if any.
    pub credentials: Option<Credentials>,
    /// A proxy to send everything through (a corporate proxy), if any.
    pub upstream_proxy: Option<crate::UpstreamProxy>,
    /// Limits.
    pub limits: Limits,
}

impl Config {
    /// The default port: 8402.
    pub const DEFAULT_PORT: u16 = 8402;
}

impl Default for Config {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], Self::DEFAULT_PORT)),
            passthrough: Vec::new(),
            intercept_only: Vec::new(),
            use_system_roots: true,
            extra_roots: Vec::new(),
            credentials: None,
            upstream_proxy: None,
            limits: Limits::default(),
        }
    }
}

/// Why the proxy could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StartError {
    /// `listen` is not a loopback address.
    #[error(
        "refusing to listen on {0}: Purse listens on loopback addresses only (127.0.0.1 or ::1), \
         since anyone who can reach the proxy can spend through it"
    )]
    NotLoopback(SocketAddr),
    /// The port is taken.
    #[error("{addr} is already in use{}; stop it or choose another address with --listen", holder.as_ref().map(|h| format!(" by {h}")).unwrap_or_default())]
    InUse {
        /// The address.
        addr: SocketAddr,
        /// The process that holds it, when it can be found.
        holder: Option<String>,
    },
    /// Any other failure to listen.
    #[error("cannot listen on {addr}: {source}")]
    Listen {
        /// The address.
        addr: SocketAddr,
        /// Why.
        source: std::io::Error,
    },
    /// The upstream proxy is this proxy.
    #[error("the upstream proxy {0} is this proxy itself")]
    UpstreamIsSelf(String),
    /// The upstream TLS configuration was refused.
    #[error("upstream TLS setup failed: {0}")]
    Tls(#[from] rustls::Error),
}

/// What every connection shares.
pub(crate) struct Shared {
    pub(crate) config: Config,
    pub(crate) local_addr: SocketAddr,
    pub(crate) ca: Arc<CertificateAuthority>,
    pub(crate) forwarder: Forwarder,
    expected_authorization: Option<String>,
}

/// A bound proxy, ready to serve.
pub struct Proxy {
    listener: TcpListener,
    shared: Arc<Shared>,
    connections: Arc<Semaphore>,
}

impl std::fmt::Debug for Proxy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Proxy").field("local_addr", &self.shared.local_addr).finish_non_exhaustive()
    }
}

impl Proxy {
    /// Binds the listener. Refuses any address that is not loopback, and names the
    /// process that holds the port when it is taken.
    pub async fn bind(
        config: Config,
        ca: Arc<CertificateAuthority>,
        provider: Arc<CryptoProvider>,
        hook: Option<Arc<dyn PaymentHook>>,
    ) -> Result<Self, StartError> {
        if !config.listen.ip().is_loopback() {
            return Err(StartError::NotLoopback(config.listen));
        }
        let listener = TcpListener::bind(config.listen).await.map_err(|source| {
            if source.kind() == std::io::ErrorKind::AddrInUse {
                StartError::InUse {
                    addr: config.listen,
                    holder: crate::holder::port_holder(config.listen),
                }
            } else {
                StartError::Listen { addr: config.listen, source }
            }
        })?;
        let local_addr = listener
            .local_addr()
            .map_err(|source| StartError::Listen { addr: config.listen, source })?;
        let upstream_proxy = config.upstream_proxy.clone().map(Arc::new);
        if let Some(proxy) = &upstream_proxy {
            let points_here =
                proxy.host_port().parse::<SocketAddr>().is_ok_and(|a| a == local_addr)
                    || proxy.host_port() == format!("localhost:{}", local_addr.port());
            if points_here {
                return Err(StartError::UpstreamIsSelf(proxy.to_string()));
            }
        }
        let roots = upstream::root_store(config.use_system_roots, &config.extra_roots);
        let (client, upgrade_client) = upstream::clients(
            provider,
            roots,
            config.limits.connect_timeout,
            upstream_proxy.clone(),
        )?;
        let expected_authorization = config.credentials.as_ref().map(|c| {
            use base64::Engine as _;
            let token = base64::engine::general_purpose::STANDARD
                .encode(format!("{}:{}", c.user, c.password));
            format!("Basic {token}")
        });
        let connections = Arc::new(Semaphore::new(config.limits.max_connections));
        let proxy_authorization = upstream_proxy.as_ref().and_then(|p| p.authorization().cloned());
        let direct = upstream_proxy.is_none().then(|| upstream::tcp(config.limits.connect_timeout));
        let forwarder = Forwarder::new(
            client,
            upgrade_client,
            direct,
            hook,
            config.limits.clone(),
            proxy_authorization,
        );
        let shared = Arc::new(Shared { config, local_addr, ca, forwarder, expected_authorization });
        Ok(Self { listener, shared, connections })
    }

    /// The address the proxy listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.shared.local_addr
    }

    /// Serves until `shutdown` resolves, then stops accepting and gives open connections
    /// up to `grace` to finish.
    pub async fn serve(self, shutdown: impl Future<Output = ()>, grace: Duration) {
        let Self { listener, shared, connections } = self;
        let max = shared.config.limits.max_connections;
        tokio::pin!(shutdown);
        loop {
            let (stream, peer) = tokio::select! {
                () = &mut shutdown => break,
                accepted = listener.accept() => match accepted {
                    Ok(pair) => pair,
                    Err(error) => {
                        // Out of file descriptors, typically: back off instead of spinning.
                        tracing::warn!(%error, "accept failed");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                },
            };
            if !peer.ip().is_loopback() {
                tracing::warn!(%peer, "dropped a connection from a non-loopback address");
                continue;
            }
            let Ok(permit) = connections.clone().try_acquire_owned() else {
                tracing::warn!(%peer, max, "too many connections: answered 503");
                tokio::spawn(refuse_busy(stream));
                continue;
            };
            let shared = shared.clone();
            tokio::spawn(async move {
                serve_client(shared, stream, peer).await;
                drop(permit);
            });
        }
        drop(listener);
        tracing::info!("shutting down: waiting for open connections");
        let all = u32::try_from(max).unwrap_or(u32::MAX);
        if tokio::time::timeout(grace, connections.acquire_many(all)).await.is_err() {
            tracing::warn!("some connections were still open after {grace:?}; closing them");
        }
    }
}

async fn refuse_busy(mut stream: TcpStream) {
    let body = "Purse: too many connections\n";
    let answer = format!(
        "HTTP/1.1 503 Service Unavailable\r\ncontent-type: text/plain\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    );
    let _ = stream.write_all(answer.as_bytes()).await;
    let _ = stream.shutdown().await;
}

fn http1_server(limits: &Limits) -> http1::Builder {
    let mut builder = http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(limits.idle_timeout)
        .max_header_size(limits.max_header_bytes)
        .preserve_header_case(true)
        .keep_alive(true);
    builder
}

/// One client connection to the proxy port: HTTP/1.1 with absolute-form requests and CONNECT.
async fn serve_client(shared: Arc<Shared>, stream: TcpStream, peer: SocketAddr) {
    let _ = stream.set_nodelay(true);
    let affinity = Arc::new(Affinity::default());
    let service = {
        let shared = shared.clone();
        service_fn(move |request| {
            let shared = shared.clone();
            let affinity = affinity.clone();
            async move {
                Ok::<_, std::convert::Infallible>(handle(shared, request, peer, &affinity).await)
            }
        })
    };
    let served = http1_server(&shared.config.limits)
        .serve_connection(TokioIo::new(stream), service)
        .with_upgrades();
    if let Err(error) = served.await {
        log_connection_error(peer, &error);
    }
}

fn log_connection_error(peer: SocketAddr, error: &hyper::Error) {
    if error.is_timeout() {
        tracing::info!(%peer, "closed an idle or slow connection");
    } else if error.is_parse_too_large() {
        tracing::warn!(%peer, "request head too large: answered 431");
    } else if error.is_incomplete_message() || error.is_canceled() {
        tracing::debug!(%peer, %error, "client went away");
    } else {
        tracing::debug!(%peer, %error, "connection ended with an error");
    }
}

/// A request on the proxy port.
async fn handle(
    shared: Arc<Shared>,
    request: Request<Incoming>,
    peer: SocketAddr,
    affinity: &Affinity,
) -> Response<Body> {
    if let Some(expected) = &shared.expected_authorization {
        let presented = request.headers().get(header::PROXY_AUTHORIZATION).map(|v| v.as_bytes());
        if presented != Some(expected.as_bytes()) {
            tracing::warn!(%peer, uri = %request.uri(), "missing or wrong proxy credentials: answered 407");
            let mut response = text_response(
                StatusCode::PROXY_AUTHENTICATION_REQUIRED,
                "Purse: proxy credentials required\n",
            );
            response.headers_mut().insert(
                header::PROXY_AUTHENTICATE,
                http::HeaderValue::from_static("Basic realm=\"Purse\""),
            );
            return response;
        }
    }
    if request.method() == Method::CONNECT {
        return connect(shared, request, peer);
    }
    let uri = request.uri();
    let (Some(scheme), Some(authority)) = (uri.scheme().cloned(), uri.authority().cloned()) else {
        return text_response(
            StatusCode::BAD_REQUEST,
            "Purse is an HTTP proxy: point your client at it (HTTP_PROXY / HTTPS_PROXY, or `purse env`)\n",
        );
    };
    let target = Target { scheme, authority };
    if is_self(&shared, &target.authority) {
        return loop_detected(&target.authority);
    }
    shared.forwarder.forward(request, target, peer, Some(affinity)).await
}

fn loop_detected(authority: &Authority) -> Response<Body> {
    tracing::warn!(%authority, "refused a request to the proxy itself");
    text_response(StatusCode::LOOP_DETECTED, "Purse: refusing to proxy a request to itself\n")
}

/// Whether `authority` names this proxy.
fn is_self(shared: &Shared, authority: &Authority) -> bool {
    let port = authority.port_u16().unwrap_or(80);
    if port != shared.local_addr.port() {
        return false;
    }
    let host = authority.host().trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<IpAddr>()
            .is_ok_and(|ip| ip.is_loopback() || ip.is_unspecified() || ip == shared.local_addr.ip())
}

fn should_intercept(config: &Config, host: &str) -> bool {
    if config.passthrough.iter().any(|p| p.matches(host)) {
        return false;
    }
    config.intercept_only.is_empty() || config.intercept_only.iter().any(|p| p.matches(host))
}

/// CONNECT: answer 200, then intercept the tunnel or relay it untouched.
fn connect(shared: Arc<Shared>, request: Request<Incoming>, peer: SocketAddr) -> Response<Body> {
    let Some(authority) = request.uri().authority().cloned().filter(|a| a.port_u16().is_some())
    else {
        return text_response(StatusCode::BAD_REQUEST, "Purse: CONNECT needs host:port\n");
    };
    if is_self(&shared, &authority) {
        return loop_detected(&authority);
    }
    tokio::spawn(async move {
        let upgraded = match hyper::upgrade::on(request).await {
            Ok(upgraded) => upgraded,
            Err(error) => {
                tracing::debug!(%peer, %error, "CONNECT tunnel was not established");
                return;
            }
        };
        // Take back the client's socket, and whatever it sent right after CONNECT.
        let (client, early) = match upgraded.downcast::<TokioIo<TcpStream>>() {
            Ok(parts) => (parts.io.into_inner(), parts.read_buf),
            Err(_) => {
                tracing::warn!(%peer, "unexpected tunnel type");
                return;
            }
        };
        if should_intercept(&shared.config, authority.host()) {
            intercept(shared, client, early, authority, peer).await;
        } else {
            relay(
                client,
                early,
                &authority,
                shared.config.upstream_proxy.as_ref(),
                shared.config.limits.connect_timeout,
            )
            .await;
        }
    });
    Response::new(crate::forward::empty())
}

/// Relays a tunnel untouched: the client talks to the upstream server itself.
async fn relay(
    mut client: TcpStream,
    early: Bytes,
    authority: &Authority,
    upstream_proxy: Option<&crate::UpstreamProxy>,
    connect_timeout: Duration,
) {
    let host = authority.host().trim_start_matches('[').trim_end_matches(']');
    let port = authority.port_u16().unwrap_or(443);
    let connecting = async {
        match upstream_proxy {
            Some(proxy) => proxy.tunnel(authority.as_str(), connect_timeout).await,
            None => match tokio::time::timeout(connect_timeout, TcpStream::connect((host, port)))
                .await
            {
                Ok(result) => result,
                Err(_) => {
                    Err(std::io::Error::new(std::io::ErrorKind::TimedOut, "connect timed out"))
                }
            },
        }
    };
    let mut upstream = match connecting.await {
        Ok(stream) => stream,
        Err(error) => {
            tracing::warn!(%authority, %error, "passthrough: could not reach upstream");
            return;
        }
    };
    let _ = upstream.set_nodelay(true);
    if !early.is_empty() && upstream.write_all(&early).await.is_err() {
        return;
    }
    let _ = tokio::io::copy_bidirectional(&mut client, &mut upstream).await;
}

/// Intercepts a tunnel: TLS with a certificate from the local CA (or plain HTTP, when
/// the client speaks HTTP inside the tunnel), then serves its requests like any other.
async fn intercept(
    shared: Arc<Shared>,
    client: TcpStream,
    early: Bytes,
    authority: Authority,
    peer: SocketAddr,
) {
    let first = match early.first() {
        Some(byte) => Some(*byte),
        None => {
            let mut byte = [0u8; 1];
            match client.peek(&mut byte).await {
                Ok(1) => Some(byte[0]),
                _ => None,
            }
        }
    };
    let Some(first) = first else { return };
    let stream = Rewind::new(early, client);
    // 0x16: a TLS handshake record.
    if first == 0x16 {
        let config = match shared.ca.server_config(authority.host()) {
            Ok(config) => config,
            Err(error) => {
                tracing::warn!(%authority, %error, "could not make a certificate");
                return;
            }
        };
        let tls = match TlsAcceptor::from(config).accept(stream).await {
            Ok(tls) => tls,
            Err(error) => {
                tracing::info!(%peer, %authority, %error, "the client refused the Purse certificate (is the Purse CA trusted?)");
                return;
            }
        };
        let http2 = tls.get_ref().1.alpn_protocol() == Some(b"h2");
        let target = Target { scheme: http::uri::Scheme::HTTPS, authority };
        serve_tunnel(shared, TokioIo::new(tls), target, peer, http2).await;
    } else {
        let target = Target { scheme: http::uri::Scheme::HTTP, authority };
        serve_tunnel(shared, TokioIo::new(stream), target, peer, false).await;
    }
}

async fn serve_tunnel<I>(shared: Arc<Shared>, io: I, target: Target, peer: SocketAddr, http2: bool)
where
    I: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
{
    let service = {
        let shared = shared.clone();
        service_fn(move |request: Request<Incoming>| {
            let shared = shared.clone();
            let target = target.clone();
            async move {
                Ok::<_, std::convert::Infallible>(
                    shared.forwarder.forward(request, target, peer, None).await,
                )
            }
        })
    };
    let limits = &shared.config.limits;
    let served = if http2 {
        http2::Builder::new(TokioExecutor::new())
            .timer(TokioTimer::new())
            .max_header_list_size(u32::try_from(limits.max_header_bytes).unwrap_or(u32::MAX))
            .serve_connection(io, service)
            .await
    } else {
        http1_server(limits).serve_connection(io, service).with_upgrades().await
    };
    if let Err(error) = served {
        log_connection_error(peer, &error);
    }
}
