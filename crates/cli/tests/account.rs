//! `purse account`, with keys in the real keychain (a throwaway gnome-keyring under
//! scripts/test) or in encrypted keystore files.

// Helpers outside #[test] functions fail the test loudly, as tests should.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::{
    path::{Path, PathBuf},
    process::{Command, Output, Stdio},
};

use purse_keys::Secret;
use serde_json::Value;

const ANVIL_KEY: &str = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80";
const ANVIL_ADDRESS: &str = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266";
const TEST_PHRASE: &str = "test test test test test test test test test test test junk";

struct Home(PathBuf, String);

impl Home {
    fn new(tag: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("purse-account-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Self(dir, format!("test-account-{tag}-{}", std::process::id()))
    }

    fn file(&self, name: &str, contents: &str) -> String {
        let path = self.0.join(name);
        std::fs::write(&path, contents).unwrap();
        path.display().to_string()
    }

    fn path(&self, name: &str) -> String {
        self.0.join(name).display().to_string()
    }

    fn purse(&self, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_purse"))
            .args(args)
            .env("PURSE_DATA_DIR", self.0.join("data"))
            .env("PURSE_PROFILE", &self.1)
            .stdin(Stdio::null())
            .output()
            .unwrap()
    }

    fn ok(&self, args: &[&str]) -> String {
        let output = self.purse(args);
        assert!(output.status.success(), "{args:?}: {}", String::from_utf8_lossy(&output.stderr));
        String::from_utf8(output.stdout).unwrap()
    }

    fn list(&self) -> Vec<Value> {
        serde_json::from_str::<Value>(&self.ok(&["account", "list", "--json"]))
            .unwrap()
            .as_array()
            .unwrap()
            .clone()
    }
}

impl Drop for Home {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn keystore_address(path: &str, password: &str) -> String {
    purse_keys::read_keystore(Path::new(path), &Secret::new(password.into()))
        .unwrap()
        .address()
        .to_checksum(None)
}

#[test]
fn accounts_in_keystore_files_need_no_keychain() {
    let home = Home::new("keystore");
    let key = home.file("key", ANVIL_KEY);
    let password = home.file("password", "hunter2\n");
    let keystore = home.path("anvil.json");
    let address = home.ok(&[
        "account",
        "import",
        "--private-key-file",
        &key,
        "--keystore",
        &keystore,
        "--password-file",
        &password,
        "--label",
        "anvil 0",
    ]);
    assert_eq!(address.trim(), ANVIL_ADDRESS);
    assert_eq!(keystore_address(&keystore, "hunter2"), ANVIL_ADDRESS);

    let list = home.list();
    assert_eq!(list.len(), 1);
    assert_eq!(list[0]["label"], "anvil 0");
    assert_eq!(list[0]["is_default"], true);
    assert_eq!(list[0]["storage"]["kind"], "keystore");
    assert!(
        !serde_json::to_string(&list).unwrap().contains(&ANVIL_KEY[2..]),
        "a key is never listed"
    );

    // Export to another keystore (same password file) and read it back.
    let copy = home.path("copy.json");
    home.ok(&[
        "account",
        "export",
        ANVIL_ADDRESS,
        "--keystore",
        &copy,
        "--password-file",
        &password,
    ]);
    assert_eq!(keystore_address(&copy, "hunter2"), ANVIL_ADDRESS);
    // Never overwrites, and a wrong password is told as such.
    let again = home.purse(&[
        "account",
        "export",
        ANVIL_ADDRESS,
        "--keystore",
        &copy,
        "--password-file",
        &password,
    ]);
    assert!(String::from_utf8_lossy(&again.stderr).contains("already exists"));
    // Told before any password is asked (there is no terminal to ask on here).
    let taken = home.purse(&["account", "export", ANVIL_ADDRESS, "--keystore", &copy]);
    assert!(String::from_utf8_lossy(&taken.stderr).contains("already exists"));
    let wrong = home.file("wrong", "nope");
    let refused = home.purse(&[
        "account",
        "export",
        ANVIL_ADDRESS,
        "--keystore",
        &home.path("x.json"),
        "--password-file",
        &wrong,
    ]);
    assert!(String::from_utf8_lossy(&refused.stderr).contains("wrong password"));
    // `purse proxy` opens the keystore as it starts: a wrong password stops it there.
    let mut proxy = Command::new(env!("CARGO_BIN_EXE_purse"))
        .args(["proxy", "--listen", "127.0.0.1:0", "--password-file", &wrong])
        .env("PURSE_DATA_DIR", home.0.join("data"))
        .env("PURSE_PROFILE", &home.1)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while proxy.try_wait().unwrap().is_none() && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let _ = proxy.kill();
    let started = proxy.wait_with_output().unwrap();
    let said = String::from_utf8_lossy(&started.stderr);
    assert!(!started.status.success() && said.contains("wrong password"), "{said}");
    // A new password of its own, the account's given apart.
    let other = home.file("other", "correct horse");
    let renewed = home.path("renewed.json");
    home.ok(&[
        "account",
        "export",
        ANVIL_ADDRESS,
        "--keystore",
        &renewed,
        "--password-file",
        &other,
        "--from-password-file",
        &password,
    ]);
    assert_eq!(keystore_address(&renewed, "correct horse"), ANVIL_ADDRESS);
    // An empty new password would leave the key unprotected: refused, nothing written.
    let empty = home.file("empty", "");
    let bare = home.path("bare.json");
    let unprotected = home.purse(&[
        "account",
        "export",
        ANVIL_ADDRESS,
        "--keystore",
        &bare,
        "--password-file",
        &empty,
        "--from-password-file",
        &password,
    ]);
    let said = String::from_utf8_lossy(&unprotected.stderr);
    assert!(said.contains("unprotected") && !Path::new(&bare).exists(), "{said}");

    // Import twice: refused. Remove needs --yes without a terminal.
    let twice = home.purse(&[
        "account",
        "import",
        "--private-key-file",
        &key,
        "--keystore",
        &home.path("dup.json"),
        "--password-file",
        &password,
    ]);
    assert!(String::from_utf8_lossy(&twice.stderr).contains("already there"));
    let unasked = home.purse(&["account", "remove", ANVIL_ADDRESS]);
    assert!(
        !unasked.status.success() && String::from_utf8_lossy(&unasked.stderr).contains("--yes")
    );
    home.ok(&["account", "remove", ANVIL_ADDRESS, "--yes"]);
    assert!(home.list().is_empty());

    // The exported keystore imports it again (here into a keystore of its own); a wrong
    // password imports nothing.
    let wrongly = home.purse(&[
        "account",
        "import",
        "--from-keystore",
        &copy,
        "--from-password-file",
        &wrong,
        "--keystore",
        &home.path("back.json"),
        "--password-file",
        &password,
    ]);
    assert!(String::from_utf8_lossy(&wrongly.stderr).contains("wrong password"));
    assert!(home.list().is_empty());
    // With no terminal, the error names the option that gives the password.
    let unasked = home.purse(&["account", "import", "--from-keystore", &copy]);
    assert!(String::from_utf8_lossy(&unasked.stderr).contains("pass --from-password-file F"));
    let back = home.ok(&[
        "account",
        "import",
        "--from-keystore",
        &copy,
        "--from-password-file",
        &password,
        "--keystore",
        &home.path("back.json"),
        "--password-file",
        &password,
    ]);
    assert_eq!(back.trim(), ANVIL_ADDRESS);
    assert_eq!(keystore_address(&home.path("back.json"), "hunter2"), ANVIL_ADDRESS);
    home.ok(&["account", "remove", ANVIL_ADDRESS, "--yes"]);

    // Malformed inputs are refused without echoing them.
    let bad = home.file("bad", "0xnot-a-key");
    let output = home.purse(&[
        "account",
        "import",
        "--private-key-file",
        &bad,
        "--keystore",
        &home.path("b.json"),
        "--password-file",
        &password,
    ]);
    let message = String::from_utf8_lossy(&output.stderr);
    assert!(
        !output.status.success()
            && message.contains("does not hold a private key")
            && !message.contains("not-a-key"),
        "{message}"
    );
}

#[test]
#[ignore = "needs a Secret Service: run through scripts/test"]
fn accounts_in_the_keychain() {
    let home = Home::new("keychain");
    let phrase = home.file("phrase", TEST_PHRASE);
    let first = home.ok(&["account", "import", "--mnemonic-file", &phrase]);
    assert_eq!(first.trim(), ANVIL_ADDRESS);
    let second = home.ok(&[
        "account",
        "import",
        "--mnemonic-file",
        &phrase,
        "--index",
        "1",
        "--label",
        "second",
    ]);
    assert_eq!(second.trim(), "0x70997970C51812dc3A010C7d01b50e0d17dc79C8");

    // A new account shows its 12 words once; --quiet does not.
    let made = home.ok(&["account", "new", "--label", "fresh"]);
    let mut lines = made.lines();
    let words = lines.next().unwrap();
    assert_eq!(words.split(' ').count(), 12);
    let fresh = lines.next().unwrap().to_owned();
    let phrase_file = home.file("fresh-phrase", words);
    let other_home = Home::new("restore");
    assert_eq!(
        other_home.ok(&["account", "import", "--mnemonic-file", &phrase_file]).trim(),
        fresh
    );
    other_home.ok(&["account", "remove", &fresh, "--yes"]);
    let quiet = home.ok(&["account", "new", "--quiet"]);
    assert_eq!(quiet.lines().count(), 1);

    // The default moves; export reads the key back from the keychain.
    assert_eq!(home.list()[0]["address"], ANVIL_ADDRESS);
    home.ok(&["account", "default", &fresh]);
    assert_eq!(home.list()[0]["address"].as_str().unwrap(), fresh);
    let password = home.file("password", "pw");
    let exported = home.path("second.json");
    home.ok(&[
        "account",
        "export",
        "0x70997970C51812dc3A010C7d01b50e0d17dc79C8",
        "--keystore",
        &exported,
        "--password-file",
        &password,
    ]);
    assert_eq!(keystore_address(&exported, "pw"), "0x70997970C51812dc3A010C7d01b50e0d17dc79C8");
    // A keychain account has no keystore password to give.
    let needless = home.purse(&[
        "account",
        "export",
        "0x70997970C51812dc3A010C7d01b50e0d17dc79C8",
        "--keystore",
        &home.path("third.json"),
        "--password-file",
        &password,
        "--from-password-file",
        &password,
    ]);
    assert!(String::from_utf8_lossy(&needless.stderr).contains("keeps its key in the keychain"));

    // Removing deletes the key from the keychain too.
    for account in home.list() {
        home.ok(&["account", "remove", account["address"].as_str().unwrap(), "--yes"]);
    }
    assert!(home.list().is_empty());
    home.ok(&["account", "import", "--mnemonic-file", &phrase, "--index", "1"]);
    home.ok(&["account", "remove", "0x70997970C51812dc3A010C7d01b50e0d17dc79C8", "--yes"]);
}
