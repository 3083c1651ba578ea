//! A small keep-alive HTTP load generator for `benches/proxy.sh`: N connections, each
//! sending GETs back to back for a fixed time, directly or through a proxy (absolute-form
//! for http, one CONNECT per connection for https). Prints one JSON line: requests per
//! second, p50/p99 latency, and the measured process's CPU time per request and RSS.
//!
//! Usage: loadgen URL [--proxy HOST:PORT] [--connections N] [--seconds S] [--ca FILE] [--pid PID]

// A benchmark tool: failures end it loudly.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::print_stdout)]

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use rustls::pki_types::ServerName;
use tokio::{
    io::{AsyncRead, AsyncReadExt as _, AsyncWrite, AsyncWriteExt as _},
    net::TcpStream,
};

struct Options {
    url: http::Uri,
    proxy: Option<String>,
    connections: usize,
    seconds: f64,
    ca: Option<String>,
    pid: Option<u32>,
}

fn options() -> Options {
    let mut args = std::env::args().skip(1);
    let mut options = Options {
        url: http::Uri::from_static("http://127.0.0.1/"),
        proxy: None,
        connections: 1,
        seconds: 5.0,
        ca: None,
        pid: None,
    };
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--proxy" => options.proxy = args.next(),
            "--connections" => options.connections = args.next().unwrap().parse().unwrap(),
            "--seconds" => options.seconds = args.next().unwrap().parse().unwrap(),
            "--ca" => options.ca = args.next(),
            "--pid" => options.pid = Some(args.next().unwrap().parse().unwrap()),
            url => options.url = url.parse().unwrap(),
        }
    }
    options
}

trait Stream: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Stream for T {}

async fn read_head(stream: &mut (impl AsyncRead + Unpin), buffer: &mut Vec<u8>) -> usize {
    loop {
        if let Some(at) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
            return at + 4;
        }
        let mut chunk = [0u8; 16384];
        let n = stream.read(&mut chunk).await.unwrap();
        assert!(n > 0, "connection closed mid-response");
        buffer.extend_from_slice(&chunk[..n]);
    }
}

fn content_length(head: &[u8]) -> usize {
    let text = std::str::from_utf8(head).unwrap();
    assert!(
        text.starts_with("HTTP/1.1 200"),
        "unexpected response: {}",
        text.lines().next().unwrap_or_default()
    );
    text.lines()
        .find_map(|l| {
            l.split_once(':')
                .filter(|(n, _)| n.eq_ignore_ascii_case("content-length"))
                .map(|(_, v)| v.trim().parse().unwrap())
        })
        .expect("responses carry Content-Length")
}

async fn connect(options: &Options, tls: Option<Arc<rustls::ClientConfig>>) -> Box<dyn Stream> {
    let host = options.url.host().unwrap().to_owned();
    let port = options.url.port_u16().unwrap_or(if tls.is_some() { 443 } else { 80 });
    let mut tcp = TcpStream::connect(options.proxy.clone().unwrap_or(format!("{host}:{port}")))
        .await
        .unwrap();
    tcp.set_nodelay(true).unwrap();
    let Some(tls) = tls else { return Box::new(tcp) };
    if options.proxy.is_some() {
        tcp.write_all(
            format!("CONNECT {host}:{port} HTTP/1.1\r\nHost: {host}:{port}\r\n\r\n").as_bytes(),
        )
        .await
        .unwrap();
        let mut buffer = Vec::new();
        let end = read_head(&mut tcp, &mut buffer).await;
        assert!(buffer.starts_with(b"HTTP/1.1 200") && end == buffer.len(), "CONNECT refused");
    }
    let name = ServerName::try_from(host).unwrap();
    Box::new(tokio_rustls::TlsConnector::from(tls).connect(name, tcp).await.unwrap())
}

