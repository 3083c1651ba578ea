//! The payment history as the shells show it: pages of payments with their amounts in
//! the asset's units, summaries, today's and this month's spend, CSV, and the rows that
//! changed since last asked (for notifications).

use std::collections::HashMap;

use purse_core::money::Usd;
use purse_store::{HistoryFilter, Payment, Status, Store, SummaryRow};
use purse_x402::registry;
use serde::{Deserialize, Serialize};

use crate::{DataDir, Failure};

/// The most rows one page holds.
pub const MAX_PAGE: u32 = 500;

/// Which payments to list, as the History view asks. Dates are `YYYY-MM-DD`, local.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(default, rename_all = "camelCase")]
pub struct HistoryQuery {
    /// From the start of this local day.
    pub since: Option<String>,
    /// Until the end of this local day.
    pub until: Option<String>,
    /// Only this host (site).
    pub site: Option<String>,
    /// Only this status.
    pub status: Option<String>,
    /// Only this network (`eip155:84532`, `base-sepolia`).
    pub network: Option<String>,
    /// Only rows whose URL, host, payee, payer, transaction, reason or status holds this
    /// text (ASCII case ignored).
    pub search: Option<String>,
    /// Rows skipped.
    pub offset: u32,
    /// Rows wanted (at most [`MAX_PAGE`]; 0 means 50).
    pub limit: u32,
}

fn blank(text: &Option<String>) -> Option<&str> {
    text.as_deref().map(str::trim).filter(|t| !t.is_empty())
}

impl HistoryQuery {
    /// The query as the database answers it (every part; the page aside).
    pub fn filter(&self) -> Result<HistoryFilter, Failure> {
        // A network goes by its CAIP-2 id and, in v1, a name: either finds both.
        let networks = blank(&self.network).map_or_else(Vec::new, |text| {
            let known =
                registry::network_by_caip2(text).or_else(|| registry::network_by_v1_name(text));
            match known {
                Some(n) => std::iter::once(n.caip2()).chain(n.v1_name.map(str::to_owned)).collect(),
                None => vec![text.to_owned()],
            }
        });
        Ok(HistoryFilter {
            since: blank(&self.since).map(str::to_owned),
            until: blank(&self.until).map(str::to_owned),
            host: blank(&self.site).map(str::to_owned),
            status: blank(&self.status).map(str::parse::<Status>).transpose()?,
            networks,
            search: blank(&self.search).map(str::to_owned),
            limit: None,
            offset: None,
        })
    }
}

/// A network's chain id from its CAIP-2 id or x402 v1 name.
fn chain_id(network: &str) -> Option<u64> {
    registry::network_by_caip2(network)
        .or_else(|| registry::network_by_v1_name(network))
        .map(|n| n.chain_id)
}

/// An amount in an asset's units, for display.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Amount {
    /// Atomic units, decimal.
    pub atomic: String,
    /// The asset's decimals, when Purse knows the asset.
    pub decimals: Option<u8>,
    /// Its ticker, when known.
    pub symbol: Option<String>,
    /// `0.01 USDC`, or `7 units` for an unknown asset.
    pub text: String,
    /// Whether the asset is a US dollar stablecoin.
    pub usd: bool,
}

