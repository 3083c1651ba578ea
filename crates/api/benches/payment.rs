//! The client-side cost of an auto-approved payment: from the 402 reaching the proxy's hook
//! to the paid request's header being ready, through the real wallet: rules, pause and caps
//! read from a real `purse.db` in WAL mode, the reservation and the `signed` row committed
//! to it, a signature with the default account. Prints p50/p90/p99; asserts nothing.
//! `benches/payment.sh` runs it beside the official client.
//!
//! `cargo bench -p purse-api --bench payment [-- N]`

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::print_stdout)]

use std::{
    future::Future,
    path::PathBuf,
    pin::pin,
    task::{Context, Poll, Waker},
    time::{Duration, Instant},
};

use alloy::signers::local::PrivateKeySigner;
use http::{HeaderMap, HeaderValue, Method, StatusCode};
use purse_api::{Options, PolicyConfig, Wallet};
use purse_core::{
    money::Usd,
    rules::{Action, Limits, Rule},
};
use purse_keys::Secret;
use purse_proxy::{PaymentHook, RequestSnapshot, ResponseSnapshot, Verdict};
use purse_store::{KeyStorage, Store};
use serde_json::Value;

/// The hook's futures are ready at once: poll them once.
fn ready<T>(future: impl Future<Output = T>) -> T {
    match pin!(future).poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(value) => value,
        Poll::Pending => panic!("the hook waited"),
    }
}

fn percentile(sorted: &[Duration], q: f64) -> f64 {
    let index = ((sorted.len() as f64 * q) as usize).min(sorted.len() - 1);
    sorted[index].as_secs_f64() * 1e6
}

fn main() {
    let n: usize = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(1000);
    let vector: Value = serde_json::from_slice(
        &std::fs::read(
            PathBuf::from(env!("CARGO_MANIFEST_DIR"))
                .join("../x402/tests/data/v2-base-sepolia-usdc.json"),
        )
        .unwrap(),
    )
    .unwrap();
    let header = vector["response_402"]["headers"]["payment-required"].as_str().unwrap();
    let settled =
        vector["cases"][0]["settlement_response_sample"]["header_value"].as_str().unwrap();

    // A wallet of its own: a keystore account (no keychain needed), a fresh purse.db.
    let dir = std::env::temp_dir().join(format!("purse-bench-payment-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let signer: PrivateKeySigner =
        "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d".parse().unwrap();
    let password = Secret::new("bench".into());
    let keystore = dir.join("payer.json");
    purse_keys::write_keystore(&keystore, &signer, &password).unwrap();
    let address = signer.address().to_checksum(None);
    let store = Store::open(&dir.join("purse.db")).unwrap();
    store
        .add_account(&address, None, &KeyStorage::Keystore(keystore.display().to_string()), 0)
        .unwrap();
    // The everyday setup: the site is allowed up to $0.10, within budgets.
    let rule = Rule {
        id: 0,
        host: "*".into(),
        path_prefix: None,
        network: None,
        asset: None,
        pay_to: None,
        action: Action::Allow,
        limits: Limits { max_per_payment: Some(Usd(100_000)), ..Limits::default() },
    };
    store.add_rule(&rule, 0).unwrap();
    let policy = PolicyConfig {
        daily_cap: "1000000".into(),
        monthly_cap: "1000000".into(),
        ..PolicyConfig::default()
    };
    let wallet = Wallet::open(Options {
        data_dir: dir.clone(),
        profile: "bench".into(),
        policy,
        keystore_password: Some(password),
        zone: purse_api::Zone::Fixed(0),
        chain: None,
    })
    .unwrap();
    let hook = wallet.hook();

    let request = RequestSnapshot {
        client: "127.0.0.1:50000".parse().unwrap(),
        method: Method::GET,
        uri: vector["request"]["url"].as_str().unwrap().parse().unwrap(),
        headers: HeaderMap::new(),
        body: Some(Default::default()),
    };
    let mut headers = HeaderMap::new();
    headers.insert("content-type", HeaderValue::from_static("application/json"));
    headers.insert("payment-required", HeaderValue::from_str(header).unwrap());
    let response =
        ResponseSnapshot { status: StatusCode::PAYMENT_REQUIRED, headers, body: "{}".into() };
    let mut receipt = HeaderMap::new();
    receipt.insert("payment-response", HeaderValue::from_str(settled).unwrap());

    let mut samples = Vec::with_capacity(n);
    // The first payment unlocks the keystore (scrypt): not part of a payment's cost.
    for i in 0..n + 100 {
        let start = Instant::now();
        let verdict = ready(hook.on_payment_required(&request, &response));
        let elapsed = start.elapsed();
        let Verdict::Resend { ticket, .. } = verdict else { panic!("not paid: {verdict:?}") };
        ready(hook.on_resent(&request, ticket, Ok((StatusCode::OK, &receipt))));
        if i >= 100 {
            samples.push(elapsed);
        }
    }
    samples.sort();
    println!(
        "{{\"n\": {}, \"p50_us\": {:.1}, \"p90_us\": {:.1}, \"p99_us\": {:.1}}}",
        samples.len(),
        percentile(&samples, 0.5),
        percentile(&samples, 0.9),
        percentile(&samples, 0.99)
    );
    let _ = std::fs::remove_dir_all(&dir);
}
