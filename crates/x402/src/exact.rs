//! The EVM `exact` scheme: validating an offer, building its EIP-712 typed data, and
//! turning a signature into the payment header.
//!
//! Two transfer methods are signed, chosen by `extra.assetTransferMethod`:
//!
//! - absent or `"eip3009"`: EIP-3009 `TransferWithAuthorization` in the token's own domain
//!   `{name: extra.name, version: extra.version, chainId, verifyingContract: asset}`;
//! - `"permit2"` (v2 only): Permit2 `PermitWitnessTransferFrom` in the domain
//!   `{name: "Permit2", chainId, verifyingContract: PERMIT2}` (no version), spent by the
//!   x402 exact Permit2 proxy with the witness `{to: payTo, validAfter}`.
//!
//! Anything else (`erc7710`, typos) is refused: the reference client would silently sign
//! EIP-3009 instead. The chain id always comes from the network, the verifying contract
//! from `asset`; `extra.verifyingContract` is ignored, as the maintainers decided.
//!
//! Times follow the current official client (`@x402/evm` 2.27.0): v2 signs
//! `validAfter = 0`, v1 signs `validAfter = now - 600`; both sign
//! `validBefore = now + maxTimeoutSeconds` unless the caller caps the lifetime.

use alloy::{
    primitives::{Address, B256, U256, address},
    signers::{Signature, SignerSync},
    sol,
    sol_types::{Eip712Domain, SolStruct},
};
use serde_json::Value;

use crate::{
    Eip3009Authorization, Eip3009Payload, Error, Object, PaymentPayload, PaymentRequired,
    Permit2Authorization, Permit2Payload, Permit2Witness, Result, SchemePayload, TokenPermissions,
    registry::{self, Asset, Network, TransferMethod},
    v1, v2,
};

/// The canonical Permit2 contract.
pub const PERMIT2: Address = address!("0x000000000022D473030F116dDEE9F6B43aC78BA3");
/// The `x402ExactPermit2Proxy`, the only spender Purse signs Permit2 permits for.
pub const X402_EXACT_PERMIT2_PROXY: Address =
    address!("0x402085c248EeA27D92E8b30b2C58ed07f9E20001");
/// How far back v1 moves `validAfter`, for clock skew (`@x402/evm` v1 path).
pub const V1_VALID_AFTER_BACKOFF: u64 = 600;

sol! {
    /// EIP-3009 authorization, as USDC's `transferWithAuthorization` hashes it.
    #[derive(Debug, PartialEq, Eq)]
    struct TransferWithAuthorization {
        address from;
        address to;
        uint256 value;
        uint256 validAfter;
        uint256 validBefore;
        bytes32 nonce;
    }
}

// The Permit2 message names its nested type `TokenPermissions`; it is declared in its own
// module so that the Rust name does not clash with the wire type of the same name.
mod permit2_types {
    alloy::sol! {
        #[derive(Debug, PartialEq, Eq)]
        struct TokenPermissions {
            address token;
            uint256 amount;
        }

        #[derive(Debug, PartialEq, Eq)]
        struct Witness {
            address to;
            uint256 validAfter;
        }

        /// Permit2 signature transfer with the x402 witness.
        #[derive(Debug, PartialEq, Eq)]
        struct PermitWitnessTransferFrom {
            TokenPermissions permitted;
            address spender;
            uint256 nonce;
            uint256 deadline;
            Witness witness;
        }
    }
}
pub use permit2_types::PermitWitnessTransferFrom;

/// What the caller allows beyond the registry.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Options {
    /// Sign for an asset outside the registry, trusting the offer's `extra.name` and
    /// `extra.version` for its EIP-712 domain. Off by default: an unknown token may not
    /// be a dollar, whatever its digits say.
    pub allow_unknown_asset: bool,
}