/// What a notification about `row` says, if it deserves one: every refusal and failure
/// but the user's own deny or block, and payments made without asking from `above`
/// dollars up (the user saw the ones they approved).
pub fn notification(row: &PaymentRow, above: Usd) -> Option<(String, String)> {
    let payment = &row.payment;
    let shown = row.amount.as_ref().map_or_else(String::new, |a| a.text.clone());
    match payment.status.as_str() {
        "settled" | "confirmed" => {
            let asked = payment.decided_by.as_deref() == Some("user");
            let usd = row
                .amount
                .as_ref()
                .filter(|a| a.usd)
                .and_then(|a| Some(Usd(micro_usd(a.atomic.parse().ok()?, a.decimals?))));
            let large = usd.is_none_or(|usd| usd >= above);
            (!asked && large).then(|| (format!("Paid {shown}"), format!("to {}", payment.host)))
        }
        // Not the user's own "deny" or "block" in the popup: they know. A prompt left to
        // time out (decided by `timeout`) is told, and so is a payment the user approved
        // that the wallet then refused (over a global cap, a locked keychain).
        "refused"
            if payment.decided_by.as_deref() == Some("user")
                && payment.reason_code.as_deref() == Some("denied") =>
        {
            None
        }
        "refused" | "failed" => Some((
            format!("Not paid: {}", payment.host),
            payment.reason.clone().unwrap_or_else(|| payment.status.to_string()),
        )),
        _ => None,
    }
}

/// `amount` of `asset` on `network`, shown in the asset's units.
pub fn amount(network: Option<&str>, asset: Option<&str>, amount: &str) -> Amount {
    let known = network
        .and_then(chain_id)
        .zip(asset.and_then(purse_x402::exact::parse_address))
        .and_then(|(chain_id, asset)| registry::asset(chain_id, asset));
    let (Some(known), Ok(units)) = (known, amount.parse::<u128>()) else {
        return Amount {
            atomic: amount.to_owned(),
            decimals: None,
            symbol: None,
            text: format!("{amount} units"),
            usd: false,
        };
    };
    Amount {
        atomic: amount.to_owned(),
        decimals: Some(known.decimals),
        symbol: Some(known.symbol.to_owned()),
        text: format!("{} {}", units_text(units, known.decimals), known.symbol),
        usd: known.usd,
    }
}

/// `units` with `decimals` decimals, at least two shown, trailing zeros dropped.
fn units_text(units: u128, decimals: u8) -> String {
    let scale = 10u128.pow(u32::from(decimals));
    let fraction = format!("{:0width$}", units % scale, width = usize::from(decimals));
    let fraction = fraction.trim_end_matches('0');
    let fraction = if fraction.len() < 2 { format!("{fraction:0<2}") } else { fraction.to_owned() };
    format!("{}.{fraction}", units / scale)
}

/// The block explorer page of a transaction, for the networks Purse knows one of.
pub fn explorer_url(network: &str, tx_hash: &str) -> Option<String> {
    let base = match chain_id(network)? {
        8453 => "https://basescan.org",
        84532 => "https://sepolia.basescan.org",
        1 => "https://etherscan.io",
        137 => "https://polygonscan.com",
        80002 => "https://amoy.polygonscan.com",
        42161 => "https://arbiscan.io",
        43114 => "https://snowtrace.io",
        43113 => "https://testnet.snowtrace.io",
        42220 => "https://celoscan.io",
        1329 => "https://seitrace.com",
        _ => return None,
    };
    let hex = tx_hash.strip_prefix("0x")?;
    (hex.len() == 64 && hex.bytes().all(|b| b.is_ascii_hexdigit()))
        .then(|| format!("{base}/tx/{tx_hash}"))
}

/// A payment as the History view shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PaymentRow {
    /// The stored row.
    pub payment: Payment,
    /// Its amount in the asset's units.
    pub amount: Option<Amount>,
    /// The network's name (`Base Sepolia`).
    pub network_name: Option<String>,
    /// Whether the network is a testnet.
    pub testnet: bool,
    /// The transaction on the network's explorer.
    pub explorer_url: Option<String>,
}

impl PaymentRow {
    /// `payment` with its display fields.
    pub fn of(payment: Payment) -> Self {
        let network = payment.network.as_deref().and_then(chain_id);
        let network = network.and_then(registry::network_by_chain_id);
        Self {
            amount: payment
                .amount
                .as_deref()
                .map(|a| amount(payment.network.as_deref(), payment.asset.as_deref(), a)),
            network_name: network.map(|n| n.name.to_owned()),
            testnet: network.is_some_and(|n| n.testnet),
            explorer_url: payment
                .network
                .as_deref()
                .zip(payment.tx_hash.as_deref())
                .and_then(|(n, t)| explorer_url(n, t)),
            payment,
        }
    }
}

