//! Payer accounts: made from a fresh BIP-39 mnemonic, imported from a private key or a
//! mnemonic, kept in the keychain (or, by explicit choice, an encrypted JSON keystore).

use alloy::{
    primitives::{Address, B256},
    signers::local::{MnemonicBuilder, PrivateKeySigner, coins_bip39::English},
};
use coins_bip39::Mnemonic;

use crate::{Error, Keychain, Result, Secret};

/// Why an account could not be made, read or written.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AccountError {
    /// Not a 0x-prefixed 32-byte hex private key on secp256k1.
    #[error("not a private key (0x followed by 64 hex digits, a valid secp256k1 scalar)")]
    BadPrivateKey,
    /// Not a valid English BIP-39 phrase (words or checksum).
    #[error("not a valid BIP-39 mnemonic (English words, 12 to 24 of them, with a valid checksum)")]
    BadMnemonic,
    /// A keystore did not open with the password given.
    #[error("keystore {path}: wrong password")]
    WrongPassword {
        /// The keystore file.
        path: String,
    },
    /// A keystore could not be written or opened (an unreadable file, not a keystore).
    #[error("keystore {path}: {reason}")]
    Keystore {
        /// The keystore file.
        path: String,
        /// What went wrong.
        reason: String,
    },
    /// The keychain failed.
    #[error(transparent)]
    Keychain(#[from] Error),
}

/// A freshly made account and the phrase that restores it.
pub struct NewAccount {
    /// The account's signer (m/44'/60'/0'/0/0 of the phrase).
    pub signer: PrivateKeySigner,
    /// The 12 words, to be shown once for backup.
    pub mnemonic: Secret,
}

impl std::fmt::Debug for NewAccount {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewAccount")
            .field("address", &self.signer.address())
            .finish_non_exhaustive()
    }
}

/// Makes an account from a new random 12-word English mnemonic.
pub fn generate() -> Result<NewAccount, AccountError> {
    let mnemonic = Mnemonic::<English>::new_with_count(&mut rand::thread_rng(), 12)
        .map_err(|_| AccountError::BadMnemonic)?;
    let phrase = Secret::new(mnemonic.to_phrase());
    let signer = from_mnemonic(&phrase, 0)?;
    Ok(NewAccount { signer, mnemonic: phrase })
}

/// The account at m/44'/60'/0'/0/`index` of an English BIP-39 phrase.
pub fn from_mnemonic(phrase: &Secret, index: u32) -> Result<PrivateKeySigner, AccountError> {
    let words = phrase.expose().split_whitespace().collect::<Vec<_>>().join(" ");
    MnemonicBuilder::<English>::default()
        .phrase(words)
        .index(index)
        .and_then(|builder| builder.build())
        .map_err(|_| AccountError::BadMnemonic)
}

/// The account of a 0x-prefixed hex private key.
pub fn from_private_key(key: &Secret) -> Result<PrivateKeySigner, AccountError> {
    let hex = key.expose().trim();
    let digits = hex
        .strip_prefix("0x")
        .filter(|h| h.len() == 64 && h.bytes().all(|b| b.is_ascii_hexdigit()));
    let bytes: B256 = digits.and_then(|_| hex.parse().ok()).ok_or(AccountError::BadPrivateKey)?;
    PrivateKeySigner::from_bytes(&bytes).map_err(|_| AccountError::BadPrivateKey)
}

fn entry_name(address: Address) -> String {
    format!("account/{}", address.to_checksum(None))
}

impl Keychain {
    /// Stores an account's private key, under its address.
    pub fn store_account(&self, signer: &PrivateKeySigner) -> Result<()> {
        let key = Secret::new(format!("{:#x}", signer.to_bytes()));
        self.set(&entry_name(signer.address()), &key)
    }

    /// The signer of a stored account, or `None` when the keychain has no key for it.
    pub fn account(&self, address: Address) -> Result<Option<PrivateKeySigner>> {
        let Some(key) = self.get(&entry_name(address))? else { return Ok(None) };
        match from_private_key(&key) {
            Ok(signer) if signer.address() == address => Ok(Some(signer)),
            _ => Err(Error::Corrupt {
                account: format!("{}/{}", self.profile(), entry_name(address)),
            }),
        }
    }

    /// Forgets an account's key.
    pub fn remove_account(&self, address: Address) -> Result<()> {
        self.delete(&entry_name(address))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The public anvil/hardhat test mnemonic.
    const TEST_PHRASE: &str = "test test test test test test test test test test test junk";

    #[test]
    fn mnemonics_derive_the_standard_path() {
        let phrase = Secret::new(format!("  {TEST_PHRASE}\n"));
        let first = from_mnemonic(&phrase, 0).unwrap();
        assert_eq!(first.address().to_checksum(None), "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266");
        assert_eq!(
            from_mnemonic(&phrase, 1).unwrap().address().to_checksum(None),
            "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"
        );
        assert!(from_mnemonic(&Secret::new("test test test".into()), 0).is_err());
        assert!(
            from_mnemonic(&Secret::new(TEST_PHRASE.replace("junk", "test")), 0).is_err(),
            "checksum"
        );
    }

    #[test]
    fn private_keys_are_checked() {
        let key = Secret::new(
            "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80\n".into(),
        );
        assert_eq!(
            from_private_key(&key).unwrap().address().to_checksum(None),
            "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"
        );
        for bad in [
            "ac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80",
            "0x12",
            &format!("0x{}", "0".repeat(64)),
        ] {
            assert!(from_private_key(&Secret::new(bad.into())).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_generated_account_restores_from_its_words() {
        let made = generate().unwrap();
        assert_eq!(made.mnemonic.expose().split(' ').count(), 12);
        assert_eq!(from_mnemonic(&made.mnemonic, 0).unwrap().address(), made.signer.address());
        assert!(!format!("{made:?}").contains(made.mnemonic.expose()));
    }
}