/// One `accepts` entry that passed every check and can be signed.
#[derive(Debug, Clone, PartialEq)]
pub struct Offer<'a> {
    /// Its index in `accepts`.
    pub index: usize,
    /// `x402Version` of the 402.
    pub x402_version: u64,
    /// The network, from the registry.
    pub network: &'static Network,
    /// The token contract.
    pub asset: Address,
    /// The registry's entry for the asset, when it is known.
    pub known_asset: Option<&'static Asset>,
    /// The exact amount to pay, in atomic units.
    pub amount: U256,
    /// The payee.
    pub pay_to: Address,
    /// The lifetime the server allows.
    pub max_timeout_seconds: u64,
    /// How the funds move.
    pub transfer_method: TransferMethod,
    /// `extra.paymentFlow`, when given.
    pub payment_flow: Option<&'a str>,
    /// EIP-712 domain name and version for EIP-3009 (`None` for Permit2).
    domain: Option<(&'a str, &'a str)>,
    /// The amount exactly as written, echoed in the payload like the reference client.
    amount_text: &'a str,
    required: &'a PaymentRequired,
}

/// Checks `accepts[index]` of a 402 and returns it as an [`Offer`], or the reason it
/// must not be signed.
pub fn check<'a>(
    required: &'a PaymentRequired,
    index: usize,
    options: Options,
) -> Result<Offer<'a>> {
    let entry = required.accept(index).ok_or(Error::NoSuchOffer { index, len: required.len() })?;
    let fields = Fields { entry, path: format!("accepts[{index}]") };
    let x402_version = required.x402_version();

    let scheme = fields.str("scheme")?;
    if scheme != "exact" {
        return Err(Error::UnsupportedScheme { scheme: scheme.to_owned() });
    }
    let network_name = fields.str("network")?;
    let network = match x402_version {
        1 => registry::network_by_v1_name(network_name),
        _ => registry::network_by_caip2(network_name),
    }
    .ok_or_else(|| Error::UnsupportedNetwork { network: network_name.to_owned() })?;

    let amount_field = if x402_version == 1 { "maxAmountRequired" } else { "amount" };
    let amount_text = fields.str(amount_field)?;
    let amount = parse_amount(amount_text).ok_or_else(|| Error::InvalidAmount {
        field: fields.path(amount_field),
        value: amount_text.to_owned(),
    })?;
    let asset = fields.address("asset")?;
    let pay_to = fields.address("payTo")?;
    let max_timeout_seconds = fields.timeout("maxTimeoutSeconds")?;

    let extra = match entry.get("extra") {
        None | Some(Value::Null) => None,
        Some(Value::Object(extra)) => Some(extra),
        Some(_) => return Err(Error::wrong_type(fields.path("extra"), "an object")),
    };
    let extra_str = |key: &str| -> Result<Option<&'a str>> {
        match extra.and_then(|e| e.get(key)) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.as_str())),
            Some(_) => Err(Error::wrong_type(fields.path(&format!("extra.{key}")), "a string")),
        }
    };

    if let Some(found) = extra.and_then(|e| e.get("chainId")) {
        let matches = match found {
            Value::Number(n) => n.as_u64() == Some(network.chain_id),
            Value::String(s) => s.parse::<u64>().ok() == Some(network.chain_id),
            _ => false,
        };
        if !matches {
            return Err(Error::ChainIdMismatch {
                network: network_name.to_owned(),
                expected: network.chain_id,
                found: found.to_string(),
            });
        }
    }

    let payment_flow = extra_str("paymentFlow")?;
    if let Some(flow) =
        payment_flow.filter(|f| !matches!(*f, "authorization" | "upfront" | "escrow"))
    {
        return Err(Error::UnsupportedScheme {
            scheme: format!("exact with paymentFlow {flow:?}"),
        });
    }

    let known_asset = registry::asset(network.chain_id, asset);
    if known_asset.is_none() && !options.allow_unknown_asset {
        return Err(Error::UnknownAsset {
            network: network_name.to_owned(),
            asset: asset.to_checksum(None),
        });
    }

    let transfer_method = match extra_str("assetTransferMethod")? {
        None | Some("eip3009") => TransferMethod::Eip3009,
        Some("permit2") if x402_version >= 2 => TransferMethod::Permit2,
        Some(other) => return Err(Error::UnsupportedTransferMethod { method: other.to_owned() }),
    };
    if let Some(known) = known_asset.filter(|k| k.transfer_method != transfer_method) {
        // A token without EIP-3009 cannot settle an EIP-3009 authorization; Permit2, on the
        // other hand, moves any ERC-20 and is fine for an EIP-3009 token.
        if known.transfer_method == TransferMethod::Permit2 {
            return Err(Error::UnsupportedTransferMethod {
                method: format!(
                    "{} ({} settles only through permit2)",
                    transfer_method.as_str(),
                    known.symbol
                ),
            });
        }
    }

    let name = extra_str("name")?;
    let version = extra_str("version")?;
    if let Some(known) = known_asset {
        for (field, found, expected) in
            [("name", name, known.eip712_name), ("version", version, known.eip712_version)]
        {
            if let Some(found) = found.filter(|f| *f != expected) {
                return Err(Error::DomainMismatch {
                    field,
                    network: network_name.to_owned(),
                    symbol: known.symbol,
                    expected,
                    found: found.to_owned(),
                });
            }
        }
    }
    let domain = match transfer_method {
        TransferMethod::Permit2 => None,
        TransferMethod::Eip3009 => Some((
            name.ok_or_else(|| Error::missing(fields.path("extra.name")))?,
            version.ok_or_else(|| Error::missing(fields.path("extra.version")))?,
        )),
    };

    Ok(Offer {
        index,
        x402_version,
        network,
        asset,
        known_asset,
        amount,
        pay_to,
        max_timeout_seconds,
        transfer_method,
        payment_flow,
        domain,
        amount_text,
        required,
    })
}

