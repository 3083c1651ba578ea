//! Purse's secrets in the OS keychain: Secret Service on Linux, the Keychain on macOS,
//! the Credential Manager on Windows (through `keyring` 3).
//!
//! Every entry lives under the service `purse` and an account named
//! `<profile>/<name>`, so that a profile (`PURSE_PROFILE`: tests, development builds)
//! never reads or overwrites another's secrets.
//!
//! Secrets are held in [`Secret`], which zeroizes its memory on drop, prints as
//! `Secret(…)` and cannot be serialized.
//!
//! Where no keychain exists (a headless server without a Secret Service), a secret may
//! live in a file readable only by its owner (mode 0600) — but only when the caller asks
//! for it: [`Keychain::get`] and [`Keychain::set`] never fall back by themselves, they say
//! that the keychain is unavailable and why.

mod accounts;
mod keystore;

use std::fmt;

use zeroize::Zeroizing;

pub use accounts::{AccountError, NewAccount, from_mnemonic, from_private_key, generate};
pub use keystore::{ensure_unused, read_keystore, write_keystore};

/// The keychain service that holds every Purse secret.
pub const SERVICE: &str = "purse";

/// A secret string, wiped from memory when dropped, never printed.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(Zeroizing<String>);

impl Secret {
    /// Wraps a secret.
    pub fn new(value: String) -> Self {
        Self(Zeroizing::new(value))
    }

    /// The secret itself: use it, never log it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(…)")
    }
}

/// Why the keychain could not be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// There is no keychain, or it is locked, or it refused access.
    #[error(
        "the OS keychain is not available ({reason}); on Linux, start a Secret Service \
         (gnome-keyring or KeePassXC) in your session and unlock it"
    )]
    Unavailable {
        /// What the platform said.
        reason: String,
    },
    /// The keychain holds something under that name that is not a text secret.
    #[error("the keychain entry {account} is not readable as text")]
    Corrupt {
        /// The entry's account name.
        account: String,
    },
    /// Any other failure of the platform's store.
    #[error("the OS keychain failed: {reason}")]
    Platform {
        /// What the platform said.
        reason: String,
    },
}

impl Error {
    /// Whether the keychain itself is missing or locked (as opposed to one entry's fault).
    pub fn is_unavailable(&self) -> bool {
        matches!(self, Self::Unavailable { .. })
    }
}

/// `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// The keychain, seen through one profile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Keychain {
    profile: String,
}

impl Keychain {
    /// The keychain for `profile` (`PURSE_PROFILE`, `default` when unset).
    pub fn new(profile: impl Into<String>) -> Self {
        Self { profile: profile.into() }
    }

    /// The profile's name.
    pub fn profile(&self) -> &str {
        &self.profile
    }

    fn entry_account(&self, name: &str) -> String {
        format!("{}/{name}", self.profile)
    }

    fn entry(&self, name: &str) -> Result<keyring::Entry> {
        keyring::Entry::new(SERVICE, &self.entry_account(name)).map_err(|e| self.error(name, e))
    }

    fn error(&self, name: &str, error: keyring::Error) -> Error {
        match error {
            keyring::Error::NoStorageAccess(e) => Error::Unavailable { reason: e.to_string() },
            keyring::Error::PlatformFailure(e) => Error::Unavailable { reason: e.to_string() },
            keyring::Error::BadEncoding(_) => Error::Corrupt { account: self.entry_account(name) },
            other => Error::Platform { reason: other.to_string() },
        }
    }

    /// The secret stored as `name`, or `None` when there is none.
    pub fn get(&self, name: &str) -> Result<Option<Secret>> {
        match self.entry(name)?.get_password() {
            Ok(value) => Ok(Some(Secret::new(value))),
            Err(keyring::Error::NoEntry) => Ok(None),
            Err(e) => Err(self.error(name, e)),
        }
    }

    /// Stores `secret` as `name`, replacing any previous one.
    pub fn set(&self, name: &str, secret: &Secret) -> Result<()> {
        self.entry(name)?.set_password(secret.expose()).map_err(|e| self.error(name, e))
    }

    /// Removes `name`; removing what is not there is not an error.
    pub fn delete(&self, name: &str) -> Result<()> {
        match self.entry(name)?.delete_credential() {
            Ok(()) | Err(keyring::Error::NoEntry) => Ok(()),
            Err(e) => Err(self.error(name, e)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_never_print() {
        let secret = Secret::new("0xdeadbeef".into());
        assert_eq!(format!("{secret:?}"), "Secret(…)");
        assert_eq!(secret.expose(), "0xdeadbeef");
    }
}