/// One page of the history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct HistoryPage {
    /// The rows, newest first.
    pub rows: Vec<PaymentRow>,
    /// Rows matching the query, all pages.
    pub total: u64,
    /// Rows skipped.
    pub offset: u32,
    /// Rows asked for.
    pub limit: u32,
}

/// The payments matching `query`, newest first.
pub fn matching(store: &Store, query: &HistoryQuery) -> Result<Vec<Payment>, Failure> {
    Ok(store.history(&query.filter()?)?)
}

/// One page of the payments matching `query`, newest first, and how many match.
pub fn page(store: &Store, query: &HistoryQuery) -> Result<HistoryPage, Failure> {
    let limit = match query.limit {
        0 => 50,
        n => n.min(MAX_PAGE),
    };
    let filter = query.filter()?;
    let total = store.count(&filter)?;
    let page = HistoryFilter { limit: Some(limit), offset: Some(query.offset), ..filter };
    let rows = store.history(&page)?.into_iter().map(PaymentRow::of).collect();
    Ok(HistoryPage { rows, total, offset: query.offset, limit })
}

/// One payment with its display fields (the History detail, whatever page holds it).
pub fn payment(store: &Store, id: i64) -> Result<PaymentRow, Failure> {
    let payment =
        store.payment(id)?.ok_or_else(|| Failure::NotFound(format!("no payment {id}")))?;
    Ok(PaymentRow::of(payment))
}

/// The payments as CSV, one a row, every stored column. Many cells are a server's words
/// (an offer's fields, a facilitator's error): one a spreadsheet would read as a formula
/// is written as text (OWASP's CSV injection rule: a leading `'`).
pub fn to_csv(payments: &[Payment]) -> Result<String, Failure> {
    let failed = |e: csv::Error| Failure::Invalid(format!("cannot write CSV: {e}"));
    let mut writer = csv::Writer::from_writer(Vec::new());
    writer.write_record(CSV_HEADER).map_err(failed)?;
    // Each payment as serde writes it (in CSV_HEADER's order), then its cells made safe.
    let mut cells = csv::WriterBuilder::new().has_headers(false).from_writer(Vec::new());
    for payment in payments {
        cells.serialize(payment).map_err(failed)?;
    }
    let serialized = cells.into_inner().map_err(|e| failed(e.into_error().into()))?;
    let mut reader =
        csv::ReaderBuilder::new().has_headers(false).from_reader(serialized.as_slice());
    for record in reader.records() {
        writer.write_record(record.map_err(failed)?.iter().map(as_text)).map_err(failed)?;
    }
    let bytes = writer.into_inner().map_err(|e| failed(e.into_error().into()))?;
    String::from_utf8(bytes).map_err(|e| Failure::Invalid(format!("cannot write CSV: {e}")))
}

/// A cell a spreadsheet would run as a formula, quoted as text.
fn as_text(cell: &str) -> String {
    if cell.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{cell}")
    } else {
        cell.to_owned()
    }
}

/// The CSV columns, for an empty history (serde writes them with the first row).
const CSV_HEADER: [&str; 23] = [
    "id",
    "created_at",
    "updated_at",
    "status",
    "decided_by",
    "client",
    "method",
    "url",
    "host",
    "x402_version",
    "scheme",
    "network",
    "asset",
    "amount",
    "pay_to",
    "payer",
    "nonce",
    "valid_before",
    "payload_hash",
    "tx_hash",
    "server_status",
    "reason_code",
    "reason",
];

/// Writes the payments matching `query` as CSV into `dir` (the user's downloads folder
/// when `None`, else the data dir); returns the file.
pub fn export_csv(
    place: &DataDir,
    query: &HistoryQuery,
    dir: Option<std::path::PathBuf>,
    now_ms: i64,
) -> Result<std::path::PathBuf, Failure> {
    let text = to_csv(&matching(&place.store()?, query)?)?;
    save_export(place, dir, &format!("purse-history-{now_ms}.csv"), &text)
}

