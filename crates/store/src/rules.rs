//! Rules and the controls every process reads at its next decision: pause, global caps.

use purse_core::{
    budget::Caps,
    money::Usd,
    rules::{Limits, Rule},
};
use rusqlite::{OptionalExtension as _, Row, params};

use crate::{Error, Result, Store};

fn micros(usd: Option<Usd>) -> Option<i64> {
    usd.and_then(|u| i64::try_from(u.0).ok())
}

fn usd(value: Option<i64>) -> Option<Usd> {
    value.and_then(|v| u128::try_from(v).ok()).map(Usd)
}

fn rule_from(row: &Row<'_>) -> rusqlite::Result<Rule> {
    let action: String = row.get(6)?;
    Ok(Rule {
        id: row.get(0)?,
        host: row.get(1)?,
        path_prefix: row.get(2)?,
        network: row.get(3)?,
        asset: row.get(4)?,
        pay_to: row.get(5)?,
        action: action.parse().map_err(|e: String| {
            rusqlite::Error::FromSqlConversionFailure(6, rusqlite::types::Type::Text, e.into())
        })?,
        limits: Limits {
            max_per_payment: usd(row.get(7)?),
            daily: usd(row.get(8)?),
            weekly: usd(row.get(9)?),
            monthly: usd(row.get(10)?),
            total: usd(row.get(11)?),
        },
    })
}

const RULE_COLUMNS: &str = "id, host, path_prefix, network, asset, pay_to, action, max_per_payment, \
     daily, weekly, monthly, total";

/// A global cap as stored: never set (the configured default applies), none, or an amount.
const NO_CAP: &str = "none";

impl Store {
    /// Stores a new rule (its `id` is ignored) and returns its id.
    pub fn add_rule(&self, rule: &Rule, at: i64) -> Result<i64> {
        let l = rule.limits;
        self.conn().execute(
            "INSERT INTO rules (host, path_prefix, network, asset, pay_to, action,
                 max_per_payment, daily, weekly, monthly, total, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
            params![
                rule.host,
                rule.path_prefix,
                rule.network,
                rule.asset,
                rule.pay_to,
                rule.action.as_str(),
                micros(l.max_per_payment),
                micros(l.daily),
                micros(l.weekly),
                micros(l.monthly),
                micros(l.total),
                at
            ],
        )?;
        Ok(self.conn().last_insert_rowid())
    }

    /// Stores new rules, all or none; returns how many.
    pub fn add_rules(&self, rules: &[Rule], at: i64) -> Result<usize> {
        let tx = self.conn().unchecked_transaction()?;
        for rule in rules {
            self.add_rule(rule, at)?;
        }
        tx.commit()?;
        Ok(rules.len())
    }

    /// Replaces rule `rule.id`.
    pub fn update_rule(&self, rule: &Rule) -> Result<()> {
        let l = rule.limits;
        let changed = self.conn().execute(
            "UPDATE rules SET host = ?2, path_prefix = ?3, network = ?4, asset = ?5, pay_to = ?6,
                 action = ?7, max_per_payment = ?8, daily = ?9, weekly = ?10, monthly = ?11,
                 total = ?12
             WHERE id = ?1",
            params![
                rule.id,
                rule.host,
                rule.path_prefix,
                rule.network,
                rule.asset,
                rule.pay_to,
                rule.action.as_str(),
                micros(l.max_per_payment),
                micros(l.daily),
                micros(l.weekly),
                micros(l.monthly),
                micros(l.total)
            ],
        )?;
        if changed == 0 {
            return Err(Error::Missing(format!("no rule {}", rule.id)));
        }
        Ok(())
    }

    /// Removes rule `id`.
    pub fn remove_rule(&self, id: i64) -> Result<()> {
        if self.conn().execute("DELETE FROM rules WHERE id = ?1", [id])? == 0 {
            return Err(Error::Missing(format!("no rule {id}")));
        }
        Ok(())
    }

    /// Every rule, oldest first.
    pub fn rules(&self) -> Result<Vec<Rule>> {
        let sql = format!("SELECT {RULE_COLUMNS} FROM rules ORDER BY id");
        let mut statement = self.conn().prepare_cached(&sql)?;
        let rows = statement.query_map([], rule_from)?;
        Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
    }

    /// Rule `id`.
    pub fn rule(&self, id: i64) -> Result<Option<Rule>> {
        let sql = format!("SELECT {RULE_COLUMNS} FROM rules WHERE id = ?1");
        Ok(self.conn().query_row(&sql, [id], rule_from).optional()?)
    }

