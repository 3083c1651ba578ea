//! Why a 402 is not paid.

use std::fmt;

/// The stable codes a refusal carries (DESIGN.md, Decisions): the client sees them as
/// `X-Purse-Reason: CODE; text`, the history keeps them, the UI branches on them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Reason {
    /// Above the per-payment maximum.
    OverLimit,
    /// Would exceed a budget.
    Budget,
    /// A rule or the user said no.
    Denied,
    /// Nobody answered in time.
    Timeout,
    /// Payments are paused.
    Paused,
    /// The request body was too large to keep, so it cannot be sent again.
    NotReplayable,
    /// The 402 is malformed or asks for something that must never be signed.
    InvalidOffer,
    /// Nothing in the 402 is payable by Purse (scheme, network, asset).
    Unsupported,
    /// No account to pay with.
    NoAccount,
    /// The offer's resource is not the requested URL's origin.
    ResourceMismatch,
    /// Payment over plain HTTP to a host that is not loopback.
    InsecureTransport,
    /// The request was paid already (it carried a payment, or the paid retry got a 402).
    AlreadyPaid,
    /// The keychain could not give the key.
    Keychain,
    /// The history database failed, so nothing was paid.
    History,
}

impl Reason {
    /// The code, as sent and stored.
    pub fn code(self) -> &'static str {
        match self {
            Self::OverLimit => "over-limit",
            Self::Budget => "budget",
            Self::Denied => "denied",
            Self::Timeout => "timeout",
            Self::Paused => "paused",
            Self::NotReplayable => "not-replayable",
            Self::InvalidOffer => "invalid-offer",
            Self::Unsupported => "unsupported",
            Self::NoAccount => "no-account",
            Self::ResourceMismatch => "resource-mismatch",
            Self::InsecureTransport => "insecure-transport",
            Self::AlreadyPaid => "already-paid",
            Self::Keychain => "keychain",
            Self::History => "history",
        }
    }
}

/// A refusal: its code and a sentence for people.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}: {text}", reason.code())]
pub struct Refusal {
    /// The code.
    pub reason: Reason,
    /// What happened, for people.
    pub text: String,
}

impl Refusal {
    /// A refusal with its text.
    pub fn new(reason: Reason, text: impl Into<String>) -> Self {
        Self { reason, text: text.into() }
    }

    /// The history database failed: nothing is paid that it cannot record.
    pub fn history(error: impl fmt::Display) -> Self {
        Self::new(
            Reason::History,
            format!("the history database failed, so nothing was paid: {error}"),
        )
    }

    /// The `X-Purse-Reason` header value: `CODE; text`, the text kept to visible ASCII
    /// (a header cannot carry control characters, and non-ASCII is not portable).
    pub fn header_value(&self) -> String {
        let text: String = self
            .text
            .chars()
            .map(|c| if c.is_ascii_graphic() || c == ' ' { c } else { '?' })
            .take(300)
            .collect();
        format!("{}; {text}", self.reason.code())
    }
}

impl From<purse_x402::Error> for Refusal {
    fn from(error: purse_x402::Error) -> Self {
        let reason = if error.is_malformed() { Reason::InvalidOffer } else { Reason::Unsupported };
        Self::new(reason, error.to_string())
    }
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_values_are_safe_to_send() {
        let refusal =
            Refusal::new(Reason::OverLimit, "$5.00 is above the\r\nmaximum of $0.10 — ask");
        assert_eq!(
            refusal.header_value(),
            "over-limit; $5.00 is above the??maximum of $0.10 ? ask"
        );
        assert!(http::HeaderValue::from_str(&refusal.header_value()).is_ok());
        let offer = purse_x402::PaymentRequired::from_header("???").unwrap_err();
        assert_eq!(Refusal::from(offer).reason, Reason::InvalidOffer);
    }
}
