//! The payment flow through its ports: a pinned clock and nonce, a test key, and a history
//! kept in memory. The golden vectors' 402s are paid with the official client's bytes.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::{
    collections::HashMap,
    path::PathBuf,
    sync::{Arc, Mutex},
};

use alloy::{
    primitives::{Address, B256, Signature},
    signers::{SignerSync, local::PrivateKeySigner},
};
use http::{HeaderMap, HeaderValue, Uri};
use purse_core::{
    Reason, Refusal,
    budget::{Budget, Caps},
    flow::{Decision, Payer, PaymentRequiredAnswer, Ports, Request, Settings, Unpaid},
    money::Usd,
    policy::Payee,
    ports::{
        Attempt, Clock, Controls, Fate, KeyError, Keys, Ledger, Nonces, Now, Outcome, Reserved,
        Signer,
    },
    rules::{Action, Limits, Rule},
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

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Is(Fate),
}

struct Row {
    attempt: Attempt,
    state: State,
    keys: Vec<String>,
    outcome: Option<Outcome>,
}

#[derive(Default)]
struct Book {
    rows: Vec<Row>,
    spend: HashMap<(String, bool), u128>,
    controls: Controls,
    broken: bool,
}

impl Book {
    fn give_back(&mut self, id: i64) {
        let row = &self.rows[id as usize - 1];
        let (usd, testnet) =
            (row.attempt.usd_micros.unwrap_or(0) as u128, row.attempt.testnet.unwrap());
        for key in row.keys.clone() {
            *self.spend.entry((key, testnet)).or_default() -= usd;
        }
    }
}

/// The ledger's contract, kept in memory.
#[derive(Default)]
struct MemoryLedger(Mutex<Book>);

impl MemoryLedger {
    fn states(&self) -> Vec<State> {
        self.0.lock().unwrap().rows.iter().map(|r| r.state).collect()
    }
}

impl Ledger for MemoryLedger {
    fn refused(&self, attempt: &Attempt) -> Result<i64, String> {
        let mut book = self.0.lock().unwrap();
        if book.broken {
            return Err("database or disk is full".into());
        }
        let row = Row {
            attempt: attempt.clone(),
            state: State::Is(Fate::Refused),
            keys: vec![],
            outcome: None,
        };
        book.rows.push(row);
        Ok(book.rows.len() as i64)
    }
    fn controls(&self) -> Result<Controls, String> {
        Ok(self.0.lock().unwrap().controls.clone())
    }
    fn payee(&self, host: &str, pay_to: &str) -> Result<Payee, String> {
        let book = self.0.lock().unwrap();
        let paid: Vec<String> = book
            .rows
            .iter()
            .filter(|r| r.attempt.host == host && r.state == State::Is(Fate::Settled))
            .filter_map(|r| r.attempt.pay_to.clone())
            .collect();
        Ok(Payee::from_history(
            !paid.is_empty(),
            paid.iter().any(|p| p.eq_ignore_ascii_case(pay_to)),
        ))
    }
    fn used(&self, keys: &[String], testnet: bool) -> Result<Vec<Usd>, String> {
        let book = self.0.lock().unwrap();
        Ok(keys.iter().map(|k| Usd(*book.spend.get(&(k.clone(), testnet)).unwrap_or(&0))).collect())
    }
    fn reserve(
        &self,
        attempt: &Attempt,
        budgets: &[Budget],
        sign: &mut dyn FnMut() -> Result<Attempt, Refusal>,
    ) -> Result<Reserved, Refusal> {
        let mut book = self.0.lock().unwrap();
        if book.broken {
            return Err(Refusal::new(Reason::History, "database or disk is full"));
        }
        let usd = attempt.usd_micros.unwrap_or(0) as u128;
        let testnet = attempt.testnet.unwrap();
        for budget in budgets {
            let used = *book.spend.get(&(budget.key.clone(), testnet)).unwrap_or(&0);
            if let Some(limit) = budget.limit
                && used + usd > limit.0
            {
                return Ok(Reserved::Over { key: budget.key.clone(), used: Usd(used), limit });
            }
        }
        let signed = sign()?;
        for budget in budgets {
            *book.spend.entry((budget.key.clone(), testnet)).or_default() += usd;
        }
        let keys = budgets.iter().map(|b| b.key.clone()).collect();
        book.rows.push(Row {
            attempt: signed,
            state: State::Is(Fate::Signed),
            keys,
            outcome: None,
        });
        Ok(Reserved::Row(book.rows.len() as i64))
    }
    fn finish(&self, id: i64, _at_ms: i64, outcome: &Outcome) -> Result<(), String> {
        let mut book = self.0.lock().unwrap();
        if outcome.fate == Fate::Failed {
            book.give_back(id);
        }
        let row = &mut book.rows[id as usize - 1];
        row.state = State::Is(outcome.fate);
        row.outcome = Some(outcome.clone());
        Ok(())
    }
    fn add_rule(&self, rule: &Rule) -> Result<i64, String> {
        let mut book = self.0.lock().unwrap();
        let id = book.controls.rules.len() as i64 + 100;
        book.controls.rules.push(Rule { id, ..rule.clone() });
        Ok(id)
    }
}

