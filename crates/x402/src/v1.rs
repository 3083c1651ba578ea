//! x402 v1: the 402 carries a JSON body; the payment goes in `X-PAYMENT`.

use serde::{Deserialize, Serialize};

use crate::{Object, SchemePayload, envelope::requirements};

/// One v1 payment option (`scheme`, `network` by v1 name, `maxAmountRequired`, `resource`,
/// `description`, `mimeType`, `outputSchema`, `payTo`, `maxTimeoutSeconds`, `asset`,
/// `extra`), kept verbatim.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct PaymentRequirements(Object);
requirements!(PaymentRequirements, 1);

/// The v1 402 body (`PaymentRequirementsResponse`): `x402Version: 1`, `error`, `accepts`
/// and, after a failed verify, `payer`.
pub type PaymentRequired = crate::Envelope<PaymentRequirements>;

/// The v1 `X-PAYMENT` object. Its key order is that of the `@x402/evm` v1 path.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PaymentPayload {
    /// Always 1.
    pub x402_version: u64,
    /// The chosen option's `scheme`, as sent.
    pub scheme: String,
    /// The chosen option's `network`, as sent.
    pub network: String,
    /// The scheme's signed payload.
    pub payload: SchemePayload,
}
