//! The proxy over real sockets on 127.0.0.1: curl through it to local HTTP and HTTPS
//! servers, WebSockets, bad certificates, passthrough, limits, and the 402 hook.

// Helpers outside #[test] functions fail the test loudly, as tests should.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::{sync::Arc, time::Duration};

use futures_util::{SinkExt as _, StreamExt as _};
use http::HeaderMap;
use purse_proxy::{Config, Credentials, HostPattern, Limits, Proxy, StartError, Verdict};
use support::{
    RecordingHook, TestProxy, UpstreamCa, config, curl, path_str, pattern, split_response, upstream,
};
use tokio::{
    io::{AsyncReadExt as _, AsyncWriteExt as _},
    net::TcpStream,
};
use tokio_tungstenite::tungstenite::Message;

fn args(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| (*s).to_owned()).collect()
}

#[tokio::test]
async fn plain_http_keeps_status_headers_and_bodies_byte_for_byte() {
    let upstream_ca = UpstreamCa::new("upstream");
    let server = upstream(None).await;
    let proxy = TestProxy::start(config(&upstream_ca), None).await;

    // Status, reason, repeated headers, header case and order come through as written.
    let raw = support::raw_upstream(
        b"HTTP/1.1 418 Short And Stout\r\nX-CuStOm-Header: Value With  Spaces\r\nSet-Cookie: a=1\r\n\
          Set-Cookie: b=2\r\nContent-Length: 10\r\nConnection: close\r\n\r\nstatus 418",
    )
    .await;
    let url = format!("http://127.0.0.1:{}/teapot", raw.port());
    let output = curl(args(&["-i", "--proxy", &proxy.url(), &url])).await;
    let (head, body) = split_response(&output.stdout);
    let expected = "HTTP/1.1 418 Short And Stout\r\nX-CuStOm-Header: Value With  Spaces\r\n\
                    Set-Cookie: a=1\r\nSet-Cookie: b=2\r\nContent-Length: 10\r\n";
    assert!(head.starts_with(expected), "{head}");
    assert_eq!(body, b"status 418");

    // A 3 MiB binary body, streamed chunked, arrives intact.
    let output = curl(args(&[
        "--proxy",
        &proxy.url(),
        &format!("http://localhost:{}/bytes?n=3145728", server.port()),
    ]))
    .await;
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    assert!(output.stdout == pattern(3_145_728), "binary body differs");

    // A chunked upload streams to the server and back.
    let dir = support::TempDir::new("upload");
    let upload = dir.write("upload.bin", pattern(2_000_000));
    let output = curl(args(&[
        "--proxy",
        &proxy.url(),
        "-H",
        "Transfer-Encoding: chunked",
        "--data-binary",
        &format!("@{}", path_str(&upload)),
        &format!("http://127.0.0.1:{}/echo", server.port()),
    ]))
    .await;
    assert!(output.stdout == pattern(2_000_000), "echoed upload differs");

    // No hop-by-hop header reaches the server; end-to-end ones do.
    let output = curl(args(&[
        "-i",
        "--proxy",
        &proxy.url(),
        "-H",
        "Proxy-Connection: keep-alive",
        "-H",
        "X-Trace: 42",
        &format!("http://127.0.0.1:{}/echo", server.port()),
    ]))
    .await;
    let (head, _) = split_response(&output.stdout);
    assert!(head.contains("x-trace=42"), "{head}");
    assert!(!head.to_ascii_lowercase().contains("proxy-connection="), "{head}");
}

