//! Real upstream servers on 127.0.0.1, a test CA for them, a proxy in process, and curl.

#![allow(dead_code, unreachable_pub)]

use std::{
    convert::Infallible,
    net::SocketAddr,
    path::{Path, PathBuf},
    process::{Command, Output},
    sync::{Arc, Mutex},
    time::Duration,
};

use bytes::Bytes;
use futures_util::{SinkExt as _, StreamExt as _, stream};
use http::{Request, Response, StatusCode, header};
use http_body_util::{BodyExt as _, Full, StreamBody, combinators::BoxBody};
use hyper::{body::Incoming, service::service_fn};
use hyper_util::{
    rt::{TokioExecutor, TokioIo},
    server::conn::auto,
};
use purse_proxy::{CertificateAuthority, Config, PaymentHook, Proxy, StoredCa};
use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair, SanType};
use rustls::{
    ServerConfig,
    pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer},
};
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;

pub type TestBody = BoxBody<Bytes, Infallible>;

/// A CA for the upstream test servers (not the proxy's).
pub struct UpstreamCa {
    pub cert_pem: String,
    pub cert_der: CertificateDer<'static>,
    issuer: Issuer<'static, KeyPair>,
}

impl UpstreamCa {
    pub fn new(name: &str) -> Self {
        let key = KeyPair::generate().unwrap();
        let mut params = CertificateParams::default();
        params.distinguished_name.push(rcgen::DnType::CommonName, name);
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        let cert = params.self_signed(&key).unwrap();
        Self {
            cert_pem: cert.pem(),
            cert_der: cert.der().clone(),
            issuer: Issuer::new(params, key),
        }
    }

    /// A TLS config for `localhost` and `127.0.0.1`, offering the given ALPN protocols.
    pub fn server_config(&self, alpn: &[&[u8]]) -> Arc<ServerConfig> {
        let key = KeyPair::generate().unwrap();
        let mut params = CertificateParams::new(vec!["localhost".to_owned()]).unwrap();
        params.subject_alt_names.push(SanType::IpAddress("127.0.0.1".parse().unwrap()));
        let leaf = params.signed_by(&key, &self.issuer).unwrap();
        let mut config = ServerConfig::builder_with_provider(purse_proxy::crypto_provider())
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(
                vec![leaf.der().clone(), self.cert_der.clone()],
                PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der())),
            )
            .unwrap();
        config.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
        Arc::new(config)
    }
}

fn full(bytes: impl Into<Bytes>) -> TestBody {
    Full::new(bytes.into()).boxed()
}

/// Deterministic bytes: byte i is `(i * 31 + i / 251) % 256`, every value appears.
pub fn pattern(n: usize) -> Vec<u8> {
    (0..n).map(|i| ((i * 31 + i / 251) % 256) as u8).collect()
}

