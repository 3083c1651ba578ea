//! The golden vectors of `shared/x402/vectors`, made by running the official client
//! packages with a pinned clock and nonce: every paid case is reproduced byte for byte.

// Helpers outside #[test] functions fail the test loudly, as tests should.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::PathBuf;

use alloy::{
    primitives::{B256, hex},
    signers::local::PrivateKeySigner,
};
use purse_x402::{
    Error, PaymentPayload, PaymentRequired, SettleResponse,
    exact::{self, Options},
    registry, to_compact_json,
};
use serde_json::Value;

struct Vector {
    name: String,
    json: Value,
}

fn vectors() -> Vec<Vector> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data");
    let mut files: Vec<_> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().path()).collect();
    files.sort();
    let vectors: Vec<Vector> = files
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .map(|p| Vector {
            name: p.file_name().unwrap().to_string_lossy().into_owned(),
            json: serde_json::from_slice(&std::fs::read(&p).unwrap()).unwrap(),
        })
        .collect();
    assert_eq!(vectors.len(), 9, "all nine vector files are in tests/data");
    vectors
}

fn required_of(vector: &Vector) -> PaymentRequired {
    let response = &vector.json["response_402"];
    let headers: Vec<(&str, &str)> = response["headers"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(name, value)| (name.as_str(), value.as_str().unwrap()))
        .collect();
    let status = response["status"].as_u64().unwrap() as u16;
    let body = response["body"].as_str().unwrap().as_bytes();
    PaymentRequired::from_response(status, headers, body).unwrap().expect("an x402 402")
}

/// Cases whose bytes come from the `@x402/*` SDK (v2, and its v1 path); the legacy
/// `x402-fetch` cases sign the same values with another key order.
fn is_legacy(case: &Value) -> bool {
    case["case_id"].as_str().unwrap().starts_with("legacy")
}

#[test]
fn every_402_is_detected_and_kept_verbatim() {
    for vector in vectors() {
        let required = required_of(&vector);
        let expected = &vector.json["response_402"]["payment_required"];
        assert_eq!(&serde_json::to_value(&required).unwrap(), expected, "{}", vector.name);
        assert_eq!(required.x402_version(), vector.json["x402_version"].as_u64().unwrap());
        // The compact re-serialization is the exact text the server encoded.
        let sent = match vector.json["response_402"]["headers"].get("payment-required") {
            Some(header) => {
                String::from_utf8(purse_x402::decode_base64(header.as_str().unwrap(), "h").unwrap())
                    .unwrap()
            }
            None => vector.json["response_402"]["body"].as_str().unwrap().to_owned(),
        };
        assert_eq!(to_compact_json(&required), sent, "{}", vector.name);
    }
}

#[test]
fn every_paid_case_is_reproduced_byte_for_byte() {
    let mut reproduced = 0;
    for vector in vectors() {
        let required = required_of(&vector);
        for case in vector.json["cases"].as_array().unwrap() {
            if case["outcome"] != "paid" {
                continue;
            }
            let label = format!("{} / {}", vector.name, case["case_id"]);
            let index = case["selected_accept_index"].as_u64().unwrap() as usize;
            let eip712 = &case["eip712"];
            let key: PrivateKeySigner =
                vector.json["pinned"]["payer_private_key"].as_str().unwrap().parse().unwrap();
            let now = case["timing"]["now_unix"].as_u64().unwrap();
            let nonce: B256 = case["pinned_random_bytes"].as_str().unwrap().parse().unwrap();

            let chain_id = eip712["domain"]["chainId"].as_u64().unwrap();
            let asset = eip712["message"]["permitted"]["token"]
                .as_str()
                .or(eip712["domain"]["verifyingContract"].as_str())
                .unwrap();
            let known = registry::asset(chain_id, asset.parse().unwrap()).is_some();

            // Purse's default choice is the official one; an asset outside the registry is
            // refused unless the caller allows unknown assets.
            let options = Options { allow_unknown_asset: !known };
            let offer = exact::select(&required, options).unwrap();
            assert_eq!(offer.index, index, "{label}");
            if !known {
                let refused = exact::check(&required, index, Options::default()).unwrap_err();
                assert!(matches!(refused, Error::UnknownAsset { .. }), "{label}: {refused}");
            }

            let authorization = offer.authorize(key.address(), now, nonce, None).unwrap();
            assert_eq!(
                authorization.domain_separator().to_string(),
                eip712["domain_separator"],
                "{label}"
            );
            assert_eq!(authorization.signing_hash().to_string(), eip712["digest"], "{label}");
            assert_eq!(authorization.nonce(), nonce, "{label}");
            let payload = authorization.sign(&key).unwrap();

            let retry = &case["retry_request"];
            let signature = match payload.payload() {
                purse_x402::SchemePayload::Eip3009(p) => p.signature.clone(),
                purse_x402::SchemePayload::Permit2(p) => p.signature.clone(),
                other => panic!("{label}: unexpected payload {other:?}"),
            };
            assert_eq!(signature, eip712["signature"], "{label}");
            assert_eq!(payload.header_name(), retry["payment_header_name"], "{label}");
            // Same content in every case.
            assert_eq!(
                serde_json::to_value(&payload).unwrap(),
                retry["payment_payload"],
                "{label}"
            );
            if !is_legacy(case) {
                assert_eq!(to_compact_json(&payload), retry["payment_payload_json"], "{label}");
                assert_eq!(payload.header_value(), retry["payment_header_value"], "{label}");
                reproduced += 1;
            }

            // The header decodes back to the same payload.
            let decoded =
                PaymentPayload::from_header(retry["payment_header_value"].as_str().unwrap())
                    .unwrap();
            assert_eq!(decoded, payload, "{label}");
        }
    }
    // Every paid case of the @x402 SDK: 7 v2 cases and 3 of its v1 path.
    assert_eq!(reproduced, 10);
}

#[test]
fn settlement_samples_decode() {
    for vector in vectors() {
        for case in vector.json["cases"].as_array().unwrap() {
            let Some(sample) = case.get("settlement_response_sample") else { continue };
            let name = sample["header_name"].as_str().unwrap();
            let value = sample["header_value"].as_str().unwrap();
            let settle = SettleResponse::from_headers([(name, value)]).unwrap().unwrap();
            assert!(settle.success);
            assert!(!settle.is_pending());
            assert_eq!(serde_json::to_value(&settle).unwrap(), sample["decoded"]);
            assert_eq!(settle.transaction.len(), 66);
            hex::decode(&settle.transaction).unwrap();
        }
    }
}
