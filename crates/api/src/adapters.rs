//! The flow's ports on real parts: the system clock, the OS random source, the keychain
//! (or a keystore file) and `purse.db`.

use std::{
    collections::HashMap,
    path::Path,
    sync::{Arc, Mutex, MutexGuard, PoisonError},
    time::{SystemTime, UNIX_EPOCH},
};

use alloy::{
    primitives::{Address, B256, Signature},
    signers::{SignerSync as _, local::PrivateKeySigner},
};
use purse_core::{
    Refusal,
    budget::{Budget, Caps},
    money::Usd,
    policy::Payee,
    ports::{
        Attempt, Clock, Controls, Fate, KeyError, Keys, Ledger, Nonces, Now, Outcome, Reserved,
        Signer,
    },
    rules::Rule,
};
use purse_keys::{Keychain, Secret};
use purse_store::{KeyStorage, NewPayment, Reservation, Spending, Status, Store, Update};

/// The system clock, on the calendar of `zone`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct SystemClock {
    pub(crate) zone: crate::Zone,
}

impl Clock for SystemClock {
    fn now(&self) -> Now {
        self.zone.at(crate::now_ms())
    }
}

/// Nonces from the OS random source.
#[derive(Debug, Clone, Copy)]
pub(crate) struct OsNonces;

impl Nonces for OsNonces {
    fn nonce(&self) -> B256 {
        let mut bytes = [0u8; 32];
        // The OS source does not fail on the systems Purse runs on; if it ever did, the
        // clock-derived fallback still never repeats within a process.
        if getrandom::fill(&mut bytes).is_err() {
            let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_nanos());
            bytes[..16].copy_from_slice(&nanos.to_be_bytes());
            bytes[16..24].copy_from_slice(&u64::from(std::process::id()).to_be_bytes());
        }
        B256::from(bytes)
    }
}

/// The database, shared by the flow's ports.
pub(crate) type SharedStore = Arc<Mutex<Store>>;

pub(crate) fn lock(store: &SharedStore) -> MutexGuard<'_, Store> {
    store.lock().unwrap_or_else(PoisonError::into_inner)
}

/// A local key, unlocked.
struct LocalKey(PrivateKeySigner);

impl Signer for LocalKey {
    fn address(&self) -> Address {
        self.0.address()
    }

    fn sign_hash(&self, hash: &B256) -> Result<Signature, KeyError> {
        self.0
            .sign_hash_sync(hash)
            .map_err(|e| KeyError::Unavailable(format!("signing failed: {e}")))
    }
}

/// The default account of `purse.db`, its key from the keychain (or its keystore file),
/// kept unlocked once read.
pub(crate) struct StoredKeys {
    pub(crate) store: SharedStore,
    pub(crate) keychain: Keychain,
    pub(crate) keystore_password: Option<Secret>,
    /// The keys opened so far, by address: each account that paid, and each keystore the
    /// user unlocked. Kept in memory only, until the wallet closes or the user locks it.
    pub(crate) unlocked: Mutex<HashMap<Address, Arc<dyn Signer>>>,
}

/// Why a stored key did not open. A keystore's own error is kept whole, so that a wrong
/// password can be told from the rest.
pub(crate) enum Closed {
    Keystore(purse_keys::AccountError),
    Other(KeyError),
}

impl std::fmt::Debug for StoredKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoredKeys")
            .field("profile", &self.keychain.profile())
            .finish_non_exhaustive()
    }
}

impl From<Closed> for crate::Failure {
    fn from(closed: Closed) -> Self {
        match closed {
            Closed::Keystore(error) => Self::Account(error),
            Closed::Other(error) => Self::Invalid(error.to_string()),
        }
    }
}

impl From<Closed> for KeyError {
    fn from(closed: Closed) -> Self {
        match closed {
            Closed::Keystore(error) => KeyError::Unavailable(error.to_string()),
            Closed::Other(error) => error,
        }
    }
}

