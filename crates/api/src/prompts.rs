//! The app's popup as a prompt: the payments waiting for an answer as the popup shows them,
//! and its answers (dollars as text) turned into [`Answer`]s. The terminal prompt of
//! `purse proxy --ask terminal` reads the same [`Pending`]s.

use purse_core::{
    money::Usd,
    policy::{Payee, Policy},
};
use serde::{Deserialize, Serialize};

use crate::{Answer, DataDir, Failure, Pending, Wallet};

/// `the global cap today` → `The global cap today`.
fn capitalized(text: &str) -> String {
    let mut chars = text.chars();
    chars.next().map_or_else(String::new, |c| c.to_uppercase().chain(chars).collect())
}

/// A remaining budget, for people.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BudgetLeft {
    /// What it is (`the global cap today`).
    pub label: String,
    /// Dollars left, decimal text.
    pub left: String,
}

/// A payment waiting for the user, as the popup shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PromptView {
    /// The prompt's number (what [`answer`] takes).
    pub id: u64,
    /// The site (host).
    pub site: String,
    /// The URL paid for.
    pub url: String,
    /// The request's method.
    pub method: String,
    /// Atomic units, decimal.
    pub amount: String,
    /// Dollars, decimal text, for a USD stablecoin Purse knows.
    pub usd: Option<String>,
    /// Token address.
    pub asset: String,
    /// Its ticker.
    pub symbol: Option<String>,
    /// CAIP-2 network id.
    pub network: String,
    /// The network's name.
    pub network_name: String,
    /// Play money.
    pub testnet: bool,
    /// The payee.
    pub pay_to: String,
    /// `known`, `new` or `changed` for this site.
    pub pay_to_status: &'static str,
    /// The paying account.
    pub account: String,
    /// When it is refused for want of an answer (Unix ms).
    pub expires_at_ms: i64,
    /// How many requests wait on it.
    pub waiting: usize,
    /// Why Purse asks.
    pub reason: String,
    /// The budgets with a limit, and what is left of each.
    pub budgets: Vec<BudgetLeft>,
    /// What "always for this site" offers: the most one payment may cost (dollars).
    pub suggested_max: String,
    /// … and the daily budget (dollars).
    pub suggested_daily: String,
    /// Whether an allow rule pays this payment's like without asking: not on mainnets
    /// until `[policy] mainnets` turns them on, nor in an asset that is not a dollar Purse
    /// knows; then "always" would still ask.
    pub always_pays: bool,
}

/// How `pending` looks in the popup under `policy`: its defaults are the offers for
/// "always" (raised to the price when it costs more).
pub fn view(pending: &Pending, policy: &Policy) -> PromptView {
    let a = &pending.approval;
    let (default_max, default_daily) = (policy.default_max, policy.default_daily);
    let max = a.usd.map_or(default_max, |usd| usd.max(default_max));
    PromptView {
        id: pending.id,
        site: a.site.clone(),
        url: a.url.clone(),
        method: a.method.clone(),
        amount: a.amount.clone(),
        usd: a.usd.map(Usd::decimal),
        asset: a.asset.clone(),
        symbol: a.symbol.clone(),
        network: a.network.clone(),
        network_name: a.network_name.clone(),
        testnet: a.testnet,
        pay_to: a.pay_to.clone(),
        pay_to_status: match a.payee {
            Payee::Known => "known",
            Payee::New => "new",
            Payee::Changed => "changed",
        },
        account: a.account.clone(),
        expires_at_ms: pending.expires_at_ms,
        waiting: pending.waiting,
        reason: a.why.text.clone(),
        budgets: a
            .budgets
            .iter()
            .filter_map(|(label, left)| {
                left.map(|l| BudgetLeft { label: capitalized(label), left: l.decimal() })
            })
            .collect(),
        suggested_max: max.decimal(),
        suggested_daily: default_daily.max(max).decimal(),
        always_pays: a.usd.is_some() && if a.testnet { policy.testnets } else { policy.mainnets },
    }
}

/// The payments waiting for an answer, oldest first.
pub fn pending(wallet: &Wallet) -> Vec<PromptView> {
    let policy = wallet.payer().settings().policy;
    wallet.approvals().pending().iter().map(|p| view(p, &policy)).collect()
}

/// What the paying account holds of the asset a pending payment asks for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PendingBalance {
    /// Atomic units, decimal.
    pub atomic: String,
    /// For people: whole tokens and the ticker (`99.997000 USDC`), or atomic units of an
    /// asset Purse does not know.
    pub text: String,
}

/// Reads on chain (through the configured endpoints) what the paying account of pending
/// payment `id` holds of the asset it asks for.
pub async fn balance(wallet: &Wallet, place: &DataDir, id: u64) -> Result<PendingBalance, Failure> {
    let approval = wallet
        .approvals()
        .pending()
        .into_iter()
        .find(|p| p.id == id)
        .map(|p| p.approval)
        .ok_or_else(|| Failure::NotFound(format!("no payment {id} waits for an answer")))?;
    let chain_id = purse_x402::registry::parse_caip2(&approval.network)
        .ok_or_else(|| Failure::Invalid(format!("{} is not an EVM network", approval.network)))?;
    let address = crate::accounts::parse_address;
    let (asset, owner) = (address(&approval.asset)?, address(&approval.account)?);
    let (rpcs, _, _) = crate::accounts::balance_networks(place, &[])?;
    let chain = purse_chain::Chain::new(rpcs).with_timeout(std::time::Duration::from_secs(5));
    let atomic = chain.token_balance(chain_id, asset, owner).await?;
    let text = match purse_x402::registry::asset(chain_id, asset) {
        Some(known) => {
            format!("{} {}", crate::accounts::format_units(atomic, known.decimals), known.symbol)
        }
        None => format!("{atomic} atomic units"),
    };
    Ok(PendingBalance { atomic: atomic.to_string(), text })
}

