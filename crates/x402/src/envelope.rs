//! The `PaymentRequired` object of either version, kept exactly as the server sent it.

use serde::{Deserialize, Deserializer, Serialize, Serializer, ser::SerializeMap};
use serde_json::Value;

use crate::{Error, Object, Result};

/// One entry of `accepts`, for one protocol version.
///
/// Implemented by [`crate::v1::PaymentRequirements`] and [`crate::v2::PaymentRequirements`].
pub trait Requirements: Sized + sealed::Sealed {
    /// The `x402Version` this entry belongs to.
    const VERSION: u64;
    /// Wraps an entry, kept verbatim.
    fn from_object(object: Object) -> Self;
    /// The entry as the server sent it: every field, in the server's order.
    fn as_object(&self) -> &Object;
}

pub(crate) mod sealed {
    pub trait Sealed {}
}

/// A `PaymentRequired` (v2) or `PaymentRequirementsResponse` (v1): `x402Version`, `error`,
/// `accepts`, and whatever else the server sent.
///
/// Every field, `null` and unknown key is kept in the server's order, so serializing it
/// gives back the server's object and [`Envelope::accepts`] can be echoed verbatim.
#[derive(Debug, Clone, PartialEq)]
pub struct Envelope<R> {
    /// Every field but `accepts`, whose slot holds `null` to keep its position.
    rest: Object,
    accepts: Vec<R>,
}

impl<R: Requirements> Envelope<R> {
    /// Reads and checks the envelope: a numeric `x402Version` equal to `R::VERSION` and a
    /// non-empty `accepts` list of objects.
    pub fn from_object(mut rest: Object) -> Result<Self> {
        match rest.get("x402Version") {
            // `===` in the reference client: 1 and 1.0 are the same number.
            Some(Value::Number(n)) if n.as_f64() == Some(R::VERSION as f64) => {}
            Some(other) => return Err(Error::UnsupportedVersion { found: other.to_string() }),
            None => return Err(Error::missing("x402Version")),
        }
        let accepts = match rest.get_mut("accepts").map(Value::take) {
            Some(Value::Array(items)) => items,
            None | Some(Value::Null) => return Err(Error::missing("accepts")),
            Some(_) => return Err(Error::wrong_type("accepts", "an array")),
        };
        if accepts.is_empty() {
            return Err(Error::EmptyAccepts);
        }
        let accepts = accepts
            .into_iter()
            .enumerate()
            .map(|(i, item)| match item {
                Value::Object(object) => Ok(R::from_object(object)),
                _ => Err(Error::wrong_type(format!("accepts[{i}]"), "an object")),
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Self { rest, accepts })
    }

    /// `x402Version`.
    pub fn x402_version(&self) -> u64 {
        R::VERSION
    }

    /// `error`: the server's human-readable reason, or a facilitator reason code after a
    /// failed attempt.
    pub fn error(&self) -> Option<&str> {
        self.rest.get("error").and_then(Value::as_str)
    }

    /// The payment options, in the server's order.
    pub fn accepts(&self) -> &[R] {
        &self.accepts
    }

    /// Any other top-level field (`resource`, `extensions`, `payer`, …), as sent.
    pub fn field(&self, name: &str) -> Option<&Value> {
        if name == "accepts" { None } else { self.rest.get(name) }
    }
}

impl<R: Requirements> Serialize for Envelope<R> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.rest.len()))?;
        for (key, value) in &self.rest {
            if key == "accepts" {
                let items: Vec<&Object> = self.accepts.iter().map(R::as_object).collect();
                map.serialize_entry(key, &items)?;
            } else {
                map.serialize_entry(key, value)?;
            }
        }
        map.end()
    }
}

impl<'de, R: Requirements> Deserialize<'de> for Envelope<R> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let object = Object::deserialize(deserializer)?;
        Self::from_object(object).map_err(serde::de::Error::custom)
    }
}

/// Implements [`Requirements`] and transparent serde for a version's `PaymentRequirements`.
macro_rules! requirements {
    ($name:ident, $version:literal) => {
        impl $crate::envelope::sealed::Sealed for $name {}

        impl $crate::Requirements for $name {
            const VERSION: u64 = $version;
            fn from_object(object: $crate::Object) -> Self {
                Self(object)
            }
            fn as_object(&self) -> &$crate::Object {
                &self.0
            }
        }

        impl $name {
            /// A field of this entry, as sent.
            pub fn get(&self, key: &str) -> Option<&serde_json::Value> {
                self.0.get(key)
            }
        }
    };
}
pub(crate) use requirements;
