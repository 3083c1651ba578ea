//! Header codecs: standard base64 of compact UTF-8 JSON, as the reference client writes them.

use base64::{
    Engine as _, alphabet,
    engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig},
};
use serde::{Serialize, de::DeserializeOwned};

use crate::{Error, Result};

/// A JSON object with its keys in the order they were read (or written).
pub type Object = serde_json::Map<String, serde_json::Value>;

/// Encodes like the reference `safeBase64Encode`: standard alphabet, `=` padding.
const ENCODE: GeneralPurpose =
    GeneralPurpose::new(&alphabet::STANDARD, GeneralPurposeConfig::new());

/// Decodes like the reference `safeBase64Decode` (`atob`): standard alphabet, padding
/// optional, stray bits in the last symbol tolerated.
const DECODE: GeneralPurpose = GeneralPurpose::new(
    &alphabet::STANDARD,
    GeneralPurposeConfig::new()
        .with_decode_padding_mode(DecodePaddingMode::Indifferent)
        .with_decode_allow_trailing_bits(true),
);

/// Standard base64 of `bytes`.
pub fn encode_base64(bytes: &[u8]) -> String {
    ENCODE.encode(bytes)
}

/// Decodes a header value the way the reference client does: it must match
/// `^[A-Za-z0-9+/]*={0,2}$` and decode as standard base64.
pub fn decode_base64(value: &str, header: &'static str) -> Result<Vec<u8>> {
    let body = value.trim_end_matches('=');
    let padding = value.len() - body.len();
    let alphabet_ok =
        body.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'+' || b == b'/') && padding <= 2;
    if !alphabet_ok {
        return Err(Error::MalformedBase64 { header });
    }
    DECODE.decode(value).map_err(|_| Error::MalformedBase64 { header })
}

/// Compact JSON (no whitespace, raw UTF-8), as `JSON.stringify` writes it.
pub fn to_compact_json<T: Serialize + ?Sized>(value: &T) -> String {
    // Serializing our own types and `serde_json::Value`s to a `String` cannot fail:
    // they have string keys only and no fallible `Serialize` impls.
    serde_json::to_string(value).unwrap_or_default()
}

/// Standard base64 of the compact JSON of `value`: a header value.
pub fn encode_header<T: Serialize + ?Sized>(value: &T) -> String {
    encode_base64(to_compact_json(value).as_bytes())
}

/// Parses JSON text, naming `what` in the error.
pub(crate) fn parse_json<T: DeserializeOwned>(bytes: &[u8], what: &'static str) -> Result<T> {
    serde_json::from_slice(bytes).map_err(|e| Error::MalformedJson { what, reason: e.to_string() })
}

/// Decodes a base64 JSON header value into `T`.
pub(crate) fn decode_header<T: DeserializeOwned>(value: &str, header: &'static str) -> Result<T> {
    let bytes = decode_base64(value.trim(), header)?;
    parse_json(&bytes, header)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_round_trips_and_rejects_url_safe() {
        let bytes = b"{\"a\":\"\xe2\x82\xae~~~?>\"}";
        let encoded = encode_base64(bytes);
        assert_eq!(decode_base64(&encoded, "X").unwrap(), bytes);
        let url_safe = encoded.replace('+', "-").replace('/', "_");
        if url_safe != encoded {
            assert_eq!(decode_base64(&url_safe, "X"), Err(Error::MalformedBase64 { header: "X" }));
        }
    }

    #[test]
    fn base64_accepts_missing_padding_like_atob() {
        assert_eq!(decode_base64("eyJhIjoxfQ", "X").unwrap(), b"{\"a\":1}");
        assert_eq!(decode_base64("eyJhIjoxfQ==", "X").unwrap(), b"{\"a\":1}");
        assert!(decode_base64("eyJhIjoxfQ===", "X").is_err());
        assert!(decode_base64("ey J", "X").is_err());
        assert!(decode_base64("e", "X").is_err());
    }
}