/// The popup's answer, dollars as text.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(tag = "kind", rename_all = "camelCase", rename_all_fields = "camelCase")]
pub enum Choice {
    /// Pay this once.
    Once,
    /// Pay, and allow the site from now on.
    Always {
        /// The most one payment may cost (`0.10`, `$1`).
        max_per_payment: String,
        /// The most a day's payments to the site may cost.
        daily_budget: String,
    },
    /// Do not pay this.
    Deny,
    /// Do not pay, and deny the site from now on.
    Block,
}

impl Choice {
    /// The answer it stands for.
    pub fn answer(&self) -> Result<Answer, Failure> {
        let usd = |what: &str, text: &str| {
            text.parse::<Usd>().map_err(|e| Failure::Invalid(format!("{what}: {e}")))
        };
        Ok(match self {
            Self::Once => Answer::ApproveOnce,
            Self::Always { max_per_payment, daily_budget } => Answer::ApproveAlways {
                max_per_payment: usd("maximum per payment", max_per_payment)?,
                daily: usd("daily budget", daily_budget)?,
            },
            Self::Deny => Answer::DenyOnce,
            Self::Block => Answer::Block,
        })
    }
}

/// Answers prompt `id`, shown with `seen` requests waiting on it (an approval pays for
/// those only; see [`crate::Approvals::answer`]).
pub fn answer(wallet: &Wallet, id: u64, choice: &Choice, seen: usize) -> Result<(), Failure> {
    wallet.approvals().answer(id, choice.answer()?, seen).map_err(|e| match e {
        crate::AnswerError::NotPending(_) => Failure::NotFound(e.to_string()),
        crate::AnswerError::Rule(_) => Failure::Invalid(e.to_string()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use purse_core::flow::Approval;

    #[test]
    fn choices_read_as_answers() {
        let read = |json: &str| serde_json::from_str::<Choice>(json).unwrap().answer();
        assert_eq!(read(r#"{"kind":"once"}"#).unwrap(), Answer::ApproveOnce);
        assert_eq!(read(r#"{"kind":"deny"}"#).unwrap(), Answer::DenyOnce);
        assert_eq!(read(r#"{"kind":"block"}"#).unwrap(), Answer::Block);
        assert_eq!(
            read(r#"{"kind":"always","maxPerPayment":"0.01","dailyBudget":"$1.00"}"#).unwrap(),
            Answer::ApproveAlways { max_per_payment: Usd(10_000), daily: Usd(1_000_000) }
        );
        let wrong = read(r#"{"kind":"always","maxPerPayment":"lots","dailyBudget":"1"}"#);
        assert_eq!(wrong.unwrap_err().code(), "invalid");
        assert_eq!(Usd(1_000).decimal(), "0.001");
        assert_eq!(capitalized("the global cap today"), "The global cap today");
    }

    #[test]
    fn always_offers_the_policy_defaults_raised_to_the_price() {
        let pending = |usd: Option<u128>| Pending {
            id: 1,
            approval: Approval {
                key: String::new(),
                site: "api.example.com".into(),
                url: "https://api.example.com/".into(),
                method: "GET".into(),
                amount: "1000".into(),
                usd: usd.map(Usd),
                asset: String::new(),
                symbol: None,
                network: "eip155:84532".into(),
                network_name: "Base Sepolia".into(),
                testnet: true,
                pay_to: String::new(),
                payee: Payee::New,
                account: String::new(),
                budgets: vec![
                    ("the global cap today".into(), Some(Usd(990_000))),
                    ("x".into(), None),
                ],
                why: purse_core::Refusal::new(purse_core::Reason::Denied, "no rule allows it"),
            },
            expires_at_ms: 0,
            waiting: 1,
        };
        let policy = Policy {
            default_max: Usd(100_000),
            default_daily: Usd(1_000_000),
            ..Policy::default()
        };
        let offer = |usd| {
            let view = view(&pending(usd), &policy);
            (view.suggested_max, view.suggested_daily)
        };
        assert_eq!(offer(Some(1_000)), ("0.10".to_owned(), "1.00".to_owned()));
        assert_eq!(offer(Some(250_000)), ("0.25".to_owned(), "1.00".to_owned()));
        assert_eq!(offer(Some(2_500_000)), ("2.50".to_owned(), "2.50".to_owned()));
        assert_eq!(offer(None), ("0.10".to_owned(), "1.00".to_owned()));
        let view = view(&pending(Some(1_000)), &policy);
        assert_eq!(view.reason, "no rule allows it");
        assert_eq!(
            view.budgets,
            [BudgetLeft { label: "The global cap today".into(), left: "0.99".into() }]
        );
        // "Always" pays by itself on testnets; on mainnets only once they are turned on.
        assert!(view.always_pays);
        let mut mainnet = pending(Some(1_000));
        mainnet.approval.testnet = false;
        assert!(!super::view(&mainnet, &policy).always_pays);
        assert!(super::view(&mainnet, &Policy { mainnets: true, ..policy }).always_pays);
        // Nor in an asset that is not a known dollar, since rules count dollars.
        let mut token = pending(Some(1_000));
        token.approval.usd = None;
        assert!(!super::view(&token, &policy).always_pays);
    }
}