    fn setting(&self, key: &str) -> Result<Option<String>> {
        Ok(self
            .conn()
            .prepare_cached("SELECT value FROM settings WHERE key = ?1")?
            .query_row([key], |row| row.get(0))
            .optional()?)
    }

    fn set_setting(&self, key: &str, value: &str) -> Result<()> {
        self.conn().execute(
            "INSERT INTO settings (key, value) VALUES (?1, ?2)
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            params![key, value],
        )?;
        Ok(())
    }

    /// Whether paying is paused.
    pub fn paused(&self) -> Result<bool> {
        Ok(self.setting("paused")?.as_deref() == Some("1"))
    }

    /// Pauses or resumes paying.
    pub fn set_paused(&self, paused: bool) -> Result<()> {
        self.set_setting("paused", if paused { "1" } else { "0" })
    }

    /// The global caps; a cap never set takes its value from `defaults`.
    pub fn caps(&self, defaults: Caps) -> Result<Caps> {
        let read = |key: &str, default: Option<Usd>| -> Result<Option<Usd>> {
            Ok(match self.setting(key)? {
                None => default,
                Some(value) if value == NO_CAP => None,
                Some(value) => Some(Usd(value.parse().map_err(|_| {
                    Error::Filter(format!("the stored {key} {value:?} is not an amount"))
                })?)),
            })
        };
        Ok(Caps {
            daily: read("daily_cap", defaults.daily)?,
            monthly: read("monthly_cap", defaults.monthly)?,
        })
    }

    /// Sets a global cap (`None`: no cap).
    pub fn set_cap(&self, monthly: bool, cap: Option<Usd>) -> Result<()> {
        let key = if monthly { "monthly_cap" } else { "daily_cap" };
        self.set_setting(key, &cap.map_or_else(|| NO_CAP.to_owned(), |u| u.0.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use purse_core::rules::Action;

    use super::*;

    #[test]
    fn rules_and_controls_round_trip() {
        let dir = std::env::temp_dir().join(format!("purse-rules-unit-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let store = Store::open(&dir.join("purse.db")).unwrap();
        let rule = Rule {
            id: 0,
            host: "*.example.com".into(),
            path_prefix: Some("/v1/".into()),
            network: Some("eip155:8453".into()),
            asset: None,
            pay_to: None,
            action: Action::Allow,
            limits: Limits {
                max_per_payment: Some(Usd(100_000)),
                weekly: Some(Usd(2_000_000)),
                ..Limits::default()
            },
        };
        let id = store.add_rule(&rule, 1).unwrap();
        assert_eq!(store.rules().unwrap(), [Rule { id, ..rule.clone() }]);
        store.update_rule(&Rule { id, action: Action::Deny, ..rule.clone() }).unwrap();
        assert_eq!(store.rule(id).unwrap().unwrap().action, Action::Deny);
        store.remove_rule(id).unwrap();
        assert!(
            matches!(store.remove_rule(id), Err(Error::Missing(m)) if m == format!("no rule {id}"))
        );
        assert!(matches!(store.update_rule(&Rule { id, ..rule.clone() }), Err(Error::Missing(_))));

        // A batch is stored whole or not at all: here the disk "fails" on its second rule.
        store
            .conn()
            .execute_batch(
                "CREATE TEMP TRIGGER fail BEFORE INSERT ON rules WHEN NEW.host = 'fails.example'
                 BEGIN SELECT RAISE(ABORT, 'disk full'); END;",
            )
            .unwrap();
        let fails = Rule { host: "fails.example".into(), ..rule.clone() };
        assert!(store.add_rules(&[rule.clone(), fails], 2).is_err());
        assert!(store.rules().unwrap().is_empty());
        assert_eq!(store.add_rules(&[rule.clone(), rule.clone()], 2).unwrap(), 2);
        assert_eq!(store.rules().unwrap().len(), 2);

        let defaults = Caps { daily: Some(Usd(1_000_000)), monthly: None };
        assert_eq!(store.caps(defaults).unwrap(), defaults);
        store.set_cap(false, None).unwrap();
        store.set_cap(true, Some(Usd(20_000_000))).unwrap();
        assert_eq!(
            store.caps(defaults).unwrap(),
            Caps { daily: None, monthly: Some(Usd(20_000_000)) }
        );
        assert!(!store.paused().unwrap());
        store.set_paused(true).unwrap();
        assert!(store.paused().unwrap());
        let _ = std::fs::remove_dir_all(&dir);
    }
}
