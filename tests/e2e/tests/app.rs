//! The desktop app end to end: the real app (proxy and wallet in one process) with a data
//! dir and keychain profile of its own, the testbed payer's key imported with `purse`,
//! curl paying the official x402 server through the app's proxy, and the payment in the
//! History view, through WebDriver. Screenshots of every view land in the artifacts dir.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::{
    path::{Path, PathBuf},
    process::{Command, Stdio},
    time::Duration,
};

use purse_e2e::{Driver, Session, app_binary, artifacts_dir, bin_dir, testbed::Testbed};

const WAIT: Duration = Duration::from_secs(30);

/// A data dir and keychain profile of the test's own; the profile's keys go with it.
struct Place {
    dir: PathBuf,
    profile: String,
}

impl Place {
    fn new() -> Self {
        let id = std::process::id();
        let dir = std::env::temp_dir().join(format!("purse-app-e2e-{id}"));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Self { dir, profile: format!("e2e-app-{id}") }
    }

    fn purse(&self, args: &[&str]) -> std::process::Output {
        Command::new(bin_dir().unwrap().join("purse"))
            .args(args)
            .env("PURSE_DATA_DIR", &self.dir)
            .env("PURSE_PROFILE", &self.profile)
            .stdin(Stdio::null())
            .output()
            .unwrap()
    }
}

