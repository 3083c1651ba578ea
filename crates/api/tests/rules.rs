//! Rules files on real data dirs: what `export_toml` writes, `import_toml` adds back into
//! a fresh data dir, rule for rule; a file with a wrong rule adds nothing.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::PathBuf;

use purse_api::{
    DataDir,
    rules::{self, RuleEdit},
};

struct Scratch(PathBuf);

impl Scratch {
    fn new(tag: &str) -> Self {
        let dir =
            std::env::temp_dir().join(format!("purse-api-rules-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        Self(dir)
    }

    fn place(&self, name: &str) -> DataDir {
        DataDir::resolve(Some(self.0.join(name)), "rules-test").unwrap()
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn rule(site: &str, action: &str) -> RuleEdit {
    RuleEdit {
        site: site.into(),
        path_prefix: None,
        network: None,
        asset: None,
        pay_to: None,
        action: action.into(),
        max_per_payment: None,
        daily: None,
        weekly: None,
        monthly: None,
        total: None,
    }
}

/// The rules without their ids, in order.
fn listed(place: &DataDir) -> Vec<RuleEdit> {
    rules::list(place, purse_api::Zone::Fixed(0), purse_api::now_ms())
        .unwrap()
        .into_iter()
        .map(|v| v.rule)
        .collect()
}

#[test]
fn export_then_import_into_a_fresh_data_dir_round_trips_the_rules() {
    let scratch = Scratch::new("roundtrip");
    let from = scratch.place("from");
    rules::add(
        &from,
        &RuleEdit {
            max_per_payment: Some("0.10".into()),
            daily: Some("$1".into()),
            total: Some("25".into()),
            ..rule("*.Example.com", "allow")
        },
    )
    .unwrap();
    rules::add(
        &from,
        &RuleEdit {
            path_prefix: Some("/v1/".into()),
            network: Some("base".into()),
            asset: Some("0x833589fcd6edb6e08f4c7c32d4f71b54bda02913".into()),
            pay_to: Some("0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC".into()),
            ..rule("api.example.com", "deny")
        },
    )
    .unwrap();
    rules::add(&from, &rule("*", "ask")).unwrap();

    let text = rules::export_toml(&from).unwrap();
    // The format `purse rules export` writes: [[rule]] tables, no ids, dollars with `$`.
    assert!(text.contains("[[rule]]\nsite = \"*.example.com\"\naction = \"allow\"\n"), "{text}");
    assert!(text.contains("max = \"$0.10\"\ndaily = \"$1.00\"\ntotal = \"$25.00\"\n"), "{text}");
    assert!(text.contains("network = \"eip155:8453\""), "{text}");
    assert!(!text.contains("id ="), "{text}");

    let to = scratch.place("to");
    assert_eq!(rules::import_toml(&to, &text).unwrap(), 3);
    assert_eq!(listed(&to), listed(&from));
    assert_eq!(rules::export_toml(&to).unwrap(), text);

    // Saved as a file (the app's Export), the same text.
    let file = rules::export_file(&from, Some(scratch.0.clone()), 42).unwrap();
    assert_eq!(file, scratch.0.join("purse-rules-42.toml"));
    assert_eq!(std::fs::read_to_string(file).unwrap(), text);
}

#[test]
fn a_wrong_file_adds_nothing() {
    let scratch = Scratch::new("wrong");
    let place = scratch.place("data");
    let failure = rules::import_toml(&place, "[[rule]]\nsite = \"x.com\"\n").unwrap_err();
    assert_eq!(failure.code(), "invalid");
    assert!(failure.to_string().starts_with("not a rules file: "), "{failure}");
    let unknown = "[[rule]]\nsite = \"x.com\"\naction = \"allow\"\ncolour = \"red\"\n";
    assert_eq!(rules::import_toml(&place, unknown).unwrap_err().code(), "invalid");

    // One bad rule among good ones: every rule is checked before any is stored.
    let text = "[[rule]]\nsite = \"a.com\"\naction = \"allow\"\n\n\
                [[rule]]\nsite = \"b.com\"\naction = \"allow\"\nnetwork = \"atlantis\"\n";
    let failure = rules::import_toml(&place, text).unwrap_err();
    assert_eq!(failure.to_string(), "\"atlantis\" is not a network Purse knows");
    let text = "[[rule]]\nsite = \"a.com\"\naction = \"allow\"\nmax = \"lots\"\n";
    assert!(
        rules::import_toml(&place, text).unwrap_err().to_string().contains("not a dollar amount")
    );
    assert!(listed(&place).is_empty());

    // A rules file is checked as the app checks a rule: a path prefix starts with /, text
    // is trimmed, `none` is no limit.
    let text = "[[rule]]\nsite = \"a.com\"\naction = \"allow\"\npath = \"v1\"\n";
    assert_eq!(
        rules::import_toml(&place, text).unwrap_err().to_string(),
        "a path prefix starts with / and has no ? or #"
    );
    assert!(listed(&place).is_empty());
    let text = "[[rule]]\nsite = \" a.com \"\naction = \" allow \"\nnetwork = \" base \"\nmax = \"none\"\ndaily = \" $2 \"\n";
    assert_eq!(rules::import_toml(&place, text).unwrap(), 1);
    assert_eq!(
        listed(&place),
        [RuleEdit {
            network: Some("eip155:8453".into()),
            daily: Some("2.00".into()),
            ..rule("a.com", "allow")
        }]
    );
    rules::remove(&place, 1).unwrap();
    assert_eq!(rules::remove(&place, 1).unwrap_err().code(), "not-found");
    assert_eq!(rules::update(&place, 1, &rule("a.com", "deny")).unwrap_err().code(), "not-found");

    // An empty export imports as nothing.
    let empty = rules::export_toml(&place).unwrap();
    assert_eq!(rules::import_toml(&place, &empty).unwrap(), 0);
    assert_eq!(rules::import_toml(&place, "").unwrap(), 0);
}

#[test]
fn spend_is_shown_against_the_global_caps() {
    use purse_store::{NewPayment, Reservation, Spending, Update};
    let scratch = Scratch::new("caps");
    let place = scratch.place("data");
    // 2026-11-27 12:00 UTC.
    let now_ms = 1_795_780_800_000;
    let caps = rules::CapsEdit { daily: Some("5".into()), monthly: Some("none".into()) };
    rules::set_caps(&place, &caps).unwrap();

    let store = place.store().unwrap();
    let pay = |usd_micros: i64, testnet: bool| {
        let new = NewPayment {
            at: now_ms,
            method: "GET".into(),
            url: "https://a.example/".into(),
            host: "a.example".into(),
            ..NewPayment::default()
        };
        let keys = [
            ("global:d:2026-11-27".to_owned(), Some(5_000_000)),
            ("global:m:2026-11".to_owned(), None),
        ];
        let spending = Spending { usd_micros, testnet, rule_id: None };
        let signed = || Ok::<_, ()>(Update::default());
        let reserved = store.reserve(&new, spending, &keys, signed).unwrap().unwrap();
        assert!(matches!(reserved, Reservation::Reserved(_)));
    };
    pay(1_250_000, false);
    pay(300_000, true);

    let view = purse_api::history::spend(&place, purse_api::Zone::Fixed(0), now_ms).unwrap();
    assert_eq!(view.today, "2026-11-27");
    assert_eq!(view.day.cap.as_deref(), Some("5.00"));
    assert_eq!(view.day.left_mainnet.as_deref(), Some("3.75"));
    assert_eq!(view.day.left_testnet.as_deref(), Some("4.70"));
    assert_eq!(view.day.attempts, 2);
    assert_eq!((view.month.cap, view.month.left_mainnet), (None, None));
}