#[tokio::test]
async fn https_is_intercepted_for_dns_names_and_ip_literals() {
    let upstream_ca = UpstreamCa::new("upstream");
    let server = upstream(Some(upstream_ca.server_config(&[b"http/1.1"]))).await;
    let proxy = TestProxy::start(config(&upstream_ca), None).await;
    for host in ["localhost", "127.0.0.1"] {
        let output =
            proxy.curl(&["-i", &format!("https://{host}:{}/status/201", server.port())]).await;
        let (head, body) = split_response(&output.stdout);
        assert!(
            head.starts_with("HTTP/1.1 201") || head.starts_with("HTTP/2 201"),
            "{host}: {head} {}",
            String::from_utf8_lossy(&output.stderr)
        );
        assert_eq!(body, b"status 201", "{host}");
    }
    // Without the Purse CA, the client refuses the intercepted connection.
    let output = curl(args(&[
        "--proxy",
        &proxy.url(),
        &format!("https://localhost:{}/status/200", server.port()),
    ]))
    .await;
    assert!(!output.status.success());

    // A large body over intercepted TLS, on one keep-alive connection with a second request.
    let url = format!("https://localhost:{}/bytes?n=1048576", server.port());
    let output = proxy.curl(&[&url, "-o", "/dev/stdout", &url]).await;
    assert!(output.stdout == [pattern(1_048_576), pattern(1_048_576)].concat());
}

#[tokio::test]
async fn upstreams_that_prefer_http2_get_it() {
    let upstream_ca = UpstreamCa::new("upstream");
    let server = upstream(Some(upstream_ca.server_config(&[b"h2", b"http/1.1"]))).await;
    let proxy = TestProxy::start(config(&upstream_ca), None).await;
    for client_version in ["--http1.1", "--http2"] {
        let output = proxy
            .curl(&["-i", client_version, &format!("https://localhost:{}/echo", server.port())])
            .await;
        let (head, _) = split_response(&output.stdout);
        assert!(
            head.to_ascii_lowercase().contains("x-version: http/2.0"),
            "{client_version}: {head}"
        );
    }
}

#[tokio::test]
async fn a_bad_upstream_certificate_is_an_error_the_client_sees() {
    let trusted = UpstreamCa::new("trusted");
    let untrusted = UpstreamCa::new("untrusted");
    let server = upstream(Some(untrusted.server_config(&[b"http/1.1"]))).await;
    let proxy = TestProxy::start(config(&trusted), None).await;
    let output =
        proxy.curl(&["-i", &format!("https://localhost:{}/status/200", server.port())]).await;
    let (head, body) = split_response(&output.stdout);
    assert!(head.starts_with("HTTP/1.1 502") || head.starts_with("HTTP/2 502"), "{head}");
    let body = String::from_utf8_lossy(&body);
    assert!(body.contains("invalid peer certificate"), "{body}");
}

#[tokio::test]
async fn passthrough_hosts_are_tunnelled_untouched() {
    let upstream_ca = UpstreamCa::new("upstream");
    let server = upstream(Some(upstream_ca.server_config(&[b"http/1.1"]))).await;
    let mut proxy_config = config(&upstream_ca);
    proxy_config.passthrough = vec!["localhost".parse::<HostPattern>().unwrap()];
    let proxy = TestProxy::start(proxy_config, None).await;
    let ca_dir = support::TempDir::new("ca");
    let upstream_ca_file = ca_dir.write("upstream.pem", &upstream_ca.cert_pem);

    // Trusting only the upstream's own CA works: the client sees the upstream's certificate.
    let url = format!("https://localhost:{}/status/200", server.port());
    let output =
        curl(args(&["--proxy", &proxy.url(), "--cacert", &path_str(&upstream_ca_file), &url]))
            .await;
    assert_eq!(output.stdout, b"status 200", "{}", String::from_utf8_lossy(&output.stderr));
    // Trusting only the Purse CA fails there, and works for a host that is intercepted.
    let output = proxy.curl(&[&url]).await;
    assert!(!output.status.success());
    let intercepted = format!("https://127.0.0.1:{}/status/200", server.port());
    let output = proxy.curl(&[&intercepted]).await;
    assert_eq!(output.stdout, b"status 200");
}

