//! Purse's one API, the one both shells (`purse` and the desktop app) call: it assembles
//! the payment flow of `purse-core` with its real ports (the keychain, `purse.db`, the
//! system clock and the OS random source) and hands the proxy its [`PayingHook`].

pub mod accounts;
mod adapters;
mod approvals;
pub mod ca;
mod config;
mod confirm;
pub mod env;
mod failure;
pub mod history;
mod hook;
pub mod probe;
pub mod prompts;
pub mod rules;
pub mod service;
pub mod settings;

use std::{
    path::PathBuf,
    sync::{Arc, Mutex},
};

use alloy::primitives::Address;
use purse_core::flow::{Payer, Ports};
use purse_keys::{Keychain, Secret};
use purse_store::{Account, KeyStorage, Store};

pub use approvals::{Answer, AnswerError, Approvals, Event, Pending, PromptGuard, Resolution};
pub use config::{PolicyConfig, PolicyError};
pub use confirm::{Check, Confirmer};
pub use failure::Failure;
pub use hook::{PURSE_REASON, PayingHook};
pub use purse_chain::{Chain, Rpcs};
pub use purse_core::money::Usd;
pub use service::{Service, ServiceOptions};
pub use settings::{Config, DataDir, SettingsEdit};

/// Why the wallet could not be opened.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// `purse.db` could not be opened.
    #[error("cannot open {path}: {source}")]
    Store {
        /// The database file.
        path: PathBuf,
        /// Why.
        source: purse_store::Error,
    },
    /// `[policy]` is wrong.
    #[error(transparent)]
    Policy(#[from] PolicyError),
    /// The default account's keystore did not open with the password given.
    #[error(transparent)]
    Unlock(purse_keys::AccountError),
}

/// Unix milliseconds now, from the system clock.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// Whose calendar budgets and "today" follow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Zone {
    /// The system's time zone, read for each instant: a wallet that runs for months
    /// follows daylight saving as it changes (and as SQLite's `localtime` does).
    #[default]
    Local,
    /// A fixed offset from UTC, in seconds.
    Fixed(i32),
}

impl Zone {
    /// The offset from UTC, in seconds, at `unix_ms` (UTC where the zone cannot be read).
    pub fn offset_at(self, unix_ms: i64) -> i32 {
        use chrono::{Offset as _, TimeZone as _};
        match self {
            Self::Fixed(secs) => secs,
            Self::Local => chrono::Local
                .timestamp_millis_opt(unix_ms)
                .earliest()
                .map_or(0, |at| at.offset().fix().local_minus_utc()),
        }
    }

    /// The instant `unix_ms` with its local offset.
    pub fn at(self, unix_ms: i64) -> purse_core::ports::Now {
        purse_core::ports::Now { unix_ms, utc_offset_secs: self.offset_at(unix_ms) }
    }
}

/// Checkpoints `purse.db`'s WAL on a connection of its own, every second, until the
/// wallet is gone (then once more).
fn checkpoints(path: PathBuf, alive: std::sync::Weak<()>) {
    let spawned = std::thread::Builder::new().name("purse-checkpoint".into()).spawn(move || {
        let Ok(store) = Store::open(&path) else { return };
        loop {
            std::thread::sleep(std::time::Duration::from_secs(1));
            if let Err(error) = store.checkpoint() {
                tracing::debug!(%error, "checkpoint deferred");
            }
            if alive.strong_count() == 0 {
                return;
            }
        }
    });
    if let Err(error) = spawned {
        tracing::warn!(%error, "no checkpoint thread: the history's WAL grows until the next start");
    }
}

/// What a wallet is opened with.
#[derive(Debug)]
pub struct Options {
    /// The data dir (`purse.db` is there).
    pub data_dir: PathBuf,
    /// The keychain profile.
    pub profile: String,
    /// `[policy]`.
    pub policy: PolicyConfig,
    /// The password of a default account kept in a keystore file.
    pub keystore_password: Option<Secret>,
    /// Whose midnight budgets reset at.
    pub zone: Zone,
    /// JSON-RPC endpoints to check payments on chain with; `None` leaves them `settled`.
    pub chain: Option<Chain>,
}

/// An open wallet: the payment flow on its real parts.
#[derive(Debug, Clone)]
pub struct Wallet {
    /// While any clone lives, the checkpoint thread runs.
    _alive: Arc<()>,
    payer: Arc<Payer>,
    approvals: Arc<Approvals>,
    confirmer: Option<Arc<Confirmer>>,
    keys: Arc<adapters::StoredKeys>,
}