/// Writes an export as `name` in `dir` (by default the downloads folder, else the data
/// dir); returns the file.
pub(crate) fn save_export(
    place: &DataDir,
    dir: Option<std::path::PathBuf>,
    name: &str,
    text: &str,
) -> Result<std::path::PathBuf, Failure> {
    let path = export_dir(place, dir).join(name);
    std::fs::write(&path, text).map_err(Failure::file("write", &path))?;
    Ok(path)
}

/// Where exports go: `dir`, by default the downloads folder, else the data dir.
pub(crate) fn export_dir(place: &DataDir, dir: Option<std::path::PathBuf>) -> std::path::PathBuf {
    dir.or_else(dirs::download_dir).unwrap_or_else(|| place.data_dir.clone())
}

/// A summary row with its total in the asset's units.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SummaryLine {
    /// The day, host or network.
    pub key: String,
    /// Attempts of any status.
    pub attempts: u64,
    /// Attempts that were paid.
    pub paid: u64,
    /// Network as the offers name it.
    pub network: Option<String>,
    /// The paid total.
    pub total: Amount,
}

impl SummaryLine {
    fn of(row: SummaryRow) -> Self {
        Self {
            total: amount(row.network.as_deref(), row.asset.as_deref(), &row.total),
            key: row.key,
            attempts: row.attempts,
            paid: row.paid,
            network: row.network,
        }
    }
}

/// Totals per day, per host (site) and per network.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SummaryView {
    /// Per local day, newest first.
    pub per_day: Vec<SummaryLine>,
    /// Per host.
    pub per_host: Vec<SummaryLine>,
    /// Per network.
    pub per_network: Vec<SummaryLine>,
}

/// Totals over the payments matching `query`, as the table lists them.
pub fn summary(store: &Store, query: &HistoryQuery) -> Result<SummaryView, Failure> {
    let summary = store.summary(&query.filter()?)?;
    let lines = |rows: Vec<SummaryRow>| rows.into_iter().map(SummaryLine::of).collect();
    Ok(SummaryView {
        per_day: lines(summary.per_day),
        per_host: lines(summary.per_host),
        per_network: lines(summary.per_network),
    })
}

/// Dollars paid in USD stablecoins over a period, testnets and mainnets apart.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Spend {
    /// Dollars on mainnets (`1.25`).
    pub mainnet_usd: String,
    /// Play dollars on testnets.
    pub testnet_usd: String,
    /// Payments made.
    pub paid: u64,
    /// Attempts, paid or not.
    pub attempts: u64,
    /// The global cap over the period, dollars (`None`: no cap).
    pub cap: Option<String>,
    /// What the cap leaves on mainnets, dollars (payments under way count as spent).
    pub left_mainnet: Option<String>,
    /// What it leaves on testnets, counted apart.
    pub left_testnet: Option<String>,
}

/// Today's and this month's spend, and the local dates they start on.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SpendView {
    /// Today (`YYYY-MM-DD`).
    pub today: String,
    /// Today's spend.
    pub day: Spend,
    /// This month's spend.
    pub month: Spend,
}

/// Micro-dollars (6 decimals) of `atomic` units of a `decimals` stablecoin.
fn micro_usd(atomic: u128, decimals: u8) -> u128 {
    match decimals.cmp(&6) {
        std::cmp::Ordering::Equal => atomic,
        std::cmp::Ordering::Greater => atomic / 10u128.pow(u32::from(decimals - 6)),
        std::cmp::Ordering::Less => atomic.saturating_mul(10u128.pow(u32::from(6 - decimals))),
    }
}

