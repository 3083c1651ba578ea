#![doc = include_str!("../README.md")]
#![warn(missing_docs)]

mod codec;
mod envelope;
mod error;
pub mod exact;
mod payload;
pub mod registry;
mod required;
mod settle;
pub mod v1;
pub mod v2;

pub use codec::{Object, decode_base64, encode_base64, encode_header, to_compact_json};
pub use envelope::{Envelope, Requirements};
pub use error::{Error, Result};
pub use payload::{
    Eip3009Authorization, Eip3009Payload, PaymentPayload, Permit2Authorization, Permit2Payload,
    Permit2Witness, SchemePayload, TokenPermissions,
};
pub use required::PaymentRequired;
pub use settle::SettleResponse;

/// Header of a v2 402 that carries the [`PaymentRequired`].
pub const PAYMENT_REQUIRED: &str = "PAYMENT-REQUIRED";
/// Header of a v2 paid request that carries the [`PaymentPayload`].
pub const PAYMENT_SIGNATURE: &str = "PAYMENT-SIGNATURE";
/// Header of a v2 answer that carries the [`SettleResponse`].
pub const PAYMENT_RESPONSE: &str = "PAYMENT-RESPONSE";
/// Header of a v1 paid request that carries the [`PaymentPayload`].
pub const X_PAYMENT: &str = "X-PAYMENT";
/// Header of a v1 answer that carries the [`SettleResponse`].
pub const X_PAYMENT_RESPONSE: &str = "X-PAYMENT-RESPONSE";
