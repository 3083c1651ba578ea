//! One payment attempt and its lifecycle.

use std::{fmt, str::FromStr};

use rusqlite::{OptionalExtension as _, Row, Transaction, TransactionBehavior, params};
use serde::Serialize;

use crate::{Error, Result, Store};

/// A payment's row id.
pub type PaymentId = i64;

/// Where a payment attempt stands.
///
/// `requested` → `refused` | `signed` → `sent` → `settled` → `confirmed`; or `failed`; or
/// `unsure` (maybe paid: being reconciled on chain).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// A 402 arrived and is being decided.
    Requested,
    /// Not paid: the policy, the user or a check said no.
    Refused,
    /// An authorization was signed (not yet sent).
    Signed,
    /// The paid request went out.
    Sent,
    /// The server said it settled.
    Settled,
    /// The settlement was found on chain.
    Confirmed,
    /// Not paid: the payment failed.
    Failed,
    /// Maybe paid: the outcome must be checked on chain.
    Unsure,
}

impl Status {
    /// Every status, in lifecycle order.
    pub const ALL: [Status; 8] = [
        Self::Requested,
        Self::Refused,
        Self::Signed,
        Self::Sent,
        Self::Settled,
        Self::Confirmed,
        Self::Failed,
        Self::Unsure,
    ];

    /// The name stored and shown.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Requested => "requested",
            Self::Refused => "refused",
            Self::Signed => "signed",
            Self::Sent => "sent",
            Self::Settled => "settled",
            Self::Confirmed => "confirmed",
            Self::Failed => "failed",
            Self::Unsure => "unsure",
        }
    }

    /// Whether a payment may move from `self` to `next`.
    pub fn can_become(self, next: Status) -> bool {
        use Status::*;
        matches!(
            (self, next),
            (Requested, Refused | Signed)
                | (Signed, Sent | Failed | Unsure)
                | (Sent, Settled | Failed | Unsure)
                | (Settled, Confirmed | Failed | Unsure)
                | (Unsure, Settled | Confirmed | Failed)
        )
    }

    /// Whether a payment in this status counts against its budgets (reserved, or paid or
    /// maybe paid).
    pub fn counts(self) -> bool {
        !matches!(self, Self::Refused | Self::Failed)
    }

    /// A status that may still change on its own (signed money whose fate is open).
    pub fn is_open(self) -> bool {
        matches!(self, Self::Signed | Self::Sent | Self::Settled | Self::Unsure)
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Status {
    type Err = Error;

    fn from_str(text: &str) -> Result<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == text).ok_or_else(|| {
            Error::Filter(format!("unknown status {text:?}; one of: {}", Self::names()))
        })
    }
}

impl Status {
    fn names() -> String {
        Self::ALL.map(Status::as_str).join(", ")
    }
}

/// What is known when a 402 arrives.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NewPayment {
    /// Unix milliseconds.
    pub at: i64,
    /// The client's address.
    pub client: Option<String>,
    /// Request method.
    pub method: String,
    /// Request URL.
    pub url: String,
    /// Request host.
    pub host: String,
    /// 1 or 2.
    pub x402_version: Option<i64>,
    /// `exact`, …
    pub scheme: Option<String>,
    /// As the offer names it.
    pub network: Option<String>,
    /// Token address.
    pub asset: Option<String>,
    /// Atomic units, decimal.
    pub amount: Option<String>,
    /// Payee.
    pub pay_to: Option<String>,
}

/// What changes with a status.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Update {
    /// Who or what decided: `rule 3`, `policy`, `user` (asked), `timeout` (asked, no answer).
    pub decided_by: Option<String>,
    /// Paying account.
    pub payer: Option<String>,
    /// Authorization nonce, hex.
    pub nonce: Option<String>,
    /// Unix seconds.
    pub valid_before: Option<i64>,
    /// keccak256 of the payment header value, hex.
    pub payload_hash: Option<String>,
    /// Settlement transaction.
    pub tx_hash: Option<String>,
    /// The final HTTP status from the server.
    pub server_status: Option<i64>,
    /// A stable reason code (`over-limit`, `denied`, … or the server's).
    pub reason_code: Option<String>,
    /// Human text.
    pub reason: Option<String>,
}

/// A stored payment attempt.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Payment {
    /// Row id.
    pub id: PaymentId,
    /// Unix milliseconds.
    pub created_at: i64,
    /// Unix milliseconds.
    pub updated_at: i64,
    /// Where it stands.
    pub status: Status,
    /// Who or what decided.
    pub decided_by: Option<String>,
    /// The client's address.
    pub client: Option<String>,
    /// Request method.
    pub method: String,
    /// Request URL.
    pub url: String,
    /// Request host.
    pub host: String,
    /// 1 or 2.
    pub x402_version: Option<i64>,
    /// Scheme.
    pub scheme: Option<String>,
    /// Network as the offer names it.
    pub network: Option<String>,
    /// Token address.
    pub asset: Option<String>,
    /// Atomic units, decimal.
    pub amount: Option<String>,
    /// Payee.
    pub pay_to: Option<String>,
    /// Paying account.
    pub payer: Option<String>,
    /// Authorization nonce.
    pub nonce: Option<String>,
    /// Unix seconds.
    pub valid_before: Option<i64>,
    /// Hash of the payment header.
    pub payload_hash: Option<String>,
    /// Settlement transaction.
    pub tx_hash: Option<String>,
    /// Final HTTP status.
    pub server_status: Option<i64>,
    /// Reason code.
    pub reason_code: Option<String>,
    /// Reason text.
    pub reason: Option<String>,
}