impl StoredKeys {
    fn opened(&self) -> MutexGuard<'_, HashMap<Address, Arc<dyn Signer>>> {
        self.unlocked.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Reads the key of `address`, kept as `storage`: from the keychain, or from its
    /// keystore file with `password`.
    pub(crate) fn open(
        &self,
        address: Address,
        storage: &KeyStorage,
        password: Option<&Secret>,
    ) -> Result<Arc<dyn Signer>, Closed> {
        let signer = match storage {
            KeyStorage::Keychain => self
                .keychain
                .account(address)
                .map_err(|e| Closed::Other(KeyError::Unavailable(e.to_string())))?
                .ok_or_else(|| {
                    Closed::Other(KeyError::Unavailable(format!(
                        "the key of {address} is not in this keychain (profile {}); import it \
                         again with purse account import",
                        self.keychain.profile()
                    )))
                })?,
            KeyStorage::Keystore(path) => {
                let password = password.ok_or_else(|| {
                    Closed::Other(KeyError::Unavailable(format!(
                        "the key of {address} is in the keystore {path}, locked: unlock it in \
                         the app's Accounts, or start purse proxy with --password-file F"
                    )))
                })?;
                purse_keys::read_keystore(Path::new(path), password).map_err(Closed::Keystore)?
            }
        };
        if signer.address() != address {
            return Err(Closed::Other(KeyError::Unavailable(format!(
                "the key stored for {address} belongs to {}",
                signer.address()
            ))));
        }
        Ok(Arc::new(LocalKey(signer)))
    }

    /// Keeps `signer` open for payments from its address.
    pub(crate) fn keep(&self, signer: Arc<dyn Signer>) {
        self.opened().insert(signer.address(), signer);
    }

    /// Forgets the open key of `address`, if any.
    pub(crate) fn forget(&self, address: Address) {
        self.opened().remove(&address);
    }

    /// Whether the key of `address` is open.
    pub(crate) fn is_open(&self, address: Address) -> bool {
        self.opened().contains_key(&address)
    }

    /// Opens the default account now when it is kept in a keystore and a password was
    /// given, so that the first payment does not wait for the keystore's scrypt. A wrong
    /// password is the only error: the user fixes it now, at start. Anything else (a file
    /// not there yet, another account's key) is logged and left to each payment to say,
    /// as it was before, and the proxy serves meanwhile.
    pub(crate) fn unlock_keystore(&self) -> Result<(), purse_keys::AccountError> {
        let Some(password) = &self.keystore_password else { return Ok(()) };
        let Ok(Some(account)) = lock(&self.store).default_account() else { return Ok(()) };
        let KeyStorage::Keystore(_) = &account.storage else { return Ok(()) };
        let Ok(address) = account.address.parse::<Address>() else { return Ok(()) };
        match self.open(address, &account.storage, Some(password)) {
            Ok(signer) => {
                self.keep(signer);
                Ok(())
            }
            Err(Closed::Keystore(error @ purse_keys::AccountError::WrongPassword { .. })) => {
                Err(error)
            }
            Err(closed) => {
                let error = KeyError::from(closed);
                tracing::warn!(%error, "the default account is not unlocked yet");
                Ok(())
            }
        }
    }
}

impl Keys for StoredKeys {
    fn payer(&self) -> Result<Arc<dyn Signer>, KeyError> {
        let account = lock(&self.store)
            .default_account()
            .map_err(|e| KeyError::Unavailable(e.to_string()))?
            .ok_or_else(|| {
                KeyError::NoAccount(
                    "no account to pay with: create one with purse account new, or import one"
                        .to_owned(),
                )
            })?;
        let address: Address = account
            .address
            .parse()
            .map_err(|_| KeyError::NoAccount(format!("{} is not an address", account.address)))?;
        // Held while a key is read, so that concurrent payments read it once.
        let mut opened = self.opened();
        if let Some(signer) = opened.get(&address) {
            return Ok(signer.clone());
        }
        let signer = self.open(address, &account.storage, self.keystore_password.as_ref())?;
        opened.insert(address, signer.clone());
        Ok(signer)
    }
}

/// `purse.db` as the flow's history, budgets and controls.
pub(crate) struct StoreLedger {
    pub(crate) store: SharedStore,
    /// The global caps when `purse budget` never set them (`[policy]`).
    pub(crate) default_caps: Caps,
}

fn status(fate: Fate) -> Status {
    match fate {
        Fate::Refused => Status::Refused,
        Fate::Signed => Status::Signed,
        Fate::Settled => Status::Settled,
        Fate::Failed => Status::Failed,
        Fate::Unsure => Status::Unsure,
    }
}

