//! The controls the app edits in `purse.db` (the control plane a running proxy reads at
//! its next decision): rules with their budget use, the global caps, pause. Amounts are
//! dollars as text both ways (`0.10`, `$5`); `purse rules`, `purse budget` and
//! `purse pause` write the same rows.

use purse_core::{
    budget::{Caps, budgets},
    money::Usd,
    rules::{Action, Limits, Rule, normalize_host, normalize_path},
};
use serde::{Deserialize, Serialize};

use crate::{DataDir, Failure};

/// An optional amount: empty or `none` is no limit.
fn amount(what: &str, text: Option<&str>) -> Result<Option<Usd>, Failure> {
    match text.map(str::trim) {
        None | Some("" | "none") => Ok(None),
        Some(text) => {
            text.parse::<Usd>().map(Some).map_err(|e| Failure::Invalid(format!("{what}: {e}")))
        }
    }
}

/// A token or payee address, checksummed; `what` names it in the error.
pub fn address(text: &str, what: &str) -> Result<String, Failure> {
    purse_x402::exact::parse_address(text.trim())
        .map(|a| a.to_checksum(None))
        .ok_or_else(|| Failure::Invalid(format!("{what} {text:?} is not an address")))
}

/// A network Purse knows, by CAIP-2 id or v1 name, as its CAIP-2 id.
pub fn network(text: &str) -> Result<String, Failure> {
    let text = text.trim();
    purse_x402::registry::network_by_caip2(text)
        .or_else(|| purse_x402::registry::network_by_v1_name(text))
        .map(|n| n.caip2())
        .ok_or_else(|| Failure::Invalid(format!("{text:?} is not a network Purse knows")))
}

/// What is spent (or reserved) in one of a rule's budgets, and its limit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BudgetUse {
    /// `today`, `this week`, `this month`, `in total`.
    pub window: String,
    /// The limit, dollars.
    pub limit: String,
    /// Spent on mainnets, dollars.
    pub mainnet: String,
    /// Spent on testnets, dollars (counted apart).
    pub testnet: String,
}

/// A rule as the app shows and edits it, and as `purse rules` and a rules file give it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RuleEdit {
    /// `api.example.com`, `*.example.com` or `*`.
    pub site: String,
    /// A path prefix (`/v1/`); empty for the whole site.
    #[serde(default)]
    pub path_prefix: Option<String>,
    /// A network (`eip155:8453`, `base`); empty for any.
    #[serde(default)]
    pub network: Option<String>,
    /// A token address; empty for any.
    #[serde(default)]
    pub asset: Option<String>,
    /// A payee address; empty for any.
    #[serde(default)]
    pub pay_to: Option<String>,
    /// `allow`, `ask` or `deny`.
    pub action: String,
    /// Dollars; empty for no limit.
    #[serde(default)]
    pub max_per_payment: Option<String>,
    /// Dollars per local calendar day.
    #[serde(default)]
    pub daily: Option<String>,
    /// Dollars per week from Monday.
    #[serde(default)]
    pub weekly: Option<String>,
    /// Dollars per local calendar month.
    #[serde(default)]
    pub monthly: Option<String>,
    /// Dollars over the rule's life.
    #[serde(default)]
    pub total: Option<String>,
}

/// A stored rule and what its budgets have used.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RuleView {
    /// Its id.
    pub id: i64,
    /// The rule, as edited.
    pub rule: RuleEdit,
    /// Its budgets that have a limit, with what they used.
    pub budgets: Vec<BudgetUse>,
    /// The network's name (`Base Sepolia`), when the rule names a network Purse knows.
    pub network_name: Option<String>,
    /// The asset's ticker (`USDC`), when the rule names an asset Purse knows.
    pub asset_symbol: Option<String>,
}

/// What people call `rule`'s network and asset, when Purse knows them.
fn names(rule: &Rule) -> (Option<String>, Option<String>) {
    use purse_x402::registry;
    let network = rule.network.as_deref().and_then(registry::network_by_caip2);
    let asset = rule.asset.as_deref().and_then(|asset| {
        let address = asset.parse().ok()?;
        match network {
            Some(network) => registry::asset(network.chain_id, address),
            // Any network: named when every network knows it by the same ticker.
            None => {
                let mut known = registry::assets().iter().filter(|a| a.address == address);
                let first = known.next()?;
                known.all(|a| a.symbol == first.symbol).then_some(first)
            }
        }
    });
    (network.map(|n| n.name.to_owned()), asset.map(|a| a.symbol.to_owned()))
}

