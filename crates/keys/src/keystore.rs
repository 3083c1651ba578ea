//! Encrypted JSON keystores (Web3 Secret Storage, version 3): the file a headless account
//! is kept in, and the backup an account is exported to.
//!
//! Purse writes them itself, with geth's standard scrypt cost (N = 2^18, r = 8, p = 1:
//! 256 MiB and about a second per try), so that a stolen file resists guessing. The
//! library alloy uses writes N = 2^13, 32 times cheaper to attack, and cannot be told
//! otherwise. Reading goes through alloy, which takes the cost from the file: keystores
//! from geth, MetaMask or an older Purse open as before.

use std::{io::Write as _, path::Path};

use aes::cipher::{KeyIvInit as _, StreamCipher as _};
use alloy::{
    hex,
    primitives::Keccak256,
    signers::local::{LocalSignerError, PrivateKeySigner},
};
use eth_keystore::KeystoreError;
use rand::RngCore as _;
use zeroize::Zeroizing;

use crate::{Secret, accounts::AccountError};

/// scrypt's cost, as a power of two: geth's `StandardScryptN`.
const SCRYPT_LOG_N: u8 = 18;
/// scrypt's block size.
const SCRYPT_R: u32 = 8;
/// scrypt's parallelism.
const SCRYPT_P: u32 = 1;

type Aes128Ctr = ctr::Ctr128BE<aes::Aes128>;

/// Writes an encrypted keystore of `signer` to `path`, which must not exist yet.
///
/// The file is created readable by its owner only (mode 0600 on Unix) and never replaces
/// another, a link included. It is encrypted first and created after, so that it exists
/// only for the instant of its write; a write that fails (a full disk) removes it.
pub fn write_keystore(
    path: &Path,
    signer: &PrivateKeySigner,
    password: &Secret,
) -> Result<(), AccountError> {
    let failed =
        |reason: String| AccountError::Keystore { path: path.display().to_string(), reason };
    // Said at once rather than after the second of scrypt (the create below still decides).
    ensure_unused(path)?;
    let json = encrypt(signer, password).map_err(failed)?;

    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::AlreadyExists => taken(path),
        _ => failed(e.to_string()),
    })?;
    if let Err(e) = file.write_all(json.as_bytes()).and_then(|()| file.sync_all()) {
        drop(file);
        let _ = std::fs::remove_file(path);
        return Err(failed(e.to_string()));
    }
    // The file's name too should outlive a power cut: the account list may point at it.
    // Best effort: some file systems (FUSE, network mounts) cannot sync a directory, and
    // the keystore is written whole by now.
    #[cfg(unix)]
    if let Some(dir) = path.parent() {
        let dir = if dir.as_os_str().is_empty() { Path::new(".") } else { dir };
        let _ = std::fs::File::open(dir).and_then(|d| d.sync_all());
    }
    Ok(())
}

/// Refuses `path` when anything is there already, a file or a link: the check to make
/// before asking for passwords; [`write_keystore`] makes it too.
pub fn ensure_unused(path: &Path) -> Result<(), AccountError> {
    match path.symlink_metadata() {
        Ok(_) => Err(taken(path)),
        Err(_) => Ok(()),
    }
}

fn taken(path: &Path) -> AccountError {
    AccountError::Keystore {
        path: path.display().to_string(),
        reason: "already exists; choose another file".into(),
    }
}

