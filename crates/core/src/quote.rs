//! From a 402 to the one offer Purse would pay, with what it costs in dollars: every check
//! that does not depend on the user's policy or money happens here.

use http::Uri;
use purse_x402::{
    PaymentRequired,
    exact::{self, Offer, Options},
    registry,
};
use serde_json::Value;

use crate::{
    Reason, Refusal, checks,
    money::{Usd, usd_value},
};

/// How offers are chosen and checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuoteOptions {
    /// Chain ids in order of preference; offers on other networks come after, in the
    /// server's order. Empty: the server's order alone (v1 servers match the first entry
    /// of a network).
    pub network_preference: Vec<u64>,
    /// Pay over plain HTTP to hosts that are not loopback.
    pub allow_insecure: bool,
    /// The longest an authorization may stay valid, in seconds.
    pub max_lifetime: u64,
}

impl Default for QuoteOptions {
    fn default() -> Self {
        Self {
            network_preference: Vec::new(),
            allow_insecure: false,
            max_lifetime: checks::DEFAULT_MAX_LIFETIME,
        }
    }
}

/// The offer to pay and what it costs.
#[derive(Debug, Clone, PartialEq)]
pub struct Quote<'a> {
    /// The chosen, validated offer.
    pub offer: Offer<'a>,
    /// Its dollar value, for a USD stablecoin of the registry.
    pub usd: Option<Usd>,
    /// Whether it is play money.
    pub testnet: bool,
    /// How long its authorization will live, in seconds.
    pub lifetime: u64,
}

/// The resource an offer says it is for: v2's top-level `resource.url`, v1's per-offer
/// `resource`.
fn offered_resource<'a>(required: &'a PaymentRequired, offer: &Offer<'_>) -> Option<&'a str> {
    match required {
        PaymentRequired::V2(v2) => {
            v2.field("resource").and_then(|r| r.get("url")).and_then(Value::as_str)
        }
        PaymentRequired::V1(_) => {
            required.accept(offer.index).and_then(|a| a.get("resource")).and_then(Value::as_str)
        }
    }
}

