//! Everything that must be refused before anything is signed, each with its typed reason.

// Helpers outside #[test] functions fail the test loudly, as tests should.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use purse_x402::{
    Error, PaymentRequired, encode_base64,
    exact::{self, Options},
};
use serde_json::{Value, json};

fn v2_offer() -> Value {
    json!({
        "scheme": "exact",
        "network": "eip155:84532",
        "amount": "10000",
        "asset": "0x036CbD53842c5426634e7929541eC2318f3dCF7e",
        "payTo": "0x209693Bc6afc0C5328bA36FaF03C514EF312287C",
        "maxTimeoutSeconds": 60,
        "extra": { "name": "USDC", "version": "2" }
    })
}

fn v2_with(edit: impl FnOnce(&mut Value)) -> Value {
    let mut offer = v2_offer();
    edit(&mut offer);
    json!({ "x402Version": 2, "resource": { "url": "https://a.example/x" }, "accepts": [offer] })
}

fn header(required: &Value) -> String {
    encode_base64(required.to_string().as_bytes())
}

fn decode(required: &Value) -> Result<PaymentRequired, Error> {
    PaymentRequired::from_header(&header(required))
}

fn check(required: &Value) -> Result<(), Error> {
    let required = decode(required)?;
    exact::check(&required, 0, Options::default()).map(|_| ())
}

#[test]
fn a_well_formed_offer_passes() {
    check(&v2_with(|_| {})).unwrap();
}

#[test]
fn malformed_headers_are_refused() {
    assert_eq!(PaymentRequired::from_header("not base64!").unwrap_err().code(), "malformed-base64");
    assert_eq!(PaymentRequired::from_header("eyJh-_").unwrap_err().code(), "malformed-base64");
    let not_json = encode_base64(b"{\"x402Version\":2,");
    assert_eq!(PaymentRequired::from_header(&not_json).unwrap_err().code(), "malformed-json");
    let not_object = encode_base64(b"[1,2]");
    assert_eq!(PaymentRequired::from_header(&not_object).unwrap_err().code(), "malformed-json");
}

#[test]
fn versions_and_accepts_are_checked() {
    let refuse = |required: Value| decode(&required).unwrap_err().code();
    assert_eq!(refuse(json!({ "x402Version": 3, "accepts": [v2_offer()] })), "unsupported-version");
    // The official client compares numbers: a string version is not x402.
    assert_eq!(
        refuse(json!({ "x402Version": "2", "accepts": [v2_offer()] })),
        "unsupported-version"
    );
    assert_eq!(refuse(json!({ "accepts": [v2_offer()] })), "unsupported-version");
    assert_eq!(refuse(json!({ "x402Version": 2, "accepts": [] })), "empty-accepts");
    assert_eq!(refuse(json!({ "x402Version": 2 })), "missing-field");
    assert_eq!(refuse(json!({ "x402Version": 2, "accepts": {} })), "wrong-type");
    assert_eq!(refuse(json!({ "x402Version": 2, "accepts": ["exact"] })), "wrong-type");
}

