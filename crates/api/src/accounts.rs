//! Payer accounts as the app manages them (keys in the OS keychain, the list in
//! `purse.db`), and their USD stablecoin balances read on chain.

use std::{
    path::{Path, PathBuf},
    sync::Arc,
    time::Duration,
};

use alloy::{
    primitives::{Address, U256},
    signers::local::PrivateKeySigner,
};
use purse_chain::{Chain, network_label};
use purse_keys::Keychain;
use purse_store::{KeyStorage, Store};
use purse_x402::registry::{self, Asset};
use serde::Serialize;

use crate::{DataDir, Failure};

pub use purse_keys::Secret;
pub use purse_store::Account;

/// The networks balances are read on when neither `[rpc]` nor an override names one.
pub const FALLBACK_NETWORKS: [u64; 2] = [8453, 84532];

/// A new account: its address, and the words that restore it, to be shown once.
#[derive(Debug)]
pub struct Created {
    /// Checksummed address.
    pub address: String,
    /// The 12 words (BIP-39, English).
    pub mnemonic: Secret,
}

/// Where a new account's key is kept.
#[derive(Debug, Clone, Copy)]
pub enum Keep<'a> {
    /// The OS keychain.
    Keychain,
    /// An encrypted JSON keystore (v3) at `path`, never written over, for a host without a
    /// keychain.
    Keystore {
        /// The file.
        path: &'a Path,
        /// Its password.
        password: &'a Secret,
    },
}

/// The accounts of a data dir and profile.
#[derive(Debug)]
pub struct Accounts {
    keychain: Keychain,
    store: Store,
}

pub use purse_keys::ensure_unused;

/// Writes `signer`'s key to a new encrypted keystore at `path`; an empty password, which
/// would leave the key unprotected, is refused.
pub fn write_keystore(
    path: &Path,
    signer: &PrivateKeySigner,
    password: &Secret,
) -> Result<(), Failure> {
    if password.expose().is_empty() {
        return Err(Failure::Invalid("an empty password would leave the key unprotected".into()));
    }
    Ok(purse_keys::write_keystore(path, signer, password)?)
}

/// An address as typed or stored (EIP-55 if mixed case).
pub(crate) fn parse_address(text: &str) -> Result<Address, Failure> {
    purse_x402::exact::parse_address(text.trim()).ok_or_else(|| {
        Failure::Invalid(format!(
            "{text:?} is not an address (0x and 40 hex digits, EIP-55 if mixed case)"
        ))
    })
}

impl Accounts {
    /// Opens the list in `purse.db` and the keychain of the profile.
    pub fn open(place: &DataDir) -> Result<Self, Failure> {
        Ok(Self { keychain: Keychain::new(&place.profile), store: place.store()? })
    }

    /// Every account, the default marked; never keys.
    pub fn list(&self) -> Result<Vec<Account>, Failure> {
        Ok(self.store.accounts()?)
    }

    /// Keeps `signer`'s key where `keep` says and lists the account; returns its address.
    pub fn add(
        &self,
        signer: &PrivateKeySigner,
        label: Option<&str>,
        keep: Keep<'_>,
    ) -> Result<String, Failure> {
        let address = signer.address().to_checksum(None);
        if self.store.account(&address)?.is_some() {
            return Err(Failure::Invalid(format!("account {address} is already there")));
        }
        let storage = match keep {
            Keep::Keychain => {
                self.keychain.store_account(signer)?;
                KeyStorage::Keychain
            }
            Keep::Keystore { path, password } => {
                write_keystore(path, signer, password)?;
                let path = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
                KeyStorage::Keystore(path.display().to_string())
            }
        };
        let label = label.map(str::trim).filter(|l| !l.is_empty());
        self.store.add_account(&address, label, &storage, crate::now_ms())?;
        Ok(address)
    }

    /// Makes an account from a fresh 12-word mnemonic, its key in the keychain; the words
    /// are returned once.
    pub fn create(&self, label: Option<&str>) -> Result<Created, Failure> {
        let made = purse_keys::generate()?;
        let address = self.add(&made.signer, label, Keep::Keychain)?;
        Ok(Created { address, mnemonic: made.mnemonic })
    }

    /// Imports a 0x-prefixed hex private key into the keychain.
    pub fn import_key(&self, key: &Secret, label: Option<&str>) -> Result<String, Failure> {
        self.add(&purse_keys::from_private_key(key)?, label, Keep::Keychain)
    }

    /// Imports account `index` (m/44'/60'/0'/0/index) of a BIP-39 mnemonic into the
    /// keychain.
    pub fn import_mnemonic(
        &self,
        phrase: &Secret,
        index: u32,
        label: Option<&str>,
    ) -> Result<String, Failure> {
        self.add(&purse_keys::from_mnemonic(phrase, index)?, label, Keep::Keychain)
    }

