//! The app idling in the tray keeps no WebKit process: once the main window is closed, or
//! the approval popup let go, WebKit's network process goes too, and the next payment that
//! asks shows a popup drawn through a new one. The app is started as login autostart
//! starts it (`--hidden`), on a data dir, keychain profile and port of the test's own, and
//! asked by a 402 it never answers (each payment waits 3 s, then is declined). No
//! WebDriver: WebKitWebDriver ends its session when the network process ends.

// Helpers outside #[test] functions fail the test loudly, as tests should.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::{
    io::{BufRead as _, BufReader, Read as _, Write as _},
    net::TcpListener,
    process::{Command, Stdio},
    time::{Duration, Instant},
};

use base64::Engine as _;
use purse_e2e::{Place, app_binary, close_window_titled, network_processes, window_painted};
use serde_json::Value;

const POPUP: &str = "Purse — approve a payment";

/// A server on loopback that answers every request with the golden vector's v2 402.
fn paywall() -> String {
    let vector = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../crates/x402/tests/data/v2-base-sepolia-usdc.json"
    ))
    .unwrap();
    let vector: Value = serde_json::from_str(&vector).unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/premium", listener.local_addr().unwrap());
    let mut required = vector["response_402"]["payment_required"].clone();
    required["resource"]["url"] = Value::String(url.clone());
    let header = base64::engine::general_purpose::STANDARD.encode(required.to_string());
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut head = [0u8; 4096];
            let _ = stream.read(&mut head);
            let _ = write!(
                stream,
                "HTTP/1.1 402 Payment Required\r\nPAYMENT-REQUIRED: {header}\r\n\
                 Content-Type: application/json\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{{}}"
            );
        }
    });
    url
}

/// Waits up to `limit` for `ready`.
fn wait_until(limit: Duration, mut ready: impl FnMut() -> bool) -> bool {
    let start = Instant::now();
    while start.elapsed() < limit {
        if ready() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    false
}

/// curl through the proxy: the status the client got.
fn ask(proxy: &str, url: &str) -> std::thread::JoinHandle<String> {
    let (proxy, url) = (proxy.to_owned(), url.to_owned());
    std::thread::spawn(move || {
        let out = Command::new("curl")
            .args(["-s", "-o", "/dev/null", "-w", "%{http_code}", "--max-time", "30"])
            .args(["--noproxy", "", "-x", &proxy, &url])
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    })
}

#[test]
#[ignore = "needs a display and a keychain: run through scripts/test"]
fn webkit_network_process_goes_with_the_last_window_and_the_next_popup_still_draws() {
    let place = Place::new("idle").unwrap();
    let out = place.purse(&["account", "new", "--quiet"]).unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    std::fs::write(place.dir.join("config.toml"), "[policy]\nprompt_timeout_secs = 3\n").unwrap();
    let url = paywall();

    let mut app = Command::new(app_binary().unwrap())
        .args(["--hidden", "--data-dir", place.dir.to_str().unwrap()])
        .env("PURSE_PROFILE", &place.profile)
        .env("PURSE_LISTEN", "127.0.0.1:0")
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    // Kept open while the app runs: the app's prints must not meet a closed pipe.
    let mut stdout = BufReader::new(app.stdout.take().unwrap());
    let mut line = String::new();
    stdout.read_line(&mut line).unwrap();
    let proxy = line.trim().strip_prefix("Purse proxy listening on ").expect(&line).to_owned();
    assert!(network_processes(&place.profile).is_empty(), "a network process before any page");

    // Launched again (as from the desktop's menu), the app shows its main window; closed,
    // the window goes, and the network process a moment later.
    let again = Command::new(app_binary().unwrap())
        .args(["--data-dir", place.dir.to_str().unwrap()])
        .env("PURSE_PROFILE", &place.profile)
        .env("PURSE_LISTEN", "127.0.0.1:0")
        .status()
        .unwrap();
    assert!(again.success(), "the second launch did not hand over: {again}");
    let shown = wait_until(Duration::from_secs(10), || window_painted("Purse").unwrap_or(false));
    assert!(shown, "the main window was not drawn");
    assert!(!network_processes(&place.profile).is_empty(), "no network process for the window");
    assert!(close_window_titled("Purse").unwrap(), "no window titled Purse");
    let gone = wait_until(Duration::from_secs(10), || network_processes(&place.profile).is_empty());
    assert!(gone, "WebKit's network process is left: {:?}", network_processes(&place.profile));

    // The first payment that asks makes the popup, and WebKit a network process.
    let first = ask(&proxy, &url);
    let shown = wait_until(Duration::from_secs(10), || window_painted(POPUP).unwrap_or(false));
    assert!(shown, "the popup was not drawn");
    assert!(!network_processes(&place.profile).is_empty(), "no network process for the popup");
    assert_eq!(first.join().unwrap(), "402", "declined after 3 s unanswered");

    // A minute after the popup hid, it is let go, and the network process with it.
    let gone = wait_until(Duration::from_secs(90), || network_processes(&place.profile).is_empty());
    assert!(gone, "WebKit's network process is left: {:?}", network_processes(&place.profile));
    assert_eq!(app.try_wait().unwrap(), None, "the app ended");

    // The next payment that asks shows a popup drawn through a new network process.
    let second = ask(&proxy, &url);
    let shown = wait_until(Duration::from_secs(10), || window_painted(POPUP).unwrap_or(false));
    assert!(shown, "the popup was not drawn after the network process was let go");
    assert!(!network_processes(&place.profile).is_empty(), "no new network process");
    assert_eq!(second.join().unwrap(), "402");

    let _ = app.kill();
    let _ = app.wait();
    drop(stdout);
}
