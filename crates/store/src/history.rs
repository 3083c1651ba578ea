//! History queries: filtered lists and summaries.

use std::collections::BTreeMap;

use rusqlite::{ToSql, params_from_iter};
use serde::Serialize;

use crate::{
    Error, Result, Store,
    payment::{COLUMNS, Payment, Status},
};

/// Which payments to list. Dates are `YYYY-MM-DD` in the user's local calendar.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HistoryFilter {
    /// From the start of this local day.
    pub since: Option<String>,
    /// Until the end of this local day.
    pub until: Option<String>,
    /// Only this host.
    pub host: Option<String>,
    /// Only this status.
    pub status: Option<Status>,
    /// Only on this network, under any of the names it goes by (its CAIP-2 id, its x402 v1
    /// name); empty for any.
    pub networks: Vec<String>,
    /// Only payments whose URL, host, payee, payer, transaction, reason or status holds
    /// this text, ignoring ASCII case.
    pub search: Option<String>,
    /// At most this many rows (newest first).
    pub limit: Option<u32>,
    /// Skip this many rows.
    pub offset: Option<u32>,
}

fn check_date(date: &str) -> Result<()> {
    let bytes = date.as_bytes();
    let shaped = bytes.len() == 10
        && bytes
            .iter()
            .enumerate()
            .all(|(i, b)| if i == 4 || i == 7 { *b == b'-' } else { b.is_ascii_digit() });
    // SQLite would read 2026-13-01 as nothing and 2026-02-31 as 3 March: refused instead.
    if !shaped || chrono::NaiveDate::parse_from_str(date, "%Y-%m-%d").is_err() {
        return Err(Error::Filter(format!("{date:?} is not a date (YYYY-MM-DD)")));
    }
    Ok(())
}

impl HistoryFilter {
    /// The WHERE clause and its parameters.
    fn clause(&self) -> Result<(String, Vec<Box<dyn ToSql>>)> {
        let mut conditions = Vec::new();
        let mut values: Vec<Box<dyn ToSql>> = Vec::new();
        if let Some(since) = &self.since {
            check_date(since)?;
            // SQLite reads the date as local time and 'utc' converts it: local midnight.
            conditions.push(format!(
                "created_at >= CAST(strftime('%s', ?{}, 'utc') AS INTEGER) * 1000",
                values.len() + 1
            ));
            values.push(Box::new(since.clone()));
        }
        if let Some(until) = &self.until {
            check_date(until)?;
            conditions.push(format!(
                "created_at < CAST(strftime('%s', ?{}, '+1 day', 'utc') AS INTEGER) * 1000",
                values.len() + 1
            ));
            values.push(Box::new(until.clone()));
        }
        if let Some(host) = &self.host {
            conditions.push(format!("host = ?{}", values.len() + 1));
            values.push(Box::new(host.to_ascii_lowercase()));
        }
        if let Some(status) = self.status {
            conditions.push(format!("status = ?{}", values.len() + 1));
            values.push(Box::new(status.as_str()));
        }
        if !self.networks.is_empty() {
            let first = values.len() + 1;
            let marks: Vec<String> =
                (first..first + self.networks.len()).map(|i| format!("?{i}")).collect();
            conditions.push(format!("network IN ({})", marks.join(", ")));
            values.extend(self.networks.iter().map(|n| Box::new(n.clone()) as Box<dyn ToSql>));
        }
        if let Some(search) = &self.search {
            // One haystack of the searched columns, kept apart by a unit separator so that
            // a match never spans two of them.
            conditions.push(format!(
                "instr(lower(url || char(31) || host || char(31) || COALESCE(pay_to, '')
                    || char(31) || COALESCE(payer, '') || char(31) || COALESCE(tx_hash, '')
                    || char(31) || COALESCE(reason, '') || char(31) || COALESCE(reason_code, '')
                    || char(31) || status), ?{}) > 0",
                values.len() + 1
            ));
            values.push(Box::new(search.to_ascii_lowercase()));
        }
        let clause = if conditions.is_empty() {
            String::new()
        } else {
            format!("WHERE {}", conditions.join(" AND "))
        };
        Ok((clause, values))
    }
}

