//! `purse x402 decode` and `purse x402 sign`.

use std::{
    io::Read as _,
    path::{Path, PathBuf},
    time::{SystemTime, UNIX_EPOCH},
};

use alloy::{primitives::B256, signers::local::PrivateKeySigner};
use anyhow::{Context, Result, anyhow, bail};
use clap::{Args, Subcommand};
use purse_x402::{
    Object, PaymentPayload, PaymentRequired, SettleResponse, decode_base64,
    exact::{self, Options},
};
use serde_json::Value;

use crate::response::{self, Input, Response};

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Print the x402 content of a saved 402 response (`curl -si URL > FILE`) or of a
    /// bare header value (PAYMENT-REQUIRED, PAYMENT-SIGNATURE, X-PAYMENT, PAYMENT-RESPONSE…)
    /// as JSON.
    Decode {
        /// The file, or `-` for standard input.
        file: PathBuf,
    },
    /// Print the payment header Purse would send for a saved 402 response, as one line
    /// `HEADER-NAME: VALUE`. It checks the offer but applies no spending policy.
    Sign(SignArgs),
}

#[derive(Debug, Args)]
pub(crate) struct SignArgs {
    /// The 402 response (`curl -si URL > FILE`) or a bare PAYMENT-REQUIRED value; `-` for
    /// standard input.
    file: PathBuf,
    /// A file holding the payer's 0x-prefixed hex private key.
    #[arg(long, value_name = "F")]
    private_key_file: Option<PathBuf>,
    /// Which entry of `accepts` to pay (0-based). Default: the first one Purse can pay.
    #[arg(long, value_name = "N")]
    accept: Option<usize>,
    /// Unix time to sign at, instead of the clock.
    #[arg(long, value_name = "UNIX")]
    now: Option<u64>,
    /// The 32-byte nonce as 0x + 64 hex digits, instead of a random one (for Permit2,
    /// the uint256 nonce in that form).
    #[arg(long, value_name = "0xHEX")]
    nonce: Option<B256>,
    /// Sign for a token outside Purse's registry, trusting the 402's EIP-712 name and version.
    #[arg(long)]
    allow_unknown_asset: bool,
}

impl Command {
    pub(crate) fn run(self) -> Result<()> {
        match self {
            Self::Decode { file } => decode(&file),
            Self::Sign(args) => sign(args),
        }
    }
}

fn read_input(path: &Path) -> Result<Input> {
    let mut bytes = Vec::new();
    if path == Path::new("-") {
        std::io::stdin().read_to_end(&mut bytes).context("cannot read standard input")?;
    } else {
        bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    }
    response::read(&bytes)
}

/// What `decode` found.
enum Decoded {
    Required(PaymentRequired),
    Payload(PaymentPayload),
    Settle(SettleResponse),
}

impl Decoded {
    fn describe(&self) -> String {
        match self {
            Self::Required(r) => format!("x402 v{} payment requirements", r.x402_version()),
            Self::Payload(PaymentPayload::V1(_)) => "x402 v1 payment (X-PAYMENT)".into(),
            Self::Payload(PaymentPayload::V2(_)) => "x402 v2 payment (PAYMENT-SIGNATURE)".into(),
            Self::Settle(s) if s.success => "x402 settlement: success".into(),
            Self::Settle(_) => "x402 settlement: failure".into(),
        }
    }

    fn to_json(&self) -> String {
        let text = match self {
            Self::Required(r) => serde_json::to_string_pretty(r),
            Self::Payload(p) => serde_json::to_string_pretty(p),
            Self::Settle(s) => serde_json::to_string_pretty(s),
        };
        text.unwrap_or_default()
    }
}

fn decode(path: &Path) -> Result<()> {
    let decoded = match read_input(path)? {
        Input::Response(response) => decode_response(&response)?,
        Input::Header { name, value } => decode_header(Some(&name), &value)?,
        Input::Bare(value) => decode_header(None, &value)?,
    };
    eprintln!("{}", decoded.describe());
    crate::print(&decoded.to_json())
}

fn decode_response(response: &Response) -> Result<Decoded> {
    if let Some(required) =
        PaymentRequired::from_response(response.status, response.headers(), &response.body)?
    {
        return Ok(Decoded::Required(required));
    }
    if let Some(settle) = SettleResponse::from_headers(response.headers())? {
        return Ok(Decoded::Settle(settle));
    }
    if response.status == 402 {
        bail!(
            "not x402: this 402 has no PAYMENT-REQUIRED header and its body is not x402 v1 JSON \
             (an object with \"x402Version\": 1)"
        );
    }
    bail!(
        "not x402: status {} carries no settlement header (PAYMENT-RESPONSE or X-PAYMENT-RESPONSE)",
        response.status
    )
}