pub(crate) const COLUMNS: &str = "id, created_at, updated_at, status, decided_by, client, method, url, host, \
     x402_version, scheme, network, asset, amount, pay_to, payer, nonce, valid_before, payload_hash, \
     tx_hash, server_status, reason_code, reason";

impl Payment {
    pub(crate) fn from_row(row: &Row<'_>) -> rusqlite::Result<Self> {
        let status: String = row.get(3)?;
        Ok(Self {
            id: row.get(0)?,
            created_at: row.get(1)?,
            updated_at: row.get(2)?,
            status: status.parse().map_err(|e: Error| {
                rusqlite::Error::FromSqlConversionFailure(
                    3,
                    rusqlite::types::Type::Text,
                    Box::new(e),
                )
            })?,
            decided_by: row.get(4)?,
            client: row.get(5)?,
            method: row.get(6)?,
            url: row.get(7)?,
            host: row.get(8)?,
            x402_version: row.get(9)?,
            scheme: row.get(10)?,
            network: row.get(11)?,
            asset: row.get(12)?,
            amount: row.get(13)?,
            pay_to: row.get(14)?,
            payer: row.get(15)?,
            nonce: row.get(16)?,
            valid_before: row.get(17)?,
            payload_hash: row.get(18)?,
            tx_hash: row.get(19)?,
            server_status: row.get(20)?,
            reason_code: row.get(21)?,
            reason: row.get(22)?,
        })
    }
}

impl Store {
    /// Records a 402 as `requested`.
    pub fn record(&self, new: &NewPayment) -> Result<PaymentId> {
        self.conn().execute(
            "INSERT INTO payments (created_at, updated_at, status, client, method, url, host,
                 x402_version, scheme, network, asset, amount, pay_to)
             VALUES (?1, ?1, 'requested', ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
            params![
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
                new.pay_to
            ],
        )?;
        Ok(self.conn().last_insert_rowid())
    }

    /// Records a payment already decided: `refused`, or `signed` (written before the
    /// payment leaves, so that a crash right after still shows it), with what `update`
    /// knows. One statement: the paying path waits for one write only.
    pub fn insert(&self, new: &NewPayment, status: Status, update: &Update) -> Result<PaymentId> {
        if !Status::Requested.can_become(status) {
            return Err(Error::Transition { from: Status::Requested, to: status });
        }
        let mut statement = self.conn().prepare_cached(
            "INSERT INTO payments (created_at, updated_at, status, client, method, url, host,
                 x402_version, scheme, network, asset, amount, pay_to, decided_by, payer, nonce,
                 valid_before, payload_hash, reason_code, reason)
             VALUES (?1, ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16,
                 ?17, ?18, ?19)",
        )?;
        statement.execute(params![
            new.at,
            status.as_str(),
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
            update.reason_code,
            update.reason
        ])?;
        Ok(self.conn().last_insert_rowid())
    }

    /// Moves payment `id` to `status` at `at` (Unix ms), filling in what `update` knows;
    /// fields `update` leaves empty keep their values. Refuses moves the lifecycle forbids.
    pub fn advance(&self, id: PaymentId, status: Status, at: i64, update: &Update) -> Result<()> {
        self.advance_through(id, &[status], at, update)
    }

    /// Moves payment `id` through `path` (`sent` then `settled`, …) in one transaction;
    /// `update` is applied with the last step. Nothing changes if any step is forbidden.
    pub fn advance_through(
        &self,
        id: PaymentId,
        path: &[Status],
        at: i64,
        update: &Update,
    ) -> Result<()> {
        let tx = Transaction::new_unchecked(self.conn(), TransactionBehavior::Immediate)?;
        let mut current = self.payment(id)?.ok_or(Error::NotFound(id))?.status;
        let first = current;
        for status in path {
            if !current.can_become(*status) {
                return Err(Error::Transition { from: current, to: *status });
            }
            current = *status;
        }
        let Some(&status) = path.last() else { return Ok(()) };
        tx.prepare_cached(
            "UPDATE payments SET status = ?2, updated_at = ?3,
                 decided_by = COALESCE(?4, decided_by), payer = COALESCE(?5, payer),
                 nonce = COALESCE(?6, nonce), valid_before = COALESCE(?7, valid_before),
                 payload_hash = COALESCE(?8, payload_hash), tx_hash = COALESCE(?9, tx_hash),
                 server_status = COALESCE(?10, server_status), reason_code = COALESCE(?11, reason_code),
                 reason = COALESCE(?12, reason)
             WHERE id = ?1",
        )?
        .execute(params![
            id,
            status.as_str(),
            at,
            update.decided_by,
            update.payer,
            update.nonce,
            update.valid_before,
            update.payload_hash,
            update.tx_hash,
            update.server_status,
            update.reason_code,
            update.reason
        ])?;
        // Money that was not paid goes back to the budgets it was reserved in.
        if first.counts() && !status.counts() {
            crate::budget::give_back(&tx, id)?;
        }
        tx.commit()?;
        Ok(())
    }

    /// One payment.
    pub fn payment(&self, id: PaymentId) -> Result<Option<Payment>> {
        let sql = format!("SELECT {} FROM payments WHERE id = ?1", COLUMNS);
        Ok(self.conn().prepare_cached(&sql)?.query_row([id], Payment::from_row).optional()?)
    }

    /// Payments whose fate is still open (signed, sent, settled or unsure), oldest first:
    /// after a crash, these are reconciled on chain, never dropped.
    pub fn open_payments(&self) -> Result<Vec<Payment>> {
        let sql = format!(
            "SELECT {} FROM payments WHERE status IN ('signed','sent','settled','unsure') ORDER BY id",
            COLUMNS
        );
        let mut statement = self.conn().prepare(&sql)?;
        let rows = statement.query_map([], Payment::from_row)?;
        Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
    }
}
