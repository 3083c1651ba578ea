//! Approvals through the real hook and a real purse.db (a keystore account, no sockets):
//! concurrent 402s share one prompt, an unanswered prompt times out, "always" becomes a
//! rule, "never" blocks the site, and with no prompt attached nothing waits.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::{
    path::{Path, PathBuf},
    sync::Arc,
    time::Duration,
};

use alloy::{primitives::B256, signers::local::PrivateKeySigner};
use base64::Engine as _;
use http::{HeaderMap, HeaderValue, Method, StatusCode};
use purse_api::{Answer, Event, Options, PayingHook, PolicyConfig, Wallet};
use purse_core::{money::Usd, policy::Payee, rules::Action};
use purse_keys::Secret;
use purse_proxy::{PaymentHook, RequestSnapshot, ResponseSnapshot, Verdict};
use purse_store::{KeyStorage, Store};

const USDC: &str = "0x036CbD53842c5426634e7929541eC2318f3dCF7e";

struct Bed {
    dir: PathBuf,
    wallet: Wallet,
}

impl Drop for Bed {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn bed(tag: &str, timeout_secs: u64) -> Bed {
    let dir = keystore_wallet(tag);
    Bed { wallet: Wallet::open(options(&dir, timeout_secs, "test")).unwrap(), dir }
}

/// A data dir whose default account is kept in a keystore, password "test".
fn keystore_wallet(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("purse-approvals-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let payer = PrivateKeySigner::from_bytes(&B256::repeat_byte(0x42)).unwrap();
    let keystore = dir.join("payer.json");
    purse_keys::write_keystore(&keystore, &payer, &Secret::new("test".into())).unwrap();
    let store = Store::open(&dir.join("purse.db")).unwrap();
    let storage = KeyStorage::Keystore(keystore.display().to_string());
    store.add_account(&payer.address().to_checksum(None), None, &storage, 0).unwrap();
    dir
}

fn options(dir: &Path, timeout_secs: u64, password: &str) -> Options {
    Options {
        data_dir: dir.to_owned(),
        profile: "approvals".into(),
        policy: PolicyConfig { prompt_timeout_secs: timeout_secs, ..PolicyConfig::default() },
        keystore_password: Some(Secret::new(password.into())),
        zone: purse_api::Zone::Fixed(0),
        chain: None,
    }
}

#[test]
fn the_keystore_is_opened_at_start_and_only_a_wrong_password_stops_it() {
    let dir = keystore_wallet("unlock");
    let error = Wallet::open(options(&dir, 1, "nope")).unwrap_err();
    assert!(error.to_string().ends_with("payer.json: wrong password"), "{error}");
    // A keystore not there (yet): the wallet opens, and its payments will say why not.
    std::fs::rename(dir.join("payer.json"), dir.join("elsewhere.json")).unwrap();
    assert!(Wallet::open(options(&dir, 1, "test")).is_ok());
    let _ = std::fs::remove_dir_all(&dir);
}

fn request(host: &str) -> RequestSnapshot {
    RequestSnapshot {
        client: "127.0.0.1:50000".parse().unwrap(),
        method: Method::GET,
        uri: format!("http://{host}:4021/report").parse().unwrap(),
        headers: HeaderMap::new(),
        body: Some(Default::default()),
    }
}

fn payment_required(host: &str, amount: &str, pay_to: &str) -> ResponseSnapshot {
    let object = serde_json::json!({
        "x402Version": 2,
        "resource": { "url": format!("http://{host}:4021/report") },
        "accepts": [{
            "scheme": "exact", "network": "eip155:84532", "amount": amount, "asset": USDC,
            "payTo": pay_to, "maxTimeoutSeconds": 60, "extra": { "name": "USDC", "version": "2" }
        }]
    });
    let mut headers = HeaderMap::new();
    let encoded = base64::engine::general_purpose::STANDARD.encode(object.to_string());
    headers.insert("payment-required", HeaderValue::from_str(&encoded).unwrap());
    ResponseSnapshot { status: StatusCode::PAYMENT_REQUIRED, headers, body: "{}".into() }
}

/// A rule allowing `host`, with no limits of its own.
fn allow(host: &str) -> purse_core::rules::Rule {
    purse_core::rules::Rule {
        id: 0,
        host: host.into(),
        path_prefix: None,
        network: None,
        asset: None,
        pay_to: None,
        action: Action::Allow,
        limits: Default::default(),
    }
}

const PAY_TO: &str = "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC";

fn reason(verdict: &Verdict) -> String {
    match verdict {
        Verdict::PassThrough { headers } => {
            headers.get("x-purse-reason").unwrap().to_str().unwrap().to_owned()
        }
        other => panic!("not refused: {other:?}"),
    }
}

async fn run(hook: &PayingHook, host: &'static str, amount: &'static str) -> Verdict {
    let request = request(host);
    let response = payment_required(host, amount, PAY_TO);
    hook.on_payment_required(&request, &response).await
}

async fn next_ask(events: &mut tokio::sync::broadcast::Receiver<Event>) -> purse_api::Pending {
    loop {
        if let Event::Asked(pending) = events.recv().await.unwrap() {
            return *pending;
        }
    }
}

#[tokio::test]
async fn with_no_prompt_nothing_waits() {
    let bed = bed("nobody", 60);
    let verdict = run(&bed.wallet.hook(), "127.0.0.1", "1000").await;
    assert!(
        reason(&verdict).starts_with("denied; no rule allows 127.0.0.1"),
        "{}",
        reason(&verdict)
    );
    let store = Store::open(&bed.dir.join("purse.db")).unwrap();
    assert_eq!(store.payment(1).unwrap().unwrap().decided_by.as_deref(), Some("policy"));
}

#[tokio::test]
async fn concurrent_402s_for_one_offer_share_one_prompt() {
    let bed = bed("coalesce", 60);
    let approvals = bed.wallet.approvals().clone();
    let _prompt = approvals.attach();
    let mut events = approvals.subscribe();
    let hook = Arc::new(bed.wallet.hook());
    let waiting: Vec<_> = (0..5)
        .map(|_| {
            let hook = hook.clone();
            tokio::spawn(async move { run(&hook, "127.0.0.1", "1000").await })
        })
        .collect();
    // Another offer (another amount) queues on its own prompt.
    let other = {
        let hook = hook.clone();
        tokio::spawn(async move { run(&hook, "127.0.0.1", "2000").await })
    };
    let mut asked = Vec::new();
    while asked.len() < 2 {
        if let Event::Asked(pending) = events.recv().await.unwrap() {
            asked.push(*pending);
        }
    }
    // Let every request join its prompt.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let pending = approvals.pending();
    assert_eq!(pending.len(), 2);
    let shared = pending.iter().find(|p| p.approval.amount == "1000").unwrap();
    assert_eq!(shared.waiting, 5);
    assert_eq!(shared.approval.usd, Some(Usd(1000)));
    assert_eq!(shared.approval.payee, Payee::New);
    assert_eq!(shared.approval.symbol.as_deref(), Some("USDC"));

    approvals.answer(shared.id, Answer::ApproveOnce, shared.waiting).unwrap();
    for task in waiting {
        assert!(matches!(task.await.unwrap(), Verdict::Resend { .. }));
    }
    let second = pending.iter().find(|p| p.approval.amount == "2000").unwrap();
    approvals.answer(second.id, Answer::DenyOnce, 1).unwrap();
    assert!(reason(&other.await.unwrap()).starts_with("denied; you declined"));
    assert!(approvals.answer(second.id, Answer::ApproveOnce, 1).is_err(), "answered once only");
}

#[tokio::test]
async fn an_approval_pays_only_the_requests_it_was_given_for() {
    let bed = bed("joined", 60);
    let approvals = bed.wallet.approvals().clone();
    let _prompt = approvals.attach();
    let mut events = approvals.subscribe();
    let hook = Arc::new(bed.wallet.hook());
    let spawn = || {
        let hook = hook.clone();
        tokio::spawn(async move { run(&hook, "127.0.0.1", "1000").await })
    };
    let first = spawn();
    let shown = next_ask(&mut events).await;
    assert_eq!(shown.waiting, 1);
    // Two more join after the prompt was shown with one: the prompt hears it.
    let (second, third) = (spawn(), spawn());
    for count in [2, 3] {
        loop {
            if let Event::Waiting(pending) = events.recv().await.unwrap() {
                assert_eq!((pending.id, pending.waiting), (shown.id, count));
                break;
            }
        }
    }
    // "Approve once", given for the one request shown, pays that one only.
    approvals.answer(shown.id, Answer::ApproveOnce, shown.waiting).unwrap();
    assert!(matches!(first.await.unwrap(), Verdict::Resend { .. }));
    let again = next_ask(&mut events).await;
    assert_eq!((again.id, again.waiting), (shown.id, 2));
    assert!(!second.is_finished() && !third.is_finished());
    // Denied, every request on it is refused.
    approvals.answer(again.id, Answer::DenyOnce, 1).unwrap();
    assert!(reason(&second.await.unwrap()).starts_with("denied; you declined"));
    assert!(reason(&third.await.unwrap()).starts_with("denied; you declined"));
    assert!(approvals.pending().is_empty());
    // One authorization signed, two refused.
    let store = Store::open(&bed.dir.join("purse.db")).unwrap();
    let rows = store.history(&purse_store::HistoryFilter::default()).unwrap();
    let signed = rows.iter().filter(|r| r.status == purse_store::Status::Signed).count();
    let refused = rows.iter().filter(|r| r.status == purse_store::Status::Refused).count();
    assert_eq!((signed, refused), (1, 2), "{rows:?}");
}

#[tokio::test]
async fn an_unanswered_prompt_times_out() {
    let bed = bed("timeout", 1);
    let _prompt = bed.wallet.approvals().attach();
    let verdict = run(&bed.wallet.hook(), "127.0.0.1", "1000").await;
    assert_eq!(reason(&verdict), "timeout; no answer within 1 s");
    assert!(bed.wallet.approvals().pending().is_empty());
    // Recorded as left to time out, not as the user's answer.
    let store = Store::open(&bed.dir.join("purse.db")).unwrap();
    let row = store.payment(1).unwrap().unwrap();
    assert_eq!(
        (row.decided_by.as_deref(), row.reason_code.as_deref()),
        (Some("timeout"), Some("timeout"))
    );
}

#[tokio::test]
async fn a_new_timeout_applies_to_the_next_prompt() {
    let bed = bed("retimed", 60);
    let approvals = bed.wallet.approvals().clone();
    let _prompt = approvals.attach();
    let mut events = approvals.subscribe();
    let hook = Arc::new(bed.wallet.hook());

    approvals.set_timeout(Duration::from_secs(1));
    assert_eq!(approvals.timeout(), Duration::from_secs(1));
    let first = {
        let hook = hook.clone();
        tokio::spawn(async move { run(&hook, "127.0.0.1", "1000").await })
    };
    let shown = next_ask(&mut events).await;
    assert!(shown.expires_at_ms - purse_api::now_ms() <= 1_000);
    // Changed while it waits: the prompt shown keeps its deadline.
    approvals.set_timeout(Duration::from_secs(60));
    assert_eq!(reason(&first.await.unwrap()), "timeout; no answer within 1 s");

    // The next prompt waits the new timeout.
    let second = {
        let hook = hook.clone();
        tokio::spawn(async move { run(&hook, "127.0.0.1", "1000").await })
    };
    let shown = next_ask(&mut events).await;
    assert!(shown.expires_at_ms - purse_api::now_ms() > 50_000);
    tokio::time::sleep(Duration::from_millis(1_200)).await;
    assert_eq!(approvals.pending().len(), 1, "still waiting after the old timeout");
    approvals.answer(shown.id, Answer::DenyOnce, 1).unwrap();
    assert!(reason(&second.await.unwrap()).starts_with("denied; you declined"));
}

#[test]
fn saved_settings_set_the_running_wallets_timeout() {
    let bed = bed("saved", 60);
    let place = purse_api::DataDir::resolve(Some(bed.dir.clone()), "approvals").unwrap();
    let edit = purse_api::SettingsEdit {
        prompt_timeout_secs: 15,
        ..purse_api::SettingsEdit::of(&place.config().unwrap())
    };
    purse_api::settings::save(&place, &edit, Some(&bed.wallet)).unwrap();
    assert_eq!(bed.wallet.approvals().timeout(), Duration::from_secs(15));
    // A refused save changes nothing.
    let wrong = purse_api::SettingsEdit { prompt_timeout_secs: 1, ..edit };
    assert!(purse_api::settings::save(&place, &wrong, Some(&bed.wallet)).is_err());
    assert_eq!(bed.wallet.approvals().timeout(), Duration::from_secs(15));
}

#[tokio::test]
async fn always_becomes_a_rule_and_never_blocks_the_site() {
    let bed = bed("remember", 60);
    let approvals = bed.wallet.approvals().clone();
    let _prompt = approvals.attach();
    let mut events = approvals.subscribe();
    let hook = Arc::new(bed.wallet.hook());

    let first = {
        let hook = hook.clone();
        tokio::spawn(async move { run(&hook, "127.0.0.1", "1000").await })
    };
    let pending = next_ask(&mut events).await;
    let answer = Answer::ApproveAlways { max_per_payment: Usd(5_000), daily: Usd(100_000) };
    approvals.answer(pending.id, answer, 1).unwrap();
    assert!(matches!(first.await.unwrap(), Verdict::Resend { .. }));
    // The next one is paid by the new rule, no prompt; one above its maximum is asked.
    assert!(matches!(run(&hook, "127.0.0.1", "1000").await, Verdict::Resend { .. }));
    let store = Store::open(&bed.dir.join("purse.db")).unwrap();
    let rules = store.rules().unwrap();
    assert_eq!(rules.len(), 1);
    assert_eq!((rules[0].host.as_str(), rules[0].action), ("127.0.0.1", Action::Allow));
    assert_eq!(rules[0].limits.max_per_payment, Some(Usd(5_000)));
    // For the network and asset approved only.
    assert_eq!(rules[0].network.as_deref(), Some(pending.approval.network.as_str()));
    assert_eq!(rules[0].asset.as_deref(), Some(pending.approval.asset.as_str()));

    let above = {
        let hook = hook.clone();
        tokio::spawn(async move { run(&hook, "127.0.0.1", "9000").await })
    };
    let pending = next_ask(&mut events).await;
    assert!(
        pending.approval.why.text.contains("per-payment maximum"),
        "{}",
        pending.approval.why.text
    );
    approvals.answer(pending.id, Answer::Block, 1).unwrap();
    assert!(reason(&above.await.unwrap()).starts_with("denied; you blocked 127.0.0.1"));
    // Blocked: refused without asking, however small, though the "always" rule that names
    // the network and asset is narrower.
    assert!(reason(&run(&hook, "127.0.0.1", "1").await).starts_with("denied; rule 2 denies"));
}

#[tokio::test]
async fn a_changed_payee_is_asked_even_under_an_allow_rule() {
    let bed = bed("payee", 60);
    let store = Store::open(&bed.dir.join("purse.db")).unwrap();
    store.add_rule(&allow("*"), 0).unwrap();
    let hook = bed.wallet.hook();
    let Verdict::Resend { ticket, .. } = run(&hook, "127.0.0.1", "1000").await else { panic!() };
    // The server settled it: 127.0.0.1 has paid PAY_TO.
    let settled = base64::engine::general_purpose::STANDARD.encode(
        r#"{"success":true,"transaction":"0xabababababababababababababababababababababababababababababababab","network":"eip155:84532"}"#,
    );
    let mut headers = HeaderMap::new();
    headers.insert("payment-response", HeaderValue::from_str(&settled).unwrap());
    hook.on_resent(&request("127.0.0.1"), ticket, Ok((StatusCode::OK, &headers))).await;

    let other_payee = "0x90F79bf6EB2c4f870365E785982E1f101E93b906";
    let response = payment_required("127.0.0.1", "1000", other_payee);
    let verdict = hook.on_payment_required(&request("127.0.0.1"), &response).await;
    assert!(reason(&verdict).contains("never paid before"), "{}", reason(&verdict));
}

#[tokio::test]
async fn a_keystore_account_pays_only_while_unlocked() {
    let dir = keystore_wallet("locked");
    // No --password-file: the keystore stays locked at start.
    let options = Options { keystore_password: None, ..options(&dir, 60, "") };
    let bed = Bed { wallet: Wallet::open(options).unwrap(), dir: dir.clone() };
    let wallet = &bed.wallet;
    let store = Store::open(&dir.join("purse.db")).unwrap();
    store.add_rule(&allow("127.0.0.1"), 0).unwrap();
    let account = store.default_account().unwrap().unwrap();
    let hook = wallet.hook();
    // Locked: refused, saying how to unlock it.
    assert!(wallet.is_locked(&account));
    let refused = reason(&run(&hook, "127.0.0.1", "1000").await);
    assert!(refused.contains("locked: unlock it in the app's Accounts"), "{refused}");
    // A wrong password leaves it locked.
    let wrong = wallet.unlock(&account.address, &Secret::new("nope".into())).unwrap_err();
    assert_eq!(wrong.code(), "account");
    assert!(wrong.to_string().ends_with("payer.json: wrong password"), "{wrong}");
    assert!(wallet.is_locked(&account));
    // Unlocked, it pays; locked again, it is refused again.
    wallet.unlock(&account.address, &Secret::new("test".into())).unwrap();
    assert!(!wallet.is_locked(&account));
    assert!(matches!(run(&hook, "127.0.0.1", "1000").await, Verdict::Resend { .. }));
    wallet.lock(&account.address).unwrap();
    assert!(wallet.is_locked(&account));
    assert!(reason(&run(&hook, "127.0.0.1", "1000").await).contains("locked"));
    let listed = purse_api::accounts::listed(
        &purse_api::DataDir { data_dir: dir.clone(), profile: "approvals".into() },
        Some(wallet),
    )
    .unwrap();
    assert!(listed[0].locked);
}

#[test]
fn a_keychain_account_has_nothing_to_unlock() {
    let dir = keystore_wallet("keychain");
    let store = Store::open(&dir.join("purse.db")).unwrap();
    let other = "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC";
    store.add_account(other, None, &KeyStorage::Keychain, 0).unwrap();
    let wallet = Wallet::open(options(&dir, 60, "test")).unwrap();
    let refused = wallet.unlock(other, &Secret::new("test".into())).unwrap_err();
    assert!(refused.to_string().contains("is in the OS keychain"), "{refused}");
    assert!(wallet.lock(other).is_err());
    assert!(!wallet.is_locked(&store.account(other).unwrap().unwrap()));
    // The default account's keystore was opened at start with --password-file.
    assert!(!wallet.is_locked(&store.default_account().unwrap().unwrap()));
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn a_decision_waiting_for_purse_db_leaves_the_runtime_free() {
    let bed = bed("busy", 60);
    // Someone else (a `purse` command) holds purse.db's write lock.
    let other = rusqlite::Connection::open(bed.dir.join("purse.db")).unwrap();
    other.execute_batch("BEGIN IMMEDIATE").unwrap();
    let hook = Arc::new(bed.wallet.hook());
    let deciding = {
        let hook = hook.clone();
        tokio::spawn(async move { run(&hook, "127.0.0.1", "1000").await })
    };
    // This runtime has one thread, as the proxy's: it goes on serving while the decision
    // waits to write its row.
    for _ in 0..20 {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(!deciding.is_finished(), "the decision waits for the lock, off the runtime");
    other.execute_batch("COMMIT").unwrap();
    let verdict = deciding.await.unwrap();
    assert!(reason(&verdict).starts_with("denied; no rule allows"), "{}", reason(&verdict));
}

#[tokio::test]
async fn recording_a_paid_answer_waits_for_purse_db_off_the_runtime() {
    let bed = bed("busy-answer", 60);
    let store = Store::open(&bed.dir.join("purse.db")).unwrap();
    store.add_rule(&allow("127.0.0.1"), 0).unwrap();
    let hook = Arc::new(bed.wallet.hook());
    let Verdict::Resend { ticket, .. } = run(&hook, "127.0.0.1", "1000").await else { panic!() };
    let other = rusqlite::Connection::open(bed.dir.join("purse.db")).unwrap();
    other.execute_batch("BEGIN IMMEDIATE").unwrap();
    let recording = {
        let hook = hook.clone();
        tokio::spawn(async move {
            let settled = base64::engine::general_purpose::STANDARD.encode(
                r#"{"success":true,"transaction":"0xcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcd","network":"eip155:84532"}"#,
            );
            let mut headers = HeaderMap::new();
            headers.insert("payment-response", HeaderValue::from_str(&settled).unwrap());
            hook.on_resent(&request("127.0.0.1"), ticket, Ok((StatusCode::OK, &headers))).await;
        })
    };
    // The runtime (one thread, as the proxy's) goes on serving while the answer waits to
    // be written.
    for _ in 0..20 {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(!recording.is_finished(), "recording waits for the lock, off the runtime");
    other.execute_batch("COMMIT").unwrap();
    recording.await.unwrap();
    let row = store.payment(i64::try_from(ticket).unwrap()).unwrap().unwrap();
    assert_eq!(row.status, purse_store::Status::Settled);
}
