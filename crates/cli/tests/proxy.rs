//! `purse proxy`, `purse ca` and `purse env`, run as a user runs them.

// Helpers outside #[test] functions fail the test loudly, as tests should.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::{
    io::{BufRead as _, BufReader, Read as _, Write as _},
    net::{SocketAddr, TcpListener},
    path::PathBuf,
    process::{Child, Command, Output, Stdio},
    time::{Duration, Instant},
};

struct Scratch(PathBuf, String);

impl Scratch {
    /// A data dir, a home and a keychain profile of the test's own, so that tests running
    /// at once never share a CA.
    fn new(tag: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("purse-cli-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Self(dir, format!("test-{tag}-{}", std::process::id()))
    }

    fn profile(&self) -> &str {
        &self.1
    }

    fn data_dir(&self) -> String {
        self.0.join("data").display().to_string()
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn purse(scratch: &Scratch, args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_purse"));
    command
        .args(args)
        .env("PURSE_DATA_DIR", scratch.data_dir())
        .env("PURSE_PROFILE", scratch.profile())
        .env("HOME", &scratch.0);
    command
}

fn run(scratch: &Scratch, args: &[&str]) -> Output {
    purse(scratch, args).output().unwrap()
}

/// A running `purse proxy`, stopped with SIGTERM on drop.
struct RunningProxy {
    child: Child,
    address: SocketAddr,
}

impl RunningProxy {
    fn start(scratch: &Scratch, extra: &[&str]) -> Self {
        let mut args = vec!["proxy", "--listen", "127.0.0.1:0"];
        args.extend_from_slice(extra);
        let mut child =
            purse(scratch, &args).stdout(Stdio::piped()).stderr(Stdio::null()).spawn().unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
        let address = line
            .trim()
            .strip_prefix("Purse proxy listening on http://")
            .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
            .parse()
            .unwrap();
        Self { child, address }
    }

    fn terminate(&mut self) -> std::process::ExitStatus {
        Command::new("kill").args(["-TERM", &self.child.id().to_string()]).status().unwrap();
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(Instant::now() < deadline, "the proxy did not stop on SIGTERM");
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for RunningProxy {
    fn drop(&mut self) {
        if self.child.try_wait().unwrap().is_none() {
            self.terminate();
        }
    }
}

/// A one-route HTTP server on a thread: answers `hello` to every request.
fn hello_server() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let address = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut buffer = [0u8; 4096];
            let _ = stream.read(&mut buffer);
            let _ = stream.write_all(
                b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello",
            );
        }
    });
    address
}

#[test]
fn the_proxy_serves_stops_on_sigterm_and_refuses_a_second_instance() {
    let scratch = Scratch::new("proxy");
    let upstream = hello_server();
    let mut proxy = RunningProxy::start(&scratch, &[]);

    let output = Command::new("curl")
        .args(["--silent", "--noproxy", "", "--proxy", &format!("http://{}", proxy.address)])
        .arg(format!("http://127.0.0.1:{}/", upstream.port()))
        .output()
        .unwrap();
    assert_eq!(output.stdout, b"hello");

    // A second proxy on the same address says who holds it.
    let second = run(&scratch, &["proxy", "--listen", &proxy.address.to_string()]);
    assert!(!second.status.success());
    let message = String::from_utf8_lossy(&second.stderr);
    assert!(
        message.contains(&format!("already in use by purse (pid {})", proxy.child.id())),
        "{message}"
    );

    // SIGTERM stops it cleanly.
    assert!(proxy.terminate().success());
}

#[test]
fn the_proxy_refuses_non_loopback_addresses() {
    let scratch = Scratch::new("listen");
    for address in ["0.0.0.0:0", "[::]:0"] {
        let output = run(&scratch, &["proxy", "--listen", address]);
        assert!(!output.status.success());
        let message = String::from_utf8_lossy(&output.stderr);
        assert!(message.contains("loopback addresses only"), "{message}");
    }
}

#[test]
fn the_ca_is_made_once_and_exported() {
    let scratch = Scratch::new("ca");
    let first = run(&scratch, &["ca", "export"]);
    assert!(first.status.success(), "{}", String::from_utf8_lossy(&first.stderr));
    let pem = String::from_utf8(first.stdout).unwrap();
    assert!(
        pem.starts_with("-----BEGIN CERTIFICATE-----\n")
            && pem.trim_end().ends_with("-----END CERTIFICATE-----")
    );
    let again = run(&scratch, &["ca", "export"]);
    assert_eq!(String::from_utf8(again.stdout).unwrap(), pem, "the CA is kept between runs");

    let out = scratch.0.join("exported.pem");
    assert!(run(&scratch, &["ca", "export", "--out", &out.display().to_string()]).status.success());
    assert_eq!(std::fs::read_to_string(&out).unwrap().trim_end(), pem.trim_end());
    // The data dir never holds the key when a keychain exists; without one, only a 0600 file.
    let fallback = scratch.0.join("data/ca-key.pem");
    if fallback.exists() {
        use std::os::unix::fs::PermissionsExt as _;
        assert_eq!(std::fs::metadata(&fallback).unwrap().permissions().mode() & 0o777, 0o600);
    }
}

#[test]
fn env_prints_the_proxy_and_a_bundle_with_the_purse_ca() {
    let scratch = Scratch::new("env");
    let output = run(&scratch, &["env"]);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let text = String::from_utf8(output.stdout).unwrap();
    for line in [
        "export HTTP_PROXY='http://127.0.0.1:8402'",
        "export HTTPS_PROXY='http://127.0.0.1:8402'",
        "export https_proxy='http://127.0.0.1:8402'",
        "export NODE_USE_ENV_PROXY='1'",
        "export NO_PROXY='localhost,127.0.0.1,::1'",
    ] {
        assert!(text.lines().any(|l| l == line), "missing {line:?} in\n{text}");
    }
    let bundle_line = text.lines().find(|l| l.starts_with("export SSL_CERT_FILE=")).unwrap();
    let bundle = bundle_line.trim_start_matches("export SSL_CERT_FILE='").trim_end_matches('\'');
    for var in ["NODE_EXTRA_CA_CERTS", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"] {
        assert!(text.contains(&format!("export {var}='{bundle}'")), "{var}");
    }
    let ca = String::from_utf8(run(&scratch, &["ca", "export"]).stdout).unwrap();
    let bundle = std::fs::read_to_string(bundle).unwrap();
    assert!(bundle.ends_with(&ca) || bundle.trim_end().ends_with(ca.trim_end()));
    assert!(
        bundle.matches("BEGIN CERTIFICATE").count() > 1,
        "the system roots are in the bundle too"
    );

    let fish = String::from_utf8(run(&scratch, &["env", "--shell", "fish"]).stdout).unwrap();
    assert!(fish.contains("set -gx HTTPS_PROXY 'http://127.0.0.1:8402';"), "{fish}");
    let powershell =
        String::from_utf8(run(&scratch, &["env", "--shell", "powershell"]).stdout).unwrap();
    assert!(powershell.contains("$env:HTTPS_PROXY = 'http://127.0.0.1:8402'"), "{powershell}");
}

#[test]
#[ignore = "needs certutil (libnss3-tools): run through scripts/test"]
fn ca_install_and_uninstall_change_an_nss_database() {
    let scratch = Scratch::new("nss");
    let db = scratch.0.join("nssdb");
    let db_arg = db.display().to_string();
    let list = || {
        let output =
            Command::new("certutil").args(["-L", "-d", &format!("sql:{db_arg}")]).output().unwrap();
        String::from_utf8_lossy(&output.stdout).into_owned()
    };
    let output = run(&scratch, &["ca", "install", "--nssdb", &db_arg]);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let nickname = format!("Purse Local CA ({})", scratch.profile());
    assert!(list().contains(&nickname), "{}", list());
    assert!(String::from_utf8_lossy(&output.stdout).contains("update-ca-certificates"));

    let output = run(&scratch, &["ca", "uninstall", "--nssdb", &db_arg]);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    assert!(!list().contains(&nickname), "{}", list());
}