#[tokio::test]
async fn websockets_pass_through_plain_and_intercepted_tunnels() {
    let upstream_ca = UpstreamCa::new("upstream");
    let plain = upstream(None).await;
    let tls = upstream(Some(upstream_ca.server_config(&[b"http/1.1"]))).await;
    let proxy = TestProxy::start(config(&upstream_ca), None).await;

    async fn tunnel(proxy: &TestProxy, port: u16) -> TcpStream {
        let mut stream = TcpStream::connect(proxy.address).await.unwrap();
        let connect =
            format!("CONNECT localhost:{port} HTTP/1.1\r\nHost: localhost:{port}\r\n\r\n");
        stream.write_all(connect.as_bytes()).await.unwrap();
        let mut answer = Vec::new();
        while !answer.ends_with(b"\r\n\r\n") {
            answer.push(stream.read_u8().await.unwrap());
        }
        assert!(answer.starts_with(b"HTTP/1.1 200"), "{}", String::from_utf8_lossy(&answer));
        stream
    }

    // ws:// inside a CONNECT tunnel (plain HTTP in the tunnel).
    let stream = tunnel(&proxy, plain.port()).await;
    let url = format!("ws://localhost:{}/ws", plain.port());
    let (mut socket, _) = tokio_tungstenite::client_async(url, stream).await.unwrap();
    socket.send(Message::text("hello over ws")).await.unwrap();
    assert_eq!(socket.next().await.unwrap().unwrap(), Message::text("hello over ws"));

    // wss:// through the intercepting TLS, trusting the Purse CA.
    let stream = tunnel(&proxy, tls.port()).await;
    let mut roots = rustls::RootCertStore::empty();
    roots.add(proxy.ca.cert_der().clone()).unwrap();
    let client = rustls::ClientConfig::builder_with_provider(purse_proxy::crypto_provider())
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    let tls_stream = tokio_rustls::TlsConnector::from(Arc::new(client))
        .connect("localhost".try_into().unwrap(), stream)
        .await
        .unwrap();
    let url = format!("wss://localhost:{}/ws", tls.port());
    let (mut socket, _) = tokio_tungstenite::client_async(url, tls_stream).await.unwrap();
    socket.send(Message::binary(vec![0u8, 1, 2, 255])).await.unwrap();
    assert_eq!(socket.next().await.unwrap().unwrap(), Message::binary(vec![0u8, 1, 2, 255]));
}