fn decode_header(name: Option<&str>, value: &str) -> Result<Decoded> {
    let name = name.map(str::to_ascii_uppercase);
    match name.as_deref() {
        Some("PAYMENT-REQUIRED") => {
            return Ok(Decoded::Required(PaymentRequired::from_header(value)?));
        }
        Some("PAYMENT-SIGNATURE" | "X-PAYMENT") => {
            return Ok(Decoded::Payload(PaymentPayload::from_header(value)?));
        }
        Some("PAYMENT-RESPONSE" | "X-PAYMENT-RESPONSE") => {
            return Ok(Decoded::Settle(SettleResponse::from_header(value)?));
        }
        Some(other) => bail!("not x402: {other} is not an x402 header"),
        None => {}
    }
    // A bare value: a v1 JSON body, or base64 JSON told apart by its fields.
    if value.starts_with('{') {
        let object: Object = serde_json::from_str(value).context("the input is not valid JSON")?;
        return PaymentRequired::from_object(object)
            .map(Decoded::Required)
            .map_err(|e| anyhow!("not x402 v1 payment requirements: {e}"));
    }
    let bytes = decode_base64(value, "the value").map_err(|_| {
        anyhow!("not x402: the input is neither an HTTP response, a header line, JSON, nor standard base64")
    })?;
    let object: Object =
        serde_json::from_slice(&bytes).context("the base64 value does not hold JSON")?;
    if object.contains_key("accepts") {
        Ok(Decoded::Required(PaymentRequired::from_object(object)?))
    } else if object.contains_key("payload") {
        Ok(Decoded::Payload(serde_json::from_value(Value::Object(object))?))
    } else if object.contains_key("success") {
        Ok(Decoded::Settle(serde_json::from_value(Value::Object(object))?))
    } else {
        bail!("not x402: the decoded JSON has none of accepts, payload or success")
    }
}

fn sign(args: SignArgs) -> Result<()> {
    let required = match read_input(&args.file)? {
        Input::Response(response) => PaymentRequired::from_response(
            response.status,
            response.headers(),
            &response.body,
        )?
        .ok_or_else(|| {
            if response.status == 402 {
                anyhow!(
                    "not x402: this 402 has no PAYMENT-REQUIRED header and no x402 v1 JSON body"
                )
            } else {
                anyhow!("not a 402: the response has status {}", response.status)
            }
        })?,
        Input::Header { name, value } if name.eq_ignore_ascii_case("PAYMENT-REQUIRED") => {
            PaymentRequired::from_header(&value)?
        }
        Input::Header { name, .. } => bail!("{name} is not a PAYMENT-REQUIRED header"),
        Input::Bare(value) if value.starts_with('{') => PaymentRequired::from_object(
            serde_json::from_str(&value).context("the input is not valid JSON")?,
        )?,
        Input::Bare(value) => PaymentRequired::from_header(&value)?,
    };
    let options = Options { allow_unknown_asset: args.allow_unknown_asset };
    let offer = match args.accept {
        Some(index) => exact::check(&required, index, options)?,
        None => exact::select(&required, options)?,
    };
    let key_file = args
        .private_key_file
        .context("no key to sign with: pass --private-key-file F (a file holding a 0x-prefixed hex private key)")?;
    let signer = read_private_key(&key_file)?;
    let now = match args.now {
        Some(now) => now,
        None => SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .context("the system clock is before 1970")?
            .as_secs(),
    };
    let nonce = match args.nonce {
        Some(nonce) => nonce,
        None => {
            let mut bytes = [0u8; 32];
            getrandom::fill(&mut bytes).map_err(|e| anyhow!("no randomness for the nonce: {e}"))?;
            B256::from(bytes)
        }
    };
    let payload = offer.authorize(signer.address(), now, nonce, None)?.sign(&signer)?;
    let (name, value) = payload.header();
    crate::print(&format!("{name}: {value}"))
}

fn read_private_key(path: &Path) -> Result<PrivateKeySigner> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let hex = text.trim();
    let valid = hex
        .strip_prefix("0x")
        .is_some_and(|h| h.len() == 64 && h.bytes().all(|b| b.is_ascii_hexdigit()));
    // Never echo the file's content: it may be a real key with a typo.
    if !valid {
        bail!("{} does not hold a private key (0x followed by 64 hex digits)", path.display());
    }
    hex.parse::<PrivateKeySigner>().map_err(|_| {
        anyhow!("{} holds 32 bytes that are not a valid secp256k1 private key", path.display())
    })
}
