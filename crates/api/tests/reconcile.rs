//! A crash between signing and settling loses nothing: the `signed` row is reconciled on
//! chain at the next start (a real anvil with the test token, a real purse.db).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::{
    path::Path,
    sync::Arc,
    time::{SystemTime, UNIX_EPOCH},
};

use alloy::{
    primitives::{Address, B256, Signature, U256},
    signers::local::PrivateKeySigner,
    sol_types::SolCall as _,
};
use base64::Engine as _;
use http::{HeaderMap, HeaderValue, Uri};
use purse_api::{Chain, Check, Options, PolicyConfig, Wallet};
use purse_chain::testing::{self, Anvil, NO_ANVIL, TestUsdc};
use purse_core::{
    flow::{Decision, PaymentRequiredAnswer, Request},
    rules::{Action, Limits, Rule},
};
use purse_keys::Secret;
use purse_store::{KeyStorage, NewPayment, Status, Store, Update};
use purse_x402::{PaymentPayload, SchemePayload};

fn open(dir: &Path, anvil: &Anvil) -> Wallet {
    Wallet::open(Options {
        data_dir: dir.to_path_buf(),
        profile: "reconcile".into(),
        policy: PolicyConfig::default(),
        keystore_password: Some(Secret::new("test".into())),
        zone: purse_api::Zone::Fixed(0),
        chain: Some(Chain::new(anvil.rpcs().unwrap())),
    })
    .unwrap()
}

fn required(token: Address, pay_to: Address) -> String {
    let object = serde_json::json!({
        "x402Version": 2,
        "resource": { "url": "http://127.0.0.1:9/report" },
        "accepts": [{
            "scheme": "exact", "network": "eip155:84532", "amount": "1000",
            "asset": token.to_checksum(None), "payTo": pay_to.to_checksum(None),
            "maxTimeoutSeconds": 60, "extra": { "name": "USDC", "version": "2" }
        }]
    });
    base64::engine::general_purpose::STANDARD.encode(object.to_string())
}