/// The upstream application: a handful of routes the tests need.
async fn app(request: Request<Incoming>) -> Result<Response<TestBody>, Infallible> {
    let path = request.uri().path().to_owned();
    let query = request.uri().query().unwrap_or_default().to_owned();
    let version = format!("{:?}", request.version());
    let response = match path.as_str() {
        "/echo" => {
            let method = request.method().to_string();
            let seen: Vec<String> = request
                .headers()
                .iter()
                .map(|(n, v)| format!("{n}={}", v.to_str().unwrap_or("?")))
                .collect();
            let body =
                request.into_body().collect().await.map(|b| b.to_bytes()).unwrap_or_default();
            Response::builder()
                .header("x-method", method)
                .header("x-version", version)
                .header("x-seen-headers", seen.join(";"))
                .body(full(body))
                .unwrap()
        }
        "/bytes" => {
            let n: usize = query.strip_prefix("n=").and_then(|n| n.parse().ok()).unwrap_or(0);
            let data = Bytes::from(pattern(n));
            // Streamed in 64 KiB frames, chunked (no content-length).
            let frames = (0..n.div_ceil(65536)).map(move |i| {
                Ok::<_, Infallible>(http_body::Frame::data(
                    data.slice(i * 65536..((i + 1) * 65536).min(n)),
                ))
            });
            Response::builder()
                .header(header::CONTENT_TYPE, "application/octet-stream")
                .body(http_body_util::BodyExt::boxed(StreamBody::new(stream::iter(frames))))
                .unwrap()
        }
        p if p.starts_with("/status/") => {
            let code: u16 = p["/status/".len()..].parse().unwrap_or(500);
            Response::builder()
                .status(code)
                .header("X-CuStOm-Header", "Value With  Spaces")
                .header("set-cookie", "a=1")
                .header("set-cookie", "b=2")
                .body(full(if code == 204 || code == 304 {
                    Bytes::new()
                } else {
                    Bytes::from(format!("status {code}"))
                }))
                .unwrap()
        }
        "/pay" => {
            let paid = request
                .headers()
                .get("x-test-payment")
                .map(|v| v.to_str().unwrap_or_default().to_owned());
            let body =
                request.into_body().collect().await.map(|b| b.to_bytes()).unwrap_or_default();
            match paid {
                Some(payment) => Response::builder()
                    .header("x-test-settled", payment)
                    .body(full([b"paid:".as_slice(), &body].concat()))
                    .unwrap(),
                None => Response::builder()
                    .status(StatusCode::PAYMENT_REQUIRED)
                    .header("x-test-offer", "ten cents")
                    .body(full(r#"{"x402Version":1,"accepts":[]}"#))
                    .unwrap(),
            }
        }
        // Paid, it answers only after 10 s (a slow settlement).
        "/slowpay" if request.headers().contains_key("x-test-payment") => {
            tokio::time::sleep(std::time::Duration::from_secs(10)).await;
            Response::builder().body(full("paid, slowly")).unwrap()
        }
        "/slowpay" => Response::builder()
            .status(StatusCode::PAYMENT_REQUIRED)
            .body(full(r#"{"x402Version":1,"accepts":[]}"#))
            .unwrap(),
        "/always402" => Response::builder()
            .status(StatusCode::PAYMENT_REQUIRED)
            .body(full("pay again"))
            .unwrap(),
        "/ws" => return Ok(websocket_echo(request)),
        _ => Response::builder().status(StatusCode::NOT_FOUND).body(full("not found")).unwrap(),
    };
    Ok(response)
}

fn websocket_echo(mut request: Request<Incoming>) -> Response<TestBody> {
    let Some(key) = request.headers().get("sec-websocket-key").cloned() else {
        return Response::builder().status(StatusCode::BAD_REQUEST).body(full("no key")).unwrap();
    };
    let upgrade = hyper::upgrade::on(&mut request);
    tokio::spawn(async move {
        let upgraded = upgrade.await.unwrap();
        let mut socket = tokio_tungstenite::WebSocketStream::from_raw_socket(
            TokioIo::new(upgraded),
            tokio_tungstenite::tungstenite::protocol::Role::Server,
            None,
        )
        .await;
        while let Some(Ok(message)) = socket.next().await {
            if message.is_text() || message.is_binary() {
                socket.send(message).await.unwrap();
            }
        }
    });
    Response::builder()
        .status(StatusCode::SWITCHING_PROTOCOLS)
        .header(header::CONNECTION, "upgrade")
        .header(header::UPGRADE, "websocket")
        .header(
            "sec-websocket-accept",
            tokio_tungstenite::tungstenite::handshake::derive_accept_key(key.as_bytes()),
        )
        .body(full(Bytes::new()))
        .unwrap()
}

/// Starts an upstream server on 127.0.0.1; with `tls`, HTTPS (HTTP/1.1 and HTTP/2 as ALPN says).
pub async fn upstream(tls: Option<Arc<ServerConfig>>) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let (stream, _) = listener.accept().await.unwrap();
            let tls = tls.clone();
            tokio::spawn(async move {
                let builder = auto::Builder::new(TokioExecutor::new());
                let service = service_fn(app);
                match tls {
                    Some(config) => {
                        let Ok(stream) = TlsAcceptor::from(config).accept(stream).await else {
                            return;
                        };
                        let _ = builder
                            .serve_connection_with_upgrades(TokioIo::new(stream), service)
                            .await;
                    }
                    None => {
                        let _ = builder
                            .serve_connection_with_upgrades(TokioIo::new(stream), service)
                            .await;
                    }
                }
            });
        }
    });
    address
}

