//! Payer accounts' public data: address, label, which one is the default, where its key is.
//! Keychains cannot list their entries, so this table is the list.

use rusqlite::params;
use serde::Serialize;

use crate::{Error, Result, Store};

/// Where an account's key is kept.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase", tag = "kind", content = "path")]
pub enum KeyStorage {
    /// The OS keychain.
    Keychain,
    /// An encrypted JSON keystore file, chosen explicitly where there is no keychain.
    Keystore(String),
}

/// An account as listed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Account {
    /// Checksummed address.
    pub address: String,
    /// The user's name for it.
    pub label: Option<String>,
    /// Whether payments use it unless told otherwise.
    pub is_default: bool,
    /// Where its key is.
    pub storage: KeyStorage,
    /// Unix milliseconds.
    pub created_at: i64,
}

impl Store {
    /// Adds an account; the first one becomes the default.
    pub fn add_account(
        &self,
        address: &str,
        label: Option<&str>,
        storage: &KeyStorage,
        at: i64,
    ) -> Result<()> {
        let (kind, path) = match storage {
            KeyStorage::Keychain => ("keychain", None),
            KeyStorage::Keystore(path) => ("keystore", Some(path.as_str())),
        };
        let inserted = self.conn().execute(
            "INSERT INTO accounts (address, label, is_default, storage, keystore_path, created_at)
             VALUES (?1, ?2, NOT EXISTS (SELECT 1 FROM accounts WHERE is_default = 1), ?3, ?4, ?5)
             ON CONFLICT (address) DO NOTHING",
            params![address, label, kind, path, at],
        )?;
        if inserted == 0 {
            return Err(Error::Filter(format!("account {address} is already there")));
        }
        Ok(())
    }

    /// Every account, the default first, then by age.
    pub fn accounts(&self) -> Result<Vec<Account>> {
        let mut statement = self.conn().prepare_cached(
            "SELECT address, label, is_default, storage, keystore_path, created_at FROM accounts
             ORDER BY is_default DESC, created_at, address",
        )?;
        let rows = statement.query_map([], |row| {
            let storage: String = row.get(3)?;
            let path: Option<String> = row.get(4)?;
            Ok(Account {
                address: row.get(0)?,
                label: row.get(1)?,
                is_default: row.get(2)?,
                storage: match (storage.as_str(), path) {
                    ("keystore", Some(path)) => KeyStorage::Keystore(path),
                    _ => KeyStorage::Keychain,
                },
                created_at: row.get(5)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
    }

    /// The account with this address (case-insensitive).
    pub fn account(&self, address: &str) -> Result<Option<Account>> {
        Ok(self.accounts()?.into_iter().find(|a| a.address.eq_ignore_ascii_case(address)))
    }

    /// Makes `address` the default account.
    pub fn set_default_account(&self, address: &str) -> Result<()> {
        let account = self
            .account(address)?
            .ok_or_else(|| Error::Missing(format!("no account {address}")))?;
        let tx = self.conn().unchecked_transaction()?;
        tx.execute("UPDATE accounts SET is_default = 0 WHERE is_default = 1", [])?;
        tx.execute("UPDATE accounts SET is_default = 1 WHERE address = ?1", [&account.address])?;
        tx.commit()?;
        Ok(())
    }

    /// Removes an account; when it was the default, the oldest remaining one becomes it.
    pub fn remove_account(&self, address: &str) -> Result<Account> {
        let account = self
            .account(address)?
            .ok_or_else(|| Error::Missing(format!("no account {address}")))?;
        let tx = self.conn().unchecked_transaction()?;
        tx.execute("DELETE FROM accounts WHERE address = ?1", [&account.address])?;
        tx.execute(
            "UPDATE accounts SET is_default = 1 WHERE address =
                 (SELECT address FROM accounts ORDER BY created_at, address LIMIT 1)
             AND NOT EXISTS (SELECT 1 FROM accounts WHERE is_default = 1)",
            [],
        )?;
        tx.commit()?;
        Ok(account)
    }

    /// The default account, if there is one.
    pub fn default_account(&self) -> Result<Option<Account>> {
        // `accounts` lists the default (at most one: `accounts_one_default`) first.
        Ok(self.accounts()?.into_iter().next().filter(|a| a.is_default))
    }
}
