//! `purse rules`, `purse budget`, `purse pause`, `purse resume`: the controls, written to
//! purse.db, where a running proxy or app reads them at its next decision.

use std::path::PathBuf;

use anyhow::{Context as _, Result, bail};
use clap::{Args, Subcommand};
use purse_api::rules::{self, RuleEdit, RuleFile};
use purse_core::{budget::Caps, money::Usd, rules::Rule};
use purse_store::Store;

use crate::settings::{Context, Place};

fn open(place: &Place) -> Result<(Store, Context)> {
    let context = place.resolve()?;
    let path = context.path("purse.db");
    let store = Store::open(&path).with_context(|| format!("cannot open {}", path.display()))?;
    Ok((store, context))
}

fn usd(text: &str) -> Result<Usd> {
    text.parse::<Usd>().map_err(anyhow::Error::from)
}

/// What a rule matches and its limits, as options.
#[derive(Debug, Clone, Args)]
pub(crate) struct RuleArgs {
    /// Only under this path prefix (`/v1/`).
    #[arg(long, value_name = "PREFIX")]
    path: Option<String>,
    /// Only on this network (`eip155:8453`, `base`).
    #[arg(long, value_name = "N")]
    network: Option<String>,
    /// Only for this token address.
    #[arg(long, value_name = "ADDR")]
    asset: Option<String>,
    /// Only to this payee.
    #[arg(long, value_name = "ADDR")]
    pay_to: Option<String>,
    /// Pay without asking, within the limits.
    #[arg(long, group = "action")]
    allow: bool,
    /// Ask every time.
    #[arg(long, group = "action")]
    ask: bool,
    /// Never pay.
    #[arg(long, group = "action")]
    deny: bool,
    /// The most one payment may cost, in dollars.
    #[arg(long, value_name = "USD")]
    max: Option<String>,
    /// Per local calendar day, in dollars.
    #[arg(long, value_name = "USD")]
    daily: Option<String>,
    /// Per week from Monday, in dollars.
    #[arg(long, value_name = "USD")]
    weekly: Option<String>,
    /// Per local calendar month, in dollars.
    #[arg(long, value_name = "USD")]
    monthly: Option<String>,
    /// Over the rule's life, in dollars.
    #[arg(long, value_name = "USD")]
    total: Option<String>,
}

impl RuleArgs {
    /// Sets the options given on `edit`; the rule is checked when it is stored, as the
    /// app's are.
    fn apply(&self, edit: &mut RuleEdit) {
        let fields = [
            (&self.path, &mut edit.path_prefix),
            (&self.network, &mut edit.network),
            (&self.asset, &mut edit.asset),
            (&self.pay_to, &mut edit.pay_to),
            (&self.max, &mut edit.max_per_payment),
            (&self.daily, &mut edit.daily),
            (&self.weekly, &mut edit.weekly),
            (&self.monthly, &mut edit.monthly),
            (&self.total, &mut edit.total),
        ];
        for (given, field) in fields {
            if given.is_some() {
                field.clone_from(given);
            }
        }
        if let Some(action) = [(self.allow, "allow"), (self.ask, "ask"), (self.deny, "deny")]
            .into_iter()
            .find_map(|(set, action)| set.then_some(action))
        {
            action.clone_into(&mut edit.action);
        }
    }
}

fn describe(rule: &Rule) -> String {
    let mut parts = vec![format!("{:>3}  {:<5}  {}", rule.id, rule.action.as_str(), rule.host)];
    if let Some(p) = &rule.path_prefix {
        parts.push(format!("path {p}"));
    }
    for (name, value) in
        [("network", &rule.network), ("asset", &rule.asset), ("pay-to", &rule.pay_to)]
    {
        if let Some(v) = value {
            parts.push(format!("{name} {v}"));
        }
    }
    let l = rule.limits;
    for (name, value) in [
        ("max", l.max_per_payment),
        ("daily", l.daily),
        ("weekly", l.weekly),
        ("monthly", l.monthly),
        ("total", l.total),
    ] {
        if let Some(v) = value {
            parts.push(format!("{name} {v}"));
        }
    }
    parts.join("  ")
}

#[derive(Debug, Subcommand)]
pub(crate) enum RulesCommand {
    /// Add a rule for SITE (`api.example.com`, `*.example.com`, `*`).
    Add {
        /// The site.
        site: String,
        #[command(flatten)]
        rule: RuleArgs,
        #[command(flatten)]
        place: Place,
    },
    /// The rules, in the order they were added.
    List {
        /// As JSON.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        place: Place,
    },
    /// Change a rule: only the options given change (`none` clears a limit or a match).
    Edit {
        /// The rule's id.
        id: i64,
        /// A new site.
        #[arg(long)]
        site: Option<String>,
        #[command(flatten)]
        rule: RuleArgs,
        #[command(flatten)]
        place: Place,
    },
    /// Remove a rule.
    Remove {
        /// The rule's id.
        id: i64,
        #[command(flatten)]
        place: Place,
    },
    /// Write every rule to a TOML file.
    Export {
        /// The file.
        file: PathBuf,
        #[command(flatten)]
        place: Place,
    },
    /// Add the rules of a TOML file (as `export` writes it).
    Import {
        /// The file.
        file: PathBuf,
        #[command(flatten)]
        place: Place,
    },
}