#[tokio::test]
async fn a_402_is_resent_once_with_the_hook_headers_and_the_body_intact() {
    let upstream_ca = UpstreamCa::new("upstream");
    let server = upstream(Some(upstream_ca.server_config(&[b"http/1.1"]))).await;
    let mut headers = HeaderMap::new();
    headers.insert("x-test-payment", "signed".parse().unwrap());
    let hook = RecordingHook::new(Verdict::Resend { headers, ticket: 1 });
    let proxy = TestProxy::start(config(&upstream_ca), Some(hook.clone())).await;

    let output = proxy
        .curl(&[
            "-i",
            "--data-binary",
            "order=42&note=ü",
            &format!("https://localhost:{}/pay", server.port()),
        ])
        .await;
    let (head, body) = split_response(&output.stdout);
    assert!(support::status_is(&head, 200), "{head}");
    assert!(head.contains("x-test-settled: signed"), "{head}");
    assert_eq!(body, "paid:order=42&note=ü".as_bytes());
    {
        let seen = hook.seen.lock().unwrap();
        assert_eq!(seen.len(), 1);
        let (request, response) = &seen[0];
        assert_eq!(request.method, http::Method::POST);
        assert_eq!(request.uri.to_string(), format!("https://localhost:{}/pay", server.port()));
        assert_eq!(request.body.as_deref(), Some("order=42&note=ü".as_bytes()));
        assert_eq!(response.headers["x-test-offer"], "ten cents");
        assert_eq!(&response.body[..], br#"{"x402Version":1,"accepts":[]}"#);
    }
    assert_eq!(*hook.resent.lock().unwrap(), vec![Ok(200)]);

    // A second 402 after the re-send reaches the client; nothing is asked again.
    let output =
        proxy.curl(&["-i", &format!("https://localhost:{}/always402", server.port())]).await;
    let (head, body) = split_response(&output.stdout);
    assert!(support::status_is(&head, 402), "{head}");
    assert_eq!(body, b"pay again");
    assert_eq!(hook.seen.lock().unwrap().len(), 2);
    assert_eq!(hook.resent.lock().unwrap().last(), Some(&Ok(402)));
}

#[tokio::test]
async fn a_client_that_goes_away_while_the_paid_request_is_out_is_told_to_the_hook() {
    let upstream_ca = UpstreamCa::new("upstream");
    let server = upstream(None).await;
    let mut headers = HeaderMap::new();
    headers.insert("x-test-payment", "signed".parse().unwrap());
    let hook = RecordingHook::new(Verdict::Resend { headers, ticket: 7 });
    let proxy = TestProxy::start(config(&upstream_ca), Some(hook.clone())).await;
    // curl gives up after 1 s; the paid request takes 10.
    let url = format!("http://127.0.0.1:{}/slowpay", server.port());
    let output = proxy.curl(&["-i", "--max-time", "1", &url]).await;
    assert!(!output.status.success());
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(5);
    while hook.abandoned.lock().unwrap().is_empty() && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(*hook.abandoned.lock().unwrap(), vec![7]);
    assert!(hook.resent.lock().unwrap().is_empty());
}

#[tokio::test]
async fn a_pass_through_verdict_adds_its_headers_and_large_bodies_are_never_resent() {
    let upstream_ca = UpstreamCa::new("upstream");
    let server = upstream(None).await;
    let mut headers = HeaderMap::new();
    headers.insert("x-purse-reason", "denied; the user said no".parse().unwrap());
    let refusing = RecordingHook::new(Verdict::PassThrough { headers });
    let proxy = TestProxy::start(config(&upstream_ca), Some(refusing.clone())).await;
    let output = curl(args(&[
        "-i",
        "--proxy",
        &proxy.url(),
        &format!("http://127.0.0.1:{}/pay", server.port()),
    ]))
    .await;
    let (head, body) = split_response(&output.stdout);
    assert!(
        head.starts_with("HTTP/1.1 402")
            && head.contains("x-purse-reason: denied; the user said no"),
        "{head}"
    );
    assert!(head.contains("x-test-offer: ten cents"), "{head}");
    assert_eq!(body, br#"{"x402Version":1,"accepts":[]}"#);

    // Above the replay limit the body streams through, and a Resend becomes a pass-through.
    let mut headers = HeaderMap::new();
    headers.insert("x-test-payment", "signed".parse().unwrap());
    let paying = RecordingHook::new(Verdict::Resend { headers, ticket: 1 });
    let mut small = config(&upstream_ca);
    small.limits = Limits { max_replay_body: 1000, ..Limits::default() };
    let proxy = TestProxy::start(small, Some(paying.clone())).await;
    let dir = support::TempDir::new("large");
    let large = dir.write("large.bin", pattern(5000));
    let output = curl(args(&[
        "-i",
        "--proxy",
        &proxy.url(),
        "--data-binary",
        &format!("@{}", path_str(&large)),
        &format!("http://127.0.0.1:{}/pay", server.port()),
    ]))
    .await;
    let (head, _) = split_response(&output.stdout);
    assert!(head.starts_with("HTTP/1.1 402"), "{head}");
    let seen = paying.seen.lock().unwrap();
    assert_eq!(seen.len(), 1);
    assert!(!seen[0].0.is_replayable());
    assert!(
        paying.resent.lock().unwrap().is_empty(),
        "a request too large to keep is never re-sent"
    );
}

#[tokio::test]
async fn safety_limits_answer_with_clear_statuses() {
    let upstream_ca = UpstreamCa::new("upstream");
    let server = upstream(None).await;
    let target = format!("http://127.0.0.1:{}/status/200", server.port());

    // Credentials.
    let mut with_auth = config(&upstream_ca);
    with_auth.credentials = Some(Credentials { user: "purse".into(), password: "s3cret".into() });
    let proxy = TestProxy::start(with_auth, None).await;
    let output =
        curl(args(&["-o", "/dev/null", "-w", "%{http_code}", "--proxy", &proxy.url(), &target]))
            .await;
    assert_eq!(output.stdout, b"407");
    let output =
        curl(args(&["--proxy", &proxy.url(), "--proxy-user", "purse:s3cret", &target])).await;
    assert_eq!(output.stdout, b"status 200");

    // A request to the proxy itself.
    let proxy = TestProxy::start(config(&upstream_ca), None).await;
    let looping = format!("http://127.0.0.1:{}/", proxy.address.port());
    let output =
        curl(args(&["-o", "/dev/null", "-w", "%{http_code}", "--proxy", &proxy.url(), &looping]))
            .await;
    assert_eq!(output.stdout, b"508");

    // Oversized request head.
    let huge = format!("X-Huge: {}", "a".repeat(100_000));
    let output = curl(args(&[
        "-o",
        "/dev/null",
        "-w",
        "%{http_code}",
        "--proxy",
        &proxy.url(),
        "-H",
        &huge,
        &target,
    ]))
    .await;
    assert_eq!(output.stdout, b"431");

    // Too many connections.
    let mut one = config(&upstream_ca);
    one.limits = Limits { max_connections: 1, ..Limits::default() };
    let proxy = TestProxy::start(one, None).await;
    let _held = TcpStream::connect(proxy.address).await.unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    let output =
        curl(args(&["-o", "/dev/null", "-w", "%{http_code}", "--proxy", &proxy.url(), &target]))
            .await;
    assert_eq!(output.stdout, b"503");
}

#[tokio::test]
async fn it_listens_on_loopback_only_and_names_who_holds_a_taken_port() {
    let provider = purse_proxy::crypto_provider();
    let (ca, _) =
        purse_proxy::CertificateAuthority::generate("Purse Test CA", provider.clone()).unwrap();
    let ca = Arc::new(ca);
    let outside = Config { listen: "0.0.0.0:0".parse().unwrap(), ..Config::default() };
    let refused = Proxy::bind(outside, ca.clone(), provider.clone(), None).await.unwrap_err();
    assert!(matches!(refused, StartError::NotLoopback(_)), "{refused}");
    assert!(refused.to_string().contains("loopback addresses only"));

    let first = Proxy::bind(
        Config { listen: "127.0.0.1:0".parse().unwrap(), ..Config::default() },
        ca.clone(),
        provider.clone(),
        None,
    )
    .await
    .unwrap();
    let taken = Config { listen: first.local_addr(), ..Config::default() };
    let refused = Proxy::bind(taken, ca, provider, None).await.unwrap_err();
    let message = refused.to_string();
    assert!(
        message.contains("already in use by")
            && message.contains(&format!("pid {}", std::process::id())),
        "{message}"
    );
}

#[tokio::test]
async fn everything_can_go_through_an_upstream_proxy() {
    let upstream_ca = UpstreamCa::new("upstream");
    let plain = upstream(None).await;
    let tls = upstream(Some(upstream_ca.server_config(&[b"http/1.1"]))).await;

    // The "corporate" proxy: another Purse that tunnels everything and wants credentials.
    let mut corporate = config(&upstream_ca);
    corporate.intercept_only = vec!["nothing.invalid".parse().unwrap()];
    corporate.credentials = Some(Credentials { user: "corp".into(), password: "p@ss".into() });
    let corporate = TestProxy::start(corporate, None).await;

    let mut chained = config(&upstream_ca);
    chained.upstream_proxy =
        Some(format!("http://corp:p%40ss@{}", corporate.address).parse().unwrap());
    let proxy = TestProxy::start(chained, None).await;

    let output = curl(args(&[
        "--proxy",
        &proxy.url(),
        &format!("http://127.0.0.1:{}/status/200", plain.port()),
    ]))
    .await;
    assert_eq!(output.stdout, b"status 200", "{}", String::from_utf8_lossy(&output.stderr));
    let output = proxy.curl(&[&format!("https://localhost:{}/status/200", tls.port())]).await;
    assert_eq!(output.stdout, b"status 200", "{}", String::from_utf8_lossy(&output.stderr));

    // A passthrough host is tunnelled through the corporate proxy too.
    let mut passing = config(&upstream_ca);
    passing.passthrough = vec!["localhost".parse().unwrap()];
    passing.upstream_proxy =
        Some(format!("http://corp:p%40ss@{}", corporate.address).parse().unwrap());
    let proxy = TestProxy::start(passing, None).await;
    let ca_dir = support::TempDir::new("chain-ca");
    let upstream_ca_file = ca_dir.write("upstream.pem", &upstream_ca.cert_pem);
    let output = curl(args(&[
        "--proxy",
        &proxy.url(),
        "--cacert",
        &path_str(&upstream_ca_file),
        &format!("https://localhost:{}/status/200", tls.port()),
    ]))
    .await;
    assert_eq!(output.stdout, b"status 200", "{}", String::from_utf8_lossy(&output.stderr));

    // Wrong credentials: the corporate proxy refuses, and the client is told.
    let mut wrong = config(&upstream_ca);
    wrong.upstream_proxy = Some(format!("http://corp:nope@{}", corporate.address).parse().unwrap());
    let proxy = TestProxy::start(wrong, None).await;
    let output = proxy.curl(&[&format!("https://localhost:{}/status/200", tls.port())]).await;
    let body = String::from_utf8_lossy(&output.stdout);
    assert!(body.contains("refused CONNECT") && body.contains("407"), "{body}");
}

#[tokio::test]
async fn idle_and_slow_connections_are_closed() {
    let upstream_ca = UpstreamCa::new("upstream");
    let mut quick = config(&upstream_ca);
    quick.limits = Limits { idle_timeout: Duration::from_millis(300), ..Limits::default() };
    let proxy = TestProxy::start(quick, None).await;

    // A connection that never sends a request, and one that stops half-way through its head.
    let mut idle = TcpStream::connect(proxy.address).await.unwrap();
    let mut slow = TcpStream::connect(proxy.address).await.unwrap();
    slow.write_all(b"GET http://127.0.0.1:9/ HTTP/1.1\r\nHost: 127.0.0.1:9\r\n").await.unwrap();
    for stream in [&mut idle, &mut slow] {
        let mut rest = Vec::new();
        let closed =
            tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut rest)).await;
        assert!(closed.is_ok(), "the proxy kept an idle connection open");
    }
}

