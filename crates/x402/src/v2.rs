//! x402 v2: the 402 carries `PAYMENT-REQUIRED`; the payment goes in `PAYMENT-SIGNATURE`.

use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;

use crate::{Object, SchemePayload, envelope::requirements};

/// One v2 payment option (`scheme`, `network` as CAIP-2, `amount`, `asset`, `payTo`,
/// `maxTimeoutSeconds`, `extra`), kept verbatim so that it can be echoed as `accepted`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct PaymentRequirements(Object);
requirements!(PaymentRequirements, 2);

/// The v2 `PaymentRequired`: `x402Version: 2`, `error`, `resource`, `accepts`, `extensions`.
pub type PaymentRequired = crate::Envelope<PaymentRequirements>;

/// The v2 `PAYMENT-SIGNATURE` object, with the official client's key order:
/// `x402Version`, `payload`, `extensions` (when the 402 had them), `resource`, `accepted`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PaymentPayload {
    /// Always 2.
    pub x402_version: u64,
    /// The scheme's signed payload.
    pub payload: SchemePayload,
    /// The 402's `extensions`, echoed (`Some(Value::Null)` for an explicit `null`).
    #[serde(default, deserialize_with = "present", skip_serializing_if = "Option::is_none")]
    pub extensions: Option<Value>,
    /// The 402's `resource`, echoed (`Some(Value::Null)` for an explicit `null`).
    #[serde(default, deserialize_with = "present", skip_serializing_if = "Option::is_none")]
    pub resource: Option<Value>,
    /// The chosen `accepts` entry, verbatim.
    pub accepted: PaymentRequirements,
}

/// A field that is present is `Some`, even when it is `null`.
fn present<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<Value>, D::Error> {
    Value::deserialize(deserializer).map(Some)
}