/// Picks the offer to pay the way the official client does once its filters have run:
/// among the entries that pass [`check`], those whose `paymentFlow` is absent or
/// `authorization` are preferred (nothing is charged if the server's handler fails), and
/// the first remaining one wins, since v1 servers match the first entry of a network.
pub fn select(required: &PaymentRequired, options: Options) -> Result<Offer<'_>> {
    let mut payable = Vec::new();
    let mut reasons = Vec::new();
    for index in 0..required.len() {
        match check(required, index, options) {
            Ok(offer) => payable.push(offer),
            Err(e) => reasons.push(e),
        }
    }
    let safest =
        payable.iter().position(|o| matches!(o.payment_flow, None | Some("authorization")));
    match safest.or(if payable.is_empty() { None } else { Some(0) }) {
        Some(i) => Ok(payable.swap_remove(i)),
        None if reasons.len() == 1 => Err(reasons.remove(0)),
        None => Err(Error::NoPayableOffer { reasons }),
    }
}

impl Offer<'_> {
    /// Builds the message to sign for `payer`, at unix time `now`, with `nonce` (32 random
    /// bytes: the EIP-3009 nonce, or the Permit2 nonce read as a big-endian uint256).
    ///
    /// `max_lifetime` caps `validBefore` (or the Permit2 deadline) at `now + max_lifetime`;
    /// `None` uses the server's `maxTimeoutSeconds` as is, like the reference client.
    pub fn authorize(
        &self,
        payer: Address,
        now: u64,
        nonce: B256,
        max_lifetime: Option<u64>,
    ) -> Result<Authorization> {
        let lifetime =
            max_lifetime.map_or(self.max_timeout_seconds, |cap| cap.min(self.max_timeout_seconds));
        let valid_before = now.checked_add(lifetime).ok_or_else(|| Error::InvalidTimeout {
            field: format!("accepts[{}].maxTimeoutSeconds", self.index),
            value: self.max_timeout_seconds.to_string(),
        })?;
        let valid_after =
            if self.x402_version == 1 { now.saturating_sub(V1_VALID_AFTER_BACKOFF) } else { 0 };
        let message = match (self.transfer_method, self.domain) {
            (TransferMethod::Eip3009, Some((name, version))) => Message::Eip3009 {
                domain: Eip712Domain::new(
                    Some(name.to_owned().into()),
                    Some(version.to_owned().into()),
                    Some(U256::from(self.network.chain_id)),
                    Some(self.asset),
                    None,
                ),
                message: TransferWithAuthorization {
                    from: payer,
                    to: self.pay_to,
                    value: self.amount,
                    validAfter: U256::from(valid_after),
                    validBefore: U256::from(valid_before),
                    nonce,
                },
            },
            _ => Message::Permit2 {
                domain: Eip712Domain::new(
                    Some("Permit2".into()),
                    None,
                    Some(U256::from(self.network.chain_id)),
                    Some(PERMIT2),
                    None,
                ),
                message: PermitWitnessTransferFrom {
                    permitted: permit2_types::TokenPermissions {
                        token: self.asset,
                        amount: self.amount,
                    },
                    spender: X402_EXACT_PERMIT2_PROXY,
                    nonce: U256::from_be_bytes(nonce.0),
                    deadline: U256::from(valid_before),
                    witness: permit2_types::Witness {
                        to: self.pay_to,
                        validAfter: U256::from(valid_after),
                    },
                },
            },
        };
        Ok(Authorization {
            payer,
            message,
            valid_before,
            amount_text: self.amount_text.to_owned(),
            echo: self.echo(),
        })
    }

    fn echo(&self) -> Echo {
        match self.required {
            PaymentRequired::V1(_) => {
                let entry = self.required.accept(self.index);
                let text = |key| {
                    entry
                        .and_then(|e| e.get(key))
                        .and_then(Value::as_str)
                        .unwrap_or_default()
                        .to_owned()
                };
                Echo::V1 { scheme: text("scheme"), network: text("network") }
            }
            PaymentRequired::V2(required) => Echo::V2 {
                accepted: required.accepts()[self.index].clone(),
                resource: required.field("resource").cloned(),
                extensions: required.field("extensions").cloned(),
            },
        }
    }
}