/// An upstream that answers each request on a connection with the connection's number,
/// keeping it open or, with `close_after`, closing it that long after each answer (without
/// announcing it, as a server ending an idle keep-alive does).
async fn counting_upstream(
    close_after: Option<Duration>,
) -> (std::net::SocketAddr, Arc<std::sync::atomic::AtomicUsize>) {
    use std::sync::atomic::{AtomicUsize, Ordering};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let accepted = Arc::new(AtomicUsize::new(0));
    let counter = accepted.clone();
    tokio::spawn(async move {
        loop {
            let (mut stream, _) = listener.accept().await.unwrap();
            let number = counter.fetch_add(1, Ordering::SeqCst) + 1;
            tokio::spawn(async move {
                let mut head = Vec::new();
                let mut byte = [0u8; 1];
                loop {
                    if stream.read(&mut byte).await.unwrap_or(0) == 0 {
                        return;
                    }
                    head.push(byte[0]);
                    if !head.ends_with(b"\r\n\r\n") {
                        continue;
                    }
                    head.clear();
                    let body = format!("connection {number}");
                    let answer =
                        format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n{body}", body.len());
                    if stream.write_all(answer.as_bytes()).await.is_err() {
                        return;
                    }
                    if let Some(after) = close_after {
                        tokio::time::sleep(after).await;
                        return;
                    }
                }
            });
        }
    });
    (address, accepted)
}

