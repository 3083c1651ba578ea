//! `purse history`: the payments in `purse.db`, as a table, JSON or CSV.

use anyhow::{Context as _, Result};
use clap::{Args, Subcommand};
use purse_api::history::HistoryQuery;
use purse_store::{HistoryFilter, Payment, Store};

use crate::settings::Place;

#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub(crate) struct HistoryArgs {
    #[command(subcommand)]
    command: Option<HistoryCommand>,
    #[command(flatten)]
    filter: FilterArgs,
    /// Print a JSON array of payments.
    #[arg(long, conflicts_with = "csv")]
    json: bool,
    /// Print CSV, one payment a row.
    #[arg(long)]
    csv: bool,
    #[command(flatten)]
    place: Place,
}

#[derive(Debug, Subcommand)]
enum HistoryCommand {
    /// Totals per day, per host and per network.
    Summary {
        #[command(flatten)]
        filter: FilterArgs,
        /// Print JSON.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        place: Place,
    },
}

#[derive(Debug, Clone, Args)]
struct FilterArgs {
    /// From this local day on (YYYY-MM-DD).
    #[arg(long, value_name = "YYYY-MM-DD")]
    since: Option<String>,
    /// Up to and including this local day (YYYY-MM-DD).
    #[arg(long, value_name = "YYYY-MM-DD")]
    until: Option<String>,
    /// Only this host.
    #[arg(long, value_name = "H")]
    host: Option<String>,
    /// Only this status: requested, refused, signed, sent, settled, confirmed, failed, unsure.
    #[arg(long, value_name = "S")]
    status: Option<String>,
    /// Only this network (`eip155:84532`, `base-sepolia`).
    #[arg(long, value_name = "N")]
    network: Option<String>,
    /// Only payments whose URL, host, payee, payer, transaction, reason or status holds
    /// this text.
    #[arg(long, value_name = "TEXT")]
    search: Option<String>,
    /// At most this many payments, newest first.
    #[arg(long, value_name = "N")]
    limit: Option<u32>,
}

impl FilterArgs {
    fn to_filter(&self) -> Result<HistoryFilter> {
        let query = HistoryQuery {
            since: self.since.clone(),
            until: self.until.clone(),
            site: self.host.clone(),
            status: self.status.clone(),
            network: self.network.clone(),
            search: self.search.clone(),
            ..HistoryQuery::default()
        };
        Ok(HistoryFilter { limit: self.limit, ..query.filter()? })
    }
}

fn open(place: &Place) -> Result<Store> {
    let context = place.resolve()?;
    let path = context.path("purse.db");
    Store::open(&path).with_context(|| format!("cannot open {}", path.display()))
}

impl HistoryArgs {
    pub(crate) fn run(self) -> Result<()> {
        if let Some(HistoryCommand::Summary { filter, json, place }) = self.command {
            let summary = open(&place)?.summary(&filter.to_filter()?)?;
            return if json {
                crate::print(&serde_json::to_string_pretty(&summary)?)
            } else {
                print_summary(&summary)
            };
        }
        let payments = open(&self.place)?.history(&self.filter.to_filter()?)?;
        if self.json {
            crate::print(&serde_json::to_string_pretty(&payments)?)
        } else if self.csv {
            print_csv(&payments)
        } else {
            print_table(&payments)
        }
    }
}

/// `0.01 USDC` for a known asset, else the atomic amount.
fn amount(network: Option<&str>, asset: Option<&str>, amount: &str) -> String {
    purse_api::history::amount(network, asset, amount).text
}

/// A Unix-milliseconds time in the user's local time zone, with the offset it had then
/// (UTC where the zone cannot be told).
fn local_time(ms: i64) -> String {
    let offset = time::UtcOffset::from_whole_seconds(purse_api::Zone::Local.offset_at(ms))
        .unwrap_or(time::UtcOffset::UTC);
    let Ok(utc) = time::OffsetDateTime::from_unix_timestamp(ms.div_euclid(1000)) else {
        return ms.to_string();
    };
    let t = utc.to_offset(offset);
    let zone = if offset.is_utc() { "Z".to_owned() } else { String::new() };
    format!("{} {:02}:{:02}:{:02}{zone}", t.date(), t.hour(), t.minute(), t.second())
}

fn print_table(payments: &[Payment]) -> Result<()> {
    if payments.is_empty() {
        eprintln!("no payments yet");
        return Ok(());
    }
    let mut out = format!(
        "{:<20}  {:<9}  {:<6}  {:<28}  {:>18}  {:<14}  {}\n",
        "TIME", "STATUS", "METHOD", "HOST", "AMOUNT", "NETWORK", "TX / REASON"
    );
    for p in payments {
        let shown_amount = p
            .amount
            .as_deref()
            .map_or_else(String::new, |a| amount(p.network.as_deref(), p.asset.as_deref(), a));
        let detail = p.tx_hash.clone().or_else(|| p.reason_code.clone()).unwrap_or_default();
        out.push_str(&format!(
            "{:<20}  {:<9}  {:<6}  {:<28}  {:>18}  {:<14}  {}\n",
            local_time(p.created_at),
            p.status,
            p.method,
            p.host,
            shown_amount,
            p.network.as_deref().unwrap_or(""),
            detail
        ));
    }
    crate::print(out.trim_end())
}

fn print_csv(payments: &[Payment]) -> Result<()> {
    let text = purse_api::history::to_csv(payments).map_err(|e| anyhow::anyhow!("{e}"))?;
    crate::print(text.trim_end())
}

fn print_summary(summary: &purse_store::Summary) -> Result<()> {
    let mut out = String::new();
    for (title, rows) in [
        ("per day", &summary.per_day),
        ("per host", &summary.per_host),
        ("per network", &summary.per_network),
    ] {
        out.push_str(&format!("{title}:\n"));
        if rows.is_empty() {
            out.push_str("  (no payments)\n");
        }
        for row in rows {
            let total = amount(row.network.as_deref(), row.asset.as_deref(), &row.total);
            out.push_str(&format!(
                "  {:<28}  {:>4} paid of {:>4}  {}\n",
                row.key, row.paid, row.attempts, total
            ));
        }
    }
    crate::print(out.trim_end())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_show_in_the_assets_units() {
        let usdc = Some("0x036CbD53842c5426634e7929541eC2318f3dCF7e");
        assert_eq!(amount(Some("eip155:84532"), usdc, "10000"), "0.01 USDC");
        assert_eq!(amount(Some("base-sepolia"), usdc, "1234567"), "1.234567 USDC");
        assert_eq!(amount(Some("eip155:84532"), usdc, "5000000000"), "5000.00 USDC");
        assert_eq!(
            amount(Some("eip155:84532"), Some("0x4200000000000000000000000000000000000006"), "7"),
            "7 units"
        );
    }

    #[test]
    fn times_show_date_and_clock() {
        let shown = local_time(1_767_268_800_000);
        assert!(shown.starts_with("2026-01-01 ") || shown.starts_with("2026-01-02 "), "{shown}");
        assert_eq!(shown.len(), if shown.ends_with('Z') { 20 } else { 19 });
    }
}
