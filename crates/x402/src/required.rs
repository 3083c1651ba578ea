//! Telling an x402 402 from any other 402.

use serde::Serialize;
use serde_json::Value;

use crate::{Error, Object, Result, codec, v1, v2};

/// The payment requirements of an x402 402, of either version.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum PaymentRequired {
    /// From a v1 JSON body (or a `PAYMENT-REQUIRED` header that says `x402Version: 1`).
    V1(v1::PaymentRequired),
    /// From a v2 `PAYMENT-REQUIRED` header.
    V2(v2::PaymentRequired),
}

impl PaymentRequired {
    /// Reads a response the way the official `@x402/core` client does
    /// (`x402HTTPClient.getPaymentRequiredResponse`):
    ///
    /// 1. a non-empty `PAYMENT-REQUIRED` header is decoded (base64, JSON) and read as the
    ///    version it names;
    /// 2. otherwise a body that is a JSON object whose `x402Version` is the number 1 is
    ///    the v1 requirements;
    /// 3. otherwise the 402 is not x402: `Ok(None)`, to be passed through untouched.
    ///
    /// A status other than 402 is never x402. Header names are matched case-insensitively.
    pub fn from_response<'a>(
        status: u16,
        headers: impl IntoIterator<Item = (&'a str, &'a str)>,
        body: &[u8],
    ) -> Result<Option<Self>> {
        if status != 402 {
            return Ok(None);
        }
        if let Some(value) = header(headers, crate::PAYMENT_REQUIRED).filter(|v| !v.is_empty()) {
            return Self::from_header(value).map(Some);
        }
        match serde_json::from_slice::<Value>(body) {
            Ok(Value::Object(object)) if is_v1(&object) => {
                v1::PaymentRequired::from_object(object).map(|r| Some(Self::V1(r)))
            }
            _ => Ok(None),
        }
    }

    /// Decodes a `PAYMENT-REQUIRED` header value.
    pub fn from_header(value: &str) -> Result<Self> {
        let object: Object = codec::decode_header(value, crate::PAYMENT_REQUIRED)?;
        Self::from_object(object)
    }

    /// Reads a decoded object by its numeric `x402Version`.
    pub fn from_object(object: Object) -> Result<Self> {
        match object.get("x402Version").and_then(Value::as_f64) {
            Some(1.0) => v1::PaymentRequired::from_object(object).map(Self::V1),
            Some(2.0) => v2::PaymentRequired::from_object(object).map(Self::V2),
            _ => Err(Error::UnsupportedVersion {
                found: object.get("x402Version").map_or("(none)".into(), Value::to_string),
            }),
        }
    }

    /// `x402Version`: 1 or 2.
    pub fn x402_version(&self) -> u64 {
        match self {
            Self::V1(r) => r.x402_version(),
            Self::V2(r) => r.x402_version(),
        }
    }

    /// The server's `error` text.
    pub fn error(&self) -> Option<&str> {
        match self {
            Self::V1(r) => r.error(),
            Self::V2(r) => r.error(),
        }
    }

    /// How many payment options there are.
    pub fn len(&self) -> usize {
        match self {
            Self::V1(r) => r.accepts().len(),
            Self::V2(r) => r.accepts().len(),
        }
    }

    /// Always false: an empty `accepts` is refused when read.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The `index`th option as the server sent it.
    pub fn accept(&self, index: usize) -> Option<&Object> {
        use crate::Requirements as _;
        match self {
            Self::V1(r) => r.accepts().get(index).map(|a| a.as_object()),
            Self::V2(r) => r.accepts().get(index).map(|a| a.as_object()),
        }
    }
}

fn is_v1(object: &Object) -> bool {
    object.get("x402Version").and_then(Value::as_f64) == Some(1.0)
}

/// The value of header `name`, matched case-insensitively, trimmed.
pub(crate) fn header<'a>(
    headers: impl IntoIterator<Item = (&'a str, &'a str)>,
    name: &str,
) -> Option<&'a str> {
    headers.into_iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.trim())
}