/// Allow every site up to $0.10 a payment: the testbed's everyday rule.
fn allow_all() -> Rule {
    Rule {
        id: 1,
        host: "*".into(),
        path_prefix: None,
        network: None,
        asset: None,
        pay_to: None,
        action: Action::Allow,
        limits: Limits { max_per_payment: Some(Usd(100_000)), ..Limits::default() },
    }
}

struct Bed {
    payer: Payer,
    ledger: Arc<MemoryLedger>,
    clock: Arc<PinnedClock>,
}

fn bed(settings: Settings, key: Option<&str>, now_ms: i64, nonce: B256) -> Bed {
    let ledger = Arc::new(MemoryLedger::default());
    ledger.0.lock().unwrap().controls.rules.push(allow_all());
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

        let book = bed.ledger.0.lock().unwrap();
        let row = &book.rows[ticket as usize - 1];
        assert_eq!(row.state, State::Is(Fate::Signed));
        let attempt = &row.attempt;
        assert_eq!(attempt.payer.as_deref(), Some("0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"));
        assert_eq!(attempt.nonce.as_deref(), Some(format!("{nonce:#x}").as_str()));
        assert_eq!(attempt.decided_by.as_deref(), Some("rule 1"));
        assert_eq!(
            (attempt.usd_micros, attempt.testnet, attempt.rule_id),
            (Some(10_000), Some(true), Some(1))
        );
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
    // Turned down, the authorization is still the server's until it expires: maybe paid,
    // and its budget stays reserved until the chain says.
    assert_eq!((outcome.fate, outcome.server_status), (Fate::Unsure, Some(402)));
    assert_eq!(outcome.reason_code.as_deref(), Some("payment-rejected"));

    let Decision::Pay { ticket, .. } = decide(&bed.payer, &exchange(&vector)) else { panic!() };
    assert_eq!(bed.payer.finish(ticket, Err("connection reset")).fate, Fate::Unsure);
    let Decision::Pay { ticket, .. } = decide(&bed.payer, &exchange(&vector)) else { panic!() };
    assert_eq!(bed.payer.finish(ticket, Ok((500, &HeaderMap::new()))).fate, Fate::Unsure);

    let fates = bed.ledger.states();
    assert_eq!(fates, [Fate::Settled, Fate::Unsure, Fate::Unsure, Fate::Unsure].map(State::Is));
    assert!(bed.ledger.0.lock().unwrap().spend.values().all(|usd| *usd == 40_000));
}

fn refused(decision: Decision) -> Reason {
    match decision {
        Decision::Refuse(refusal) => refusal.reason,
        other => panic!("not refused: {other:?}"),
    }
}

fn asked(decision: Decision) -> Box<purse_core::flow::Ask> {
    match decision {
        Decision::Ask(ask) => ask,
        other => panic!("not asked: {other:?}"),
    }
}

#[test]
fn budgets_count_reservations_and_get_failures_back() {
    // $0.01 a payment; a global daily cap of $0.025 allows two, a rule's weekly budget
    // of $0.03 three.
    let vector = vector("v2-base-sepolia-usdc.json");
    let (now_ms, nonce) = pinned(&vector);
    let bed = bed(Settings::default(), Some(KEY), now_ms, nonce);
    bed.ledger.0.lock().unwrap().controls.caps = Caps { daily: Some(Usd(25_000)), monthly: None };
    let ex = exchange(&vector);
    let Decision::Pay { ticket: first, .. } = decide(&bed.payer, &ex) else { panic!() };
    let Decision::Pay { .. } = decide(&bed.payer, &ex) else { panic!() };
    assert_eq!(refused(decide(&bed.payer, &ex)), Reason::Budget);
    // The first one was turned down (a 402 again): the server holds its authorization
    // until it expires, so its money stays reserved...
    bed.payer.finish(first, Ok((402, &HeaderMap::new())));
    assert_eq!(refused(decide(&bed.payer, &ex)), Reason::Budget);
    // ...until the chain shows it expired unused (the confirmer marks it failed).
    bed.ledger.0.lock().unwrap().give_back(first);
    assert!(matches!(decide(&bed.payer, &ex), Decision::Pay { .. }));
    assert_eq!(refused(decide(&bed.payer, &ex)), Reason::Budget);

    // A new day: the daily cap is whole again; the rule's week is not.
    bed.ledger.0.lock().unwrap().controls.rules[0].limits.weekly = Some(Usd(30_000));
    *bed.clock.0.lock().unwrap() += 86_400_000;
    assert!(matches!(decide(&bed.payer, &ex), Decision::Pay { .. }));
    let Decision::Refuse(refusal) = decide(&bed.payer, &ex) else { panic!() };
    assert_eq!(refusal.reason, Reason::Budget);
    assert!(refusal.text.contains("rule 1's budget this week"), "{}", refusal.text);
}