#[test]
fn offers_are_validated_field_by_field() {
    type Edit = Box<dyn Fn(&mut Value)>;
    let cases: Vec<(&str, Edit)> = vec![
        ("missing-field", Box::new(|o| drop(o.as_object_mut().unwrap().remove("payTo")))),
        ("missing-field", Box::new(|o| o["amount"] = Value::Null)),
        ("missing-field", Box::new(|o| drop(o["extra"].as_object_mut().unwrap().remove("name")))),
        ("missing-field", Box::new(|o| drop(o.as_object_mut().unwrap().remove("extra")))),
        ("wrong-type", Box::new(|o| o["amount"] = json!(10000))),
        ("wrong-type", Box::new(|o| o["extra"] = json!("USDC"))),
        (
            "malformed-address",
            Box::new(|o| o["payTo"] = json!("0x209693Bc6afc0C5328bA36FaF03C514EF312287")),
        ),
        (
            "malformed-address",
            Box::new(|o| o["payTo"] = json!("209693Bc6afc0C5328bA36FaF03C514EF312287C")),
        ),
        // A mixed-case address with a wrong EIP-55 checksum.
        (
            "malformed-address",
            Box::new(|o| o["payTo"] = json!("0x209693bC6afc0C5328bA36FaF03C514EF312287C")),
        ),
        (
            "malformed-address",
            Box::new(|o| o["asset"] = json!("0xZZ6CbD53842c5426634e7929541eC2318f3dCF7e")),
        ),
        ("invalid-amount", Box::new(|o| o["amount"] = json!("-1"))),
        ("invalid-amount", Box::new(|o| o["amount"] = json!("1.5"))),
        ("invalid-amount", Box::new(|o| o["amount"] = json!("0x10"))),
        ("invalid-amount", Box::new(|o| o["amount"] = json!(" 100"))),
        ("invalid-amount", Box::new(|o| o["amount"] = json!(""))),
        (
            "invalid-amount",
            Box::new(|o| {
                // 2^256 does not fit in uint256.
                o["amount"] = json!(
                    "115792089237316195423570985008687907853269984665640564039457584007913129639936"
                )
            }),
        ),
        ("invalid-timeout", Box::new(|o| o["maxTimeoutSeconds"] = json!(0))),
        ("invalid-timeout", Box::new(|o| o["maxTimeoutSeconds"] = json!(-5))),
        ("invalid-timeout", Box::new(|o| o["maxTimeoutSeconds"] = json!(1.5))),
        ("invalid-timeout", Box::new(|o| o["maxTimeoutSeconds"] = json!("60"))),
        ("unsupported-scheme", Box::new(|o| o["scheme"] = json!("upto"))),
        ("unsupported-scheme", Box::new(|o| o["extra"]["paymentFlow"] = json!("later"))),
        ("unsupported-network", Box::new(|o| o["network"] = json!("eip155:999999999"))),
        ("unsupported-network", Box::new(|o| o["network"] = json!("base-sepolia"))),
        (
            "unsupported-network",
            Box::new(|o| o["network"] = json!("solana:5eykt4UsFv8P8NJdTREpY1vzqKqZKvdp")),
        ),
        ("chain-id-mismatch", Box::new(|o| o["extra"]["chainId"] = json!(8453))),
        (
            "unknown-asset",
            Box::new(|o| o["asset"] = json!("0x4200000000000000000000000000000000000006")),
        ),
        ("domain-mismatch", Box::new(|o| o["extra"]["name"] = json!("USD Coin"))),
        ("domain-mismatch", Box::new(|o| o["extra"]["version"] = json!("1"))),
        (
            "unsupported-transfer-method",
            Box::new(|o| o["extra"]["assetTransferMethod"] = json!("erc7710")),
        ),
        (
            "unsupported-transfer-method",
            Box::new(|o| o["extra"]["assetTransferMethod"] = json!("Permit2")),
        ),
    ];
    for (expected, edit) in cases {
        let required = v2_with(|o| edit(o));
        let refused = check(&required).unwrap_err();
        assert_eq!(refused.code(), expected, "{required}: {refused}");
        assert!(!refused.to_string().is_empty());
    }
}

#[test]
fn a_matching_chain_id_and_extra_fields_are_fine() {
    check(&v2_with(|o| {
        o["extra"]["chainId"] = json!(84532);
        o["extra"]["verifyingContract"] = json!("0x0000000000000000000000000000000000000001");
        o["extra"]["paymentFlow"] = json!("authorization");
        o["futureField"] = json!({ "any": [1, null] });
        // An all-lowercase address carries no checksum and is valid.
        o["payTo"] = json!("0x209693bc6afc0c5328ba36faf03c514ef312287c");
    }))
    .unwrap();
}

#[test]
fn unknown_assets_need_the_explicit_option() {
    let required = decode(&v2_with(|o| {
        o["asset"] = json!("0x4200000000000000000000000000000000000006");
        o["extra"] = json!({ "name": "Wrapped Ether", "version": "1" });
    }))
    .unwrap();
    assert_eq!(exact::check(&required, 0, Options::default()).unwrap_err().code(), "unknown-asset");
    let offer = exact::check(&required, 0, Options { allow_unknown_asset: true }).unwrap();
    assert!(offer.known_asset.is_none());
}

#[test]
fn a_permit2_only_asset_is_not_signed_as_eip3009() {
    let required = decode(&json!({ "x402Version": 2, "accepts": [{
        "scheme": "exact", "network": "eip155:4326", "amount": "1",
        "asset": "0xFAfDdbb3FC7688494971a79cc65DCa3EF82079E7",
        "payTo": "0x209693Bc6afc0C5328bA36FaF03C514EF312287C", "maxTimeoutSeconds": 60,
        "extra": { "name": "MegaUSD", "version": "1" }
    }]}))
    .unwrap();
    assert_eq!(
        exact::check(&required, 0, Options::default()).unwrap_err().code(),
        "unsupported-transfer-method"
    );
}

