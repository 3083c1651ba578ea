//! The desktop app end to end: the real app (proxy and wallet in one process) with a data
//! dir and keychain profile of its own, the testbed payer's key imported with `purse` and
//! no rule: curl asks the official x402 server for a paid route through the app's proxy,
//! the approval popup appears, and WebDriver answers it (approve, deny, always for this
//! site); the payments are checked on chain and in the History view. Screenshots of every
//! window land in the artifacts dir.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::{
    path::Path,
    process::Command,
    thread::JoinHandle,
    time::{Duration, Instant},
};

use purse_e2e::{
    Driver, Place, Session, app_binary, artifacts_dir, close_window_titled, testbed::Testbed,
};

const WAIT: Duration = Duration::from_secs(30);

fn shot(session: &Session, dir: &Path, name: &str) {
    session.screenshot(&dir.join(format!("{name}.png"))).unwrap();
}

fn text_of(session: &Session, css: &str) -> Option<String> {
    session.text(css).ok().filter(|t| !t.trim().is_empty())
}

/// What curl got: the status and the `X-Purse-Reason` header, if any.
#[derive(Debug)]
struct Got {
    status: String,
    reason: Option<String>,
}

/// GETs `url` through the proxy with curl, on a thread (the request waits on the popup).
fn curl(proxy: &str, url: &str, max_secs: u32) -> JoinHandle<Got> {
    let (proxy, url) = (proxy.to_owned(), url.to_owned());
    std::thread::spawn(move || {
        let out = Command::new("curl")
            .args(["-sS", "-o", "/dev/null", "-D", "-", "-w", "%{http_code}"])
            .args(["--max-time", &max_secs.to_string(), "--proxy", &proxy, &url])
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        let status = text.lines().last().unwrap_or_default().trim().to_owned();
        let reason = text
            .lines()
            .find_map(|l| l.strip_prefix("x-purse-reason:").or(l.strip_prefix("X-Purse-Reason:")))
            .map(|r| r.trim().to_owned());
        Got { status, reason }
    })
}

/// Whether the first element matching `css` is enabled.
fn enabled(session: &Session, css: &str) -> bool {
    session
        .element(css)
        .and_then(|id| session.get(&format!("element/{id}/enabled")))
        .is_ok_and(|v| v.as_bool() == Some(true))
}

/// What `script` returns in the current window's page, if it is a string.
fn script_text(session: &Session, script: &str) -> Option<String> {
    session.execute(script, serde_json::json!([])).ok()?.as_str().map(str::to_owned)
}

/// The current window's `document.visibilityState`.
fn visibility(session: &Session) -> String {
    script_text(session, "return document.visibilityState;").unwrap_or_default()
}

/// The id of the payment the popup shows, if it shows one.
fn shown_prompt(session: &Session) -> Option<String> {
    // Only a popup on screen counts: a hidden one's page still answers WebDriver.
    let script = "const a = document.querySelector('article.approval');
        return a && document.visibilityState === 'visible' ? a.dataset.id : null;";
    script_text(session, script)
}

/// Switches to the popup once it shows a payment other than `after`; returns its id.
fn reach_popup(session: &Session, main: &str, after: Option<&str>) -> String {
    let found = session.wait_for(WAIT, |s| {
        for handle in s.window_handles().ok()?.iter().filter(|h| *h != main) {
            s.switch_to_window(handle).ok()?;
            if let Some(id) = shown_prompt(s).filter(|id| Some(id.as_str()) != after) {
                return Some(id);
            }
        }
        s.switch_to_window(main).ok()?;
        None
    });
    found.unwrap_or_else(|| {
        panic!("no popup with a payment: handles {:?}", session.window_handles())
    })
}

/// Waits for a button of the popup to be armed (approve buttons wait, against
/// click-jacking), then clicks it.
fn click_armed(session: &Session, css: &str) {
    let armed = session.wait_for(WAIT, |s| enabled(s, css).then_some(()));
    assert!(armed.is_some(), "{css} never became enabled");
    session.click(css).unwrap();
}