/// One request on an open connection to the proxy; the answer's status and body.
async fn exchange(client: &mut TcpStream, url: &str) -> (String, String) {
    let host = url.trim_start_matches("http://").split('/').next().unwrap().to_owned();
    client
        .write_all(format!("GET {url} HTTP/1.1\r\nHost: {host}\r\n\r\n").as_bytes())
        .await
        .unwrap();
    let mut answer = Vec::new();
    let mut buf = [0u8; 1024];
    loop {
        let n = tokio::time::timeout(Duration::from_secs(10), client.read(&mut buf))
            .await
            .expect("an answer in time")
            .unwrap();
        assert!(n > 0, "the proxy closed the connection: {}", String::from_utf8_lossy(&answer));
        answer.extend_from_slice(&buf[..n]);
        let text = String::from_utf8_lossy(&answer).into_owned();
        if let Some((head, body)) = text.split_once("\r\n\r\n") {
            let length: usize = head
                .lines()
                .find_map(|l| {
                    l.to_ascii_lowercase().strip_prefix("content-length: ").map(str::to_owned)
                })
                .map_or(0, |v| v.trim().parse().unwrap());
            if body.len() >= length {
                return (head.lines().next().unwrap().to_owned(), body.to_owned());
            }
        }
    }
}

#[tokio::test]
async fn a_keep_alive_client_keeps_its_upstream_connection_and_survives_its_closing() {
    use std::sync::atomic::Ordering;
    let upstream_ca = UpstreamCa::new("upstream");
    let proxy =
        TestProxy::start(config(&upstream_ca), Some(RecordingHook::new(Verdict::pass()))).await;
    let (steady, steady_count) = counting_upstream(None).await;
    let (closing, closing_count) = counting_upstream(Some(Duration::from_millis(50))).await;
    let steady_url = format!("http://{steady}/a");
    let closing_url = format!("http://{closing}/b");

    let mut client = TcpStream::connect(proxy.address).await.unwrap();
    // Three requests to one origin travel on one upstream connection.
    for _ in 0..3 {
        let (status, body) = exchange(&mut client, &steady_url).await;
        assert_eq!((status.as_str(), body.as_str()), ("HTTP/1.1 200 OK", "connection 1"));
    }
    assert_eq!(steady_count.load(Ordering::SeqCst), 1);

    // The server closes its side between requests: the next request still gets through,
    // on a new connection, and is sent once.
    let mut other = TcpStream::connect(proxy.address).await.unwrap();
    for round in 1..=3 {
        let (status, body) = exchange(&mut other, &closing_url).await;
        assert_eq!(status, "HTTP/1.1 200 OK");
        assert_eq!(body, format!("connection {round}"));
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(closing_count.load(Ordering::SeqCst), 3);

    // Another origin on the first client connection goes through the shared pool, and the
    // connection kept for the first origin serves it again afterwards.
    let (status, _) = exchange(&mut client, &closing_url).await;
    assert_eq!(status, "HTTP/1.1 200 OK");
    let (status, body) = exchange(&mut client, &steady_url).await;
    assert_eq!((status.as_str(), body.as_str()), ("HTTP/1.1 200 OK", "connection 1"));
    assert_eq!(steady_count.load(Ordering::SeqCst), 1);
}
