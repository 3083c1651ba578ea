//! Headless Chromium through the proxy: it trusts the Purse CA from its NSS database and
//! loads an HTTPS page from a local server.

// Helpers outside #[test] functions fail the test loudly, as tests should.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::process::Command;

use support::{TempDir, TestProxy, UpstreamCa, config, path_str, upstream};

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs chromium and certutil: run through scripts/test"]
async fn chromium_loads_an_https_page_through_the_proxy() {
    let upstream_ca = UpstreamCa::new("upstream");
    let server = upstream(Some(upstream_ca.server_config(&[b"h2", b"http/1.1"]))).await;
    let proxy = TestProxy::start(config(&upstream_ca), None).await;

    // A throwaway home whose NSS database trusts the Purse CA, as `purse ca install` does.
    let home = TempDir::new("chromium-home");
    let nssdb = home.0.join(".pki/nssdb");
    std::fs::create_dir_all(&nssdb).unwrap();
    let db = format!("sql:{}", nssdb.display());
    let ok = |args: &[&str]| {
        assert!(
            Command::new("certutil").args(args).status().unwrap().success(),
            "certutil {args:?}"
        )
    };
    ok(&["-N", "--empty-password", "-d", &db]);
    ok(&["-A", "-d", &db, "-n", "Purse Test CA", "-t", "C,,", "-i", &path_str(&proxy.ca_file)]);

    let url = format!("https://localhost:{}/status/200", server.port());
    let proxy_url = proxy.url();
    let profile = home.0.join("profile");
    let output = tokio::task::spawn_blocking(move || {
        Command::new("chromium")
            .env("HOME", &home.0)
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--disable-default-apps",
                "--disable-extensions",
                "--metrics-recording-only",
                "--virtual-time-budget=5000",
            ])
            .arg(format!("--user-data-dir={}", profile.display()))
            .arg(format!("--proxy-server={proxy_url}"))
            // Without this, Chromium never sends loopback traffic to a proxy.
            .arg("--proxy-bypass-list=<-loopback>")
            .args(["--dump-dom", &url])
            .output()
            .expect("chromium is installed")
    })
    .await
    .unwrap();
    let dom = String::from_utf8_lossy(&output.stdout);
    assert!(
        dom.contains("status 200"),
        "chromium did not load the page: {dom}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
}