/// An optional match: empty or `none` is any.
fn filled(text: Option<&String>) -> Option<&str> {
    text.map(|t| t.trim()).filter(|t| !t.is_empty() && *t != "none")
}

impl RuleEdit {
    /// The rule it describes (id 0). Every way a rule is written (the app, `purse rules`,
    /// a rules file) is checked here.
    pub fn to_rule(&self) -> Result<Rule, Failure> {
        let path_prefix = filled(self.path_prefix.as_ref());
        if path_prefix.is_some_and(|p| !p.starts_with('/') || p.contains(['?', '#'])) {
            return Err(Failure::Invalid("a path prefix starts with / and has no ? or #".into()));
        }
        // Stored as requests are read: `/a/./b` is `/a/b`, `%7E` is `~`.
        let path_prefix = path_prefix.map(normalize_path);
        Ok(Rule {
            id: 0,
            host: normalize_host(&self.site).map_err(|e| Failure::Invalid(e.to_string()))?,
            path_prefix,
            network: filled(self.network.as_ref()).map(network).transpose()?,
            asset: filled(self.asset.as_ref()).map(|a| address(a, "asset")).transpose()?,
            pay_to: filled(self.pay_to.as_ref()).map(|a| address(a, "payee")).transpose()?,
            action: self.action.trim().parse::<Action>().map_err(Failure::Invalid)?,
            limits: Limits {
                max_per_payment: amount("maximum per payment", self.max_per_payment.as_deref())?,
                daily: amount("daily budget", self.daily.as_deref())?,
                weekly: amount("weekly budget", self.weekly.as_deref())?,
                monthly: amount("monthly budget", self.monthly.as_deref())?,
                total: amount("total budget", self.total.as_deref())?,
            },
        })
    }

    /// How `rule` is edited.
    pub fn of(rule: &Rule) -> Self {
        let text = |u: Option<Usd>| u.map(Usd::decimal);
        Self {
            site: rule.host.clone(),
            path_prefix: rule.path_prefix.clone(),
            network: rule.network.clone(),
            asset: rule.asset.clone(),
            pay_to: rule.pay_to.clone(),
            action: rule.action.to_string(),
            max_per_payment: text(rule.limits.max_per_payment),
            daily: text(rule.limits.daily),
            weekly: text(rule.limits.weekly),
            monthly: text(rule.limits.monthly),
            total: text(rule.limits.total),
        }
    }
}

/// The rules, each with the use of its limited budgets at `now_ms`.
pub fn list(place: &DataDir, zone: crate::Zone, now_ms: i64) -> Result<Vec<RuleView>, Failure> {
    let store = place.store()?;
    let now = zone.at(now_ms);
    store
        .rules()?
        .into_iter()
        .map(|rule| {
            let limited: Vec<_> = budgets(now, Caps::default(), Some(&rule))
                .into_iter()
                .filter(|b| b.key.starts_with("rule:"))
                .filter_map(|b| b.limit.map(|limit| (b.key, limit)))
                .collect();
            let keys: Vec<String> = limited.iter().map(|(k, _)| k.clone()).collect();
            let mainnet = store.used(&keys, false)?;
            let testnet = store.used(&keys, true)?;
            let spent = |micros: i64| Usd(u128::try_from(micros).unwrap_or(0)).decimal();
            let budgets = limited
                .iter()
                .zip(mainnet.into_iter().zip(testnet))
                .map(|((key, limit), (m, t))| BudgetUse {
                    window: purse_core::budget::window(key).to_owned(),
                    limit: limit.decimal(),
                    mainnet: spent(m),
                    testnet: spent(t),
                })
                .collect();
            let (network_name, asset_symbol) = names(&rule);
            Ok(RuleView {
                id: rule.id,
                rule: RuleEdit::of(&rule),
                budgets,
                network_name,
                asset_symbol,
            })
        })
        .collect()
}

/// Stores a new rule; returns it, with its id.
pub fn add(place: &DataDir, edit: &RuleEdit) -> Result<Rule, Failure> {
    let rule = edit.to_rule()?;
    let id = place.store()?.add_rule(&rule, crate::now_ms())?;
    Ok(Rule { id, ..rule })
}

/// Replaces rule `id`; returns it as stored.
pub fn update(place: &DataDir, id: i64, edit: &RuleEdit) -> Result<Rule, Failure> {
    let rule = Rule { id, ..edit.to_rule()? };
    place.store()?.update_rule(&rule)?;
    Ok(rule)
}

/// Removes rule `id`.
pub fn remove(place: &DataDir, id: i64) -> Result<(), Failure> {
    Ok(place.store()?.remove_rule(id)?)
}