#[test]
fn v1_refuses_permit2_and_v2_names() {
    let body = |network: &str, extra: Value| {
        json!({ "x402Version": 1, "accepts": [{
            "scheme": "exact", "network": network, "maxAmountRequired": "10000",
            "resource": "https://a.example/x", "description": "", "mimeType": "",
            "payTo": "0x209693Bc6afc0C5328bA36FaF03C514EF312287C", "maxTimeoutSeconds": 60,
            "asset": "0x036CbD53842c5426634e7929541eC2318f3dCF7e", "outputSchema": null, "extra": extra
        }]})
    };
    let read = |v: &Value| {
        PaymentRequired::from_response(402, [], v.to_string().as_bytes()).unwrap().unwrap()
    };
    let ok = read(&body("base-sepolia", json!({ "name": "USDC", "version": "2" })));
    exact::check(&ok, 0, Options::default()).unwrap();
    let v2_name = read(&body("eip155:84532", json!({ "name": "USDC", "version": "2" })));
    assert_eq!(
        exact::check(&v2_name, 0, Options::default()).unwrap_err().code(),
        "unsupported-network"
    );
    let permit2 = read(&body(
        "base-sepolia",
        json!({ "name": "USDC", "version": "2", "assetTransferMethod": "permit2" }),
    ));
    assert_eq!(
        exact::check(&permit2, 0, Options::default()).unwrap_err().code(),
        "unsupported-transfer-method"
    );
}

#[test]
fn select_explains_every_refusal_and_prefers_the_safest_flow() {
    let required = decode(&json!({ "x402Version": 2, "accepts": [
        { "scheme": "upto" },
        v2_with(|o| o["network"] = json!("eip155:1"))["accepts"][0].clone(),
    ]}))
    .unwrap();
    let refused = exact::select(&required, Options::default()).unwrap_err();
    assert_eq!(refused.code(), "no-payable-offer");
    let text = refused.to_string();
    assert!(
        text.contains("accepts[0]: unsupported scheme") && text.contains("accepts[1]"),
        "{text}"
    );
    assert!(!refused.is_malformed());

    let upfront = v2_with(|o| o["extra"]["paymentFlow"] = json!("upfront"))["accepts"][0].clone();
    let plain = v2_offer();
    let required = decode(&json!({ "x402Version": 2, "accepts": [upfront, plain] })).unwrap();
    assert_eq!(exact::select(&required, Options::default()).unwrap().index, 1);

    assert_eq!(exact::check(&required, 7, Options::default()).unwrap_err().code(), "no-such-offer");
}

#[test]
fn non_x402_402s_pass_through() {
    let none = |status: u16, headers: Vec<(&str, &str)>, body: &[u8]| {
        PaymentRequired::from_response(status, headers, body).unwrap().is_none()
    };
    assert!(none(402, vec![], b"<html>pay me</html>"));
    assert!(none(402, vec![], b""));
    // A v2 object only in the body is not accepted by the official client.
    assert!(none(402, vec![], v2_with(|_| {}).to_string().as_bytes()));
    assert!(none(402, vec![], br#"{"x402Version":"1","accepts":[]}"#));
    // An empty PAYMENT-REQUIRED header falls through to the body, like the reference client.
    assert!(none(402, vec![("payment-required", "")], b"{}"));
    // Only a 402 is read.
    let header = header(&v2_with(|_| {}));
    assert!(none(200, vec![("PAYMENT-REQUIRED", header.as_str())], b""));
    assert!(!none(402, vec![("Payment-Required", header.as_str())], b""));
    // A malformed x402 402 is an error, not a pass-through.
    assert!(PaymentRequired::from_response(402, [("PAYMENT-REQUIRED", "%%%")], b"").is_err());
    assert!(PaymentRequired::from_response(402, [], br#"{"x402Version":1,"accepts":[]}"#).is_err());
}

#[test]
fn lifetime_cap_and_v1_backoff() {
    use alloy::primitives::{Address, B256};
    let required = decode(&v2_with(|o| o["maxTimeoutSeconds"] = json!(315_360_000))).unwrap();
    let offer = exact::check(&required, 0, Options::default()).unwrap();
    let uncapped = offer.authorize(Address::ZERO, 1_000, B256::ZERO, None).unwrap();
    assert_eq!(uncapped.valid_before(), 315_361_000);
    let capped = offer.authorize(Address::ZERO, 1_000, B256::ZERO, Some(300)).unwrap();
    assert_eq!(capped.valid_before(), 1_300);
    let overflow = offer.authorize(Address::ZERO, u64::MAX - 5, B256::ZERO, None).unwrap_err();
    assert_eq!(overflow.code(), "invalid-timeout");
}