/// Chooses and checks the offer to pay for a request to `requested`.
pub fn quote<'a>(
    required: &'a PaymentRequired,
    requested: &Uri,
    options: &QuoteOptions,
) -> Result<Quote<'a>, Refusal> {
    checks::transport(requested, options.allow_insecure)?;
    let strict = Options::default();
    let offer = if options.network_preference.is_empty() {
        exact::select(required, strict)?
    } else {
        let payable: Vec<Offer<'a>> =
            (0..required.len()).filter_map(|i| exact::check(required, i, strict).ok()).collect();
        let rank = |offer: &Offer<'_>| {
            options
                .network_preference
                .iter()
                .position(|id| *id == offer.network.chain_id)
                .unwrap_or(usize::MAX)
        };
        match payable.iter().enumerate().min_by_key(|(i, offer)| (rank(offer), *i)) {
            Some((i, _)) => payable[i].clone(),
            // Nothing payable: let select explain every entry.
            None => exact::select(required, strict)?,
        }
    };
    let resource = offered_resource(required, &offer)
        .ok_or_else(|| Refusal::new(Reason::ResourceMismatch, "the offer names no resource"))?;
    checks::resource_matches(resource, requested)?;
    let lifetime = checks::lifetime(offer.max_timeout_seconds, options.max_lifetime)?;
    let usd = offer.known_asset.and_then(|asset| usd_value(asset, &offer.amount.to_string()));
    let testnet = registry::network_by_chain_id(offer.network.chain_id).is_some_and(|n| n.testnet);
    Ok(Quote { offer, usd, testnet, lifetime })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn offer(network: &str, asset: &str, amount: &str, name: &str) -> Value {
        json!({
            "scheme": "exact", "network": network, "amount": amount, "asset": asset,
            "payTo": "0x209693Bc6afc0C5328bA36FaF03C514EF312287C", "maxTimeoutSeconds": 60,
            "extra": { "name": name, "version": "2" }
        })
    }

    const BASE_USDC: &str = "0x833589fCD6eDb6E08f4c7C32D4f71b54bdA02913";
    const SEPOLIA_USDC: &str = "0x036CbD53842c5426634e7929541eC2318f3dCF7e";

    fn required(url: &str, accepts: Vec<Value>) -> PaymentRequired {
        let object = json!({ "x402Version": 2, "resource": { "url": url }, "accepts": accepts });
        PaymentRequired::from_object(object.as_object().unwrap().clone()).unwrap()
    }

    fn uri(text: &str) -> Uri {
        text.parse().unwrap()
    }

    #[test]
    fn the_servers_order_or_the_users_preference() {
        let both = required(
            "https://api.example.com/data",
            vec![
                offer("eip155:8453", BASE_USDC, "10000", "USD Coin"),
                offer("eip155:84532", SEPOLIA_USDC, "20000", "USDC"),
            ],
        );
        let asked = uri("https://api.example.com/data");
        let first = quote(&both, &asked, &QuoteOptions::default()).unwrap();
        assert_eq!((first.offer.index, first.usd, first.testnet), (0, Some(Usd(10_000)), false));
        let preferring =
            QuoteOptions { network_preference: vec![84532], ..QuoteOptions::default() };
        let chosen = quote(&both, &asked, &preferring).unwrap();
        assert_eq!(
            (chosen.offer.index, chosen.usd, chosen.testnet, chosen.lifetime),
            (1, Some(Usd(20_000)), true, 60)
        );
        // A preference for a network nobody offers falls back to the server's order.
        let elsewhere = QuoteOptions { network_preference: vec![137], ..QuoteOptions::default() };
        assert_eq!(quote(&both, &asked, &elsewhere).unwrap().offer.index, 0);
    }

    #[test]
    fn refusals_carry_their_codes() {
        let one =
            |url: &str| required(url, vec![offer("eip155:84532", SEPOLIA_USDC, "10000", "USDC")]);
        let refuse = |r: &PaymentRequired, asked: &str| {
            quote(r, &uri(asked), &QuoteOptions::default()).unwrap_err().reason
        };
        assert_eq!(
            refuse(&one("https://evil.example/data"), "https://api.example.com/data"),
            Reason::ResourceMismatch
        );
        assert_eq!(
            refuse(&one("http://api.example.com/data"), "http://api.example.com/data"),
            Reason::InsecureTransport
        );
        let weth = required(
            "https://a.example/",
            vec![offer(
                "eip155:84532",
                "0x4200000000000000000000000000000000000006",
                "1",
                "Wrapped Ether",
            )],
        );
        assert_eq!(refuse(&weth, "https://a.example/"), Reason::Unsupported);
        let wrong_domain = required(
            "https://a.example/",
            vec![offer("eip155:84532", SEPOLIA_USDC, "1", "USD Coin")],
        );
        assert_eq!(refuse(&wrong_domain, "https://a.example/"), Reason::InvalidOffer);
        let mut short = offer("eip155:84532", SEPOLIA_USDC, "1", "USDC");
        short["maxTimeoutSeconds"] = json!(5);
        assert_eq!(
            refuse(&required("https://a.example/", vec![short]), "https://a.example/"),
            Reason::InvalidOffer
        );
        // Loopback over plain HTTP is fine, and a long lifetime is capped.
        let mut long = offer("eip155:84532", SEPOLIA_USDC, "1", "USDC");
        long["maxTimeoutSeconds"] = json!(86_400);
        let local = required("http://127.0.0.1:4021/weather", vec![long]);
        assert_eq!(
            quote(&local, &uri("http://127.0.0.1:4021/weather"), &QuoteOptions::default())
                .unwrap()
                .lifetime,
            300
        );
    }
}