impl Drop for Place {
    fn drop(&mut self) {
        let listed = self.purse(&["account", "list", "--json"]).stdout;
        if let Ok(serde_json::Value::Array(accounts)) = serde_json::from_slice(&listed) {
            for account in accounts {
                if let Some(address) = account["address"].as_str() {
                    let _ = self.purse(&["account", "remove", address, "--yes"]);
                }
            }
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn shot(session: &Session, dir: &Path, name: &str) {
    session.screenshot(&dir.join(format!("{name}.png"))).unwrap();
}

fn text_of(session: &Session, css: &str) -> Option<String> {
    session.text(css).ok().filter(|t| !t.trim().is_empty())
}

#[test]
#[ignore = "needs a display, tauri-driver, WebKitWebDriver, a keychain and the npm testbed: run through scripts/test"]
fn the_apps_proxy_pays_and_the_history_view_shows_the_payment() {
    let testbed = Testbed::start().unwrap();
    let place = Place::new();
    let key_file = place.dir.join("key.txt");
    std::fs::write(&key_file, &testbed.payer_key).unwrap();
    let out = place.purse(&["account", "import", "--private-key-file", key_file.to_str().unwrap()]);
    assert!(out.status.success(), "import: {}", String::from_utf8_lossy(&out.stderr));
    std::fs::remove_file(&key_file).unwrap();
    std::fs::write(
        place.dir.join("config.toml"),
        format!(
            "[proxy]\nupstream_ca = {:?}\n\n[rpc]\n\"eip155:84532\" = {:?}\n",
            testbed.ca_pem.display().to_string(),
            testbed.rpc_url
        ),
    )
    .unwrap();
    let shots = artifacts_dir().unwrap().join("screenshots");

    let driver = Driver::start_with_env(&[
        ("PURSE_DATA_DIR", place.dir.to_str().unwrap()),
        ("PURSE_PROFILE", &place.profile),
        ("PURSE_LISTEN", "127.0.0.1:0"),
        ("PURSE_POPUP_DELAY_MS", "4000"),
    ])
    .unwrap();
    let session = driver.session(&app_binary().unwrap(), &[]).unwrap();

    // The dashboard shows where the app's proxy listens (port 0 picked one).
    let address = session
        .wait_for(WAIT, |s| text_of(s, "#proxy-address"))
        .unwrap_or_else(|| panic!("no proxy address: {:?}", session.text("#proxy-card")));
    let proxy = format!("http://{}", address.trim());

    // WebDriver and the popup: it is created hidden at start and shown later (here by
    // PURSE_POPUP_DELAY_MS). Which windows does WebKitWebDriver list, and can it switch?
    let main = session.get("window").unwrap().as_str().unwrap().to_owned();
    let before = session.window_handles().unwrap();
    let shown = session
        .wait_for(WAIT, |s| s.window_handles().ok().filter(|h| h.len() > 1 || before.len() > 1));
    let handles = shown.clone().unwrap_or(before.clone());
    eprintln!(
        "window handles: {} at start, {} once the popup is shown",
        before.len(),
        handles.len()
    );
    let popup = handles.iter().find(|h| **h != main).cloned();
    let mut popup_reached = false;
    if let Some(popup) = &popup {
        session.switch_to_window(popup).unwrap();
        std::thread::sleep(Duration::from_secs(5));
        let title = session.title().unwrap_or_default();
        eprintln!("the popup's handle has the title {title:?}");
        popup_reached =
            session.wait_for(WAIT, |s| text_of(s, "[data-testid=empty], .error")).is_some();
        shot(&session, &shots, "popup");
        session.switch_to_window(&main).unwrap();
    }
    eprintln!("popup reachable by WebDriver: {popup_reached}");
    assert!(popup_reached, "WebDriver could not reach the popup window: handles {handles:?}");

    shot(&session, &shots, "dashboard");

    // curl pays the official v2 server through the app's proxy (the default policy
    // auto-approves $0.001 on a testnet).
    let before_paid = testbed.usdc_balance(&testbed.pay_to).unwrap();
    let out = Command::new("curl")
        .args(["-sS", "-o", "/dev/null", "-w", "%{http_code}", "--max-time", "60"])
        .args(["--proxy", &proxy, &format!("{}/weather", testbed.v2.http)])
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout), "200", "{}", testbed.logs());
    assert_eq!(testbed.usdc_balance(&testbed.pay_to).unwrap(), before_paid + 1_000);

    // The History view shows the row, paid.
    session.click("button[data-view=history]").unwrap();
    let row = session.wait_for(WAIT, |s| {
        text_of(s, "#history-table tbody tr[data-id]").filter(|t| {
            t.contains("0.001 USDC") && (t.contains("settled") || t.contains("confirmed"))
        })
    });
    assert!(row.is_some(), "no paid row in History: {:?}", session.text("#history-table"));
    session.click("#history-table tbody tr[data-id] td:nth-child(3)").unwrap();
    let detail = session.wait_for(WAIT, |s| text_of(s, "#payment-detail")).unwrap();
    assert!(detail.contains(&testbed.pay_to), "{detail}");
    shot(&session, &shots, "history");

    // The Setup view's test request goes through the proxy too.
    session.click("button[data-view=setup]").unwrap();
    session.wait_for(WAIT, |s| text_of(s, "#ca-trusted")).unwrap();
    session.fill("#test-url", &format!("{}/free", testbed.v2.http)).unwrap();
    session.click("#test-send").unwrap();
    let result = session.wait_for(WAIT, |s| text_of(s, "#test-result")).unwrap();
    assert!(result.starts_with("200 "), "{result}");
    shot(&session, &shots, "setup");

    session.click("button[data-view=accounts]").unwrap();
    let accounts = session.wait_for(WAIT, |s| text_of(s, "#accounts-table tbody")).unwrap();
    assert!(accounts.contains(&testbed.payer), "{accounts}");
    shot(&session, &shots, "accounts");

    session.click("button[data-view=settings]").unwrap();
    session.wait_for(WAIT, |s| s.element("#listen").ok().and_then(|_| text_of(s, "main p.muted")));
    shot(&session, &shots, "settings");

    session.click("button[data-view=dashboard]").unwrap();
    let today = session
        .wait_for(WAIT, |s| text_of(s, "#spend-today").filter(|t| t.contains("1 paid of 1")))
        .unwrap_or_else(|| panic!("{:?}", session.text("#spend-today")));
    assert!(today.contains("$0.001"), "{today}");
    shot(&session, &shots, "dashboard");
    eprintln!("screenshots in {}", shots.display());
}