/// What the payload echoes of the 402.
#[derive(Debug, Clone, PartialEq)]
enum Echo {
    V1 { scheme: String, network: String },
    V2 { accepted: v2::PaymentRequirements, resource: Option<Value>, extensions: Option<Value> },
}

/// The typed data of one payment, ready to be signed.
#[derive(Debug, Clone, PartialEq)]
pub struct Authorization {
    payer: Address,
    message: Message,
    valid_before: u64,
    amount_text: String,
    echo: Echo,
}

/// The EIP-712 message and its domain.
#[derive(Debug, Clone, PartialEq)]
pub enum Message {
    /// EIP-3009 in the token's domain.
    Eip3009 {
        /// `{name, version, chainId, verifyingContract: asset}`.
        domain: Eip712Domain,
        /// The authorization.
        message: TransferWithAuthorization,
    },
    /// Permit2 in Permit2's domain.
    Permit2 {
        /// `{name: "Permit2", chainId, verifyingContract: PERMIT2}`.
        domain: Eip712Domain,
        /// The permit.
        message: PermitWitnessTransferFrom,
    },
}

impl Authorization {
    /// The EIP-712 message and domain.
    pub fn message(&self) -> &Message {
        &self.message
    }

    /// `keccak256(0x1901 ‖ domainSeparator ‖ hashStruct(message))`: what the payer signs.
    pub fn signing_hash(&self) -> B256 {
        match &self.message {
            Message::Eip3009 { domain, message } => message.eip712_signing_hash(domain),
            Message::Permit2 { domain, message } => message.eip712_signing_hash(domain),
        }
    }

    /// The domain separator.
    pub fn domain_separator(&self) -> B256 {
        match &self.message {
            Message::Eip3009 { domain, .. } | Message::Permit2 { domain, .. } => {
                domain.hash_struct()
            }
        }
    }

    /// Unix time after which the authorization can no longer be settled.
    pub fn valid_before(&self) -> u64 {
        self.valid_before
    }

    /// The nonce, as 32 bytes.
    pub fn nonce(&self) -> B256 {
        match &self.message {
            Message::Eip3009 { message, .. } => message.nonce,
            Message::Permit2 { message, .. } => B256::from(message.nonce.to_be_bytes()),
        }
    }

    /// Signs with a local signer. The signer's own chain id is not applied: the chain
    /// is the offer's.
    pub fn sign(self, signer: &impl SignerSync) -> Result<PaymentPayload, alloy::signers::Error> {
        let signature = signer.sign_hash_sync(&self.signing_hash())?;
        Ok(self.into_payload(&signature))
    }