fn spend_since(store: &Store, since: &str) -> Result<Spend, Failure> {
    let summary = store
        .summary(&HistoryFilter { since: Some(since.to_owned()), ..HistoryFilter::default() })?;
    let (mut mainnet, mut testnet, mut spend) = (0u128, 0u128, Spend::default());
    for row in summary.per_network {
        spend.paid += row.paid;
        spend.attempts += row.attempts;
        let shown = amount(row.network.as_deref(), row.asset.as_deref(), &row.total);
        let (Some(decimals), true, Ok(atomic)) = (shown.decimals, shown.usd, row.total.parse())
        else {
            continue;
        };
        let testnet_row = row
            .network
            .as_deref()
            .and_then(chain_id)
            .and_then(registry::network_by_chain_id)
            .is_some_and(|n| n.testnet);
        let sum = if testnet_row { &mut testnet } else { &mut mainnet };
        *sum = sum.saturating_add(micro_usd(atomic, decimals));
    }
    spend.mainnet_usd = Usd(mainnet).decimal();
    spend.testnet_usd = Usd(testnet).decimal();
    Ok(spend)
}

/// The local date at `now_ms` in `zone`, `YYYY-MM-DD`.
pub fn local_date(zone: crate::Zone, now_ms: i64) -> String {
    zone.at(now_ms).date().to_string()
}

/// Today's and this month's spend, each against its global cap (the cap set with
/// `purse budget` or the app, else `config.toml`'s).
pub fn spend(place: &DataDir, zone: crate::Zone, now_ms: i64) -> Result<SpendView, Failure> {
    let store = place.store()?;
    let today = local_date(zone, now_ms);
    let month_start = format!("{}-01", &today[..7]);
    let mut view = SpendView {
        day: spend_since(&store, &today)?,
        month: spend_since(&store, &month_start)?,
        today,
    };
    let defaults =
        place.config()?.policy.default_caps().map_err(|e| Failure::Settings(e.to_string()))?;
    let now = zone.at(now_ms);
    // The day's cap, then the month's.
    let globals = purse_core::budget::budgets(now, store.caps(defaults)?, None);
    let keys: Vec<String> = globals.iter().map(|b| b.key.clone()).collect();
    let (mainnet, testnet) = (store.used(&keys, false)?, store.used(&keys, true)?);
    for (spend, (budget, (m, t))) in [&mut view.day, &mut view.month]
        .into_iter()
        .zip(globals.iter().zip(mainnet.into_iter().zip(testnet)))
    {
        let Some(cap) = budget.limit else { continue };
        let left =
            |used: i64| Usd(cap.0.saturating_sub(u128::try_from(used).unwrap_or(0))).decimal();
        spend.cap = Some(cap.decimal());
        spend.left_mainnet = Some(left(m));
        spend.left_testnet = Some(left(t));
    }
    Ok(view)
}

/// Notices payments that are new or changed status since it last looked, among the most
/// recent ones (for notifications and live views). The first look only remembers.
#[derive(Debug)]
pub struct HistoryWatch {
    store: Store,
    version: Option<i64>,
    seen: HashMap<i64, Status>,
    primed: bool,
}

/// How many of the latest rows a watch compares.
const WATCHED: u32 = 50;

impl HistoryWatch {
    /// Watches `purse.db` in the data dir through a connection of its own.
    pub fn open(place: &DataDir) -> Result<Self, Failure> {
        Ok(Self { store: place.store()?, version: None, seen: HashMap::new(), primed: false })
    }

    /// Whether paying is paused (`purse pause`), read on the watch's own connection.
    pub fn paused(&self) -> Result<bool, Failure> {
        Ok(self.store.paused()?)
    }

