//! `[policy]` in `config.toml`: the standing choices behind the rules (which networks
//! allow rules may pay on, the defaults of the global caps and of "always for this site",
//! how long a prompt waits).

use purse_core::{budget::Caps, flow::Settings, money::Usd, policy::Policy, quote::QuoteOptions};
use purse_x402::registry;
use serde::Deserialize;

/// `[policy]`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PolicyConfig {
    /// The per-payment maximum offered for "always for this site", in dollars (`"0.10"`).
    pub max_per_payment: String,
    /// The global daily cap until `purse budget --daily` sets one; testnets and mainnets
    /// are counted apart.
    pub daily_cap: String,
    /// The global monthly cap until `purse budget --monthly` sets one (`""`: none).
    pub monthly_cap: String,
    /// Whether allow rules pay on testnets without asking.
    pub testnets: bool,
    /// Whether allow rules pay on mainnets (real money) without asking.
    pub mainnets: bool,
    /// How long a payment waits for an answer before it is refused, in seconds.
    pub prompt_timeout_secs: u64,
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
        let policy = Policy::default();
        let quote = QuoteOptions::default();
        Self {
            max_per_payment: policy.default_max.to_string(),
            daily_cap: policy.default_daily.to_string(),
            monthly_cap: Usd(10_000_000).to_string(),
            testnets: policy.testnets,
            mainnets: policy.mainnets,
            prompt_timeout_secs: 60,
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
            policy: Policy {
                default_max: usd("max_per_payment", &self.max_per_payment)?,
                default_daily: usd("daily_cap", &self.daily_cap)?,
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

impl PolicyConfig {
    /// The global caps that apply until `purse budget` sets them.
    pub fn default_caps(&self) -> Result<Caps, PolicyError> {
        let cap = |field: &'static str, text: &str| -> Result<Option<Usd>, PolicyError> {
            if text.trim().is_empty() || text.trim() == "none" {
                return Ok(None);
            }
            text.parse::<Usd>().map(Some).map_err(|e| PolicyError { field, reason: e.to_string() })
        };
        Ok(Caps {
            daily: cap("daily_cap", &self.daily_cap)?,
            monthly: cap("monthly_cap", &self.monthly_cap)?,
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
        assert_eq!(settings.policy.default_max, Usd(1_000_000));
        assert_eq!(
            PolicyConfig::default().default_caps().unwrap(),
            Caps { daily: Some(Usd(1_000_000)), monthly: Some(Usd(10_000_000)) }
        );
        assert_eq!(settings.quote.network_preference, [8453, 84532]);
        let wrong = PolicyConfig { daily_cap: "lots".into(), ..PolicyConfig::default() };
        assert!(wrong.settings().unwrap_err().to_string().starts_with("[policy] daily_cap:"));
        let nowhere =
            PolicyConfig { network_preference: vec!["atlantis".into()], ..PolicyConfig::default() };
        assert!(nowhere.settings().is_err());
    }
}
