//! Budgets in SQLite: a running total per key (`global:d:2026-11-27`, `rule:3:total`, …)
//! and testnet flag in `spend`. A reservation checks the limits, signs, adds the payment
//! to every key and writes it down in one `BEGIN IMMEDIATE` transaction, so two processes or a thousand tasks
//! cannot both take the last dollar; a payment that fails or is refused gives its amount
//! back to the keys it was added to, which its row remembers.

use rusqlite::{Connection, OptionalExtension as _, Transaction, TransactionBehavior, params};

use crate::{NewPayment, PaymentId, Result, Store, Update};

/// A payment's share of the budgets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Spending {
    /// Millionths of a dollar.
    pub usd_micros: i64,
    /// Play money (kept apart).
    pub testnet: bool,
    /// The rule that allowed it.
    pub rule_id: Option<i64>,
}

/// What a reservation found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reservation {
    /// Reserved: the payment's row, `signed`.
    Reserved(PaymentId),
    /// This key's limit would be passed: nothing was written.
    Over {
        /// The key.
        key: String,
        /// Spent or reserved in it, in millionths of a dollar.
        used: i64,
        /// Its limit.
        limit: i64,
    },
}

fn used_in(conn: &Connection, key: &str, testnet: bool) -> rusqlite::Result<i64> {
    conn.prepare_cached("SELECT micros FROM spend WHERE key = ?1 AND testnet = ?2")?
        .query_row(params![key, testnet], |row| row.get(0))
        .optional()
        .map(|v| v.unwrap_or(0))
}

/// Gives payment `id`'s amount back to the keys it was added to (inside `tx`).
pub(crate) fn give_back(tx: &Transaction<'_>, id: PaymentId) -> rusqlite::Result<()> {
    let row: Option<(Option<i64>, Option<bool>, Option<String>)> = tx
        .query_row(
            "SELECT usd_micros, testnet, budget_keys FROM payments WHERE id = ?1",
            [id],
            |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)),
        )
        .optional()?;
    let Some((Some(micros), Some(testnet), Some(keys))) = row else { return Ok(()) };
    for key in keys.split('\n').filter(|k| !k.is_empty()) {
        tx.execute(
            "UPDATE spend SET micros = MAX(micros - ?3, 0) WHERE key = ?1 AND testnet = ?2",
            params![key, testnet, micros],
        )?;
    }
    // Given back once only.
    tx.execute("UPDATE payments SET budget_keys = NULL WHERE id = ?1", [id])?;
    Ok(())
}

impl Store {
    /// In one transaction: checks `spending` against every `(key, limit)` that has a
    /// limit, calls `sign`, adds the amount to every key, and writes the payment down as
    /// `signed` with what `sign` returned. Nothing is written when a limit would be passed
    /// or `sign` fails; the write lock is held meanwhile, so no one else spends the same
    /// dollar.
    pub fn reserve<E>(
        &self,
        new: &NewPayment,
        spending: Spending,
        budgets: &[(String, Option<i64>)],
        sign: impl FnOnce() -> std::result::Result<Update, E>,
    ) -> Result<std::result::Result<Reservation, E>> {
        let tx = Transaction::new_unchecked(self.conn(), TransactionBehavior::Immediate)?;
        for (key, limit) in budgets {
            let Some(limit) = *limit else { continue };
            let used = used_in(&tx, key, spending.testnet)?;
            if used.saturating_add(spending.usd_micros) > limit {
                return Ok(Ok(Reservation::Over { key: key.clone(), used, limit }));
            }
        }
        let update = match sign() {
            Ok(update) => update,
            Err(error) => return Ok(Err(error)),
        };
        for (key, _) in budgets {
            // Added here, saturating: SQLite's `+` turns an overflowing sum into a float.
            let total = used_in(&tx, key, spending.testnet)?.saturating_add(spending.usd_micros);
            tx.prepare_cached(
                "INSERT INTO spend (key, testnet, micros) VALUES (?1, ?2, ?3)
                 ON CONFLICT (key, testnet) DO UPDATE SET micros = excluded.micros",
            )?
            .execute(params![key, spending.testnet, total])?;
        }
        let keys: Vec<&str> = budgets.iter().map(|(k, _)| k.as_str()).collect();
        tx.prepare_cached(
            "INSERT INTO payments (created_at, updated_at, status, client, method, url, host,
                 x402_version, scheme, network, asset, amount, pay_to, decided_by, payer, nonce,
                 valid_before, payload_hash, usd_micros, testnet, rule_id, budget_keys)
             VALUES (?1, ?1, 'signed', ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14,
                 ?15, ?16, ?17, ?18, ?19, ?20)",
        )?
        .execute(params![
            new.at,
            new.client,
            new.method,
            new.url,
            new.host,
            new.x402_version,
            new.scheme,
            new.network,
            new.asset,
            new.amount,
            new.pay_to,
            update.decided_by,
            update.payer,
            update.nonce,
            update.valid_before,
            update.payload_hash,
            spending.usd_micros,
            spending.testnet,
            spending.rule_id,
            keys.join("\n")
        ])?;
        let id = tx.last_insert_rowid();
        tx.commit()?;
        Ok(Ok(Reservation::Reserved(id)))
    }

    /// Spent or reserved in each key, in millionths of a dollar.
    pub fn used(&self, keys: &[String], testnet: bool) -> Result<Vec<i64>> {
        Ok(keys
            .iter()
            .map(|k| used_in(self.conn(), k, testnet))
            .collect::<rusqlite::Result<_>>()?)
    }

    /// Whether `host` was paid (settled or confirmed) before, and whether to `pay_to`.
    pub fn paid_before(&self, host: &str, pay_to: &str) -> Result<(bool, bool)> {
        let paid = |sql: &str, args: &[&str]| -> Result<bool> {
            Ok(self
                .conn()
                .prepare_cached(sql)?
                .query_row(rusqlite::params_from_iter(args), |row| row.get(0))?)
        };
        let site = paid(
            "SELECT EXISTS (SELECT 1 FROM payments
                 WHERE host = ?1 AND status IN ('settled','confirmed'))",
            &[host],
        )?;
        let payee = site
            && paid(
                "SELECT EXISTS (SELECT 1 FROM payments
                     WHERE host = ?1 AND pay_to = ?2 COLLATE NOCASE
                       AND status IN ('settled','confirmed'))",
                &[host, pay_to],
            )?;
        Ok((site, payee))
    }
}
