//! `purse balance`, the real binary against a real anvil (chain id 84532, `TestUSDC` at the
//! Base Sepolia USDC address), and against endpoints that fail.

// Helpers outside #[test] functions fail the test loudly, as tests should.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::{
    net::TcpListener,
    path::{Path, PathBuf},
    process::{Command, Output, Stdio},
};

use alloy::primitives::U256;
use purse_chain::testing::{self, Anvil, NO_ANVIL};
use purse_store::{KeyStorage, Store};

struct DataDir(PathBuf);

impl DataDir {
    fn new(tag: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("purse-balance-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Self(dir)
    }

    fn purse(&self, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_purse"))
            .arg("balance")
            .args(args)
            .arg("--data-dir")
            .arg(&self.0)
            .env_remove("PURSE_DATA_DIR")
            .env("PURSE_PROFILE", "test-balance")
            .env("PURSE_LOG", "warn")
            .stdin(Stdio::null())
            .output()
            .unwrap()
    }
}

impl Drop for DataDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// A 127.0.0.1 port that nothing listens on.
fn dead_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// A fresh anvil; these tests are ignored in a plain `cargo test` and fail without one.
fn anvil() -> Anvil {
    let binary = testing::anvil_binary().unwrap_or_else(|| panic!("{NO_ANVIL}"));
    Anvil::start(&binary).expect("anvil starts")
}

fn add_default_account(dir: &Path, address: &str) {
    let store = Store::open(&dir.join("purse.db")).unwrap();
    store.add_account(address, Some("payer"), &KeyStorage::Keychain, 0).unwrap();
    store.set_default_account(address).unwrap();
}

#[tokio::test]
#[ignore = "needs anvil from the npm testbed; scripts/test runs it"]
async fn balance_reads_the_stablecoin_on_anvil() {
    let anvil = anvil();
    let token = anvil.place_test_usdc().await.unwrap();
    let accounts = anvil.accounts().await.unwrap();
    let (holder, default) = (accounts[1], accounts[2]);
    anvil.mint(token, holder, U256::from(12_500_000u64)).await.unwrap();
    anvil.mint(token, default, U256::from(7u64)).await.unwrap();
    let rpc = format!("eip155:84532={}", anvil.url());

    // An address given on the command line.
    let dir = DataDir::new("anvil");
    let out = dir.purse(&[&holder.to_string(), "--rpc", &rpc]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), "Base Sepolia (eip155:84532)  USDC  12.500000\n");
    assert!(text(&out.stderr).contains(&format!("balances of {holder}")), "{}", text(&out.stderr));

    // A lower-case address is fine too; a mistyped checksum is not.
    let out = dir.purse(&[&holder.to_string().to_lowercase(), "--rpc", &rpc]);
    assert_eq!(text(&out.stdout), "Base Sepolia (eip155:84532)  USDC  12.500000\n");
    let mut wrong = holder.to_string();
    wrong.replace_range(2..3, if &wrong[2..3] == "7" { "8" } else { "7" });
    let out = dir.purse(&[&wrong, "--rpc", &rpc]);
    assert!(!out.status.success());
    assert!(text(&out.stderr).contains("is not an address"), "{}", text(&out.stderr));

    // A network whose endpoint is dead gets its error on its own line; the others are read.
    let dead = dead_port();
    let out = dir.purse(&[
        &holder.to_string(),
        "--rpc",
        &format!("base=http://127.0.0.1:{dead}"),
        "--rpc",
        &rpc,
    ]);
    assert!(!out.status.success());
    let stdout = text(&out.stdout);
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 2, "{stdout}");
    assert!(
        lines[0].starts_with(&format!(
            "Base (eip155:8453)           USDC  error: RPC http://127.0.0.1:{dead} for Base (eip155:8453) failed: "
        )),
        "{stdout}"
    );
    assert_eq!(lines[1], "Base Sepolia (eip155:84532)  USDC  12.500000");
    assert!(
        text(&out.stderr).contains("purse: 1 of 2 balances could not be read"),
        "{}",
        text(&out.stderr)
    );

    // Without an address: the default account, on the networks of config.toml [rpc].
    let dir = DataDir::new("default");
    add_default_account(&dir.0, &default.to_checksum(None));
    std::fs::write(
        dir.0.join("config.toml"),
        format!("[rpc]\n\"base-sepolia\" = \"{}\"\n", anvil.url()),
    )
    .unwrap();
    let out = dir.purse(&[]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), "Base Sepolia (eip155:84532)  USDC  0.000007\n");
    assert!(text(&out.stderr).contains(&format!("balances of {default}")), "{}", text(&out.stderr));
}

#[test]
fn balance_without_an_account_says_how_to_get_one() {
    let dir = DataDir::new("no-account");
    let out = dir.purse(&["--rpc", &format!("eip155:84532=http://127.0.0.1:{}", dead_port())]);
    assert!(!out.status.success());
    assert!(text(&out.stderr).contains("no default account"), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), "");
}

#[test]
fn balance_refuses_unknown_networks_and_bad_urls() {
    let dir = DataDir::new("bad-rpc");
    let address = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8";
    for (rpc, message) in [
        ("base-sepolai=http://127.0.0.1:1", "unknown network \"base-sepolai\""),
        ("eip155:84532", "is not NETWORK=URL"),
        ("eip155:84532=ftp://127.0.0.1:1", "only http:// and https://"),
    ] {
        let out = dir.purse(&[address, "--rpc", rpc]);
        assert!(!out.status.success(), "{rpc}");
        assert!(text(&out.stderr).contains(message), "{rpc}: {}", text(&out.stderr));
    }
    std::fs::write(dir.0.join("config.toml"), "[rpc]\nnowhere = \"http://127.0.0.1:1\"\n").unwrap();
    let out = dir.purse(&[address]);
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("config.toml [rpc] nowhere: unknown network"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn balance_reports_a_dead_endpoint_on_its_line() {
    let dir = DataDir::new("dead");
    let port = dead_port();
    let out = dir.purse(&[
        "0x70997970C51812dc3A010C7d01b50e0d17dc79C8",
        "--rpc",
        &format!("eip155:84532=http://127.0.0.1:{port}"),
        "--timeout",
        "2",
    ]);
    assert!(!out.status.success());
    let stdout = text(&out.stdout);
    assert!(
        stdout.starts_with(&format!(
            "Base Sepolia (eip155:84532)  USDC  error: RPC http://127.0.0.1:{port} for Base Sepolia (eip155:84532) failed: eth_chainId: "
        )),
        "{stdout}"
    );
    assert_eq!(stdout.lines().count(), 1, "{stdout}");
}