impl Wallet {
    /// Opens `purse.db` in the data dir and assembles the payment flow.
    pub fn open(options: Options) -> Result<Self, Error> {
        let settings = options.policy.settings()?;
        let default_caps = options.policy.default_caps()?;
        let path = options.data_dir.join(settings::DATABASE_FILE);
        let store =
            Store::open(&path).map_err(|source| Error::Store { path: path.clone(), source })?;
        // The paying connection never checkpoints (an fsync): a thread does, every second.
        let alive = Arc::new(());
        if store.defer_checkpoints().is_ok() {
            checkpoints(path, Arc::downgrade(&alive));
        }
        let store = Arc::new(Mutex::new(store));
        let keys = Arc::new(adapters::StoredKeys {
            store: store.clone(),
            keychain: Keychain::new(options.profile),
            keystore_password: options.keystore_password,
            unlocked: Mutex::default(),
        });
        keys.unlock_keystore().map_err(Error::Unlock)?;
        let ports = Ports {
            clock: Arc::new(adapters::SystemClock { zone: options.zone }),
            nonces: Arc::new(adapters::OsNonces),
            keys: keys.clone(),
            ledger: Arc::new(adapters::StoreLedger { store: store.clone(), default_caps }),
        };
        let confirmer = options.chain.map(|chain| Arc::new(Confirmer::new(chain, store.clone())));
        let payer = Arc::new(Payer::new(settings, ports));
        let timeout = std::time::Duration::from_secs(options.policy.prompt_timeout_secs);
        let approvals = Arc::new(Approvals::new(payer.clone(), timeout));
        Ok(Self { payer, approvals, confirmer, keys, _alive: alive })
    }

    /// The payment flow.
    pub fn payer(&self) -> &Arc<Payer> {
        &self.payer
    }

    /// The hook that makes the proxy pay.
    pub fn hook(&self) -> PayingHook {
        PayingHook::new(self.payer.clone(), self.approvals.clone(), self.confirmer.clone())
    }

    /// The payments waiting for the user, and how to answer them.
    pub fn approvals(&self) -> &Arc<Approvals> {
        &self.approvals
    }

    /// What checks payments on chain, when the wallet has endpoints.
    pub fn confirmer(&self) -> Option<&Arc<Confirmer>> {
        self.confirmer.as_ref()
    }

    /// Opens the keystore of account `address` with `password` and keeps its key in memory
    /// for payments, until the wallet closes or [`Wallet::lock`] (the app's "Unlock"; the
    /// proxy's `--password-file` opens the default account's at start). A keychain account
    /// has no password to unlock.
    pub fn unlock(&self, address: &str, password: &Secret) -> Result<(), Failure> {
        let (address, storage) = self.keystore_account(address)?;
        let signer = self.keys.open(address, &storage, Some(password))?;
        self.keys.keep(signer);
        Ok(())
    }

    /// Forgets the key of keystore account `address`: its payments are refused until it
    /// is unlocked again (a wallet given the default account's password at start opens
    /// that one again when it pays).
    pub fn lock(&self, address: &str) -> Result<(), Failure> {
        let (address, _) = self.keystore_account(address)?;
        self.keys.forget(address);
        Ok(())
    }

    /// Whether `account` is kept in a keystore this wallet has not unlocked (its payments
    /// are refused). A keychain account is never: its key is read when it pays.
    pub fn is_locked(&self, account: &Account) -> bool {
        match (&account.storage, account.address.parse::<Address>()) {
            (KeyStorage::Keychain, _) => false,
            (KeyStorage::Keystore(_), Ok(address)) => !self.keys.is_open(address),
            (KeyStorage::Keystore(_), Err(_)) => true,
        }
    }

    fn keystore_account(&self, address: &str) -> Result<(Address, KeyStorage), Failure> {
        let account = adapters::lock(&self.keys.store)
            .account(address)?
            .ok_or_else(|| Failure::NotFound(format!("no account {address}")))?;
        if account.storage == KeyStorage::Keychain {
            return Err(Failure::Invalid(format!(
                "the key of {} is in the OS keychain: there is no password to unlock or lock",
                account.address
            )));
        }
        Ok((accounts::parse_address(&account.address)?, account.storage))
    }

    /// Follows on chain every payment a previous run left open (call inside a Tokio
    /// runtime); returns how many. Only the process that serves the proxy calls this, once
    /// it holds the port.
    pub fn reconcile(&self) -> usize {
        self.confirmer.as_ref().map_or(0, Confirmer::reconcile)
    }
}