/// The keystore's JSON text for `signer`, with a fresh salt, IV and id.
fn encrypt(signer: &PrivateKeySigner, password: &Secret) -> Result<String, String> {
    let mut rng = rand::thread_rng();
    let mut salt = [0u8; 32];
    let mut iv = [0u8; 16];
    let mut id = [0u8; 16];
    rng.fill_bytes(&mut salt);
    rng.fill_bytes(&mut iv);
    rng.fill_bytes(&mut id);

    // 32 bytes: the first 16 are the AES key, the last 16 go into the MAC.
    let mut derived = Zeroizing::new([0u8; 32]);
    let params = scrypt::Params::new(SCRYPT_LOG_N, SCRYPT_R, SCRYPT_P)
        .map_err(|e| format!("scrypt parameters: {e}"))?;
    scrypt::scrypt(password.expose().as_bytes(), &salt, &params, derived.as_mut_slice())
        .map_err(|e| format!("scrypt: {e}"))?;

    let mut ciphertext = Zeroizing::new(signer.to_bytes().0);
    Aes128Ctr::new(derived[..16].into(), (&iv).into()).apply_keystream(ciphertext.as_mut_slice());
    let mut mac = Keccak256::new();
    mac.update(&derived[16..]);
    mac.update(ciphertext.as_slice());
    let mac = mac.finalize();

    let json = serde_json::json!({
        "address": hex::encode(signer.address()),
        "crypto": {
            "cipher": "aes-128-ctr",
            "cipherparams": { "iv": hex::encode(iv) },
            "ciphertext": hex::encode(ciphertext.as_slice()),
            "kdf": "scrypt",
            "kdfparams": {
                "dklen": 32,
                "n": 1u32 << SCRYPT_LOG_N,
                "p": SCRYPT_P,
                "r": SCRYPT_R,
                "salt": hex::encode(salt),
            },
            "mac": hex::encode(mac),
        },
        "id": uuid::Builder::from_random_bytes(id).into_uuid().hyphenated().to_string(),
        "version": 3,
    });
    Ok(json.to_string())
}

/// Opens an encrypted keystore, whatever scrypt or PBKDF2 cost it was written with.
pub fn read_keystore(path: &Path, password: &Secret) -> Result<PrivateKeySigner, AccountError> {
    PrivateKeySigner::decrypt_keystore(path, password.expose()).map_err(|e| {
        let path = path.display().to_string();
        match e {
            LocalSignerError::EthKeystoreError(KeystoreError::MacMismatch) => {
                AccountError::WrongPassword { path }
            }
            e => AccountError::Keystore { path, reason: e.to_string() },
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dir(name: &str) -> std::path::PathBuf {
        let dir =
            std::env::temp_dir().join(format!("purse-keystore-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn a_written_keystore_opens_with_its_password_only_and_says_its_cost() {
        let dir = dir("cost");
        let signer = PrivateKeySigner::random();
        let path = dir.join("account.json");
        let password = Secret::new("correct horse".into());
        write_keystore(&path, &signer, &password).unwrap();

        // alloy's reader (eth-keystore) is an implementation of its own: it opening the
        // file is the check that the format is right.
        assert_eq!(read_keystore(&path, &password).unwrap().to_bytes(), signer.to_bytes());
        let wrong = read_keystore(&path, &Secret::new("wrong".into())).unwrap_err();
        assert!(matches!(wrong, AccountError::WrongPassword { .. }), "{wrong}");
        assert!(wrong.to_string().ends_with("account.json: wrong password"), "{wrong}");

        let json: serde_json::Value =
            serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
        assert_eq!(json["version"], 3);
        assert_eq!(
            json["crypto"]["kdfparams"],
            serde_json::json!({
                "dklen": 32, "n": 262_144, "p": 1, "r": 8,
                "salt": json["crypto"]["kdfparams"]["salt"],
            })
        );
        assert_eq!(json["address"], hex::encode(signer.address()));
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(!text.contains(&hex::encode(signer.to_bytes())), "the key is encrypted");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_keystore_never_replaces_a_file_or_follows_a_link() {
        let dir = dir("replace");
        let signer = PrivateKeySigner::random();
        let password = Secret::new("pw".into());
        let taken = dir.join("taken.json");
        std::fs::write(&taken, "mine").unwrap();
        let error = write_keystore(&taken, &signer, &password).unwrap_err();
        assert!(error.to_string().contains("already exists"), "{error}");
        assert_eq!(std::fs::read_to_string(&taken).unwrap(), "mine");

        #[cfg(unix)]
        {
            let link = dir.join("link.json");
            let target = dir.join("elsewhere.json");
            std::os::unix::fs::symlink(&target, &link).unwrap();
            assert!(write_keystore(&link, &signer, &password).is_err());
            assert!(!target.exists(), "nothing written through the link");
        }
        let missing = write_keystore(&dir.join("no/such/dir.json"), &signer, &password);
        assert!(missing.is_err());
        let _ = std::fs::remove_dir_all(&dir);
    }
}