/// A rule as `purse rules list --json` and the rules file show it: dollars with `$`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct RuleFile {
    /// Its id (the list shows it; the file leaves it out).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<i64>,
    /// `api.example.com`, `*.example.com` or `*`.
    pub site: String,
    /// A path prefix (`/v1/`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// A network (`eip155:8453`, `base`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub network: Option<String>,
    /// A token address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub asset: Option<String>,
    /// A payee address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pay_to: Option<String>,
    /// `allow`, `ask` or `deny`.
    pub action: String,
    /// The most one payment may cost.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max: Option<String>,
    /// Per local calendar day.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub daily: Option<String>,
    /// Per week from Monday.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub weekly: Option<String>,
    /// Per local calendar month.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub monthly: Option<String>,
    /// Over the rule's life.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total: Option<String>,
}

/// The rules file: `[[rule]]` tables.
#[derive(Debug, Default, Serialize, Deserialize)]
struct RulesFile {
    #[serde(default)]
    rule: Vec<RuleFile>,
}

impl From<&Rule> for RuleFile {
    fn from(rule: &Rule) -> Self {
        let text = |u: Option<Usd>| u.map(|u| u.to_string());
        Self {
            id: Some(rule.id),
            site: rule.host.clone(),
            path: rule.path_prefix.clone(),
            network: rule.network.clone(),
            asset: rule.asset.clone(),
            pay_to: rule.pay_to.clone(),
            action: rule.action.to_string(),
            max: text(rule.limits.max_per_payment),
            daily: text(rule.limits.daily),
            weekly: text(rule.limits.weekly),
            monthly: text(rule.limits.monthly),
            total: text(rule.limits.total),
        }
    }
}

impl From<&RuleFile> for RuleEdit {
    fn from(file: &RuleFile) -> Self {
        Self {
            site: file.site.clone(),
            path_prefix: file.path.clone(),
            network: file.network.clone(),
            asset: file.asset.clone(),
            pay_to: file.pay_to.clone(),
            action: file.action.clone(),
            max_per_payment: file.max.clone(),
            daily: file.daily.clone(),
            weekly: file.weekly.clone(),
            monthly: file.monthly.clone(),
            total: file.total.clone(),
        }
    }
}

/// Every rule as a rules file (TOML, `[[rule]]` tables without ids), as
/// `purse rules export` writes it.
pub fn export_toml(place: &DataDir) -> Result<String, Failure> {
    let rules = place.store()?.rules()?;
    let file = RulesFile {
        rule: rules.iter().map(|r| RuleFile { id: None, ..RuleFile::from(r) }).collect(),
    };
    toml::to_string(&file)
        .map_err(|e| Failure::Invalid(format!("the rules cannot be written: {e}")))
}

/// [`export_toml`] saved as `purse-rules-<now_ms>.toml` in `dir` (by default the downloads
/// folder, else the data dir); returns the file.
pub fn export_file(
    place: &DataDir,
    dir: Option<std::path::PathBuf>,
    now_ms: i64,
) -> Result<std::path::PathBuf, Failure> {
    let text = export_toml(place)?;
    crate::history::save_export(place, dir, &format!("purse-rules-{now_ms}.toml"), &text)
}

/// Adds the rules of a rules file (as [`export_toml`] writes it), checked as the app checks
/// a rule, all or none. Returns how many were added.
pub fn import_toml(place: &DataDir, text: &str) -> Result<usize, Failure> {
    let file: RulesFile =
        toml::from_str(text).map_err(|e| Failure::Invalid(format!("not a rules file: {e}")))?;
    let rules: Vec<Rule> =
        file.rule.iter().map(|r| RuleEdit::from(r).to_rule()).collect::<Result<_, _>>()?;
    Ok(place.store()?.add_rules(&rules, crate::now_ms())?)
}

/// The global caps over all rules, dollars (`None`: no cap).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CapsEdit {
    /// Per local calendar day.
    #[serde(default)]
    pub daily: Option<String>,
    /// Per local calendar month.
    #[serde(default)]
    pub monthly: Option<String>,
}

/// The global caps in force (those `config.toml` sets until they are set here).
pub fn caps(place: &DataDir) -> Result<CapsEdit, Failure> {
    let defaults =
        place.config()?.policy.default_caps().map_err(|e| Failure::Settings(e.to_string()))?;
    let caps = place.store()?.caps(defaults)?;
    Ok(CapsEdit { daily: caps.daily.map(Usd::decimal), monthly: caps.monthly.map(Usd::decimal) })
}

