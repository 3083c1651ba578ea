//! Paying end to end: `purse proxy` with an account in the OS keychain, in front of the
//! official x402 servers and facilitator on a local chain (`purse_e2e::testbed`), used by
//! curl and by headless Chromium.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::{
    io::{BufRead as _, BufReader},
    path::{Path, PathBuf},
    process::{Child, Command, Output, Stdio},
    sync::atomic::{AtomicU32, Ordering},
    time::{Duration, Instant},
};

use purse_e2e::{bin_dir, testbed::Testbed};
use serde_json::Value;

/// A data dir and a keychain profile of the test's own.
struct Wallet {
    dir: PathBuf,
    profile: String,
}

static WALLETS: AtomicU32 = AtomicU32::new(0);

impl Wallet {
    /// A fresh wallet whose default account is `key`, kept in the keychain.
    fn with_key(tag: &str, key: &str) -> Self {
        let n = WALLETS.fetch_add(1, Ordering::Relaxed);
        let id = format!("{tag}-{}-{n}", std::process::id());
        let dir = std::env::temp_dir().join(format!("purse-pay-{id}"));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let wallet = Self { dir, profile: format!("e2e-{id}") };
        let key_file = wallet.dir.join("key.txt");
        std::fs::write(&key_file, key).unwrap();
        let out = wallet.run(&["account", "import", "--private-key-file", &path(&key_file)]);
        assert!(out.status.success(), "import: {}", String::from_utf8_lossy(&out.stderr));
        std::fs::remove_file(&key_file).unwrap();
        // Every site, up to $0.10 a payment, without asking.
        let out = wallet.run(&["rules", "add", "*", "--allow", "--max", "0.10"]);
        assert!(out.status.success(), "rules add: {}", String::from_utf8_lossy(&out.stderr));
        wallet
    }

    fn data_dir(&self) -> PathBuf {
        self.dir.join("data")
    }

    fn purse(&self, args: &[&str]) -> Command {
        let mut command = Command::new(bin_dir().unwrap().join("purse"));
        command
            .args(args)
            .env("PURSE_DATA_DIR", self.data_dir())
            .env("PURSE_PROFILE", &self.profile)
            .env("PURSE_LOG", "info");
        command
    }

    fn run(&self, args: &[&str]) -> Output {
        self.purse(args).stdin(Stdio::null()).output().unwrap()
    }

    /// `purse history --json`.
    fn history(&self) -> Vec<Value> {
        let out = self.run(&["history", "--json"]);
        assert!(out.status.success(), "history: {}", String::from_utf8_lossy(&out.stderr));
        serde_json::from_slice::<Value>(&out.stdout).unwrap().as_array().unwrap().clone()
    }
}

