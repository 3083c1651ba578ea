//! What decides a payment before any money moves: the rule that matches, the payee the site
//! was paid before, whether auto-approve is on for testnets and mainnets. Budgets are
//! checked after this, when the payment is reserved.

use crate::{
    Reason, Refusal,
    money::Usd,
    rules::{Action, Rule},
};

/// The user's standing choices (`[policy]` in config.toml).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Policy {
    /// Whether allow rules may pay on testnets without asking.
    pub testnets: bool,
    /// Whether allow rules may pay on mainnets (real money) without asking: off until the
    /// user turns it on.
    pub mainnets: bool,
    /// The per-payment maximum offered when the user approves and remembers a site.
    pub default_max: Usd,
    /// The daily budget offered then.
    pub default_daily: Usd,
}

impl Default for Policy {
    fn default() -> Self {
        Self {
            testnets: true,
            mainnets: false,
            default_max: Usd(100_000),
            default_daily: Usd(1_000_000),
        }
    }
}

/// Whether the site has paid this payee before.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Payee {
    /// Paid before.
    Known,
    /// The site was never paid.
    New,
    /// The site was paid, but to someone else.
    Changed,
}

impl Payee {
    /// `known`, `new` or `changed`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Known => "known",
            Self::New => "new",
            Self::Changed => "changed",
        }
    }

    /// From whether the site was paid before, and whether to this payee.
    pub fn from_history(site_paid: bool, payee_paid: bool) -> Self {
        match (site_paid, payee_paid) {
            (false, _) => Self::New,
            (true, true) => Self::Known,
            (true, false) => Self::Changed,
        }
    }
}

/// What the policy says, before budgets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Judgement {
    /// Pay without asking, counted against this rule's budgets.
    Allow,
    /// Ask the user, saying why; see [`crate::flow::Approval::unanswered`].
    Ask(Refusal),
    /// Refuse.
    Deny(Refusal),
}

/// The facts about one payment the policy weighs.
#[derive(Debug, Clone, Copy)]
pub struct Facts<'a> {
    /// The site.
    pub host: &'a str,
    /// Dollars, when the asset is a USD stablecoin Purse knows.
    pub usd: Option<Usd>,
    /// Play money.
    pub testnet: bool,
    /// Against the site's payment history.
    pub payee: Payee,
}

impl Policy {
    /// Judges a payment under `rule` (the one [`crate::rules::select`] chose, if any).
    pub fn judge(&self, rule: Option<&Rule>, facts: Facts<'_>) -> Judgement {
        let host = facts.host;
        let Some(rule) = rule else {
            return Judgement::Ask(Refusal::new(Reason::Denied, format!("no rule allows {host}")));
        };
        match rule.action {
            Action::Deny => {
                return Judgement::Deny(Refusal::new(
                    Reason::Denied,
                    format!("rule {} denies {host}", rule.id),
                ));
            }
            Action::Ask => {
                return Judgement::Ask(Refusal::new(
                    Reason::Denied,
                    format!("rule {} asks before paying {host}", rule.id),
                ));
            }
            Action::Allow => {}
        }
        let allowed = if facts.testnet { self.testnets } else { self.mainnets };
        if !allowed {
            let kind = if facts.testnet { "testnet" } else { "mainnet" };
            return Judgement::Ask(Refusal::new(
                Reason::Denied,
                format!("auto-approve is off for {kind} payments"),
            ));
        }
        if facts.payee == Payee::Changed {
            return Judgement::Ask(Refusal::new(
                Reason::Denied,
                format!("{host} asks to pay someone it never paid before"),
            ));
        }
        let Some(usd) = facts.usd else {
            return Judgement::Ask(Refusal::new(
                Reason::Unsupported,
                "the asset is not a USD stablecoin Purse knows; only those are auto-approved",
            ));
        };
        if let Some(max) = rule.limits.max_per_payment
            && usd > max
        {
            return Judgement::Ask(Refusal::new(
                Reason::OverLimit,
                format!("{usd} is above rule {}'s per-payment maximum of {max}", rule.id),
            ));
        }
        Judgement::Allow
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::Limits;

    fn rule(action: Action, max: Option<u128>) -> Rule {
        Rule {
            id: 1,
            host: "*".into(),
            path_prefix: None,
            network: None,
            asset: None,
            pay_to: None,
            action,
            limits: Limits { max_per_payment: max.map(Usd), ..Limits::default() },
        }
    }

    fn facts(usd: Option<u128>, testnet: bool, payee: Payee) -> Facts<'static> {
        Facts { host: "api.example.com", usd: usd.map(Usd), testnet, payee }
    }

    fn verdict(j: Judgement) -> (&'static str, Option<Reason>) {
        match j {
            Judgement::Allow => ("allow", None),
            Judgement::Ask(r) => ("ask", Some(r.reason)),
            Judgement::Deny(r) => ("deny", Some(r.reason)),
        }
    }

    #[test]
    fn judgements() {
        let policy = Policy::default();
        let allow = rule(Action::Allow, Some(100_000));
        let table = [
            (None, facts(Some(1), true, Payee::New), ("ask", Some(Reason::Denied))),
            (Some(&allow), facts(Some(100_000), true, Payee::New), ("allow", None)),
            (Some(&allow), facts(Some(100_000), true, Payee::Known), ("allow", None)),
            (
                Some(&allow),
                facts(Some(100_001), true, Payee::Known),
                ("ask", Some(Reason::OverLimit)),
            ),
            (Some(&allow), facts(Some(1), true, Payee::Changed), ("ask", Some(Reason::Denied))),
            (Some(&allow), facts(Some(1), false, Payee::Known), ("ask", Some(Reason::Denied))),
            (Some(&allow), facts(None, true, Payee::Known), ("ask", Some(Reason::Unsupported))),
        ];
        for (rule, facts, expected) in table {
            assert_eq!(verdict(policy.judge(rule, facts)), expected, "{rule:?} {facts:?}");
        }
        let deny = rule(Action::Deny, None);
        assert_eq!(
            verdict(policy.judge(Some(&deny), facts(Some(1), true, Payee::Known))),
            ("deny", Some(Reason::Denied))
        );
        let ask = rule(Action::Ask, None);
        assert_eq!(verdict(policy.judge(Some(&ask), facts(Some(1), true, Payee::Known))).0, "ask");
        let mainnets = Policy { mainnets: true, ..Policy::default() };
        assert_eq!(
            verdict(mainnets.judge(Some(&allow), facts(Some(1), false, Payee::Known))).0,
            "allow"
        );
        assert_eq!(Payee::from_history(true, true), Payee::Known);
        assert_eq!(Payee::from_history(true, false), Payee::Changed);
        assert_eq!(Payee::from_history(false, false), Payee::New);
    }
}
