//! `[policy]` in `config.toml`: what is paid without asking.

use purse_core::{flow::Settings, money::Usd, policy::FixedPolicy, quote::QuoteOptions};
use purse_x402::registry;
use serde::Deserialize;

/// `[policy]`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PolicyConfig {
    /// The most one payment may cost, in dollars (`"0.10"`, `"$0.10"`).
    pub max_per_payment: String,
    /// The most all payments of a day may cost, testnets and mainnets counted apart.
    pub daily_cap: String,
    /// Whether testnet payments are auto-approved.
    pub testnets: bool,
    /// Whether mainnet payments (real money) are auto-approved.
    pub mainnets: bool,
    /// Whether plain-HTTP servers that are not on this machine may be paid (a payment
    /// seen on the wire can be settled by whoever sees it).
    pub allow_insecure_http: bool,
    /// The longest an authorization stays valid, in seconds.
    pub max_lifetime_secs: u64,
    /// Networks to pay on first when a server offers several (`eip155:8453`, `base`).
    pub network_preference: Vec<String>,
}

impl Default for PolicyConfig {
    fn default() -> Self {
        let policy = FixedPolicy::default();
        let quote = QuoteOptions::default();
        Self {
            max_per_payment: policy.max_per_payment.to_string(),
            daily_cap: policy.daily_cap.to_string(),
            testnets: policy.testnets,
            mainnets: policy.mainnets,
            allow_insecure_http: quote.allow_insecure,
            max_lifetime_secs: quote.max_lifetime,
            network_preference: Vec::new(),
        }
    }
}

/// A `[policy]` value that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("[policy] {field}: {reason}")]
pub struct PolicyError {
    field: &'static str,
    reason: String,
}

impl PolicyConfig {
    /// The flow's settings.
    pub fn settings(&self) -> Result<Settings, PolicyError> {
        let usd = |field: &'static str, text: &str| {
            text.parse::<Usd>().map_err(|e| PolicyError { field, reason: e.to_string() })
        };
        let network_preference = self
            .network_preference
            .iter()
            .map(|name| {
                registry::network_by_caip2(name)
                    .or_else(|| registry::network_by_v1_name(name))
                    .map(|n| n.chain_id)
                    .ok_or_else(|| PolicyError {
                        field: "network_preference",
                        reason: format!("{name:?} is not a network Purse knows"),
                    })
            })
            .collect::<Result<_, _>>()?;
        if self.max_lifetime_secs < purse_core::checks::MIN_TIMEOUT_SECONDS {
            return Err(PolicyError {
                field: "max_lifetime_secs",
                reason: format!(
                    "at least {} seconds, or no server can be paid",
                    purse_core::checks::MIN_TIMEOUT_SECONDS
                ),
            });
        }
        Ok(Settings {
            policy: FixedPolicy {
                max_per_payment: usd("max_per_payment", &self.max_per_payment)?,
                daily_cap: usd("daily_cap", &self.daily_cap)?,
                testnets: self.testnets,
                mainnets: self.mainnets,
            },
            quote: QuoteOptions {
                network_preference,
                allow_insecure: self.allow_insecure_http,
                max_lifetime: self.max_lifetime_secs,
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_mistakes() {
        let settings = PolicyConfig::default().settings().unwrap();
        assert_eq!(settings, Settings::default());
        let custom = PolicyConfig {
            max_per_payment: "$1".into(),
            network_preference: vec!["base".into(), "eip155:84532".into()],
            ..PolicyConfig::default()
        };
        let settings = custom.settings().unwrap();
        assert_eq!(settings.policy.max_per_payment, Usd(1_000_000));
        assert_eq!(settings.quote.network_preference, [8453, 84532]);
        let wrong = PolicyConfig { daily_cap: "lots".into(), ..PolicyConfig::default() };
        assert!(wrong.settings().unwrap_err().to_string().starts_with("[policy] daily_cap:"));
        let nowhere =
            PolicyConfig { network_preference: vec!["atlantis".into()], ..PolicyConfig::default() };
        assert!(nowhere.settings().is_err());
    }
}
