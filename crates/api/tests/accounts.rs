//! Accounts through purse-api on the OS keychain (a Secret Service; `scripts/test` starts
//! one): an encrypted keystore, as an export writes it, imports into the keychain.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use alloy::{primitives::B256, signers::local::PrivateKeySigner};
use purse_api::{DataDir, accounts::Accounts};
use purse_keys::Secret;
use purse_store::KeyStorage;

#[test]
#[ignore = "needs a Secret Service: run through scripts/test"]
fn an_exported_keystore_imports_into_the_keychain() {
    let dir = std::env::temp_dir().join(format!("purse-api-accounts-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let place =
        DataDir::resolve(Some(dir.clone()), &format!("api-accounts-{}", std::process::id()))
            .unwrap();
    let signer = PrivateKeySigner::from_bytes(&B256::repeat_byte(0x24)).unwrap();
    let address = signer.address().to_checksum(None);
    let file = dir.join("backup.json");
    purse_keys::write_keystore(&file, &signer, &Secret::new("backup password".into())).unwrap();
    let accounts = Accounts::open(&place).unwrap();

    // A wrong password imports nothing.
    let wrong = accounts.import_keystore(&file, &Secret::new("nope".into()), None).unwrap_err();
    assert!(wrong.to_string().contains("wrong password"), "{wrong}");
    assert!(accounts.list().unwrap().is_empty());

    let imported =
        accounts.import_keystore(&file, &Secret::new("backup password".into()), Some("back"));
    assert_eq!(imported.unwrap(), address);
    let listed = accounts.account(&address).unwrap();
    assert_eq!((listed.storage, listed.label.as_deref()), (KeyStorage::Keychain, Some("back")));
    // The key is in the keychain now: it exports again without the old file's password.
    let again = dir.join("again.json");
    accounts.export_keystore(&address, &again, &Secret::new("another".into()), None).unwrap();
    let read = purse_keys::read_keystore(&again, &Secret::new("another".into())).unwrap();
    assert_eq!(read.address(), signer.address());

    accounts.remove(&address).unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_keystore_holding_another_accounts_key_exports_nothing() {
    let dir = std::env::temp_dir().join(format!("purse-api-swapped-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let place = DataDir::resolve(Some(dir.clone()), "api-swapped").unwrap();
    let password = Secret::new("pw".into());
    let account = PrivateKeySigner::from_bytes(&B256::repeat_byte(0x31)).unwrap();
    let other = PrivateKeySigner::from_bytes(&B256::repeat_byte(0x32)).unwrap();
    // The account's keystore file was replaced by one holding another key.
    let file = dir.join("account.json");
    purse_keys::write_keystore(&file, &other, &password).unwrap();
    let address = account.address().to_checksum(None);
    let store = purse_store::Store::open(&place.path("purse.db")).unwrap();
    store
        .add_account(&address, None, &KeyStorage::Keystore(file.display().to_string()), 0)
        .unwrap();

    let accounts = Accounts::open(&place).unwrap();
    let out = dir.join("backup.json");
    let refused = accounts.export_keystore(&address, &out, &password, Some(&password)).unwrap_err();
    assert_eq!(refused.code(), "invalid");
    assert!(refused.to_string().contains(&format!("belongs to {}", other.address())), "{refused}");
    assert!(!out.exists());
    std::fs::remove_dir_all(&dir).unwrap();
}