/// One connection's requests until `until`; latencies in microseconds, after `warm`.
async fn run_connection(
    options: Arc<Options>,
    tls: Option<Arc<rustls::ClientConfig>>,
    warm: Instant,
    until: Instant,
) -> Vec<u32> {
    let mut stream = connect(&options, tls.clone()).await;
    let authority = options.url.authority().unwrap().as_str().to_owned();
    let path = options.url.path_and_query().unwrap().as_str().to_owned();
    let target =
        if options.proxy.is_some() && tls.is_none() { options.url.to_string() } else { path };
    let request =
        format!("GET {target} HTTP/1.1\r\nHost: {authority}\r\nUser-Agent: purse-loadgen\r\n\r\n")
            .into_bytes();
    let mut latencies = Vec::new();
    let mut buffer = Vec::with_capacity(128 * 1024);
    loop {
        let start = Instant::now();
        if start >= until {
            return latencies;
        }
        stream.write_all(&request).await.unwrap();
        buffer.clear();
        let head = read_head(&mut stream, &mut buffer).await;
        let total = head + content_length(&buffer[..head]);
        while buffer.len() < total {
            let mut chunk = vec![0u8; (total - buffer.len()).min(65536)];
            let n = stream.read(&mut chunk).await.unwrap();
            assert!(n > 0, "connection closed mid-body");
            buffer.extend_from_slice(&chunk[..n]);
        }
        if start >= warm {
            latencies.push(u32::try_from(start.elapsed().as_micros()).unwrap_or(u32::MAX));
        }
    }
}

/// utime + stime of a process, in clock ticks.
fn cpu_ticks(pid: u32) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    let after_name = &stat[stat.rfind(')').unwrap() + 2..];
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap()
}

fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .map(|v| v.trim().trim_end_matches(" kB").parse().unwrap())
        .unwrap_or(0)
}

fn main() {
    let options = Arc::new(options());
    let tls = (options.url.scheme_str() == Some("https")).then(|| {
        let mut roots = rustls::RootCertStore::empty();
        let pem = std::fs::read_to_string(options.ca.as_ref().expect("https needs --ca")).unwrap();
        roots.add_parsable_certificates(purse_proxy::parse_pem_certificates(&pem).unwrap());
        Arc::new(
            rustls::ClientConfig::builder_with_provider(purse_proxy::crypto_provider())
                .with_safe_default_protocol_versions()
                .unwrap()
                .with_root_certificates(roots)
                .with_no_client_auth(),
        )
    });
    // One thread for the load: the proxy and the server get the rest of the machine.
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let warm = Instant::now() + Duration::from_millis(500);
    let until = warm + Duration::from_secs_f64(options.seconds);
    let measured = options.pid.map(|pid| (pid, rss_kib(pid)));
    let (latencies, ticks, peak_rss) = runtime.block_on(async {
        let tasks: Vec<_> = (0..options.connections)
            .map(|_| tokio::spawn(run_connection(options.clone(), tls.clone(), warm, until)))
            .collect();
        tokio::time::sleep_until(warm.into()).await;
        let start_ticks = options.pid.map(cpu_ticks);
        tokio::time::sleep(Duration::from_secs_f64(options.seconds / 2.0)).await;
        let peak_rss = options.pid.map(rss_kib);
        let mut latencies = Vec::new();
        for task in tasks {
            latencies.extend(task.await.unwrap());
        }
        let ticks = options.pid.zip(start_ticks).map(|(pid, start)| cpu_ticks(pid) - start);
        (latencies, ticks, peak_rss)
    });
    let mut sorted = latencies;
    sorted.sort_unstable();
    let count = sorted.len();
    let percentile = |p: f64| {
        sorted.get(((count as f64 * p) as usize).min(count.saturating_sub(1))).copied().unwrap_or(0)
    };
    let ticks_per_second = 100.0; // USER_HZ on Linux
    let cpu_us = ticks.map(|t| t as f64 / ticks_per_second * 1e6 / count.max(1) as f64);
    println!(
        "{{\"requests\":{count},\"rps\":{:.0},\"p50_us\":{},\"p99_us\":{},\"cpu_us_per_req\":{},\"rss_idle_kib\":{},\"rss_load_kib\":{}}}",
        count as f64 / options.seconds,
        percentile(0.50),
        percentile(0.99),
        cpu_us.map_or("null".into(), |c| format!("{c:.1}")),
        measured.map_or("null".into(), |(_, rss)| rss.to_string()),
        peak_rss.map_or("null".into(), |rss| rss.to_string()),
    );
}
