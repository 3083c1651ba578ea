//! The payment flow through its ports: a pinned clock and nonce, a test key, and a history
//! kept in memory. The golden vectors' 402s are paid with the official client's bytes.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::{
    path::PathBuf,
    sync::{Arc, Mutex},
};

use alloy::{
    primitives::{Address, B256, Signature},
    signers::{SignerSync, local::PrivateKeySigner},
};
use http::{HeaderMap, HeaderValue, Uri};
use purse_core::{
    Reason,
    flow::{Decision, Payer, PaymentRequiredAnswer, Ports, Request, Settings},
    money::Usd,
    policy::FixedPolicy,
    ports::{Attempt, Clock, Fate, KeyError, Keys, Ledger, Nonces, Now, Outcome, Signer, Spent},
};
use serde_json::Value;

struct PinnedClock(Mutex<i64>);

impl Clock for PinnedClock {
    fn now(&self) -> Now {
        Now { unix_ms: *self.0.lock().unwrap(), utc_offset_secs: 0 }
    }
}

struct PinnedNonce(B256);

impl Nonces for PinnedNonce {
    fn nonce(&self) -> B256 {
        self.0
    }
}

struct TestKey(PrivateKeySigner);

impl Signer for TestKey {
    fn address(&self) -> Address {
        self.0.address()
    }
    fn sign_hash(&self, hash: &B256) -> Result<Signature, KeyError> {
        self.0.sign_hash_sync(hash).map_err(|e| KeyError::Unavailable(e.to_string()))
    }
}

struct TestKeys(Option<Arc<dyn Signer>>);

impl Keys for TestKeys {
    fn payer(&self) -> Result<Arc<dyn Signer>, KeyError> {
        self.0
            .clone()
            .ok_or_else(|| KeyError::NoAccount("no account: run purse account new".into()))
    }
}

#[derive(Default)]
struct Rows {
    rows: Vec<(Attempt, Fate, Option<Outcome>)>,
    broken: bool,
}

#[derive(Default)]
struct MemoryLedger(Mutex<Rows>);

impl Ledger for MemoryLedger {
    fn insert(&self, attempt: &Attempt, fate: Fate) -> Result<i64, String> {
        let mut rows = self.0.lock().unwrap();
        if rows.broken {
            return Err("database or disk is full".into());
        }
        rows.rows.push((attempt.clone(), fate, None));
        Ok(rows.rows.len() as i64)
    }
    fn finish(&self, id: i64, _at_ms: i64, outcome: &Outcome) -> Result<(), String> {
        let mut rows = self.0.lock().unwrap();
        let row = &mut rows.rows[id as usize - 1];
        row.1 = outcome.fate;
        row.2 = Some(outcome.clone());
        Ok(())
    }
    fn spent_since(&self, since_ms: i64) -> Result<Vec<Spent>, String> {
        let rows = self.0.lock().unwrap();
        Ok(rows
            .rows
            .iter()
            .filter(|(a, fate, _)| {
                a.at_ms >= since_ms && matches!(fate, Fate::Signed | Fate::Settled | Fate::Unsure)
            })
            .map(|(a, _, _)| Spent {
                network: a.network.clone().unwrap(),
                asset: a.asset.clone().unwrap(),
                amount: a.amount.clone().unwrap(),
            })
            .collect())
    }
}

struct Bed {
    payer: Payer,
    ledger: Arc<MemoryLedger>,
    clock: Arc<PinnedClock>,
}

fn bed(settings: Settings, key: Option<&str>, now_ms: i64, nonce: B256) -> Bed {
    let ledger = Arc::new(MemoryLedger::default());
    let clock = Arc::new(PinnedClock(Mutex::new(now_ms)));
    let keys: Option<Arc<dyn Signer>> =
        key.map(|k| Arc::new(TestKey(k.parse().unwrap())) as Arc<dyn Signer>);
    let ports = Ports {
        clock: clock.clone(),
        nonces: Arc::new(PinnedNonce(nonce)),
        keys: Arc::new(TestKeys(keys)),
        ledger: ledger.clone(),
    };
    Bed { payer: Payer::new(settings, ports), ledger, clock }
}