#[test]
fn an_amount_past_what_budgets_count_passes_no_budget() {
    // $10 trillion: more micro-dollars than an i64 holds. It used to count as $0.
    let vector = vector("v1-large-amount.json");
    let (now_ms, nonce) = pinned(&vector);
    let bed = bed(Settings::default(), Some(KEY), now_ms, nonce);
    bed.ledger.0.lock().unwrap().controls.rules[0].limits =
        Limits { daily: Some(Usd(1_000_000)), ..Limits::default() };
    let mut ex = exchange(&vector);
    ex.body =
        String::from_utf8(ex.body).unwrap().replace("5000000000", "10000000000000000000").into();
    let Decision::Refuse(refusal) = decide(&bed.payer, &ex) else { panic!("paid") };
    assert_eq!(refusal.reason, Reason::Budget, "{}", refusal.text);
    assert_eq!(bed.ledger.states(), [State::Is(Fate::Refused)]);
}

#[test]
fn refusals_are_recorded_with_their_codes_and_nothing_is_signed() {
    let vector = vector("v2-base-sepolia-usdc.json");
    let (now_ms, nonce) = pinned(&vector);

    let no_key = bed(Settings::default(), None, now_ms, nonce);
    assert_eq!(refused(decide(&no_key.payer, &exchange(&vector))), Reason::NoAccount);
    // Nothing was reserved.
    let book = no_key.ledger.0.lock().unwrap();
    assert_eq!(book.rows.len(), 1);
    assert_eq!(book.rows[0].state, State::Is(Fate::Refused));
    assert!(book.spend.values().all(|v| *v == 0));
    drop(book);

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

    let paused = bed(Settings::default(), Some(KEY), now_ms, nonce);
    paused.ledger.0.lock().unwrap().controls.paused = true;
    assert_eq!(refused(decide(&paused.payer, &exchange(&vector))), Reason::Paused);
    let book = paused.ledger.0.lock().unwrap();
    assert_eq!(book.rows[0].attempt.reason_code.as_deref(), Some("paused"));
    assert_eq!(book.rows[0].attempt.amount.as_deref(), Some("10000"));
    assert_eq!(book.rows[0].attempt.nonce, None);
    drop(book);

    let blocked = bed(Settings::default(), Some(KEY), now_ms, nonce);
    blocked.ledger.0.lock().unwrap().controls.rules.push(Rule {
        id: 2,
        host: "api.example.com".into(),
        action: Action::Deny,
        ..allow_all()
    });
    assert_eq!(refused(decide(&blocked.payer, &exchange(&vector))), Reason::Denied);
    let book = blocked.ledger.0.lock().unwrap();
    assert_eq!(book.rows.last().unwrap().attempt.decided_by.as_deref(), Some("rule 2"));
    drop(book);
    // The same site named with its final dot is the same site to the rule.
    let mut dotted = exchange(&vector);
    let url = dotted.uri.to_string().replacen("api.example.com", "API.example.com.", 1);
    dotted.uri = url.parse().unwrap();
    assert_eq!(refused(decide(&blocked.payer, &dotted)), Reason::Denied);
    let book = blocked.ledger.0.lock().unwrap();
    let last = &book.rows.last().unwrap().attempt;
    assert_eq!(
        (last.host.as_str(), last.decided_by.as_deref()),
        ("api.example.com", Some("rule 2"))
    );
}

#[test]
fn an_approval_given_before_a_pause_or_for_another_account_pays_nothing() {
    let vector = vector("v2-base-sepolia-usdc.json");
    let (now_ms, nonce) = pinned(&vector);
    let bed = bed(Settings::default(), Some(KEY), now_ms, nonce);
    bed.ledger.0.lock().unwrap().controls.rules.clear();
    // Paused while the prompt waited: the approval pays nothing.
    let ask = asked(decide(&bed.payer, &exchange(&vector)));
    bed.ledger.0.lock().unwrap().controls.paused = true;
    assert_eq!(refused(bed.payer.approved(*ask)), Reason::Paused);
    bed.ledger.0.lock().unwrap().controls.paused = false;
    // The prompt named another account than the one that would pay now.
    let mut ask = asked(decide(&bed.payer, &exchange(&vector)));
    ask.approval.account = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8".into();
    assert_eq!(refused(bed.payer.approved(*ask)), Reason::Denied);
    let book = bed.ledger.0.lock().unwrap();
    assert!(book.rows.iter().all(|row| row.attempt.nonce.is_none()), "nothing was signed");
    let text = book.rows.last().unwrap().attempt.reason.clone().unwrap_or_default();
    assert!(text.contains("you approved paying from 0x7099"), "{text}");
}