    /// Imports the key of an encrypted JSON keystore (v3) at `path` into the keychain.
    pub fn import_keystore(
        &self,
        path: &Path,
        password: &Secret,
        label: Option<&str>,
    ) -> Result<String, Failure> {
        self.add(&purse_keys::read_keystore(path, password)?, label, Keep::Keychain)
    }

    /// Makes `address` the account payments use.
    pub fn set_default(&self, address: &str) -> Result<(), Failure> {
        Ok(self.store.set_default_account(address)?)
    }

    /// The account payments use.
    pub fn default_account(&self) -> Result<Option<Account>, Failure> {
        Ok(self.store.default_account()?)
    }

    /// The account with this address (case-insensitive).
    pub fn account(&self, address: &str) -> Result<Account, Failure> {
        self.store
            .account(address)?
            .ok_or_else(|| Failure::NotFound(format!("no account {address}")))
    }

    /// Forgets `address` and deletes its key from the keychain (a keystore file is left
    /// where it is); when it was the default, the oldest remaining account becomes it.
    pub fn remove(&self, address: &str) -> Result<Account, Failure> {
        let account = self.account(address)?;
        if account.storage == KeyStorage::Keychain {
            self.keychain.remove_account(parse_address(&account.address)?)?;
        }
        Ok(self.store.remove_account(&account.address)?)
    }

    /// Writes `address`'s key to an encrypted JSON keystore (v3) at `path`, never over an
    /// existing file. A key kept in a keystore file is opened with `source_password`.
    pub fn export_keystore(
        &self,
        address: &str,
        path: &Path,
        password: &Secret,
        source_password: Option<&Secret>,
    ) -> Result<(), Failure> {
        let signer = self.unlock(&self.account(address)?, source_password)?;
        write_keystore(path, &signer, password)
    }

    /// `account`'s key: from the keychain, or from its keystore file opened with
    /// `source_password`. A key that is not the account's (its keystore file was replaced)
    /// is refused, so an export never writes another account's key under this one's name.
    pub fn unlock(
        &self,
        account: &Account,
        source_password: Option<&Secret>,
    ) -> Result<PrivateKeySigner, Failure> {
        let address = parse_address(&account.address)?;
        let signer = self.read_key(account, address, source_password)?;
        if signer.address() != address {
            return Err(Failure::Invalid(format!(
                "the key stored for {address} belongs to {}",
                signer.address()
            )));
        }
        Ok(signer)
    }

    fn read_key(
        &self,
        account: &Account,
        address: Address,
        source_password: Option<&Secret>,
    ) -> Result<PrivateKeySigner, Failure> {
        match &account.storage {
            KeyStorage::Keychain => self.keychain.account(address)?.ok_or_else(|| {
                Failure::NotFound(format!("the keychain holds no key for {}", account.address))
            }),
            KeyStorage::Keystore(file) => {
                let source = source_password.ok_or_else(|| {
                    Failure::Invalid(format!("{file} needs its password to be read"))
                })?;
                Ok(purse_keys::read_keystore(Path::new(file), source)?)
            }
        }
    }
}

/// An account as the app lists it.
#[derive(Debug, Serialize)]
pub struct Listed {
    /// The account.
    #[serde(flatten)]
    pub account: Account,
    /// Kept in a keystore the running wallet has not unlocked: its payments are refused.
    pub locked: bool,
}

/// Every account, the default marked, and which `wallet` holds locked (with no wallet
/// running, every keystore account is).
pub fn listed(place: &DataDir, wallet: Option<&crate::Wallet>) -> Result<Vec<Listed>, Failure> {
    let locked = |account: &Account| match wallet {
        Some(wallet) => wallet.is_locked(account),
        None => account.storage != KeyStorage::Keychain,
    };
    let accounts = Accounts::open(place)?.list()?;
    Ok(accounts.into_iter().map(|account| Listed { locked: locked(&account), account }).collect())
}

/// Where the app exports `address`'s key when no file is named: `purse-ADDRESS.json` in the
/// downloads folder (else the data dir), or `purse-ADDRESS-2.json` and on when that is taken
/// (an export never writes over a file).
pub fn keystore_export_path(place: &DataDir, address: &str) -> PathBuf {
    unused_keystore_name(&crate::history::export_dir(place, None), address)
}

fn unused_keystore_name(dir: &Path, address: &str) -> PathBuf {
    let named = |n: u32| match n {
        1 => dir.join(format!("purse-{address}.json")),
        n => dir.join(format!("purse-{address}-{n}.json")),
    };
    (1..1000).map(named).find(|path| !path.exists()).unwrap_or_else(|| named(1))
}

/// One USD stablecoin balance.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Balance {
    /// The network's label (`Base Sepolia (eip155:84532)`).
    pub network: String,
    /// Its chain id.
    pub chain_id: u64,
    /// Whether it is a testnet.
    pub testnet: bool,
    /// The token's ticker.
    pub symbol: String,
    /// Whole tokens, every decimal kept (`8.750000`), when read.
    pub balance: Option<String>,
    /// Why it could not be read.
    pub error: Option<String>,
}