impl RulesCommand {
    pub(crate) fn run(self) -> Result<()> {
        match self {
            Self::Add { site, rule: args, place } => {
                if !(args.allow || args.ask || args.deny) {
                    bail!("say what the rule does: --allow, --ask or --deny");
                }
                let mut edit = RuleEdit { site, ..RuleEdit::default() };
                args.apply(&mut edit);
                crate::print(&describe(&rules::add(&place.resolve()?, &edit)?))
            }
            Self::List { json, place } => {
                let (store, _) = open(&place)?;
                let rules = store.rules()?;
                if json {
                    let list: Vec<RuleFile> = rules.iter().map(RuleFile::from).collect();
                    return crate::print(&serde_json::to_string_pretty(&list)?);
                }
                if rules.is_empty() {
                    eprintln!(
                        "no rules: every payment is asked about (purse rules add SITE --allow …)"
                    );
                    return Ok(());
                }
                crate::print(&rules.iter().map(describe).collect::<Vec<_>>().join("\n"))
            }
            Self::Edit { id, site, rule: args, place } => {
                let (store, context) = open(&place)?;
                let rule = store.rule(id)?.with_context(|| format!("no rule {id}"))?;
                let mut edit = RuleEdit::of(&rule);
                if let Some(site) = site {
                    edit.site = site;
                }
                args.apply(&mut edit);
                crate::print(&describe(&rules::update(&context, id, &edit)?))
            }
            Self::Remove { id, place } => {
                rules::remove(&place.resolve()?, id)?;
                eprintln!("removed rule {id}");
                Ok(())
            }
            Self::Export { file, place } => {
                let (store, context) = open(&place)?;
                let text = purse_api::rules::export_toml(&context)?;
                std::fs::write(&file, text)
                    .with_context(|| format!("cannot write {}", file.display()))?;
                eprintln!("wrote {} rules to {}", store.rules()?.len(), file.display());
                Ok(())
            }
            Self::Import { file, place } => {
                let text = std::fs::read_to_string(&file)
                    .with_context(|| format!("cannot read {}", file.display()))?;
                let context = place.resolve()?;
                let added = purse_api::rules::import_toml(&context, &text)
                    .with_context(|| format!("cannot import {}", file.display()))?;
                eprintln!("added {added} rules from {}", file.display());
                Ok(())
            }
        }
    }
}

/// `purse budget`: the global caps over all rules.
#[derive(Debug, Args)]
pub(crate) struct BudgetArgs {
    /// The global cap per local calendar day, in dollars (`none`: no cap).
    #[arg(long, value_name = "USD")]
    daily: Option<String>,
    /// The global cap per local calendar month, in dollars (`none`: no cap).
    #[arg(long, value_name = "USD")]
    monthly: Option<String>,
    #[command(flatten)]
    place: Place,
}

impl BudgetArgs {
    pub(crate) fn run(self) -> Result<()> {
        let (store, context) = open(&self.place)?;
        let cap = |text: &str| -> Result<Option<Usd>> {
            if text == "none" { Ok(None) } else { usd(text).map(Some) }
        };
        if let Some(text) = &self.daily {
            store.set_cap(false, cap(text)?)?;
        }
        if let Some(text) = &self.monthly {
            store.set_cap(true, cap(text)?)?;
        }
        let defaults = context.config()?.policy.default_caps()?;
        let caps: Caps = store.caps(defaults)?;
        let now = purse_api::Zone::Local.at(purse_api::now_ms());
        let budgets = purse_core::budget::budgets(now, caps, None);
        let keys: Vec<String> = budgets.iter().map(|b| b.key.clone()).collect();
        let mut lines = Vec::new();
        for (testnet, kind) in [(false, "mainnet"), (true, "testnet")] {
            let used = store.used(&keys, testnet)?;
            for (budget, used) in budgets.iter().zip(used) {
                let used = Usd(u128::try_from(used).unwrap_or(0));
                let window = purse_core::budget::window(&budget.key);
                let limit =
                    budget.limit.map_or_else(|| "no cap".to_owned(), |l| format!("cap {l}"));
                lines.push(format!("{kind:<7}  {window:<10}  spent {used}  ({limit})"));
            }
        }
        if store.paused()? {
            lines.push("paused: nothing is paid until purse resume".to_owned());
        }
        crate::print(&lines.join("\n"))
    }
}

/// `purse pause` / `purse resume`.
#[derive(Debug, Args)]
pub(crate) struct PauseArgs {
    #[command(flatten)]
    place: Place,
}

impl PauseArgs {
    pub(crate) fn run(self, paused: bool) -> Result<()> {
        let (store, _) = open(&self.place)?;
        store.set_paused(paused)?;
        eprintln!(
            "{}",
            if paused {
                "paused: every 402 passes through unpaid, with X-Purse-Reason: paused"
            } else {
                "resumed: payments follow the rules again"
            }
        );
        Ok(())
    }
}
