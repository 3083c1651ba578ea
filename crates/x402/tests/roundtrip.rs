//! Round trips for every wire type: what is read is written back unchanged (values, `null`s,
//! unknown fields and key order), and what is written reads back equal.

// Helpers outside #[test] functions fail the test loudly, as tests should.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use proptest::prelude::*;
use purse_x402::{
    Eip3009Authorization, Eip3009Payload, Object, PaymentPayload, PaymentRequired,
    Permit2Authorization, Permit2Payload, Permit2Witness, SchemePayload, SettleResponse,
    TokenPermissions, encode_header, to_compact_json, v1, v2,
};
use serde_json::{Value, json};

/// Any JSON value, a few levels deep, with unicode strings and large numbers.
fn any_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<u64>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        "\\PC{0,12}".prop_map(Value::String),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::vec(("[a-zA-Z_]{1,8}", inner), 0..4)
                .prop_map(|entries| Value::Object(entries.into_iter().collect())),
        ]
    })
}

/// A JSON object whose keys come in a random order.
fn object_with(
    fixed: Vec<(&'static str, Value)>,
    extra: Vec<(String, Value)>,
    order: Vec<usize>,
) -> Object {
    let mut entries: Vec<(String, Value)> =
        fixed.into_iter().map(|(k, v)| (k.to_owned(), v)).collect();
    for (key, value) in extra {
        if !entries.iter().any(|(k, _)| *k == key) {
            entries.push((key, value));
        }
    }
    let mut keyed: Vec<(usize, (String, Value))> = entries
        .into_iter()
        .enumerate()
        .map(|(i, e)| (order.get(i).copied().unwrap_or(i), e))
        .collect();
    keyed.sort_by_key(|(rank, _)| *rank);
    keyed.into_iter().map(|(_, e)| e).collect()
}

fn extras() -> impl Strategy<Value = Vec<(String, Value)>> {
    prop::collection::vec(("[a-zA-Z]{1,10}", any_json()), 0..4)
}

fn order() -> impl Strategy<Value = Vec<usize>> {
    prop::collection::vec(0usize..32, 12)
}

fn requirement() -> impl Strategy<Value = Object> {
    (any_json(), any_json(), extras(), order()).prop_map(|(amount, extra, more, order)| {
        object_with(
            vec![
                ("scheme", json!("exact")),
                ("amount", amount),
                ("extra", extra),
                ("payTo", json!("0xabc")),
            ],
            more,
            order,
        )
    })
}

fn payment_required(version: u64) -> impl Strategy<Value = Object> {
    (prop::collection::vec(requirement(), 1..4), any_json(), extras(), order()).prop_map(
        move |(accepts, resource, more, order)| {
            let accepts = Value::Array(accepts.into_iter().map(Value::Object).collect());
            object_with(
                vec![("x402Version", json!(version)), ("resource", resource), ("accepts", accepts)],
                more,
                order,
            )
        },
    )
}

fn text() -> impl Strategy<Value = String> {
    "\\PC{0,16}"
}

fn scheme_payload() -> impl Strategy<Value = SchemePayload> {
    let eip3009 = prop::collection::vec(text(), 7).prop_map(|t| {
        SchemePayload::Eip3009(Eip3009Payload {
            authorization: Eip3009Authorization {
                from: t[0].clone(),
                to: t[1].clone(),
                value: t[2].clone(),
                valid_after: t[3].clone(),
                valid_before: t[4].clone(),
                nonce: t[5].clone(),
            },
            signature: t[6].clone(),
        })
    });
    let permit2 = prop::collection::vec(text(), 8).prop_map(|t| {
        SchemePayload::Permit2(Permit2Payload {
            signature: t[0].clone(),
            permit2_authorization: Permit2Authorization {
                from: t[1].clone(),
                permitted: TokenPermissions { token: t[2].clone(), amount: t[3].clone() },
                spender: t[4].clone(),
                nonce: t[5].clone(),
                deadline: t[6].clone(),
                witness: Permit2Witness { to: t[7].clone(), valid_after: t[0].clone() },
            },
        })
    });
    let other = (text(), any_json()).prop_map(|(transaction, more)| {
        SchemePayload::Other(object_with(
            vec![("transaction", json!(transaction)), ("more", more)],
            vec![],
            vec![],
        ))
    });
    prop_oneof![eip3009, permit2, other]
}

proptest! {
    #[test]
    fn payment_required_keeps_everything(version in 1u64..=2, object in (1u64..=2).prop_flat_map(payment_required)) {
        let mut object = object;
        object["x402Version"] = json!(version);
        let text = to_compact_json(&object);
        let required = PaymentRequired::from_object(object.clone()).unwrap();
        prop_assert_eq!(to_compact_json(&required), text.clone());
        // Through the header codec, too.
        let again = PaymentRequired::from_header(&encode_header(&required)).unwrap();
        prop_assert_eq!(&again, &required);
        // Each entry of accepts is kept verbatim.
        for (i, entry) in object["accepts"].as_array().unwrap().iter().enumerate() {
            prop_assert_eq!(Some(entry.as_object().unwrap()), required.accept(i));
        }
        match required {
            PaymentRequired::V1(r) => prop_assert_eq!(serde_json::from_str::<v1::PaymentRequired>(&text).unwrap(), r),
            PaymentRequired::V2(r) => prop_assert_eq!(serde_json::from_str::<v2::PaymentRequired>(&text).unwrap(), r),
        }
    }

    #[test]
    fn v2_payment_payload_round_trips(
        payload in scheme_payload(),
        accepted in requirement(),
        resource in prop::option::of(any_json()),
        extensions in prop::option::of(any_json()),
    ) {
        let accepted: v2::PaymentRequirements = serde_json::from_value(Value::Object(accepted)).unwrap();
        let payload = PaymentPayload::V2(v2::PaymentPayload { x402_version: 2, payload, extensions, resource, accepted });
        let text = to_compact_json(&payload);
        let prefix = "{\"x402Version\":2,\"payload\":";
        prop_assert!(text.starts_with(prefix), "{}", text);
        let back: PaymentPayload = serde_json::from_str(&text).unwrap();
        prop_assert_eq!(&back, &payload);
        prop_assert_eq!(to_compact_json(&back), text);
        prop_assert_eq!(PaymentPayload::from_header(&payload.header_value()).unwrap(), payload);
    }

    #[test]
    fn v1_payment_payload_round_trips(payload in scheme_payload(), scheme in text(), network in text()) {
        let payload = PaymentPayload::V1(v1::PaymentPayload { x402_version: 1, scheme, network, payload });
        let text = to_compact_json(&payload);
        let back: PaymentPayload = serde_json::from_str(&text).unwrap();
        prop_assert_eq!(&back, &payload);
        prop_assert_eq!(to_compact_json(&back), text);
        prop_assert_eq!(payload.header_name(), "X-PAYMENT");
    }

    #[test]
    fn settle_response_round_trips(
        success in any::<bool>(),
        reason in prop::option::of(text()),
        transaction in text(),
        network in text(),
        more in extras(),
    ) {
        let mut object = object_with(
            vec![("success", json!(success)), ("transaction", json!(transaction)), ("network", json!(network))],
            more.into_iter().filter(|(k, _)| !["errorReason", "errorMessage", "payer", "amount", "extensions"].contains(&k.as_str())).collect(),
            vec![],
        );
        if let Some(reason) = reason {
            object.insert("errorReason".into(), json!(reason));
        }
        let settle: SettleResponse = serde_json::from_value(Value::Object(object.clone())).unwrap();
        prop_assert_eq!(serde_json::to_value(&settle).unwrap(), Value::Object(object));
        prop_assert_eq!(SettleResponse::from_header(&encode_header(&settle)).unwrap(), settle);
    }
}
