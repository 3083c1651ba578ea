//! Any bytes, as a header value or as a 402 body: decoding never panics, and whatever
//! is read as x402 writes back to the same thing and can go through offer selection.
#![no_main]

use libfuzzer_sys::fuzz_target;
use purse_x402::{
    PaymentPayload, PaymentRequired, SettleResponse, encode_header,
    exact::{self, Options},
};

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = PaymentRequired::from_header(text);
        let _ = PaymentPayload::from_header(text);
        let _ = SettleResponse::from_header(text);
    }
    if let Ok(Some(required)) = PaymentRequired::from_response(402, [], data) {
        let again = PaymentRequired::from_header(&encode_header(&required));
        assert_eq!(again.as_ref(), Ok(&required));
        let _ = exact::select(&required, Options { allow_unknown_asset: true });
    }
});