const KEY: &str = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80";

fn vector(name: &str) -> Value {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../x402/tests/data").join(name);
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

struct Exchange {
    uri: Uri,
    request_headers: HeaderMap,
    headers: HeaderMap,
    body: Vec<u8>,
}

fn exchange(vector: &Value) -> Exchange {
    let response = &vector["response_402"];
    let mut headers = HeaderMap::new();
    for (name, value) in response["headers"].as_object().unwrap() {
        headers.insert(
            http::HeaderName::from_bytes(name.as_bytes()).unwrap(),
            HeaderValue::from_str(value.as_str().unwrap()).unwrap(),
        );
    }
    Exchange {
        uri: vector["request"]["url"].as_str().unwrap().parse().unwrap(),
        request_headers: HeaderMap::new(),
        headers,
        body: response["body"].as_str().unwrap().as_bytes().to_vec(),
    }
}

fn decide(payer: &Payer, exchange: &Exchange) -> Decision {
    payer.decide(
        Request {
            client: Some("127.0.0.1:50000"),
            method: "GET",
            uri: &exchange.uri,
            headers: &exchange.request_headers,
            replayable: true,
        },
        PaymentRequiredAnswer { headers: &exchange.headers, body: &exchange.body },
    )
}

/// The case made by the `@x402/*` SDK (the legacy `x402-fetch` orders its keys otherwise).
fn sdk_case(vector: &Value) -> &Value {
    vector["cases"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| !c["case_id"].as_str().unwrap().starts_with("legacy"))
        .unwrap()
}

fn pinned(vector: &Value) -> (i64, B256) {
    let case = sdk_case(vector);
    (
        vector["pinned"]["now_ms"].as_i64().unwrap(),
        case["pinned_random_bytes"].as_str().unwrap().parse().unwrap(),
    )
}

#[test]
fn pays_with_the_official_clients_bytes_and_records_it() {
    for (file, header) in [
        ("v2-base-sepolia-usdc.json", "payment-signature"),
        ("v1-base-sepolia-usdc.json", "x-payment"),
    ] {
        let vector = vector(file);
        let (now_ms, nonce) = pinned(&vector);
        let bed = bed(Settings::default(), Some(KEY), now_ms, nonce);
        let Decision::Pay { name, value, ticket } = decide(&bed.payer, &exchange(&vector)) else {
            panic!("{file}: not paid");
        };
        let expected = &sdk_case(&vector)["retry_request"]["headers"][header];
        assert_eq!(name.to_ascii_lowercase(), header, "{file}");
        assert_eq!(value, expected.as_str().unwrap(), "{file}: byte for byte");

        let rows = bed.ledger.0.lock().unwrap();
        let (attempt, fate, _) = &rows.rows[ticket as usize - 1];
        assert_eq!(*fate, Fate::Signed);
        assert_eq!(attempt.payer.as_deref(), Some("0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"));
        assert_eq!(attempt.nonce.as_deref(), Some(format!("{nonce:#x}").as_str()));
        assert_eq!(attempt.decided_by.as_deref(), Some("policy"));
        assert_eq!(attempt.host, "api.example.com");
        assert!(attempt.payload_hash.as_deref().is_some_and(|h| h.len() == 66));
        // The header itself is never written down.
        assert!(!format!("{attempt:?}").contains(expected.as_str().unwrap()));
    }
}

#[test]
fn the_settlement_header_decides_what_is_recorded() {
    let vector = vector("v2-base-sepolia-usdc.json");
    let (now_ms, nonce) = pinned(&vector);
    let bed = bed(Settings::default(), Some(KEY), now_ms, nonce);
    let sample = &vector["cases"][0]["settlement_response_sample"];
    let mut settled = HeaderMap::new();
    settled.insert("payment-response", sample["header_value"].as_str().unwrap().parse().unwrap());

    let Decision::Pay { ticket, .. } = decide(&bed.payer, &exchange(&vector)) else { panic!() };
    let outcome = bed.payer.finish(ticket, Ok((200, &settled)));
    assert_eq!(outcome.fate, Fate::Settled);
    assert_eq!(outcome.tx_hash.as_deref(), Some(&*format!("0x{}", "ab".repeat(32))));

    let Decision::Pay { ticket, .. } = decide(&bed.payer, &exchange(&vector)) else { panic!() };
    let outcome = bed.payer.finish(ticket, Ok((402, &HeaderMap::new())));
    assert_eq!((outcome.fate, outcome.server_status), (Fate::Failed, Some(402)));

    let Decision::Pay { ticket, .. } = decide(&bed.payer, &exchange(&vector)) else { panic!() };
    assert_eq!(bed.payer.finish(ticket, Err("connection reset")).fate, Fate::Unsure);
    let Decision::Pay { ticket, .. } = decide(&bed.payer, &exchange(&vector)) else { panic!() };
    assert_eq!(bed.payer.finish(ticket, Ok((500, &HeaderMap::new()))).fate, Fate::Unsure);

    let rows = bed.ledger.0.lock().unwrap();
    let fates: Vec<Fate> = rows.rows.iter().map(|r| r.1).collect();
    assert_eq!(fates, [Fate::Settled, Fate::Failed, Fate::Unsure, Fate::Unsure]);
}

fn refused(decision: Decision) -> Reason {
    match decision {
        Decision::Refuse(refusal) => refusal.reason,
        other => panic!("not refused: {other:?}"),
    }
}

#[test]
fn the_daily_cap_counts_reservations_and_gives_back_failures() {
    // $0.01 a payment; a cap of $0.025 allows two.
    let vector = vector("v2-base-sepolia-usdc.json");
    let (now_ms, nonce) = pinned(&vector);
    let policy = FixedPolicy { daily_cap: Usd(25_000), ..FixedPolicy::default() };
    let bed = bed(Settings { policy, ..Settings::default() }, Some(KEY), now_ms, nonce);
    let ex = exchange(&vector);
    let Decision::Pay { ticket: first, .. } = decide(&bed.payer, &ex) else { panic!() };
    let Decision::Pay { .. } = decide(&bed.payer, &ex) else { panic!() };
    assert_eq!(refused(decide(&bed.payer, &ex)), Reason::Budget);
    // The first one failed: its money is free again.
    bed.payer.finish(first, Ok((402, &HeaderMap::new())));
    assert!(matches!(decide(&bed.payer, &ex), Decision::Pay { .. }));
    assert_eq!(refused(decide(&bed.payer, &ex)), Reason::Budget);

    // A new day: the budget is whole again, and yesterday's rows are not counted.
    *bed.clock.0.lock().unwrap() += 86_400_000;
    assert!(matches!(decide(&bed.payer, &ex), Decision::Pay { .. }));

    // A fresh payer (a restart) counts today's rows from the history.
    let restarted = Payer::new(
        Settings { policy, ..Settings::default() },
        Ports {
            clock: bed.clock.clone(),
            nonces: Arc::new(PinnedNonce(nonce)),
            keys: Arc::new(TestKeys(Some(Arc::new(TestKey(KEY.parse().unwrap()))))),
            ledger: bed.ledger.clone(),
        },
    );
    assert!(matches!(decide(&restarted, &ex), Decision::Pay { .. }));
    assert_eq!(refused(decide(&restarted, &ex)), Reason::Budget);
}

#[test]
fn refusals_are_recorded_with_their_codes_and_nothing_is_signed() {
    let vector = vector("v2-base-sepolia-usdc.json");
    let (now_ms, nonce) = pinned(&vector);

    let strict = FixedPolicy { max_per_payment: Usd(5_000), ..FixedPolicy::default() };
    let bed1 = bed(Settings { policy: strict, ..Settings::default() }, Some(KEY), now_ms, nonce);
    assert_eq!(refused(decide(&bed1.payer, &exchange(&vector))), Reason::OverLimit);
    let rows = bed1.ledger.0.lock().unwrap();
    let (attempt, fate, _) = &rows.rows[0];
    assert_eq!(*fate, Fate::Refused);
    assert_eq!(attempt.reason_code.as_deref(), Some("over-limit"));
    assert_eq!(attempt.amount.as_deref(), Some("10000"));
    assert_eq!(attempt.nonce, None);
    drop(rows);

    let no_key = bed(Settings::default(), None, now_ms, nonce);
    assert_eq!(refused(decide(&no_key.payer, &exchange(&vector))), Reason::NoAccount);

    let paid_already = bed(Settings::default(), Some(KEY), now_ms, nonce);
    let mut ex = exchange(&vector);
    ex.request_headers.insert("payment-signature", HeaderValue::from_static("eyJ4"));
    assert_eq!(refused(decide(&paid_already.payer, &ex)), Reason::AlreadyPaid);

    let big = bed(Settings::default(), Some(KEY), now_ms, nonce);
    let ex = exchange(&vector);
    let decision = big.payer.decide(
        Request {
            client: None,
            method: "POST",
            uri: &ex.uri,
            headers: &ex.request_headers,
            replayable: false,
        },
        PaymentRequiredAnswer { headers: &ex.headers, body: &ex.body },
    );
    assert_eq!(refused(decision), Reason::NotReplayable);

    let elsewhere = bed(Settings::default(), Some(KEY), now_ms, nonce);
    let mut ex = exchange(&vector);
    ex.uri = "https://other.example.com/premium-data".parse().unwrap();
    assert_eq!(refused(decide(&elsewhere.payer, &ex)), Reason::ResourceMismatch);

    let broken = bed(Settings::default(), Some(KEY), now_ms, nonce);
    broken.ledger.0.lock().unwrap().broken = true;
    assert_eq!(refused(decide(&broken.payer, &exchange(&vector))), Reason::History);

    let mainnet = vector_file_decision("v2-base-mainnet-usdc.json");
    assert_eq!(refused(mainnet), Reason::Denied);
}

fn vector_file_decision(file: &str) -> Decision {
    let vector = vector(file);
    let (now_ms, nonce) = pinned(&vector);
    let bed = bed(Settings::default(), Some(KEY), now_ms, nonce);
    decide(&bed.payer, &exchange(&vector))
}

#[test]
fn a_browsers_html_paywall_is_asked_again_and_other_402s_pass() {
    let bed = bed(Settings::default(), Some(KEY), 1_767_225_600_000, B256::ZERO);
    let uri: Uri = "http://127.0.0.1:4031/page".parse().unwrap();
    let html = b"<html><body>Payment required</body></html>";
    let mut browser = HeaderMap::new();
    browser.insert("accept", HeaderValue::from_static("text/html,application/xhtml+xml"));
    let request =
        |headers| Request { client: None, method: "GET", uri: &uri, headers, replayable: true };
    let none = HeaderMap::new();
    let answer = PaymentRequiredAnswer { headers: &none, body: html };
    assert_eq!(
        bed.payer.decide(request(&browser), answer),
        Decision::AskAgain { accept: "application/json" }
    );
    assert_eq!(bed.payer.decide(request(&none), answer), Decision::NotX402);
    let mut garbled = HeaderMap::new();
    garbled.insert("payment-required", HeaderValue::from_static("not base64 json"));
    let answer = PaymentRequiredAnswer { headers: &garbled, body: b"" };
    assert_eq!(refused(bed.payer.decide(request(&none), answer)), Reason::InvalidOffer);
    assert!(bed.ledger.0.lock().unwrap().rows.iter().all(|r| r.1 == Fate::Refused));
}