/// Totals over one group (a day, a host or a network), per network and asset, since
/// amounts of different assets do not add up.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SummaryRow {
    /// The day (`YYYY-MM-DD`, local), host or network.
    pub key: String,
    /// Network as the offers name it.
    pub network: Option<String>,
    /// Token address.
    pub asset: Option<String>,
    /// Attempts of any status.
    pub attempts: u64,
    /// Attempts that were paid (settled or confirmed).
    pub paid: u64,
    /// Sum of the paid amounts, atomic units.
    pub total: String,
}

/// `purse history summary`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    /// Per local day, newest first.
    pub per_day: Vec<SummaryRow>,
    /// Per host.
    pub per_host: Vec<SummaryRow>,
    /// Per network.
    pub per_network: Vec<SummaryRow>,
}

impl Store {
    /// Payments matching `filter`, newest first.
    pub fn history(&self, filter: &HistoryFilter) -> Result<Vec<Payment>> {
        let (clause, values) = filter.clause()?;
        let sql = format!(
            "SELECT {COLUMNS} FROM payments {clause} ORDER BY created_at DESC, id DESC LIMIT {} OFFSET {}",
            filter.limit.map_or(-1, i64::from),
            filter.offset.unwrap_or(0)
        );
        let mut statement = self.conn().prepare(&sql)?;
        let rows = statement.query_map(params_from_iter(values.iter()), Payment::from_row)?;
        Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
    }

    /// How many payments match `filter` (its limit and offset aside).
    pub fn count(&self, filter: &HistoryFilter) -> Result<u64> {
        let (clause, values) = filter.clause()?;
        let sql = format!("SELECT COUNT(*) FROM payments {clause}");
        let count: i64 =
            self.conn().query_row(&sql, params_from_iter(values.iter()), |row| row.get(0))?;
        Ok(u64::try_from(count).unwrap_or(0))
    }

    /// Totals per day, per host and per network over the payments matching `filter`.
    pub fn summary(&self, filter: &HistoryFilter) -> Result<Summary> {
        let (clause, values) = filter.clause()?;
        let sql = format!(
            "SELECT date(created_at / 1000, 'unixepoch', 'localtime'), host, COALESCE(network, ''),
                    network, asset, status, amount
             FROM payments {clause}"
        );
        let mut statement = self.conn().prepare(&sql)?;
        let mut rows = statement.query(params_from_iter(values.iter()))?;
        type Key = (String, Option<String>, Option<String>);
        #[derive(Default)]
        struct Sums {
            attempts: u64,
            paid: u64,
            total: u128,
        }
        let mut groups: [BTreeMap<Key, Sums>; 3] = Default::default();
        while let Some(row) = rows.next()? {
            let keys: [String; 3] = [row.get(0)?, row.get(1)?, row.get(2)?];
            let network: Option<String> = row.get(3)?;
            let asset: Option<String> = row.get(4)?;
            let status: String = row.get(5)?;
            let amount: Option<String> = row.get(6)?;
            let paid = status == "settled" || status == "confirmed";
            // Offers were validated as uint256; totals count what fits in u128 (10^38).
            let value = amount.as_deref().and_then(|a| a.parse::<u128>().ok()).unwrap_or(0);
            for (group, key) in groups.iter_mut().zip(keys) {
                let sums = group.entry((key, network.clone(), asset.clone())).or_default();
                sums.attempts += 1;
                if paid {
                    sums.paid += 1;
                    sums.total = sums.total.saturating_add(value);
                }
            }
        }
        let [per_day, per_host, per_network] = groups.map(|group| {
            group
                .into_iter()
                .map(|((key, network, asset), sums)| SummaryRow {
                    key,
                    network,
                    asset,
                    attempts: sums.attempts,
                    paid: sums.paid,
                    total: sums.total.to_string(),
                })
                .collect::<Vec<_>>()
        });
        let mut per_day = per_day;
        per_day.reverse();
        Ok(Summary { per_day, per_host, per_network })
    }
}
