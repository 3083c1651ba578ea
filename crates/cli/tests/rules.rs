//! `purse rules`, `purse budget`, `purse pause` and `purse resume` on a real purse.db.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::{path::PathBuf, process::Command};

use serde_json::Value;

struct Scratch(PathBuf);

impl Scratch {
    fn new(tag: &str) -> Self {
        let dir =
            std::env::temp_dir().join(format!("purse-cli-rules-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Self(dir)
    }

    fn run(&self, args: &[&str]) -> (bool, String, String) {
        let out = Command::new(env!("CARGO_BIN_EXE_purse"))
            .args(args)
            .env("PURSE_DATA_DIR", self.0.join("data"))
            .env("PURSE_PROFILE", "rules-test")
            .output()
            .unwrap();
        let text = |b: Vec<u8>| String::from_utf8(b).unwrap();
        (out.status.success(), text(out.stdout), text(out.stderr))
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[test]
fn rules_are_added_listed_edited_exported_imported_and_removed() {
    let scratch = Scratch::new("rules");
    let (ok, out, _) = scratch.run(&[
        "rules",
        "add",
        "*.Example.com",
        "--allow",
        "--max",
        "0.10",
        "--daily",
        "$1",
    ]);
    assert!(ok);
    assert_eq!(out.trim(), "1  allow  *.example.com  max $0.10  daily $1.00");
    let (ok, _, _) = scratch.run(&[
        "rules",
        "add",
        "api.example.com",
        "--path",
        "/v1/",
        "--network",
        "base",
        "--deny",
    ]);
    assert!(ok);
    let (ok, _, err) = scratch.run(&["rules", "add", "a..b", "--allow"]);
    assert!(!ok && err.contains("is not a site"), "{err}");
    let (ok, _, err) = scratch.run(&["rules", "add", "x.com"]);
    assert!(!ok && err.contains("--allow, --ask or --deny"), "{err}");
    let (ok, _, err) = scratch.run(&["rules", "add", "x.com", "--allow", "--max", "lots"]);
    assert!(!ok && err.contains("not a dollar amount"), "{err}");
    let (ok, _, err) = scratch.run(&["rules", "add", "x.com", "--allow", "--path", "v1"]);
    assert!(!ok && err.contains("a path prefix starts with /"), "{err}");

    let (ok, out, _) =
        scratch.run(&["rules", "edit", "1", "--ask", "--daily", "none", "--weekly", "5"]);
    assert!(ok);
    assert_eq!(out.trim(), "1  ask    *.example.com  max $0.10  weekly $5.00");
    let (_, json, _) = scratch.run(&["rules", "list", "--json"]);
    let list: Value = serde_json::from_str(&json).unwrap();
    assert_eq!(list[1]["network"], "eip155:8453");
    assert_eq!(list[1]["path"], "/v1/");
    // `none` clears a match too.
    let (ok, out, _) = scratch.run(&["rules", "edit", "2", "--network", "none"]);
    assert!(ok);
    assert_eq!(out.trim(), "2  deny   api.example.com  path /v1/");
    let (ok, _, err) = scratch.run(&["rules", "edit", "9", "--deny"]);
    assert!(!ok && err.contains("no rule 9"), "{err}");
    assert!(scratch.run(&["rules", "edit", "2", "--network", "base"]).0);

    let file = scratch.0.join("rules.toml");
    assert!(scratch.run(&["rules", "export", file.to_str().unwrap()]).0);
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(text.contains("site = \"*.example.com\""), "{text}");
    assert!(scratch.run(&["rules", "remove", "1"]).0);
    assert!(scratch.run(&["rules", "remove", "2"]).0);
    assert!(!scratch.run(&["rules", "remove", "2"]).0);
    assert!(scratch.run(&["rules", "import", file.to_str().unwrap()]).0);
    let (_, out, _) = scratch.run(&["rules", "list"]);
    assert_eq!(out.lines().count(), 2, "{out}");
    assert!(out.contains("deny   api.example.com  path /v1/  network eip155:8453"), "{out}");
}

#[test]
fn budget_pause_and_resume() {
    let scratch = Scratch::new("budget");
    let (ok, out, _) = scratch.run(&["budget"]);
    assert!(ok);
    assert!(out.contains("testnet  today       spent $0.00  (cap $1.00)"), "{out}");
    assert!(out.contains("mainnet  this month  spent $0.00  (cap $10.00)"), "{out}");
    let (ok, out, _) = scratch.run(&["budget", "--daily", "2.50", "--monthly", "none"]);
    assert!(ok);
    assert!(out.contains("today       spent $0.00  (cap $2.50)"), "{out}");
    assert!(out.contains("this month  spent $0.00  (no cap)"), "{out}");
    assert!(scratch.run(&["pause"]).0);
    assert!(scratch.run(&["budget"]).1.contains("paused"));
    assert!(scratch.run(&["resume"]).0);
    assert!(!scratch.run(&["budget"]).1.contains("paused"));
}