/// Sets both global caps (empty or `none`: no cap); returns them.
pub fn set_caps(place: &DataDir, edit: &CapsEdit) -> Result<CapsEdit, Failure> {
    let daily = amount("daily cap", edit.daily.as_deref())?;
    let monthly = amount("monthly cap", edit.monthly.as_deref())?;
    let store = place.store()?;
    store.set_cap(false, daily)?;
    store.set_cap(true, monthly)?;
    caps(place)
}

/// Whether paying is paused.
pub fn paused(place: &DataDir) -> Result<bool, Failure> {
    Ok(place.store()?.paused()?)
}

/// Pauses or resumes paying; returns the state.
pub fn set_paused(place: &DataDir, paused: bool) -> Result<bool, Failure> {
    let store = place.store()?;
    store.set_paused(paused)?;
    Ok(store.paused()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_caps_and_pause_on_a_real_database() {
        let dir = std::env::temp_dir().join(format!("purse-api-rules-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let place = DataDir::resolve(Some(dir.clone()), "test").unwrap();
        let edit = RuleEdit {
            site: "API.Example.com".into(),
            path_prefix: Some(String::new()),
            network: Some("base-sepolia".into()),
            asset: None,
            pay_to: None,
            action: "allow".into(),
            max_per_payment: Some("$0.10".into()),
            daily: Some("1".into()),
            weekly: None,
            monthly: Some(String::new()),
            total: None,
        };
        let id = add(&place, &edit).unwrap().id;
        let listed = list(&place, crate::Zone::Fixed(0), crate::now_ms()).unwrap();
        assert_eq!(listed.len(), 1);
        let view = &listed[0];
        assert_eq!(view.id, id);
        assert_eq!(view.rule.site, "api.example.com");
        assert_eq!(view.rule.network.as_deref(), Some("eip155:84532"));
        assert_eq!(
            (view.network_name.as_deref(), view.asset_symbol.as_deref()),
            (Some("Base Sepolia"), None)
        );
        assert_eq!(view.rule.path_prefix, None);
        assert_eq!(view.rule.max_per_payment.as_deref(), Some("0.10"));
        assert_eq!(
            view.budgets,
            [BudgetUse {
                window: "today".into(),
                limit: "1.00".into(),
                mainnet: "0.00".into(),
                testnet: "0.00".into()
            }]
        );
        let usdc = "0x036CbD53842c5426634e7929541eC2318f3dCF7e";
        for network in [Some("base-sepolia".into()), None] {
            let pinned = RuleEdit { network, asset: Some(usdc.into()), ..edit.clone() };
            update(&place, id, &pinned).unwrap();
            let view = &list(&place, crate::Zone::Fixed(0), crate::now_ms()).unwrap()[0];
            assert_eq!(view.asset_symbol.as_deref(), Some("USDC"));
        }
        update(&place, id, &RuleEdit { action: "deny".into(), ..edit.clone() }).unwrap();
        assert_eq!(
            list(&place, crate::Zone::Fixed(0), crate::now_ms()).unwrap()[0].rule.action,
            "deny"
        );
        let wrong = RuleEdit { daily: Some("lots".into()), ..edit.clone() };
        assert_eq!(add(&place, &wrong).unwrap_err().code(), "invalid");
        for bad in ["v1", "/v1?x=1", "/v1#top"] {
            let wrong = RuleEdit { path_prefix: Some(bad.into()), ..edit.clone() };
            assert_eq!(wrong.to_rule().unwrap_err().code(), "invalid", "{bad}");
        }
        let spelled = RuleEdit { path_prefix: Some("/v1/./%7Euser/x/..".into()), ..edit.clone() };
        assert_eq!(spelled.to_rule().unwrap().path_prefix.as_deref(), Some("/v1/~user/"));
        assert_eq!(update(&place, id + 1, &edit).unwrap_err().code(), "not-found");
        remove(&place, id).unwrap();
        assert!(list(&place, crate::Zone::Fixed(0), crate::now_ms()).unwrap().is_empty());

        assert_eq!(caps(&place).unwrap().daily.as_deref(), Some("1.00"));
        let set = set_caps(&place, &CapsEdit { daily: Some("5".into()), monthly: None }).unwrap();
        assert_eq!(set, CapsEdit { daily: Some("5.00".into()), monthly: None });
        assert!(!paused(&place).unwrap());
        assert!(set_paused(&place, true).unwrap());
        assert!(!set_paused(&place, false).unwrap());
        let _ = std::fs::remove_dir_all(dir);
    }
}
