//! `purse history` over a real purse.db.

// Helpers outside #[test] functions fail the test loudly, as tests should.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::{path::PathBuf, process::Command};

use purse_store::{NewPayment, Status, Store, Update};
use serde_json::Value;

struct DataDir(PathBuf);

impl Drop for DataDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A data dir whose purse.db holds one settled and one refused payment.
fn seeded() -> DataDir {
    let dir = DataDir(std::env::temp_dir().join(format!("purse-history-{}", std::process::id())));
    let _ = std::fs::remove_dir_all(&dir.0);
    std::fs::create_dir_all(&dir.0).unwrap();
    let store = Store::open(&dir.0.join("purse.db")).unwrap();
    let noon = 1_767_268_800_000;
    let offer = |host: &str, amount: &str| NewPayment {
        at: noon,
        method: "POST".into(),
        url: format!("https://{host}/paid?q=a,b"),
        host: host.into(),
        x402_version: Some(2),
        scheme: Some("exact".into()),
        network: Some("eip155:84532".into()),
        asset: Some("0x036CbD53842c5426634e7929541eC2318f3dCF7e".into()),
        amount: Some(amount.into()),
        pay_to: Some("0x209693Bc6afc0C5328bA36FaF03C514EF312287C".into()),
        ..NewPayment::default()
    };
    let paid = store.record(&offer("api.example.com", "10000")).unwrap();
    store
        .advance(
            paid,
            Status::Signed,
            noon + 1,
            &Update { decided_by: Some("policy".into()), ..Update::default() },
        )
        .unwrap();
    store.advance(paid, Status::Sent, noon + 2, &Update::default()).unwrap();
    store
        .advance(
            paid,
            Status::Settled,
            noon + 3,
            &Update { tx_hash: Some("0xabc".into()), ..Update::default() },
        )
        .unwrap();
    let refused = store.record(&offer("big.example.com", "5000000000")).unwrap();
    let reason = Update {
        reason_code: Some("over-limit".into()),
        reason: Some("above $0.10, \"per payment\"".into()),
        ..Update::default()
    };
    store.advance(refused, Status::Refused, noon + 1, &reason).unwrap();
    dir
}

fn history(dir: &DataDir, args: &[&str]) -> String {
    let output = Command::new(env!("CARGO_BIN_EXE_purse"))
        .arg("history")
        .args(args)
        .env("PURSE_DATA_DIR", &dir.0)
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8(output.stdout).unwrap()
}

#[test]
fn history_lists_filters_and_exports() {
    let dir = seeded();

    let rows: Value = serde_json::from_str(&history(&dir, &["--json"])).unwrap();
    let rows = rows.as_array().unwrap();
    assert_eq!(rows.len(), 2);
    let statuses: Vec<&str> = rows.iter().map(|r| r["status"].as_str().unwrap()).collect();
    assert!(statuses.contains(&"settled") && statuses.contains(&"refused"), "{statuses:?}");

    let settled: Value =
        serde_json::from_str(&history(&dir, &["--status", "settled", "--json"])).unwrap();
    assert_eq!(settled.as_array().unwrap().len(), 1);
    assert_eq!(settled[0]["tx_hash"], "0xabc");
    assert_eq!(settled[0]["amount"], "10000");

    let table = history(&dir, &["--host", "api.example.com"]);
    assert!(
        table.contains("0.01 USDC")
            && table.contains("settled")
            && !table.contains("big.example.com"),
        "{table}"
    );

    let csv = history(&dir, &["--csv"]);
    let mut lines = csv.lines();
    assert!(lines.next().unwrap().starts_with("id,created_at,updated_at,status,"));
    assert!(csv.contains("\"above $0.10, \"\"per payment\"\"\""), "CSV quoting: {csv}");

    let summary: Value = serde_json::from_str(&history(&dir, &["summary", "--json"])).unwrap();
    let network = &summary["per_network"][0];
    assert_eq!((network["attempts"].as_u64(), network["paid"].as_u64()), (Some(2), Some(1)));
    assert_eq!(network["total"], "10000");
    assert!(history(&dir, &["summary"]).contains("0.01 USDC"));

    let refused = Command::new(env!("CARGO_BIN_EXE_purse"))
        .args(["history", "--status", "paid"])
        .env("PURSE_DATA_DIR", &dir.0)
        .output()
        .unwrap();
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("unknown status \"paid\""));
}
