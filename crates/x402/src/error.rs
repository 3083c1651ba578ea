//! Why a 402 or one of its offers is refused.

/// A refusal, raised before anything is signed.
///
/// Every variant names what was wrong so that a caller can show it as is; [`Error::code`]
/// gives a stable machine-readable code for each.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A header value is not standard base64 (`A–Z a–z 0–9 + /`, `=` padding).
    #[error("{header} is not standard base64")]
    MalformedBase64 {
        /// The header that carried it.
        header: &'static str,
    },
    /// Decoded bytes, or a body, are not UTF-8 JSON.
    #[error("{what} is not valid JSON: {reason}")]
    MalformedJson {
        /// What was being decoded.
        what: &'static str,
        /// The parser's message.
        reason: String,
    },
    /// A required field is absent (or `null`).
    #[error("missing field `{field}`")]
    MissingField {
        /// Dotted path of the field.
        field: String,
    },
    /// A field has the wrong JSON type.
    #[error("field `{field}` must be {expected}")]
    WrongType {
        /// Dotted path of the field.
        field: String,
        /// What the field should hold.
        expected: &'static str,
    },
    /// `x402Version` is absent, not a number, or not 1 or 2.
    #[error("unsupported x402Version {found}")]
    UnsupportedVersion {
        /// The value found, as JSON text.
        found: String,
    },
    /// `accepts` is an empty list: there is nothing to pay.
    #[error("the 402 offers no payment options (`accepts` is empty)")]
    EmptyAccepts,
    /// `--accept N` names an entry that does not exist.
    #[error("there is no accepts[{index}]: the 402 has {len} payment options")]
    NoSuchOffer {
        /// The index asked for.
        index: usize,
        /// How many entries there are.
        len: usize,
    },
    /// An address is not `0x` + 40 hex digits, or has a wrong EIP-55 checksum.
    #[error("field `{field}` is not a valid address: {value:?}")]
    MalformedAddress {
        /// Dotted path of the field.
        field: String,
        /// The value found.
        value: String,
    },
    /// An amount is not a non-negative decimal integer that fits in uint256.
    #[error("field `{field}` is not a non-negative integer that fits in uint256: {value:?}")]
    InvalidAmount {
        /// Dotted path of the field.
        field: String,
        /// The value found.
        value: String,
    },
    /// `maxTimeoutSeconds` is not a positive integer.
    #[error("field `{field}` must be a positive integer number of seconds, found {value}")]
    InvalidTimeout {
        /// Dotted path of the field.
        field: String,
        /// The value found, as JSON text.
        value: String,
    },
    /// A scheme other than `exact`.
    #[error("unsupported scheme {scheme:?} (Purse pays the `exact` scheme)")]
    UnsupportedScheme {
        /// The scheme named by the offer.
        scheme: String,
    },
    /// A network outside the registry.
    #[error("unsupported network {network:?}")]
    UnsupportedNetwork {
        /// The network named by the offer.
        network: String,
    },
    /// The offer names a chain id that is not its network's.
    #[error("chain id {found} contradicts network {network:?} (chain id {expected})")]
    ChainIdMismatch {
        /// The network named by the offer.
        network: String,
        /// The network's chain id.
        expected: u64,
        /// The chain id the offer also named.
        found: String,
    },
    /// The asset is not a stablecoin of the registry on that network.
    #[error("asset {asset} on {network} is not in Purse's registry")]
    UnknownAsset {
        /// The network named by the offer.
        network: String,
        /// The asset address.
        asset: String,
    },
    /// The offer's EIP-712 domain name or version is not the registry's for a known asset.
    #[error("extra.{field} is {found:?} but {symbol} on {network} signs with {expected:?}")]
    DomainMismatch {
        /// `name` or `version`.
        field: &'static str,
        /// The network named by the offer.
        network: String,
        /// The registry's symbol for the asset.
        symbol: &'static str,
        /// The registry's value.
        expected: &'static str,
        /// The offer's value.
        found: String,
    },
    /// `extra.assetTransferMethod` names a method Purse does not sign (e.g. `erc7710`),
    /// or one the asset cannot settle with.
    #[error("unsupported asset transfer method {method:?}")]
    UnsupportedTransferMethod {
        /// The method named by the offer.
        method: String,
    },
    /// No entry of `accepts` can be paid; each reason is given.
    #[error("no payment option can be paid: {}", describe_all(.reasons))]
    NoPayableOffer {
        /// The refusal of each entry, in order.
        reasons: Vec<Error>,
    },
}

fn describe_all(reasons: &[Error]) -> String {
    reasons
        .iter()
        .enumerate()
        .map(|(i, e)| format!("accepts[{i}]: {e}"))
        .collect::<Vec<_>>()
        .join("; ")
}

impl Error {
    /// A stable, kebab-case code for this refusal.
    pub fn code(&self) -> &'static str {
        match self {
            Self::MalformedBase64 { .. } => "malformed-base64",
            Self::MalformedJson { .. } => "malformed-json",
            Self::MissingField { .. } => "missing-field",
            Self::WrongType { .. } => "wrong-type",
            Self::UnsupportedVersion { .. } => "unsupported-version",
            Self::EmptyAccepts => "empty-accepts",
            Self::NoSuchOffer { .. } => "no-such-offer",
            Self::MalformedAddress { .. } => "malformed-address",
            Self::InvalidAmount { .. } => "invalid-amount",
            Self::InvalidTimeout { .. } => "invalid-timeout",
            Self::UnsupportedScheme { .. } => "unsupported-scheme",
            Self::UnsupportedNetwork { .. } => "unsupported-network",
            Self::ChainIdMismatch { .. } => "chain-id-mismatch",
            Self::UnknownAsset { .. } => "unknown-asset",
            Self::DomainMismatch { .. } => "domain-mismatch",
            Self::UnsupportedTransferMethod { .. } => "unsupported-transfer-method",
            Self::NoPayableOffer { .. } => "no-payable-offer",
        }
    }

    /// Whether the 402 itself is malformed, as opposed to well-formed but not payable by
    /// Purse (an unknown network, asset or scheme).
    pub fn is_malformed(&self) -> bool {
        match self {
            Self::UnsupportedScheme { .. }
            | Self::UnsupportedNetwork { .. }
            | Self::UnknownAsset { .. }
            | Self::UnsupportedTransferMethod { .. } => false,
            Self::NoPayableOffer { reasons } => reasons.iter().all(Self::is_malformed),
            _ => true,
        }
    }

    pub(crate) fn missing(field: impl Into<String>) -> Self {
        Self::MissingField { field: field.into() }
    }

    pub(crate) fn wrong_type(field: impl Into<String>, expected: &'static str) -> Self {
        Self::WrongType { field: field.into(), expected }
    }
}

/// `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