#[tokio::test]
#[ignore = "needs anvil from the npm testbed; scripts/test runs it"]
async fn payments_left_open_by_a_crash_are_decided_on_chain() {
    let anvil = Anvil::start(&testing::anvil_binary().unwrap_or_else(|| panic!("{NO_ANVIL}")))
        .expect("anvil starts");
    let token = anvil.place_test_usdc().await.unwrap();
    let accounts = anvil.accounts().await.unwrap();
    let (relayer, pay_to) = (accounts[0], accounts[2]);
    let payer = PrivateKeySigner::from_bytes(&B256::repeat_byte(0x42)).unwrap();
    anvil.mint(token, payer.address(), U256::from(1_000_000)).await.unwrap();

    let dir = std::env::temp_dir().join(format!("purse-reconcile-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let keystore = dir.join("payer.json");
    purse_keys::write_keystore(&keystore, &payer, &Secret::new("test".into())).unwrap();
    let store = Store::open(&dir.join("purse.db")).unwrap();
    let storage = KeyStorage::Keystore(keystore.display().to_string());
    store.add_account(&payer.address().to_checksum(None), None, &storage, 0).unwrap();
    let everywhere = Rule {
        id: 0,
        host: "*".into(),
        path_prefix: None,
        network: None,
        asset: None,
        pay_to: None,
        action: Action::Allow,
        limits: Limits::default(),
    };
    store.add_rule(&everywhere, 0).unwrap();

    // Paid, and the facilitator settled it, but Purse died before the answer came back.
    let wallet = open(&dir, &anvil);
    let uri: Uri = "http://127.0.0.1:9/report".parse().unwrap();
    let mut headers = HeaderMap::new();
    headers.insert("payment-required", HeaderValue::from_str(&required(token, pay_to)).unwrap());
    let none = HeaderMap::new();
    let decide = || {
        wallet.payer().decide(
            Request { client: None, method: "GET", uri: &uri, headers: &none, replayable: true },
            PaymentRequiredAnswer { headers: &headers, body: b"" },
        )
    };
    let Decision::Pay { value, ticket: settled, .. } = decide() else { panic!("not paid") };
    let Decision::Pay { ticket: in_flight, .. } = decide() else { panic!("not paid") };
    drop(wallet);

    let payload = PaymentPayload::from_header(&value).unwrap();
    let SchemePayload::Eip3009(payload) = payload.payload() else { panic!("EIP-3009") };
    let signature: Signature = payload.signature.parse().unwrap();
    let authorization = &payload.authorization;
    let call = TestUsdc::transferWithAuthorizationCall {
        from: authorization.from.parse().unwrap(),
        to: authorization.to.parse().unwrap(),
        value: authorization.value.parse().unwrap(),
        validAfter: authorization.valid_after.parse().unwrap(),
        validBefore: authorization.valid_before.parse().unwrap(),
        nonce: authorization.nonce.parse().unwrap(),
        v: 27 + u8::from(signature.v()),
        r: signature.r().into(),
        s: signature.s().into(),
    };
    anvil.send(relayer, token, call.abi_encode(), None).await.unwrap();

    // One more, signed long ago and never settled: its authorization has expired.
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap();
    let new = NewPayment {
        at: i64::try_from(now.as_millis()).unwrap() - 3_600_000,
        method: "GET".into(),
        url: uri.to_string(),
        host: "127.0.0.1".into(),
        network: Some("eip155:84532".into()),
        asset: Some(token.to_checksum(None)),
        amount: Some("1000".into()),
        pay_to: Some(pay_to.to_checksum(None)),
        ..NewPayment::default()
    };
    let signed = Update {
        payer: Some(payer.address().to_checksum(None)),
        nonce: Some(format!("{:#x}", B256::repeat_byte(0x77))),
        valid_before: Some(i64::try_from(now.as_secs()).unwrap() - 3_000),
        ..Update::default()
    };
    let expired = store.insert(&new, Status::Signed, &signed).unwrap();
    // Two "settled" by a transaction that never landed (a made-up hash, or one a gas bump
    // replaced): past the authorization's life, the nonce decides. One's was never used;
    // the other's is the authorization the relayer settled above.
    let named =
        Update { tx_hash: Some(format!("{:#x}", B256::repeat_byte(0x99))), ..Update::default() };
    let ghost = store.insert(&new, Status::Signed, &signed).unwrap();
    store.advance_through(ghost, &[Status::Sent, Status::Settled], 0, &named).unwrap();
    let paid_nonce = store.payment(settled).unwrap().unwrap().nonce;
    let used = Update { nonce: paid_nonce, ..signed.clone() };
    let elsewhere = store.insert(&new, Status::Signed, &used).unwrap();
    store.advance_through(elsewhere, &[Status::Sent, Status::Settled], 0, &named).unwrap();

    // The next start finds the open payments and decides what the chain says.
    assert_eq!(store.open_payments().unwrap().len(), 5);
    let wallet = open(&dir, &anvil);
    let confirmer = Arc::clone(wallet.confirmer().unwrap());
    assert_eq!(confirmer.check(settled).await.unwrap(), Check::Status(Status::Confirmed));
    assert_eq!(confirmer.check(expired).await.unwrap(), Check::Status(Status::Failed));
    assert!(matches!(confirmer.check(in_flight).await.unwrap(), Check::Later(_)));
    assert_eq!(confirmer.check(ghost).await.unwrap(), Check::Status(Status::Failed));
    assert_eq!(confirmer.check(elsewhere).await.unwrap(), Check::Status(Status::Confirmed));
    assert_eq!(store.payment(in_flight).unwrap().unwrap().status, Status::Signed);
    assert_eq!(
        store.payment(expired).unwrap().unwrap().reason.as_deref(),
        Some("the authorization expired unused: nothing was paid")
    );
    let _ = std::fs::remove_dir_all(&dir);
}
