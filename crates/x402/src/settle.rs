//! The settlement result in `PAYMENT-RESPONSE` (v2) or `X-PAYMENT-RESPONSE` (v1).

use serde::{Deserialize, Serialize};

use crate::{Object, Result, codec};

/// `SettleResponse` (v2) / `SettlementResponse` (v1). Unknown fields are kept in `other`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SettleResponse {
    /// Whether the transfer was settled.
    pub success: bool,
    /// Reason code on failure (`settlement_pending` means maybe paid).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_reason: Option<String>,
    /// Human text on failure.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_message: Option<String>,
    /// Payer address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payer: Option<String>,
    /// Transaction hash; empty on failure.
    #[serde(default)]
    pub transaction: String,
    /// Network (CAIP-2 in v2, a v1 name in v1).
    #[serde(default)]
    pub network: String,
    /// Amount actually settled, when the scheme says.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub amount: Option<String>,
    /// Extension responses.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extensions: Option<serde_json::Value>,
    /// Any other field, as sent.
    #[serde(flatten)]
    pub other: Object,
}

impl SettleResponse {
    /// Reads the settlement header of an answer the way the reference client does:
    /// `PAYMENT-RESPONSE` first, then `X-PAYMENT-RESPONSE`. `Ok(None)` when there is neither.
    pub fn from_headers<'a>(
        headers: impl IntoIterator<Item = (&'a str, &'a str)> + Clone,
    ) -> Result<Option<Self>> {
        for name in [crate::PAYMENT_RESPONSE, crate::X_PAYMENT_RESPONSE] {
            if let Some(value) = crate::required::header(headers.clone(), name) {
                return Self::from_header(value).map(Some);
            }
        }
        Ok(None)
    }

    /// Decodes a `PAYMENT-RESPONSE` or `X-PAYMENT-RESPONSE` header value.
    pub fn from_header(value: &str) -> Result<Self> {
        codec::decode_header(value, crate::PAYMENT_RESPONSE)
    }

    /// `success: false` with `settlement_pending`: the transfer was broadcast and may
    /// still land, so it must be checked on chain before it is called failed.
    pub fn is_pending(&self) -> bool {
        !self.success && self.error_reason.as_deref() == Some("settlement_pending")
    }
}