fn new_payment(attempt: &Attempt) -> NewPayment {
    NewPayment {
        at: attempt.at_ms,
        client: attempt.client.clone(),
        method: attempt.method.clone(),
        url: attempt.url.clone(),
        host: attempt.host.clone(),
        x402_version: attempt.x402_version,
        scheme: attempt.scheme.clone(),
        network: attempt.network.clone(),
        asset: attempt.asset.clone(),
        amount: attempt.amount.clone(),
        pay_to: attempt.pay_to.clone(),
    }
}

fn update(attempt: &Attempt) -> Update {
    Update {
        decided_by: attempt.decided_by.clone(),
        payer: attempt.payer.clone(),
        nonce: attempt.nonce.clone(),
        valid_before: attempt.valid_before,
        payload_hash: attempt.payload_hash.clone(),
        reason_code: attempt.reason_code.clone(),
        reason: attempt.reason.clone(),
        ..Update::default()
    }
}

fn micros(usd: Option<Usd>) -> Option<i64> {
    usd.and_then(|u| i64::try_from(u.0).ok())
}

impl Ledger for StoreLedger {
    fn refused(&self, attempt: &Attempt) -> Result<i64, String> {
        lock(&self.store)
            .insert(&new_payment(attempt), Status::Refused, &update(attempt))
            .map_err(|e| e.to_string())
    }

    fn controls(&self) -> Result<Controls, String> {
        let store = lock(&self.store);
        let read = || -> purse_store::Result<Controls> {
            Ok(Controls {
                paused: store.paused()?,
                caps: store.caps(self.default_caps)?,
                rules: store.rules()?,
            })
        };
        read().map_err(|e| e.to_string())
    }

    fn payee(&self, host: &str, pay_to: &str) -> Result<Payee, String> {
        let (site, payee) =
            lock(&self.store).paid_before(host, pay_to).map_err(|e| e.to_string())?;
        Ok(Payee::from_history(site, payee))
    }

    fn used(&self, keys: &[String], testnet: bool) -> Result<Vec<Usd>, String> {
        let used = lock(&self.store).used(keys, testnet).map_err(|e| e.to_string())?;
        Ok(used.into_iter().map(|m| Usd(u128::try_from(m).unwrap_or(0))).collect())
    }

    fn reserve(
        &self,
        attempt: &Attempt,
        budgets: &[Budget],
        sign: &mut dyn FnMut() -> Result<Attempt, Refusal>,
    ) -> Result<Reserved, Refusal> {
        let spending = Spending {
            usd_micros: attempt.usd_micros.unwrap_or(0),
            testnet: attempt.testnet.unwrap_or(true),
            rule_id: attempt.rule_id,
        };
        let budgets: Vec<(String, Option<i64>)> =
            budgets.iter().map(|b| (b.key.clone(), micros(b.limit))).collect();
        let found = lock(&self.store)
            .reserve(&new_payment(attempt), spending, &budgets, || sign().map(|a| update(&a)))
            .map_err(Refusal::history)??;
        Ok(match found {
            Reservation::Reserved(id) => Reserved::Row(id),
            Reservation::Over { key, used, limit } => Reserved::Over {
                key,
                used: Usd(u128::try_from(used).unwrap_or(0)),
                limit: Usd(u128::try_from(limit).unwrap_or(0)),
            },
        })
    }

    fn finish(&self, id: i64, at_ms: i64, outcome: &Outcome) -> Result<(), String> {
        let update = Update {
            tx_hash: outcome.tx_hash.clone(),
            server_status: outcome.server_status,
            reason_code: outcome.reason_code.clone(),
            reason: outcome.reason.clone(),
            ..Update::default()
        };
        // An answer came back, so the paid request went out: `sent`, then what it says.
        let path: &[Status] = if outcome.server_status.is_some() {
            &[Status::Sent, status(outcome.fate)]
        } else {
            &[status(outcome.fate)]
        };
        lock(&self.store).advance_through(id, path, at_ms, &update).map_err(|e| e.to_string())
    }

    fn add_rule(&self, rule: &Rule) -> Result<i64, String> {
        lock(&self.store).add_rule(rule, crate::now_ms()).map_err(|e| e.to_string())
    }
}