    /// The payments new or changed since the last call (none on the first).
    pub fn changes(&mut self) -> Result<Vec<PaymentRow>, Failure> {
        let version = self.store.data_version()?;
        if self.version == Some(version) {
            return Ok(Vec::new());
        }
        self.version = Some(version);
        let latest = self
            .store
            .history(&HistoryFilter { limit: Some(WATCHED), ..HistoryFilter::default() })?;
        let mut changed = Vec::new();
        let mut seen = HashMap::with_capacity(latest.len());
        for payment in latest {
            let id = payment.id;
            seen.insert(id, payment.status);
            if self.primed && self.seen.get(&id) != Some(&payment.status) {
                changed.push(PaymentRow::of(payment));
            }
        }
        self.seen = seen;
        self.primed = true;
        changed.reverse();
        Ok(changed)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    const USDC_SEPOLIA: &str = "0x036CbD53842c5426634e7929541eC2318f3dCF7e";

    #[test]
    fn amounts_and_explorers() {
        let shown = amount(Some("eip155:84532"), Some(USDC_SEPOLIA), "10000");
        assert_eq!(shown.text, "0.01 USDC");
        assert!(shown.usd);
        assert_eq!(
            amount(Some("base-sepolia"), Some(USDC_SEPOLIA), "1234567").text,
            "1.234567 USDC"
        );
        assert_eq!(amount(Some("eip155:84532"), None, "7").text, "7 units");
        let tx = format!("0x{}", "ab".repeat(32));
        assert_eq!(
            explorer_url("base-sepolia", &tx).unwrap(),
            format!("https://sepolia.basescan.org/tx/{tx}")
        );
        assert_eq!(explorer_url("eip155:84532", "0x12"), None);
        assert_eq!(micro_usd(1_000_000_000_000_000_000, 18), 1_000_000);
        assert_eq!(micro_usd(5, 2), 50_000);
    }

    #[test]
    fn what_deserves_a_notification() {
        let coded = |status: &str, decided_by: &str, amount: &str, code: Option<&str>| {
            PaymentRow::of(Payment {
                id: 1,
                created_at: 0,
                updated_at: 0,
                status: status.parse().unwrap(),
                decided_by: Some(decided_by.into()),
                client: None,
                method: "GET".into(),
                url: "https://a.example/".into(),
                host: "a.example".into(),
                x402_version: Some(2),
                scheme: None,
                network: Some("eip155:84532".into()),
                asset: Some(USDC_SEPOLIA.into()),
                amount: Some(amount.into()),
                pay_to: None,
                payer: None,
                nonce: None,
                valid_before: None,
                payload_hash: None,
                tx_hash: None,
                server_status: None,
                reason_code: code.map(str::to_owned),
                reason: Some("over the budget".into()),
            })
        };
        let row =
            |status: &str, decided_by: &str, amount: &str| coded(status, decided_by, amount, None);
        let above = purse_core::money::Usd(100_000);
        let shown = |r: PaymentRow| notification(&r, above).map(|n| n.0);
        assert_eq!(shown(row("settled", "rule 1", "100000")).as_deref(), Some("Paid 0.10 USDC"));
        assert_eq!(shown(row("confirmed", "rule 1", "99999")), None);
        assert_eq!(shown(row("settled", "user", "5000000")), None);
        assert_eq!(shown(row("refused", "rule 1", "1")).as_deref(), Some("Not paid: a.example"));
        assert_eq!(shown(row("signed", "rule 1", "5000000")), None);
        assert_eq!(shown(coded("refused", "user", "1", Some("denied"))), None);
        let timed_out = coded("refused", "timeout", "1", Some("timeout"));
        assert_eq!(shown(timed_out).as_deref(), Some("Not paid: a.example"));
        let approved_over_cap = coded("refused", "user", "1", Some("budget"));
        assert_eq!(shown(approved_over_cap).as_deref(), Some("Not paid: a.example"));
    }

    #[test]
    fn local_dates() {
        // 2026-01-01 00:30 UTC is still 2025-12-31 at UTC-1.
        let ms = 1_767_227_400_000;
        assert_eq!(local_date(crate::Zone::Fixed(0), ms), "2026-01-01");
        assert_eq!(local_date(crate::Zone::Fixed(-3600), ms), "2025-12-31");
    }

    #[test]
    fn queries_filter_by_network_and_search() {
        let dir = std::env::temp_dir().join(format!("purse-api-history-{}", std::process::id()));
        let place = DataDir::resolve(Some(dir.clone()), "test").unwrap();
        let store = place.store().unwrap();
        let mut watch = HistoryWatch::open(&place).unwrap();
        assert!(watch.changes().unwrap().is_empty());
        for (i, network) in ["eip155:84532", "base", "eip155:84532"].into_iter().enumerate() {
            store
                .record(&purse_store::NewPayment {
                    at: 1_767_227_400_000 + i as i64,
                    method: "GET".into(),
                    url: format!("https://api{i}.example/paid"),
                    host: format!("api{i}.example"),
                    network: Some(network.into()),
                    asset: Some(USDC_SEPOLIA.into()),
                    amount: Some("1000".into()),
                    ..Default::default()
                })
                .unwrap();
        }
        let all = page(&store, &HistoryQuery::default()).unwrap();
        assert_eq!(all.total, 3);
        assert_eq!(all.rows[0].payment.host, "api2.example");
        let sepolia = HistoryQuery { network: Some("base-sepolia".into()), ..Default::default() };
        assert_eq!(page(&store, &sepolia).unwrap().total, 2);
        let search = HistoryQuery { search: Some("API1".into()), ..Default::default() };
        assert_eq!(page(&store, &search).unwrap().rows[0].payment.host, "api1.example");
        let paged = HistoryQuery { offset: 1, limit: 1, ..Default::default() };
        let one = page(&store, &paged).unwrap();
        assert_eq!((one.total, one.rows.len()), (3, 1));
        assert_eq!(one.rows[0].payment.host, "api1.example");
        // One payment on its own, as the detail view reads it.
        let first = payment(&store, all.rows[2].payment.id).unwrap();
        assert_eq!(first.payment.host, "api0.example");
        assert_eq!(first.network_name.as_deref(), Some("Base Sepolia"));
        assert!(matches!(payment(&store, 999), Err(Failure::NotFound(_))));
        let bad = HistoryQuery { status: Some("lost".into()), ..Default::default() };
        assert_eq!(page(&store, &bad).unwrap_err().code(), "invalid");
        for date in ["2026-13-01", "2026-02-29", "2026-04-31", "2026-1-01"] {
            let bad = HistoryQuery { since: Some(date.into()), ..Default::default() };
            assert_eq!(page(&store, &bad).unwrap_err().code(), "invalid", "{date}");
        }
        let leap = HistoryQuery { until: Some("2028-02-29".into()), ..Default::default() };
        assert!(page(&store, &leap).is_ok());
        assert!(to_csv(&[]).unwrap().starts_with("id,created_at,"));
        // Every column in the header's order; a cell a spreadsheet would run, as text.
        let mut hostile = store.payment(all.rows[0].payment.id).unwrap().unwrap();
        hostile.reason = Some("=HYPERLINK(\"https://evil.example/\",\"x\")".into());
        hostile.scheme = Some("@SUM(1)".into());
        let text = to_csv(&[hostile.clone()]).unwrap();
        let mut read = csv::Reader::from_reader(text.as_bytes());
        assert_eq!(read.headers().unwrap().iter().collect::<Vec<_>>(), CSV_HEADER);
        let row = read.records().next().unwrap().unwrap();
        let column = |name: &str| &row[CSV_HEADER.iter().position(|c| *c == name).unwrap()];
        assert_eq!(column("reason"), "'=HYPERLINK(\"https://evil.example/\",\"x\")");
        assert_eq!(column("scheme"), "'@SUM(1)");
        assert_eq!(column("host"), hostile.host);
        assert_eq!(column("id"), hostile.id.to_string());
        assert_eq!(watch.changes().unwrap().len(), 3);
        assert!(watch.changes().unwrap().is_empty());
        let _ = std::fs::remove_dir_all(dir);
    }
}