#[test]
#[ignore = "needs a display, tauri-driver, WebKitWebDriver, a keychain and the npm testbed: run through scripts/test"]
fn the_popup_approves_denies_and_remembers_and_the_history_view_shows_it() {
    let testbed = Testbed::start().unwrap();
    let place = Place::new("app").unwrap();
    let key_file = place.dir.join("key.txt");
    std::fs::write(&key_file, &testbed.payer_key).unwrap();
    let out = place
        .purse(&["account", "import", "--private-key-file", key_file.to_str().unwrap()])
        .unwrap();
    assert!(out.status.success(), "import: {}", String::from_utf8_lossy(&out.stderr));
    std::fs::remove_file(&key_file).unwrap();
    // A second account, its key in a keystore file (as on a host without a keychain).
    let (spare, spare_password) = (place.dir.join("spare.json"), place.dir.join("spare.txt"));
    std::fs::write(&spare_password, "spare keystore password").unwrap();
    let out = place
        .purse(&[
            "account",
            "new",
            "--keystore",
            spare.to_str().unwrap(),
            "--password-file",
            spare_password.to_str().unwrap(),
        ])
        .unwrap();
    assert!(out.status.success(), "new: {}", String::from_utf8_lossy(&out.stderr));
    // No rule: every payment asks. A prompt waits 40 s at most.
    std::fs::write(
        place.dir.join("config.toml"),
        format!(
            "[proxy]\nupstream_ca = {:?}\n\n[policy]\nprompt_timeout_secs = 40\n\n[rpc]\n\"eip155:84532\" = {:?}\n",
            testbed.ca_pem.display().to_string(),
            testbed.rpc_url
        ),
    )
    .unwrap();
    let shots = artifacts_dir().unwrap().join("screenshots");
    // A downloads folder of the test's own, where exports go.
    let (config, downloads) = (place.dir.join("xdg-config"), place.dir.join("Downloads"));
    std::fs::create_dir_all(&config).unwrap();
    std::fs::create_dir_all(&downloads).unwrap();
    let user_dirs = format!("XDG_DOWNLOAD_DIR={:?}\n", downloads.display().to_string());
    std::fs::write(config.join("user-dirs.dirs"), user_dirs).unwrap();

    let driver = Driver::start_with_env(&[
        ("PURSE_DATA_DIR", place.dir.to_str().unwrap()),
        ("PURSE_PROFILE", &place.profile),
        ("PURSE_LISTEN", "127.0.0.1:0"),
        ("XDG_CONFIG_HOME", config.to_str().unwrap()),
    ])
    .unwrap();
    let session = driver.session(&app_binary().unwrap(), &[]).unwrap();

    // The dashboard shows where the app's proxy listens (port 0 picked one).
    let address = session
        .wait_for(WAIT, |s| text_of(s, "#proxy-address"))
        .unwrap_or_else(|| panic!("no proxy address: {:?}", session.text("#proxy-card")));
    let proxy = format!("http://{}", address.trim());
    let main = session.get("window").unwrap().as_str().unwrap().to_owned();
    eprintln!("window handles at start: {:?}", session.window_handles().unwrap());
    let weather = format!("{}/weather", testbed.v2.http);
    let paid_to = || testbed.usdc_balance(&testbed.pay_to).unwrap();

    // 1. Approve once: the popup shows the payment; the request completes paid.
    let before = paid_to();
    let asked = Instant::now();
    let request = curl(&proxy, &weather, 60);
    let first = reach_popup(&session, &main, None);
    eprintln!(
        "popup showing the payment seen by WebDriver {:?} after curl started",
        asked.elapsed()
    );
    let usd = session.text("[data-testid=usd]").unwrap();
    assert_eq!(usd, "$0.001");
    assert!(session.text("[data-testid=atomic]").unwrap().starts_with("1000 atomic USDC"));
    assert!(text_of(&session, "[data-testid=payto-flag]").unwrap().contains("new payee"));
    // The paying account's balance, read on the testbed's chain.
    let held = session.wait_for(WAIT, |s| {
        text_of(s, "[data-testid=balance]").filter(|t| t.contains("holds") && t.contains("USDC"))
    });
    assert!(held.is_some(), "{:?}", session.text("[data-testid=balance]"));
    let armed = session.wait_for(WAIT, |s| enabled(s, "[data-testid=approve]").then_some(()));
    assert!(armed.is_some(), "approve never became enabled");
    shot(&session, &shots, "popup");
    click_armed(&session, "[data-testid=approve]");
    let got = request.join().unwrap();
    assert_eq!(got.status, "200", "{got:?}\n{}", testbed.logs());
    assert_eq!(paid_to(), before + 1_000);

    // The History view shows the row, paid.
    session.switch_to_window(&main).unwrap();
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

    // 2. Deny: the client gets the 402 with the reason, and nothing is paid.
    let before = paid_to();
    let request = curl(&proxy, &weather, 60);
    let second = reach_popup(&session, &main, Some(&first));
    click_armed(&session, "[data-testid=deny]");
    let got = request.join().unwrap();
    assert_eq!(got.status, "402", "{got:?}");
    let reason = got.reason.unwrap_or_default();
    assert!(reason.starts_with("denied; "), "X-Purse-Reason: {reason:?}");
    assert_eq!(paid_to(), before);

    // 3. Always for this site: paid now, and a rule pays the next one without asking.
    let before = paid_to();
    let request = curl(&proxy, &weather, 60);
    let _third = reach_popup(&session, &main, Some(&second));
    click_armed(&session, "[data-testid=always]");
    click_armed(&session, "[data-testid=always-confirm]");
    let got = request.join().unwrap();
    assert_eq!(got.status, "200", "{got:?}");
    assert_eq!(paid_to(), before + 1_000);
    session.switch_to_window(&main).unwrap();
    let rules = place.purse(&["rules", "list", "--json"]).unwrap();
    let rules = String::from_utf8_lossy(&rules.stdout);
    assert!(rules.contains("\"allow\""), "no allow rule: {rules}");
    // Nobody answers now: had it asked, curl would wait out the 40 s prompt and fail.
    let started = Instant::now();
    let got = curl(&proxy, &weather, 30).join().unwrap();
    assert_eq!(got.status, "200", "{got:?}");
    assert!(started.elapsed() < Duration::from_secs(20), "{:?}", started.elapsed());
    assert_eq!(paid_to(), before + 2_000);
    let queue = session.wait_for(WAIT, |s| {
        s.switch_to_window(&main).ok()?;
        let handles = s.window_handles().ok()?;
        let popup = handles.iter().find(|h| **h != main)?;
        s.switch_to_window(popup).ok()?;
        let empty = text_of(s, "[data-testid=empty]").filter(|_| visibility(s) == "hidden");
        s.switch_to_window(&main).ok()?;
        empty
    });
    assert!(queue.is_some(), "the popup still shows a payment, or is still on screen");

    // The Rules view lists the remembered rule with its budget's use today.
    session.click("button[data-view=rules]").unwrap();
    let rule = session
        .wait_for(WAIT, |s| text_of(s, "#rules-table tbody tr[data-id]"))
        .unwrap_or_else(|| panic!("no rule listed: {:?}", session.text("main")));
    let host = testbed.v2.http.trim_start_matches("http://").split(':').next().unwrap();
    assert!(rule.contains(host) && rule.contains("allow"), "{rule}");
    assert!(rule.contains("today $0.00") && rule.contains("testnet of $1.00"), "{rule}");
    shot(&session, &shots, "rules");

    // Pause on the Dashboard: the 402 passes through unpaid, with the reason; then resume.
    session.click("button[data-view=dashboard]").unwrap();
    session.wait_for(WAIT, |s| s.element("#pause-switch").ok()).unwrap();
    session.click("#pause-switch").unwrap();
    session.wait_for(WAIT, |s| text_of(s, "#nav-proxy").filter(|t| t.contains("Paused"))).unwrap();
    let before = paid_to();
    let got = curl(&proxy, &weather, 30).join().unwrap();
    assert_eq!(got.status, "402", "{got:?}");
    assert!(got.reason.as_deref().unwrap_or_default().starts_with("paused; "), "{got:?}");
    assert_eq!(paid_to(), before);
    session.click("#pause-switch").unwrap();
    session.wait_for(WAIT, |s| text_of(s, "#nav-proxy").filter(|t| t.contains("Active"))).unwrap();

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
    let held = session.wait_for(WAIT, |s| {
        text_of(s, "[data-testid=account-balances]").filter(|t| t.contains("USDC"))
    });
    assert!(held.is_some(), "{:?}", session.text("#accounts-table"));
    shot(&session, &shots, "accounts");
    // Its key exports to an encrypted keystore, into the downloads folder by default.
    session.click("#accounts-table button.export").unwrap();
    session.fill("#export-password", "a long export password").unwrap();
    session.fill("#export-again", "a long export password").unwrap();
    session.click("#export-keystore").unwrap();
    let wrote = session.wait_for(WAIT, |s| text_of(s, "#accounts-message"));
    let keystore = downloads.join(format!("purse-{}.json", testbed.payer));
    assert_eq!(
        wrote.as_deref(),
        Some(format!("Wrote {} (encrypted)", keystore.display()).as_str()),
        "{:?}",
        session.text("#accounts-error")
    );
    let file: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&keystore).unwrap()).unwrap();
    assert_eq!(file["version"], 3, "{file}");
    assert!(!std::fs::read_to_string(&keystore).unwrap().contains(&testbed.payer_key[2..]));
    // A keystore imports; this one holds the account already, which the view says.
    session.click("#import-keystore").unwrap();
    // "Choose…" opens the system's file dialog, titled; closing it leaves the field as is.
    session.click("#choose-keystore").unwrap();
    let dialog =
        session.wait_for(WAIT, |_| close_window_titled("Import a keystore").ok()?.then_some(()));
    assert!(dialog.is_some(), "no file dialog");
    let path = session.wait_for(WAIT, |s| {
        script_text(s, "return document.querySelector('#choose-keystore').disabled ? null : document.querySelector('#keystore-path').value")
    });
    assert_eq!(path.as_deref(), Some(""));
    session.fill("#keystore-path", keystore.to_str().unwrap()).unwrap();
    session.fill("#keystore-password", "a long export password").unwrap();
    session.click("#keystore-import").unwrap();
    let refused = session.wait_for(WAIT, |s| text_of(s, "#accounts-error")).unwrap();
    assert!(refused.contains(&format!("account {} is already there", testbed.payer)), "{refused}");
    // The keystore account is locked until its password is given, and locks again.
    let kept = |s: &Session| {
        script_text(
            s,
            "return [...document.querySelectorAll('[data-testid=key-kept]')].map((e) => e.innerText.trim()).find((t) => t.includes('spare.json')) ?? null",
        )
    };
    assert!(kept(&session).unwrap().starts_with("keystore locked"), "{:?}", kept(&session));
    session.click("#accounts-table button.unlock").unwrap();
    session.fill("#unlock-password", "not it").unwrap();
    session.click("#unlock-keystore").unwrap();
    let wrong = session.wait_for(WAIT, |s| {
        text_of(s, "#accounts-error").filter(|t| t.ends_with("spare.json: wrong password"))
    });
    assert!(wrong.is_some(), "{:?}", session.text("#accounts-error"));
    session.fill("#unlock-password", "spare keystore password").unwrap();
    session.click("#unlock-keystore").unwrap();
    let unlocked =
        session.wait_for(WAIT, |s| kept(s).filter(|t| t.starts_with("keystore unlocked")));
    assert!(unlocked.is_some(), "{:?}", session.text("#accounts-error"));
    session.click("#accounts-table button.lock").unwrap();
    let locked = session.wait_for(WAIT, |s| kept(s).filter(|t| t.starts_with("keystore locked")));
    assert!(locked.is_some(), "{:?}", kept(&session));

    session.click("button[data-view=settings]").unwrap();
    session.wait_for(WAIT, |s| s.element("#listen").ok().and_then(|_| text_of(s, "main p.muted")));
    let timeout = script_text(&session, "return document.querySelector('#prompt-timeout').value");
    assert_eq!(timeout.as_deref(), Some("40"));
    shot(&session, &shots, "settings");

    session.click("button[data-view=dashboard]").unwrap();
    let today = session
        .wait_for(WAIT, |s| text_of(s, "#spend-today").filter(|t| t.contains("3 paid")))
        .unwrap_or_else(|| panic!("{:?}", session.text("#spend-today")));
    assert!(today.contains("$0.003"), "{today}");
    // Against the global daily cap (config.toml's default, $1): testnets are counted apart.
    assert!(today.contains("$1.00 left of the $1.00 cap"), "{today}");
    assert!(today.contains("($0.997 left)"), "{today}");
    shot(&session, &shots, "dashboard");
    // A recent payment opens in History, with its details.
    session.click("#view table.payments tbody tr[data-id] td:nth-child(3)").unwrap();
    let detail = session.wait_for(WAIT, |s| text_of(s, "#payment-detail")).unwrap();
    assert!(detail.contains(&testbed.pay_to), "{detail}");
    session.click("button[data-view=dashboard]").unwrap();
    eprintln!("screenshots in {}", shots.display());

    // Closing the main window lets it go, not the wallet: the proxy still pays by the rule,
    // and launching the app again (one instance per profile) makes a new main window.
    assert!(close_window_titled("Purse").unwrap(), "no window titled Purse");
    let gone = session
        .wait_for(WAIT, |s| s.window_handles().ok().filter(|handles| !handles.contains(&main)));
    assert!(gone.is_some(), "the main window is still there");
    let before = paid_to();
    let got = curl(&proxy, &weather, 30).join().unwrap();
    assert_eq!(got.status, "200", "{got:?}");
    assert_eq!(paid_to(), before + 1_000);
    let mut second = Command::new(app_binary().unwrap())
        .env("PURSE_DATA_DIR", &place.dir)
        .env("PURSE_PROFILE", &place.profile)
        .env("PURSE_LISTEN", "127.0.0.1:0")
        .spawn()
        .unwrap();
    let handed_over = session.wait_for(WAIT, |_| second.try_wait().ok().flatten());
    if handed_over.is_none() {
        let _ = second.kill();
    }
    assert!(handed_over.is_some_and(|s| s.success()), "a second app ran: {handed_over:?}");
    let reopened = session.wait_for(WAIT, |s| {
        s.window_handles().ok()?.into_iter().find(|handle| {
            s.switch_to_window(handle).is_ok() && s.element("button[data-view=dashboard]").is_ok()
        })
    });
    let main = reopened.filter(|handle| *handle != main).expect("no new main window");

    // A popup nothing needed for a minute is let go, and the next payment that asks (the
    // rule removed) makes it again; denied, nothing is paid.
    let let_go = session.wait_for(Duration::from_secs(90), |s| {
        s.window_handles().ok().filter(|handles| handles.len() == 1)
    });
    assert_eq!(let_go, Some(vec![main.clone()]), "the hidden popup was not let go");
    let out = place.purse(&["rules", "remove", "1"]).unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let before = paid_to();
    let request = curl(&proxy, &weather, 60);
    reach_popup(&session, &main, None);
    click_armed(&session, "[data-testid=deny]");
    assert_eq!(request.join().unwrap().status, "402");
    assert_eq!(paid_to(), before);
}