/// A temporary directory, removed on drop.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(tag: &str) -> Self {
        let dir = std::env::temp_dir().join(format!(
            "purse-proxy-test-{tag}-{}-{:?}",
            std::process::id(),
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        Self(dir)
    }

    pub fn write(&self, name: &str, contents: impl AsRef<[u8]>) -> PathBuf {
        let path = self.0.join(name);
        std::fs::write(&path, contents).unwrap();
        path
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A proxy running in this process, with its CA written to a file for clients.
pub struct TestProxy {
    pub address: SocketAddr,
    pub ca_file: PathBuf,
    pub ca: Arc<CertificateAuthority>,
    pub dir: TempDir,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
}

impl TestProxy {
    pub async fn start(config: Config, hook: Option<Arc<dyn PaymentHook>>) -> Self {
        let provider = purse_proxy::crypto_provider();
        let (ca, stored): (CertificateAuthority, StoredCa) =
            CertificateAuthority::generate("Purse Test CA", provider.clone()).unwrap();
        let ca = Arc::new(ca);
        let dir = TempDir::new("proxy");
        let ca_file = dir.write("purse-ca.pem", &stored.cert_pem);
        let proxy = Proxy::bind(config, ca.clone(), provider, hook).await.unwrap();
        let address = proxy.local_addr();
        let (tx, rx) = tokio::sync::oneshot::channel();
        tokio::spawn(proxy.serve(
            async move {
                let _ = rx.await;
            },
            Duration::from_secs(1),
        ));
        Self { address, ca_file, ca, dir, shutdown: Some(tx) }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.address)
    }

    /// curl through this proxy, trusting its CA, with `args` after those options.
    pub async fn curl(&self, args: &[&str]) -> Output {
        let mut all =
            vec!["--proxy".to_owned(), self.url(), "--cacert".to_owned(), path_str(&self.ca_file)];
        all.extend(args.iter().map(|a| (*a).to_owned()));
        curl(all).await
    }
}

impl Drop for TestProxy {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

/// A proxy config for tests: port 0, no system roots, the upstream test CA trusted.
pub fn config(upstream_ca: &UpstreamCa) -> Config {
    Config {
        listen: "127.0.0.1:0".parse().unwrap(),
        use_system_roots: false,
        extra_roots: vec![upstream_ca.cert_der.clone()],
        ..Config::default()
    }
}

/// curl with the given arguments, off the async runtime.
pub async fn curl(args: Vec<String>) -> Output {
    tokio::task::spawn_blocking(move || {
        Command::new("curl")
            .args([
                "--silent",
                "--show-error",
                "--suppress-connect-headers",
                "--noproxy",
                "",
                "--max-time",
                "30",
            ])
            .args(&args)
            .env_remove("http_proxy")
            .env_remove("HTTPS_PROXY")
            .env_remove("https_proxy")
            .env_remove("ALL_PROXY")
            .output()
            .expect("curl is installed")
    })
    .await
    .unwrap()
}

/// Splits `curl -i` output (one response) into head and body.
pub fn split_response(output: &[u8]) -> (String, Vec<u8>) {
    let at = output.windows(4).position(|w| w == b"\r\n\r\n").expect("a response head");
    (String::from_utf8_lossy(&output[..at]).into_owned(), output[at + 4..].to_vec())
}

pub fn path_str(path: &Path) -> String {
    path.display().to_string()
}

/// A hook that records what it sees and answers with a fixed verdict.
pub struct RecordingHook {
    pub verdict: purse_proxy::Verdict,
    pub seen: Mutex<Vec<(purse_proxy::RequestSnapshot, purse_proxy::ResponseSnapshot)>>,
    pub resent: Mutex<Vec<Result<u16, String>>>,
    pub abandoned: Mutex<Vec<u64>>,
}

impl RecordingHook {
    pub fn new(verdict: purse_proxy::Verdict) -> Arc<Self> {
        Arc::new(Self {
            verdict,
            seen: Mutex::new(Vec::new()),
            resent: Mutex::new(Vec::new()),
            abandoned: Mutex::new(Vec::new()),
        })
    }
}

impl PaymentHook for RecordingHook {
    fn on_payment_required<'a>(
        &'a self,
        request: &'a purse_proxy::RequestSnapshot,
        response: &'a purse_proxy::ResponseSnapshot,
    ) -> purse_proxy::HookFuture<'a, purse_proxy::Verdict> {
        self.seen.lock().unwrap().push((request.clone(), response.clone()));
        let verdict = self.verdict.clone();
        Box::pin(async move { verdict })
    }

    fn on_resent<'a>(
        &'a self,
        _request: &'a purse_proxy::RequestSnapshot,
        _ticket: u64,
        outcome: Result<(StatusCode, &'a http::HeaderMap), &'a str>,
    ) -> purse_proxy::HookFuture<'a, ()> {
        self.resent.lock().unwrap().push(outcome.map(|(s, _)| s.as_u16()).map_err(str::to_owned));
        Box::pin(async {})
    }

    fn on_abandoned(&self, _request: &purse_proxy::RequestSnapshot, ticket: u64) {
        self.abandoned.lock().unwrap().push(ticket);
    }
}

/// A server that answers every request with exactly `response` and closes: it shows that
/// what the proxy passes on is byte for byte what the server wrote (header case included).
pub async fn raw_upstream(response: &'static [u8]) -> SocketAddr {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let (mut stream, _) = listener.accept().await.unwrap();
            tokio::spawn(async move {
                let mut head = Vec::new();
                let mut byte = [0u8; 1];
                while !head.ends_with(b"\r\n\r\n") {
                    if stream.read(&mut byte).await.unwrap_or(0) == 0 {
                        return;
                    }
                    head.push(byte[0]);
                }
                let _ = stream.write_all(response).await;
                let _ = stream.shutdown().await;
            });
        }
    });
    address
}

/// Whether a response head has this status, over HTTP/1.1 or HTTP/2.
pub fn status_is(head: &str, status: u16) -> bool {
    head.starts_with(&format!("HTTP/1.1 {status}")) || head.starts_with(&format!("HTTP/2 {status}"))
}
