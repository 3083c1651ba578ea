//! Budgets: running totals per window (a local calendar day, a week from Monday, a local
//! calendar month, a rule's whole life), named by keys such as `global:d:2026-11-27` or
//! `rule:3:w:2026-11-23`. A payment adds its dollars to every key it falls in when it is
//! reserved, before it is signed, and gives them back if it fails; the keys with a limit
//! are checked in the same step. Testnet and mainnet dollars are kept apart.

use crate::{money::Usd, ports::Now, rules::Rule};

/// The global caps, over all rules.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Caps {
    /// Per local calendar day.
    pub daily: Option<Usd>,
    /// Per local calendar month.
    pub monthly: Option<Usd>,
}

/// A running total a payment counts in, and its limit if it has one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Budget {
    /// `global:d:2026-11-27`, `rule:3:m:2026-11`, …
    pub key: String,
    /// The most the total may reach.
    pub limit: Option<Usd>,
}

/// A date of the proleptic Gregorian calendar.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Date {
    /// Year.
    pub year: i64,
    /// 1 to 12.
    pub month: u32,
    /// 1 to 31.
    pub day: u32,
}

impl std::fmt::Display for Date {
    /// `YYYY-MM-DD`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

const DAY_MS: i64 = 86_400_000;

/// The date `days` after 1970-01-01 (Howard Hinnant's `civil_from_days`).
fn civil_from_days(days: i64) -> Date {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = u32::try_from(doy - (153 * mp + 2) / 5 + 1).unwrap_or(1);
    let month = u32::try_from(if mp < 10 { mp + 3 } else { mp - 9 }).unwrap_or(1);
    let year = yoe + era * 400 + i64::from(month <= 2);
    Date { year, month, day }
}

impl Now {
    /// Days since 1970-01-01 in the local calendar.
    fn local_days(&self) -> i64 {
        (self.unix_ms + i64::from(self.utc_offset_secs) * 1000).div_euclid(DAY_MS)
    }

    /// Today's local date.
    pub fn date(&self) -> Date {
        civil_from_days(self.local_days())
    }

    /// The local date of this week's Monday.
    pub fn monday(&self) -> Date {
        let days = self.local_days();
        // 1970-01-01 was a Thursday: Monday is 3 days before it.
        civil_from_days(days - (days + 3).rem_euclid(7))
    }
}

/// The budgets a payment at `now` counts in: the global day and month (with the caps),
/// and, when a rule decided it, the rule's day, week, month and lifetime (with its limits).
pub fn budgets(now: Now, caps: Caps, rule: Option<&Rule>) -> Vec<Budget> {
    let today = now.date();
    let day = today.to_string();
    let month = format!("{:04}-{:02}", today.year, today.month);
    let mut budgets = vec![
        Budget { key: format!("global:d:{day}"), limit: caps.daily },
        Budget { key: format!("global:m:{month}"), limit: caps.monthly },
    ];
    if let Some(rule) = rule.filter(|r| r.id > 0) {
        let id = rule.id;
        let limits = rule.limits;
        budgets.extend([
            Budget { key: format!("rule:{id}:d:{day}"), limit: limits.daily },
            Budget { key: format!("rule:{id}:w:{}", now.monday()), limit: limits.weekly },
            Budget { key: format!("rule:{id}:m:{month}"), limit: limits.monthly },
            Budget { key: format!("rule:{id}:total"), limit: limits.total },
        ]);
    }
    budgets
}

/// A budget key's window, for people: `today`, `this week`, `this month` or `in total`.
pub fn window(key: &str) -> &'static str {
    let w = match key.split(':').collect::<Vec<_>>().as_slice() {
        ["global", w, ..] | ["rule", _, w, ..] => *w,
        _ => "",
    };
    match w {
        "d" => "today",
        "w" => "this week",
        "m" => "this month",
        _ => "in total",
    }
}

/// What a budget key stands for, for people: `the global cap today`,
/// `rule 3's budget this week`, ….
pub fn describe(key: &str) -> String {
    match key.split(':').collect::<Vec<_>>().as_slice() {
        ["global", ..] => format!("the global cap {}", window(key)),
        ["rule", id, ..] => format!("rule {id}'s budget {}", window(key)),
        _ => key.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::{Action, Limits};

    fn at(unix_ms: i64, utc_offset_secs: i32) -> Now {
        Now { unix_ms, utc_offset_secs }
    }

    #[test]
    fn local_days_weeks_and_months() {
        // 2026-11-27T23:30:00Z, a Friday.
        let late = 1_795_822_200_000;
        assert_eq!(at(late, 0).date(), Date { year: 2026, month: 11, day: 27 });
        assert_eq!(at(late, 3600).date(), Date { year: 2026, month: 11, day: 28 });
        assert_eq!(at(late, -12 * 3600).date(), Date { year: 2026, month: 11, day: 27 });
        assert_eq!(at(late, 0).monday(), Date { year: 2026, month: 11, day: 23 });
        // Sunday 2026-11-29 still belongs to Monday the 23rd's week; Monday starts a new one.
        assert_eq!(at(late + 2 * DAY_MS, 0).monday(), Date { year: 2026, month: 11, day: 23 });
        assert_eq!(at(late + 3 * DAY_MS, 0).monday(), Date { year: 2026, month: 11, day: 30 });
        assert_eq!(at(0, 0).date(), Date { year: 1970, month: 1, day: 1 });
        assert_eq!(at(951_782_400_000, 0).date(), Date { year: 2000, month: 2, day: 29 });
        // New year across a time zone.
        let new_year = 1_798_761_600_000; // 2027-01-01T00:00:00Z
        assert_eq!(at(new_year - 1, 0).date(), Date { year: 2026, month: 12, day: 31 });
        assert_eq!(at(new_year - 1, 60).date(), Date { year: 2027, month: 1, day: 1 });
    }

    #[test]
    fn a_payment_counts_in_the_global_windows_and_its_rules() {
        let now = at(1_795_822_200_000, 0);
        let caps = Caps { daily: Some(Usd(1_000_000)), monthly: None };
        let keys: Vec<String> = budgets(now, caps, None).into_iter().map(|b| b.key).collect();
        assert_eq!(keys, ["global:d:2026-11-27", "global:m:2026-11"]);
        let rule = Rule {
            id: 3,
            host: "*".into(),
            path_prefix: None,
            network: None,
            asset: None,
            pay_to: None,
            action: Action::Allow,
            limits: Limits { weekly: Some(Usd(5)), ..Limits::default() },
        };
        let all = budgets(now, caps, Some(&rule));
        assert_eq!(all.len(), 6);
        assert_eq!(all[3], Budget { key: "rule:3:w:2026-11-23".into(), limit: Some(Usd(5)) });
        assert_eq!(describe(&all[3].key), "rule 3's budget this week");
        assert_eq!(describe("global:d:2026-11-27"), "the global cap today");
        let windows: Vec<_> = all.iter().map(|b| window(&b.key)).collect();
        assert_eq!(
            windows,
            ["today", "this month", "today", "this week", "this month", "in total"]
        );
    }
}