#[test]
fn what_no_rule_allows_is_asked_and_paid_only_when_approved() {
    let vector = vector("v2-base-sepolia-usdc.json");
    let (now_ms, nonce) = pinned(&vector);

    // Above the rule's maximum: asked, with the reason it would be refused for.
    let bed1 = bed(Settings::default(), Some(KEY), now_ms, nonce);
    bed1.ledger.0.lock().unwrap().controls.rules[0].limits.max_per_payment = Some(Usd(5_000));
    let ask = asked(decide(&bed1.payer, &exchange(&vector)));
    assert_eq!(ask.approval.why.reason, Reason::OverLimit);
    assert_eq!(ask.approval.usd, Some(Usd(10_000)));
    assert_eq!(ask.approval.account, "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266");
    assert_eq!(ask.approval.payee, Payee::New);
    assert_eq!(ask.approval.network, "eip155:84532");
    assert!(bed1.ledger.0.lock().unwrap().rows.is_empty(), "nothing written while asking");
    // Approved: paid now, as the user decided.
    let Decision::Pay { value, ticket, .. } = bed1.payer.approved(*ask) else { panic!() };
    let expected = sdk_case(&vector)["retry_request"]["headers"]["payment-signature"].as_str();
    assert_eq!(Some(value.as_str()), expected);
    let book = bed1.ledger.0.lock().unwrap();
    assert_eq!(book.rows[ticket as usize - 1].attempt.decided_by.as_deref(), Some("user"));
    drop(book);

    // Denied: refused and recorded.
    let ask = asked(decide(&bed1.payer, &exchange(&vector)));
    let refusal = Refusal::new(Reason::Denied, "you said no");
    assert_eq!(refused(bed1.payer.refuse_asked(*ask, refusal, Unpaid::User)), Reason::Denied);
    assert_eq!(bed1.ledger.states().last(), Some(&State::Is(Fate::Refused)));
    let book = bed1.ledger.0.lock().unwrap();
    assert_eq!(book.rows.last().unwrap().attempt.decided_by.as_deref(), Some("user"));
    drop(book);
    // Left to time out: refused, and not as the user's answer.
    let ask = asked(decide(&bed1.payer, &exchange(&vector)));
    let refusal = Refusal::new(Reason::Timeout, "no answer within 60 s");
    assert_eq!(refused(bed1.payer.refuse_asked(*ask, refusal, Unpaid::Timeout)), Reason::Timeout);
    let book = bed1.ledger.0.lock().unwrap();
    assert_eq!(book.rows.last().unwrap().attempt.decided_by.as_deref(), Some("timeout"));
    drop(book);

    // No rule at all: asked, saying why; with no one to ask, refused for that reason.
    let bed2 = bed(Settings::default(), Some(KEY), now_ms, nonce);
    bed2.ledger.0.lock().unwrap().controls.rules.clear();
    let ask = asked(decide(&bed2.payer, &exchange(&vector)));
    assert_eq!(ask.approval.why, Refusal::new(Reason::Denied, "no rule allows api.example.com"));
    assert_eq!(
        ask.approval.unanswered(),
        Refusal::new(Reason::Denied, "no rule allows api.example.com, and no one could be asked")
    );

    // A site that was paid before asks for another payee: asked, even under the rule.
    let bed3 = bed(Settings::default(), Some(KEY), now_ms, nonce);
    let Decision::Pay { ticket, .. } = decide(&bed3.payer, &exchange(&vector)) else { panic!() };
    bed3.ledger.0.lock().unwrap().rows[ticket as usize - 1].state = State::Is(Fate::Settled);
    assert!(matches!(decide(&bed3.payer, &exchange(&vector)), Decision::Pay { .. }));
    bed3.ledger.0.lock().unwrap().rows[ticket as usize - 1].attempt.pay_to =
        Some("0x0000000000000000000000000000000000000001".into());
    let ask = asked(decide(&bed3.payer, &exchange(&vector)));
    assert_eq!(ask.approval.payee, Payee::Changed);

    // Mainnet auto-approve is off until turned on.
    let mainnet = vector_file_decision("v2-base-mainnet-usdc.json");
    assert_eq!(asked(mainnet).approval.why.reason, Reason::Denied);
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
    assert!(bed.ledger.states().iter().all(|s| *s == State::Is(Fate::Refused)));
}