impl Drop for Wallet {
    fn drop(&mut self) {
        // The keychain entries of the test profile go with it.
        if let Some(accounts) =
            serde_json::from_slice::<Value>(&self.run(&["account", "list", "--json"]).stdout)
                .ok()
                .and_then(|v| v.as_array().cloned())
        {
            for account in accounts {
                if let Some(address) = account["address"].as_str() {
                    let _ = self.run(&["account", "remove", address, "--yes"]);
                }
            }
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn path(p: &Path) -> String {
    p.display().to_string()
}

/// `purse proxy` in front of the testbed, stopped on drop.
struct Proxy {
    child: Child,
    url: String,
    ca: PathBuf,
    /// The terminal prompt's input, with `--ask terminal`.
    answers: Option<std::process::ChildStdin>,
    log: PathBuf,
}

impl Proxy {
    fn start(wallet: &Wallet, testbed: &Testbed) -> Self {
        Self::start_asking(wallet, testbed, false)
    }

    /// With `terminal`, payments to approve are asked on the proxy's standard input.
    fn start_asking(wallet: &Wallet, testbed: &Testbed, terminal: bool) -> Self {
        let log = wallet.dir.join("proxy.log");
        let mut child = wallet
            .purse(&["proxy", "--listen", "127.0.0.1:0", "--upstream-ca", &path(&testbed.ca_pem)])
            .args(["--rpc", &format!("eip155:84532={}", testbed.rpc_url)])
            .args(if terminal { &["--ask", "terminal"][..] } else { &[] })
            .stdin(if terminal { Stdio::piped() } else { Stdio::null() })
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .unwrap();
        let answers = child.stdin.take();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
        let address = line.trim().strip_prefix("Purse proxy listening on http://");
        let Some(address) = address else {
            let log = std::fs::read_to_string(wallet.dir.join("proxy.log")).unwrap_or_default();
            panic!("purse proxy did not start: {line:?}\n{log}");
        };
        let ca = wallet.data_dir().join("ca.pem");
        Self { url: format!("http://{address}"), child, ca, answers, log }
    }

    /// Waits for the `n`th prompt on the terminal and answers it.
    fn answer(&mut self, n: usize, answer: &str) {
        use std::io::Write as _;
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let log = std::fs::read_to_string(&self.log).unwrap_or_default();
            if log.matches("[y]es/[n]o/[a]lways/ne[v]er").count() >= n {
                break;
            }
            assert!(Instant::now() < deadline, "no prompt {n}:\n{log}");
            std::thread::sleep(Duration::from_millis(50));
        }
        let answers = self.answers.as_mut().unwrap();
        writeln!(answers, "{answer}").unwrap();
        answers.flush().unwrap();
    }

    /// curl through the proxy, trusting the Purse CA: `(status, headers, body)`.
    fn curl(&self, args: &[&str]) -> (u16, String, Vec<u8>) {
        let out = Command::new("curl")
            .args(["-sS", "--suppress-connect-headers", "-D", "-", "-o", "-", "--max-time", "60"])
            .args(["--proxy", &self.url])
            .args(["--cacert", &path(&self.ca)])
            .args(args)
            .output()
            .unwrap();
        assert!(out.status.success(), "curl {args:?}: {}", String::from_utf8_lossy(&out.stderr));
        let split = out.stdout.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4;
        let head = String::from_utf8_lossy(&out.stdout[..split]).into_owned();
        let status = head.split_whitespace().nth(1).unwrap().parse().unwrap();
        (status, head, out.stdout[split..].to_vec())
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        let _ = Command::new("kill").args(["-TERM", &self.child.id().to_string()]).status();
        let deadline = Instant::now() + Duration::from_secs(10);
        while self.child.try_wait().ok().flatten().is_none() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn header<'a>(head: &'a str, name: &str) -> Option<&'a str> {
    head.lines().find_map(|line| {
        let (n, v) = line.split_once(':')?;
        n.trim().eq_ignore_ascii_case(name).then(|| v.trim())
    })
}

const PRICE: u128 = 1_000; // $0.001 in USDC's atomic units

#[test]
#[ignore = "needs the npm testbed and a keychain; scripts/test runs it"]
fn curl_pays_v1_and_v2_over_http_and_https_and_each_payment_is_in_the_history() {
    let testbed = Testbed::start().unwrap();
    let wallet = Wallet::with_key("curl", &testbed.payer_key);
    let proxy = Proxy::start(&wallet, &testbed);
    let before = testbed.usdc_balance(&testbed.pay_to).unwrap();

    let mut paid = 0;
    for (version, server) in [("v2", &testbed.v2), ("v1", &testbed.v1)] {
        for base in [&server.http, &server.https] {
            let (status, head, body) = proxy.curl(&[&format!("{base}/weather")]);
            assert_eq!(status, 200, "{version} {base}/weather: {head}");
            assert!(String::from_utf8_lossy(&body).contains("sunny"), "{version} {base}");
            let receipt = header(&head, "payment-response").or(header(&head, "x-payment-response"));
            assert!(receipt.is_some(), "{version} {base}: no settlement header in {head}");
            paid += 1;

            // A POST body arrives byte for byte, on the paid re-send too.
            let sent = "order=42&note=\u{fc}\u{1f4b8}&bytes=\\x00\\xff";
            let (status, head, echoed) = proxy.curl(&[
                "-X",
                "POST",
                "-H",
                "content-type: application/octet-stream",
                "--data-binary",
                sent,
                &format!("{base}/echo"),
            ]);
            assert_eq!(status, 200, "{version} {base}/echo: {head}");
            assert_eq!(echoed, sent.as_bytes(), "{version} {base}/echo");
            paid += 1;
        }
    }
    assert_eq!(testbed.usdc_balance(&testbed.pay_to).unwrap(), before + paid * PRICE);
    assert_eq!(
        testbed.usdc_balance(&testbed.payer).unwrap(),
        testbed.funded - paid * PRICE,
        "the payer paid exactly once per request"
    );

    // Each settlement is then found on chain: a Transfer of the price to payTo.
    let deadline = Instant::now() + Duration::from_secs(30);
    let history = loop {
        let history = wallet.history();
        if history.iter().all(|row| row["status"] == "confirmed") || Instant::now() > deadline {
            break history;
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    assert_eq!(history.len() as u128, paid);
    for row in &history {
        assert_eq!(row["status"], "confirmed", "{row}");
        assert!(row["tx_hash"].as_str().is_some_and(|t| t.len() == 66), "{row}");
        assert_eq!(row["amount"], "1000", "{row}");
        assert_eq!(row["payer"].as_str().unwrap(), testbed.payer, "{row}");
        assert_eq!(row["decided_by"], "rule 1", "{row}");
    }
}

#[test]
#[ignore = "needs the npm testbed and a keychain; scripts/test runs it"]
fn refusals_pay_nothing_and_a_second_402_is_not_paid_again() {
    let testbed = Testbed::start().unwrap();
    let wallet = Wallet::with_key("refuse", &testbed.payer_key);
    let proxy = Proxy::start(&wallet, &testbed);
    let before = testbed.usdc_balance(&testbed.pay_to).unwrap();

    // Above the $0.10 maximum: the server's 402, plus the reason.
    for server in [&testbed.v2, &testbed.v1] {
        let (status, head, _) = proxy.curl(&[&format!("{}/premium", server.https)]);
        assert_eq!(status, 402, "{head}");
        let reason = header(&head, "x-purse-reason").unwrap_or_default();
        assert!(reason.starts_with("over-limit; "), "{head}");
    }
    // A client that pays by itself is not paid for again.
    let (status, head, _) = proxy.curl(&[
        "-H",
        "PAYMENT-SIGNATURE: eyJ4NDAyVmVyc2lvbiI6Mn0=",
        &format!("{}/weather", testbed.v2.http),
    ]);
    assert_eq!(status, 402, "{head}");
    assert!(header(&head, "x-purse-reason").unwrap_or_default().starts_with("already-paid"));
    assert_eq!(testbed.usdc_balance(&testbed.pay_to).unwrap(), before);
    let history = wallet.history();
    assert_eq!(history.len(), 3);
    assert!(history.iter().all(|row| row["status"] == "refused" && row["nonce"].is_null()));

    // An account without USDC: the facilitator turns the payment down, the server answers
    // 402 again, and that 402 is what the client gets: nothing is signed twice. The server
    // holds the signed authorization until it expires, so the payment stays open (maybe
    // paid) until the chain shows it unused then.
    let broke = Wallet::with_key(
        "broke",
        "0x7c852118294e51e653712a81e05800f419141751be58f605c371e15141b007a6",
    );
    let proxy = Proxy::start(&broke, &testbed);
    let (status, head, _) = proxy.curl(&[&format!("{}/weather", testbed.v2.http)]);
    assert_eq!(status, 402, "{head}");
    let history = broke.history();
    assert_eq!(history.len(), 1, "{history:?}");
    assert_eq!(history[0]["status"], "unsure", "{history:?}");
    assert_eq!(history[0]["reason_code"], "payment-rejected", "{history:?}");
    assert_eq!(testbed.usdc_balance(&testbed.pay_to).unwrap(), before);
}

#[test]
#[ignore = "needs the npm testbed, a keychain, chromium and certutil; scripts/test runs it"]
fn chromium_through_the_proxy_loads_paid_pages_v1_paywall_included() {
    let testbed = Testbed::start().unwrap();
    let wallet = Wallet::with_key("chromium", &testbed.payer_key);
    let proxy = Proxy::start(&wallet, &testbed);
    let before = testbed.usdc_balance(&testbed.pay_to).unwrap();

    // A throwaway home whose NSS database trusts the Purse CA.
    let home = wallet.dir.join("home");
    let out = wallet
        .purse(&["ca", "install", "--nssdb", &format!("{}", home.join(".pki/nssdb").display())])
        .env("HOME", &home)
        .output()
        .unwrap();
    assert!(out.status.success(), "ca install: {}", String::from_utf8_lossy(&out.stderr));

    for server in [&testbed.v2, &testbed.v1] {
        let url = format!("{}/page", server.https);
        let out = Command::new("chromium")
            .env("HOME", &home)
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
                "--virtual-time-budget=10000",
            ])
            .arg(format!("--user-data-dir={}", home.join("profile").display()))
            .arg(format!("--proxy-server={}", proxy.url))
            .arg("--proxy-bypass-list=<-loopback>")
            .args(["--dump-dom", &url])
            .output()
            .expect("chromium is installed");
        let dom = String::from_utf8_lossy(&out.stdout);
        let title = dom.split("<title>").nth(1).and_then(|t| t.split("</title>").next());
        assert!(
            dom.contains("paid content"),
            "chromium did not get the paid page {url}: title {title:?}\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    assert_eq!(testbed.usdc_balance(&testbed.pay_to).unwrap(), before + 2 * PRICE);
}

#[test]
#[ignore = "needs the npm testbed and a keychain; scripts/test runs it"]
fn concurrent_payments_never_pass_the_budget_and_pause_stops_paying() {
    let testbed = Testbed::start().unwrap();
    let wallet = Wallet::with_key("budget", &testbed.payer_key);
    // $0.05 a day: 50 payments of $0.001.
    let out = wallet.run(&["budget", "--daily", "0.05"]);
    assert!(out.status.success(), "budget: {}", String::from_utf8_lossy(&out.stderr));
    let proxy = Proxy::start(&wallet, &testbed);
    let before = testbed.usdc_balance(&testbed.pay_to).unwrap();

    // 200 requests at once, over 200 connections.
    let url = format!("{}/weather", testbed.v2.http);
    let statuses: Vec<u16> = std::thread::scope(|scope| {
        let handles: Vec<_> =
            (0..200).map(|_| scope.spawn(|| proxy.curl(&[url.as_str()]).0)).collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let paid = statuses.iter().filter(|s| **s == 200).count();
    assert_eq!(paid, 50, "{statuses:?}");
    assert_eq!(statuses.iter().filter(|s| **s == 402).count(), 150);
    assert_eq!(testbed.usdc_balance(&testbed.pay_to).unwrap(), before + 50 * PRICE);
    let history = wallet.history();
    let refused = history.iter().filter(|r| r["status"] == "refused").count();
    assert_eq!(refused, 150);
    assert!(
        history.iter().filter(|r| r["status"] == "refused").all(|r| r["reason_code"] == "budget")
    );

    // A restart forgets nothing: the day's budget is spent.
    drop(proxy);
    let proxy = Proxy::start(&wallet, &testbed);
    let (status, head, _) = proxy.curl(&[&url]);
    assert_eq!(status, 402);
    assert!(header(&head, "x-purse-reason").unwrap_or_default().starts_with("budget; "), "{head}");

    // Paused: nothing is paid, whatever the rules; resumed: paid again (budget raised).
    assert!(wallet.run(&["budget", "--daily", "1.00"]).status.success());
    assert!(wallet.run(&["pause"]).status.success());
    let (status, head, _) = proxy.curl(&[&url]);
    assert_eq!(status, 402);
    assert!(header(&head, "x-purse-reason").unwrap_or_default().starts_with("paused; "), "{head}");
    assert!(wallet.run(&["resume"]).status.success());
    assert_eq!(proxy.curl(&[&url]).0, 200);
    assert_eq!(testbed.usdc_balance(&testbed.pay_to).unwrap(), before + 51 * PRICE);
}

#[test]
#[ignore = "needs the npm testbed and a keychain; scripts/test runs it"]
fn the_terminal_prompt_approves_declines_and_remembers() {
    let testbed = Testbed::start().unwrap();
    let wallet = Wallet::with_key("prompt", &testbed.payer_key);
    // No rules: every payment is asked.
    assert!(wallet.run(&["rules", "remove", "1"]).status.success());
    let mut proxy = Proxy::start_asking(&wallet, &testbed, true);
    let url = format!("{}/weather", testbed.v2.https);
    let before = testbed.usdc_balance(&testbed.pay_to).unwrap();

    let (proxy_url, ca) = (proxy.url.clone(), proxy.ca.clone());
    let outcomes: Vec<(u16, String)> = std::thread::scope(|scope| {
        let ask = |n: usize| {
            let (proxy_url, ca, url) = (proxy_url.clone(), ca.clone(), url.clone());
            let curl = scope.spawn(move || {
                let out = Command::new("curl")
                    .args(["-sS", "--suppress-connect-headers", "-D", "-", "-o", "/dev/null"])
                    .args(["--max-time", "60", "--proxy", &proxy_url, "--cacert", &path(&ca), &url])
                    .output()
                    .unwrap();
                String::from_utf8_lossy(&out.stdout).into_owned()
            });
            (n, curl)
        };
        let mut results = Vec::new();
        for (n, answer) in [(1, "y"), (2, "n"), (3, "always")] {
            let (n, curl) = ask(n);
            proxy.answer(n, answer);
            let head = curl.join().unwrap();
            let status = head.split_whitespace().nth(1).unwrap().parse().unwrap();
            results.push((status, head));
        }
        results
    });
    assert_eq!(outcomes[0].0, 200, "{}", outcomes[0].1);
    assert_eq!(outcomes[1].0, 402, "{}", outcomes[1].1);
    assert!(
        header(&outcomes[1].1, "x-purse-reason")
            .unwrap_or_default()
            .starts_with("denied; you declined")
    );
    assert_eq!(outcomes[2].0, 200, "{}", outcomes[2].1);
    // "always" left a rule: the next one is paid without a prompt.
    assert_eq!(proxy.curl(&[&url]).0, 200);
    assert_eq!(testbed.usdc_balance(&testbed.pay_to).unwrap(), before + 3 * PRICE);
    let rules = String::from_utf8(wallet.run(&["rules", "list"]).stdout).unwrap();
    assert!(rules.contains("allow  127.0.0.1"), "{rules}");
}