    /// The payment payload carrying `signature`, with the official client's key order.
    pub fn into_payload(self, signature: &Signature) -> PaymentPayload {
        let signature = format!("0x{}", alloy::hex::encode(signature.as_bytes()));
        let from = self.payer.to_checksum(None);
        let payload = match self.message {
            Message::Eip3009 { message, .. } => SchemePayload::Eip3009(Eip3009Payload {
                authorization: Eip3009Authorization {
                    from,
                    to: message.to.to_checksum(None),
                    value: self.amount_text,
                    valid_after: message.validAfter.to_string(),
                    valid_before: message.validBefore.to_string(),
                    nonce: format!("{:#x}", message.nonce),
                },
                signature,
            }),
            Message::Permit2 { message, .. } => SchemePayload::Permit2(Permit2Payload {
                signature,
                permit2_authorization: Permit2Authorization {
                    from,
                    permitted: TokenPermissions {
                        token: message.permitted.token.to_checksum(None),
                        amount: self.amount_text,
                    },
                    spender: message.spender.to_checksum(None),
                    nonce: message.nonce.to_string(),
                    deadline: message.deadline.to_string(),
                    witness: Permit2Witness {
                        to: message.witness.to.to_checksum(None),
                        valid_after: message.witness.validAfter.to_string(),
                    },
                },
            }),
        };
        match self.echo {
            Echo::V1 { scheme, network } => {
                PaymentPayload::V1(v1::PaymentPayload { x402_version: 1, scheme, network, payload })
            }
            Echo::V2 { accepted, resource, extensions } => PaymentPayload::V2(v2::PaymentPayload {
                x402_version: 2,
                payload,
                extensions,
                resource,
                accepted,
            }),
        }
    }
}

/// Typed reads of one `accepts` entry, with the entry's path in every error.
struct Fields<'a> {
    entry: &'a Object,
    path: String,
}

impl<'a> Fields<'a> {
    fn path(&self, key: &str) -> String {
        format!("{}.{key}", self.path)
    }

    fn str(&self, key: &str) -> Result<&'a str> {
        match self.entry.get(key) {
            None | Some(Value::Null) => Err(Error::missing(self.path(key))),
            Some(Value::String(s)) => Ok(s),
            Some(_) => Err(Error::wrong_type(self.path(key), "a string")),
        }
    }

    fn address(&self, key: &str) -> Result<Address> {
        let text = self.str(key)?;
        parse_address(text).ok_or_else(|| Error::MalformedAddress {
            field: self.path(key),
            value: text.to_owned(),
        })
    }

    fn timeout(&self, key: &str) -> Result<u64> {
        let value = self
            .entry
            .get(key)
            .filter(|v| !v.is_null())
            .ok_or_else(|| Error::missing(self.path(key)))?;
        let seconds = match value {
            Value::Number(n) => n.as_u64().or_else(|| {
                n.as_f64()
                    .filter(|f| f.fract() == 0.0 && *f >= 0.0 && *f < 9.007_199_254_740_992e15)
                    .map(|f| f as u64)
            }),
            _ => None,
        };
        seconds.filter(|s| *s > 0).ok_or_else(|| Error::InvalidTimeout {
            field: self.path(key),
            value: value.to_string(),
        })
    }
}

/// A non-negative decimal integer that fits in uint256. Leading zeros are allowed (the
/// reference client reads the string with `BigInt`); signs, spaces, hex and fractions are not.
pub fn parse_amount(text: &str) -> Option<U256> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    U256::from_str_radix(text, 10).ok()
}

/// `0x` + 40 hex digits; a mixed-case address must carry a valid EIP-55 checksum, as
/// viem's `getAddress` (which the reference client calls) requires.
pub fn parse_address(text: &str) -> Option<Address> {
    let hex = text.strip_prefix("0x")?;
    if hex.len() != 40 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let address: Address = text.parse().ok()?;
    let mixed_case =
        hex.bytes().any(|b| b.is_ascii_uppercase()) && hex.bytes().any(|b| b.is_ascii_lowercase());
    if mixed_case && address.to_checksum(None) != text {
        return None;
    }
    Some(address)
}
