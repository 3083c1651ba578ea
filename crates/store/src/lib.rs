//! Purse's SQLite database (`purse.db` in the data dir): every payment attempt with its
//! lifecycle, the queries behind `purse history`, and the list of payer accounts (their
//! public data only; keys live in the keychain).
//!
//! - WAL with a busy timeout, so that the app and the CLI can have it open at once;
//!   `synchronous=NORMAL`: a committed row survives a killed process, and only an OS
//!   crash can lose the last transactions.
//! - Migrations are kept in code and only ever add: a database written by a newer Purse
//!   still opens in an older one.
//! - Amounts are atomic units as decimal text (uint256 does not fit in SQLite's integers);
//!   times are Unix milliseconds, passed in by the caller (no clock here).
//! - The signed payment header is never stored: anyone holding it could settle it. A row
//!   keeps the nonce, `validBefore` and the payload's hash instead.

mod accounts;
mod budget;
mod history;
mod migrations;
mod payment;
mod rules;

use std::{path::Path, time::Duration};

use rusqlite::Connection;

pub use accounts::{Account, KeyStorage};
pub use budget::{Reservation, Spending};
pub use history::{HistoryFilter, Summary, SummaryRow};
pub use payment::{NewPayment, Payment, PaymentId, Status, Update};

/// Why the database could not be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// SQLite failed (disk full, locked for too long, corrupt file, …).
    #[error("the history database failed: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// A payment may not move from one status to another.
    #[error("a payment cannot go from {from} to {to}")]
    Transition {
        /// Its status.
        from: Status,
        /// The status asked for.
        to: Status,
    },
    /// No payment has that id.
    #[error("no payment {0}")]
    NotFound(PaymentId),
    /// No rule or account has that id or address ("no rule 7").
    #[error("{0}")]
    Missing(String),
    /// A filter value is malformed.
    #[error("{0}")]
    Filter(String),
}

/// `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// How long a statement waits for another connection's lock.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// Puts the file in WAL mode. A new file being opened by several connections at once (the
/// app's first start) has one of them switch it while the others wait: SQLite answers the
/// switch `SQLITE_BUSY` at once, without its busy handler, so it is tried again here.
fn wal(conn: &Connection) -> Result<()> {
    let deadline = std::time::Instant::now() + BUSY_TIMEOUT;
    loop {
        match conn.pragma_update(None, "journal_mode", "WAL") {
            Err(rusqlite::Error::SqliteFailure(e, _))
                if e.code == rusqlite::ErrorCode::DatabaseBusy
                    && std::time::Instant::now() < deadline =>
            {
                std::thread::sleep(Duration::from_millis(10));
            }
            done => return Ok(done?),
        }
    }
}

/// An open `purse.db`.
#[derive(Debug)]
pub struct Store {
    conn: Connection,
}

impl Store {
    /// Opens (creating if needed) the database at `path` and brings its schema up to date.
    pub fn open(path: &Path) -> Result<Self> {
        let conn = Connection::open(path)?;
        conn.busy_timeout(BUSY_TIMEOUT)?;
        wal(&conn)?;
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        let mut store = Self { conn };
        migrations::run(&mut store.conn)?;
        Ok(store)
    }

    pub(crate) fn conn(&self) -> &Connection {
        &self.conn
    }

    /// Leaves checkpoints (copying the WAL back into the database file, with an fsync) to
    /// [`Store::checkpoint`] on another connection, off this one's write path.
    pub fn defer_checkpoints(&self) -> Result<()> {
        self.conn.pragma_update(None, "wal_autocheckpoint", 0)?;
        Ok(())
    }

    /// Copies what the WAL holds into the database file, without waiting for anyone.
    pub fn checkpoint(&self) -> Result<()> {
        self.conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()))?;
        Ok(())
    }

    /// Whether another connection changed the database since this one last looked
    /// (`PRAGMA data_version`): how a running proxy notices CLI edits cheaply.
    pub fn data_version(&self) -> Result<i64> {
        Ok(self.conn.query_row("PRAGMA data_version", [], |row| row.get(0))?)
    }
}