/// The networks to read balances on: those of `[rpc]` and the overrides, else Base and
/// Base Sepolia, in the registry's order, each with a USD stablecoin; and the endpoints.
pub fn balance_networks(
    place: &DataDir,
    overrides: &[String],
) -> Result<(purse_chain::Rpcs, Vec<u64>, Vec<u64>), Failure> {
    let (rpcs, mut chosen) = crate::settings::rpcs(&place.config()?.rpc, overrides)?;
    if chosen.is_empty() {
        chosen.extend(FALLBACK_NETWORKS);
    }
    let networks: Vec<u64> = registry::networks()
        .iter()
        .map(|n| n.chain_id)
        .filter(|id| chosen.contains(id) && registry::assets_on(*id).any(|a| a.usd))
        .collect();
    chosen.sort_unstable();
    chosen.dedup();
    let without_usd = chosen.into_iter().filter(|id| !networks.contains(id)).collect();
    Ok((rpcs, networks, without_usd))
}

/// Reads every USD stablecoin of every network at once; the rows in order.
pub async fn read_balances(chain: Arc<Chain>, networks: &[u64], owner: Address) -> Vec<Balance> {
    let assets: Vec<&'static Asset> =
        networks.iter().flat_map(|id| registry::assets_on(*id).filter(|a| a.usd)).collect();
    let tasks: Vec<_> = assets
        .iter()
        .map(|asset| {
            let (chain, asset) = (Arc::clone(&chain), *asset);
            tokio::spawn(async move {
                chain
                    .token_balance(asset.chain_id, asset.address, owner)
                    .await
                    .map(|atomic| format_units(atomic, asset.decimals))
            })
        })
        .collect();
    let mut rows = Vec::with_capacity(tasks.len());
    for (asset, task) in assets.iter().zip(tasks) {
        let read = task.await.map_err(|e| format!("a balance read stopped: {e}"));
        let (balance, error) = match read {
            Ok(Ok(text)) => (Some(text), None),
            Ok(Err(error)) => (None, Some(error.to_string())),
            Err(error) => (None, Some(error)),
        };
        rows.push(Balance {
            network: network_label(asset.chain_id),
            chain_id: asset.chain_id,
            testnet: registry::network_by_chain_id(asset.chain_id).is_some_and(|n| n.testnet),
            symbol: asset.symbol.to_owned(),
            balance,
            error,
        });
    }
    rows
}

/// `address`, else the default account's.
pub fn owner(place: &DataDir, address: Option<&str>) -> Result<Address, Failure> {
    match address {
        Some(text) => parse_address(text),
        None => {
            let account = place.store()?.default_account()?.ok_or_else(|| {
                Failure::NotFound("no default account: make or import one first".into())
            })?;
            parse_address(&account.address)
        }
    }
}

/// The balances of `address` (else the default account) on the configured networks.
pub async fn balances(place: &DataDir, address: Option<&str>) -> Result<Vec<Balance>, Failure> {
    let owner = owner(place, address)?;
    let (rpcs, networks, _) = balance_networks(place, &[])?;
    let chain = Arc::new(Chain::new(rpcs).with_timeout(Duration::from_secs(10)));
    Ok(read_balances(chain, &networks, owner).await)
}

/// `atomic` in whole tokens, exactly: every decimal digit is kept (`8.750000` for
/// 8 750 000 atomic units of a 6-decimal token).
pub fn format_units(atomic: U256, decimals: u8) -> String {
    let digits = atomic.to_string();
    let decimals = usize::from(decimals);
    if decimals == 0 {
        return digits;
    }
    let padded = format!("{digits:0>width$}", width = decimals + 1);
    let (whole, fraction) = padded.split_at(padded.len() - decimals);
    format!("{whole}.{fraction}")
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn units_are_exact() {
        assert_eq!(format_units(U256::from(8_750_000u64), 6), "8.750000");
        assert_eq!(format_units(U256::ZERO, 6), "0.000000");
        assert_eq!(format_units(U256::from(1u64), 6), "0.000001");
        assert_eq!(format_units(U256::from(123u64), 0), "123");
        assert_eq!(
            format_units(U256::MAX, 18),
            "115792089237316195423570985008687907853269984665640564039457.584007913129639935"
        );
    }

    #[test]
    fn a_default_export_never_takes_a_name_in_use() {
        let dir = std::env::temp_dir().join(format!("purse-export-names-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let name = |path: PathBuf| path.file_name().unwrap().to_string_lossy().into_owned();
        assert_eq!(name(unused_keystore_name(&dir, "0xAb")), "purse-0xAb.json");
        std::fs::write(dir.join("purse-0xAb.json"), "{}").unwrap();
        assert_eq!(name(unused_keystore_name(&dir, "0xAb")), "purse-0xAb-2.json");
        std::fs::write(dir.join("purse-0xAb-2.json"), "{}").unwrap();
        assert_eq!(name(unused_keystore_name(&dir, "0xAb")), "purse-0xAb-3.json");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
