//! The fixed auto-approve policy: pay USD stablecoins up to a per-payment maximum within a
//! daily cap, on testnets; refuse everything else. Rules and prompts replace it later.

use crate::{Reason, Refusal, money::Usd};

/// The policy, as `config.toml` sets it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FixedPolicy {
    /// The most one payment may cost.
    pub max_per_payment: Usd,
    /// The most all payments of one local day may cost, testnets and mainnets counted apart.
    pub daily_cap: Usd,
    /// Auto-approve on testnets.
    pub testnets: bool,
    /// Auto-approve on mainnets (real money): off until the user turns it on.
    pub mainnets: bool,
}

impl Default for FixedPolicy {
    fn default() -> Self {
        Self {
            max_per_payment: Usd(100_000),
            daily_cap: Usd(1_000_000),
            testnets: true,
            mainnets: false,
        }
    }
}

/// What a payment would cost, as the policy sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Spend {
    /// Its dollar value; `None` for an asset that is not a USD stablecoin of the registry.
    pub usd: Option<Usd>,
    /// Whether it is play money.
    pub testnet: bool,
}

impl FixedPolicy {
    /// Approves `spend` given what was already spent (or reserved) today on the same kind of
    /// network, or says why not.
    pub fn decide(&self, spend: Spend, spent_today: Usd) -> Result<(), Refusal> {
        let allowed = if spend.testnet { self.testnets } else { self.mainnets };
        if !allowed {
            let kind = if spend.testnet { "testnet" } else { "mainnet" };
            return Err(Refusal::new(
                Reason::Denied,
                format!("auto-approve is off for {kind} payments"),
            ));
        }
        let Some(usd) = spend.usd else {
            return Err(Refusal::new(
                Reason::Unsupported,
                "the asset is not a USD stablecoin Purse knows; only those are auto-approved",
            ));
        };
        if usd > self.max_per_payment {
            return Err(Refusal::new(
                Reason::OverLimit,
                format!("{usd} is above the per-payment maximum of {}", self.max_per_payment),
            ));
        }
        let after = spent_today.plus(usd);
        if after > self.daily_cap {
            return Err(Refusal::new(
                Reason::Budget,
                format!(
                    "{usd} would bring today's spending to {after}, above the daily cap of {}",
                    self.daily_cap
                ),
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn testnet(micros: u128) -> Spend {
        Spend { usd: Some(Usd(micros)), testnet: true }
    }

    #[test]
    fn the_default_policy() {
        let policy = FixedPolicy::default();
        let table: [(Spend, u128, Option<Reason>); 8] = [
            (testnet(10_000), 0, None),
            (testnet(100_000), 0, None),
            (testnet(100_001), 0, Some(Reason::OverLimit)),
            (testnet(100_000), 900_000, None),
            (testnet(100_000), 900_001, Some(Reason::Budget)),
            (testnet(1), 1_000_000, Some(Reason::Budget)),
            (Spend { usd: Some(Usd(10_000)), testnet: false }, 0, Some(Reason::Denied)),
            (Spend { usd: None, testnet: true }, 0, Some(Reason::Unsupported)),
        ];
        for (spend, spent, expected) in table {
            let outcome = policy.decide(spend, Usd(spent)).err().map(|r| r.reason);
            assert_eq!(outcome, expected, "{spend:?} after {spent}");
        }
    }

    #[test]
    fn mainnet_when_turned_on() {
        let policy = FixedPolicy { mainnets: true, ..FixedPolicy::default() };
        assert!(policy.decide(Spend { usd: Some(Usd(10_000)), testnet: false }, Usd(0)).is_ok());
        let refused =
            policy.decide(Spend { usd: Some(Usd(5_000_000)), testnet: false }, Usd(0)).unwrap_err();
        assert_eq!(refused.text, "$5.00 is above the per-payment maximum of $0.10");
    }
}
