//! The signed payment, as it goes into `PAYMENT-SIGNATURE` (v2) or `X-PAYMENT` (v1).

use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;

use crate::{Error, Object, Result, codec, v1, v2};

/// A `PaymentPayload` of either version.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum PaymentPayload {
    /// v1, sent as `X-PAYMENT`.
    V1(v1::PaymentPayload),
    /// v2, sent as `PAYMENT-SIGNATURE`.
    V2(v2::PaymentPayload),
}

impl PaymentPayload {
    /// The header that carries it: `PAYMENT-SIGNATURE` for v2, `X-PAYMENT` for v1.
    pub fn header_name(&self) -> &'static str {
        match self {
            Self::V1(_) => crate::X_PAYMENT,
            Self::V2(_) => crate::PAYMENT_SIGNATURE,
        }
    }

    /// The header value: standard base64 of the compact JSON.
    pub fn header_value(&self) -> String {
        codec::encode_header(self)
    }

    /// The header as `(name, value)`.
    pub fn header(&self) -> (&'static str, String) {
        (self.header_name(), self.header_value())
    }

    /// Decodes a `PAYMENT-SIGNATURE` or `X-PAYMENT` header value.
    pub fn from_header(value: &str) -> Result<Self> {
        codec::decode_header(value, crate::PAYMENT_SIGNATURE)
    }

    /// The scheme's signed payload.
    pub fn payload(&self) -> &SchemePayload {
        match self {
            Self::V1(p) => &p.payload,
            Self::V2(p) => &p.payload,
        }
    }
}

impl<'de> Deserialize<'de> for PaymentPayload {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        use serde::de::Error as _;
        let value = Value::deserialize(deserializer)?;
        match value.get("x402Version").and_then(Value::as_u64) {
            Some(1) => serde_json::from_value(value).map(Self::V1).map_err(D::Error::custom),
            Some(2) => serde_json::from_value(value).map(Self::V2).map_err(D::Error::custom),
            _ => Err(D::Error::custom(Error::UnsupportedVersion {
                found: value.get("x402Version").map_or("(none)".into(), Value::to_string),
            })),
        }
    }
}

/// The scheme-specific `payload`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum SchemePayload {
    /// EVM `exact` through EIP-3009.
    Eip3009(Eip3009Payload),
    /// EVM `exact` through Permit2.
    Permit2(Permit2Payload),
    /// Any other scheme's payload, kept as sent.
    Other(Object),
}

/// EVM `exact` EIP-3009 payload: `{authorization, signature}` (the `@x402/evm` order).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Eip3009Payload {
    /// The signed `TransferWithAuthorization` message.
    pub authorization: Eip3009Authorization,
    /// 65-byte `r ‖ s ‖ v` signature, `0x` + lowercase hex.
    pub signature: String,
}

/// `TransferWithAuthorization` fields, every one a JSON string.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Eip3009Authorization {
    /// Payer, checksummed.
    pub from: String,
    /// Payee (`payTo`), checksummed.
    pub to: String,
    /// Atomic units, decimal.
    pub value: String,
    /// Unix seconds, decimal.
    pub valid_after: String,
    /// Unix seconds, decimal.
    pub valid_before: String,
    /// 32 bytes, `0x` + lowercase hex.
    pub nonce: String,
}

/// EVM `exact` Permit2 payload: `{signature, permit2Authorization}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Permit2Payload {
    /// 65-byte `r ‖ s ‖ v` signature, `0x` + lowercase hex.
    pub signature: String,
    /// The signed `PermitWitnessTransferFrom` message and its owner.
    pub permit2_authorization: Permit2Authorization,
}

/// `PermitWitnessTransferFrom` fields plus `from`, numbers as decimal strings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Permit2Authorization {
    /// Payer (token owner), checksummed.
    pub from: String,
    /// Token and amount.
    pub permitted: TokenPermissions,
    /// The x402 exact Permit2 proxy.
    pub spender: String,
    /// uint256 nonce, decimal.
    pub nonce: String,
    /// Unix seconds, decimal.
    pub deadline: String,
    /// Recipient and start of validity.
    pub witness: Permit2Witness,
}

/// Permit2 `TokenPermissions`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokenPermissions {
    /// Token contract, checksummed.
    pub token: String,
    /// Atomic units, decimal.
    pub amount: String,
}

/// The x402 exact Permit2 witness.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Permit2Witness {
    /// Payee (`payTo`), checksummed.
    pub to: String,
    /// Unix seconds, decimal.
    pub valid_after: String,
}
