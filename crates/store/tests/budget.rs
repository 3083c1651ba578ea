//! Budgets on a real SQLite file: reservations never pass a limit, under any sequence of
//! payments and failures, from many connections at once, and across a restart.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::{path::PathBuf, sync::Arc};

use proptest::prelude::*;
use purse_store::{NewPayment, Reservation, Spending, Status, Store, Update};

struct TempDb(PathBuf);

impl TempDb {
    fn new(tag: &str) -> Self {
        let n =
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos();
        let dir =
            std::env::temp_dir().join(format!("purse-budget-{tag}-{}-{n}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        Self(dir)
    }

    fn path(&self) -> PathBuf {
        self.0.join("purse.db")
    }
}

impl Drop for TempDb {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn new_payment() -> NewPayment {
    NewPayment {
        at: 1,
        method: "GET".into(),
        url: "https://a.example/".into(),
        host: "a.example".into(),
        network: Some("eip155:84532".into()),
        amount: Some("1".into()),
        ..NewPayment::default()
    }
}

fn reserve(store: &Store, micros: i64, budgets: &[(String, Option<i64>)]) -> Option<i64> {
    let spending = Spending { usd_micros: micros, testnet: true, rule_id: None };
    let signed = || Ok::<_, ()>(Update { nonce: Some("0x01".into()), ..Update::default() });
    match store.reserve(&new_payment(), spending, budgets, signed).unwrap().unwrap() {
        Reservation::Reserved(id) => Some(id),
        Reservation::Over { .. } => None,
    }
}

fn budgets(daily: i64, rule: i64) -> Vec<(String, Option<i64>)> {
    vec![
        ("global:d:2026-11-27".into(), Some(daily)),
        ("global:m:2026-11".into(), None),
        ("rule:1:total".into(), Some(rule)),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(32))]

    /// Whatever mix of payments, failures and refusals: what is reserved or spent in a
    /// budget never passes its limit, and equals the sum of the payments that count.
    #[test]
    fn reserved_and_spent_never_pass_a_limit(
        steps in prop::collection::vec((1i64..400_000, 0u8..4), 1..40),
        daily in 0i64..2_000_000,
        rule in 0i64..2_000_000,
    ) {
        let db = TempDb::new("prop");
        let store = Store::open(&db.path()).unwrap();
        let keys = budgets(daily, rule);
        let names: Vec<String> = keys.iter().map(|k| k.0.clone()).collect();
        let mut counting: Vec<(i64, i64)> = Vec::new();
        for (micros, fate) in steps {
            let Some(id) = reserve(&store, micros, &keys) else { continue };
            let update = Update::default();
            match fate {
                0 => store.advance(id, Status::Failed, 2, &update).unwrap(),
                1 => {
                    store.advance(id, Status::Sent, 2, &update).unwrap();
                    store.advance(id, Status::Failed, 3, &update).unwrap();
                }
                2 => {
                    store.advance(id, Status::Sent, 3, &update).unwrap();
                    store.advance(id, Status::Settled, 4, &update).unwrap();
                    counting.push((id, micros));
                }
                _ => counting.push((id, micros)),
            }
            let used = store.used(&names, true).unwrap();
            let expected: i64 = counting.iter().map(|c| c.1).sum();
            prop_assert!(used[0] <= daily && used[2] <= rule);
            prop_assert_eq!(used.clone(), vec![expected, expected, expected]);
        }
    }
}

#[test]
fn hundreds_of_concurrent_reservations_take_exactly_what_the_budget_allows() {
    let db = TempDb::new("concurrent");
    Store::open(&db.path()).unwrap();
    // $1.00 a day, 300 payments of $0.003 from 12 connections: 333 would fit, 300 do.
    // Then $0.10 of room at $0.007: 14 fit, 14.28 would be asked for.
    let path = Arc::new(db.path());
    let run = |micros: i64, tries: usize| -> usize {
        let threads: Vec<_> = (0..12)
            .map(|_| {
                let path = path.clone();
                std::thread::spawn(move || {
                    let store = Store::open(&path).unwrap();
                    (0..tries / 12)
                        .filter(|_| {
                            reserve(&store, micros, &budgets(1_000_000, i64::MAX)).is_some()
                        })
                        .count()
                })
            })
            .collect();
        threads.into_iter().map(|t| t.join().unwrap()).sum()
    };
    assert_eq!(run(3_000, 300), 300);
    assert_eq!(run(7_000, 504), 14);
    let store = Store::open(&path).unwrap();
    let used = store.used(&["global:d:2026-11-27".to_owned()], true).unwrap();
    assert_eq!(used, [300 * 3_000 + 14 * 7_000]);
    assert!(used[0] <= 1_000_000);
}

#[test]
fn a_refused_signature_reserves_nothing_and_a_restart_keeps_budgets() {
    let db = TempDb::new("restart");
    let keys = budgets(10_000, i64::MAX);
    let spending = Spending { usd_micros: 5_000, testnet: true, rule_id: None };
    {
        let store = Store::open(&db.path()).unwrap();
        let paid = reserve(&store, 4_000, &keys).unwrap();
        assert_eq!(store.payment(paid).unwrap().unwrap().status, Status::Signed);
        // The keychain said no: nothing written, nothing reserved.
        let refused = store.reserve(&new_payment(), spending, &keys, || Err("locked")).unwrap();
        assert_eq!(refused, Err("locked"));
        assert_eq!(store.used(&[keys[0].0.clone()], true).unwrap(), [4_000]);
        reserve(&store, 5_000, &keys).unwrap();
        assert_eq!(reserve(&store, 2_000, &keys), None);
    }
    let store = Store::open(&db.path()).unwrap();
    assert_eq!(store.used(&[keys[0].0.clone()], true).unwrap(), [9_000]);
    assert_eq!(reserve(&store, 2_000, &keys), None);
    assert!(reserve(&store, 1_000, &keys).is_some());
}

#[test]
fn totals_saturate_instead_of_overflowing() {
    let db = TempDb::new("saturate");
    let store = Store::open(&db.path()).unwrap();
    let unlimited = vec![("global:m:2026-11".to_owned(), None)];
    reserve(&store, i64::MAX - 5, &unlimited).unwrap();
    // SQLite's own `+` would make this total a float, and every later read would fail.
    reserve(&store, 10, &unlimited).unwrap();
    assert_eq!(store.used(&[unlimited[0].0.clone()], true).unwrap(), [i64::MAX]);
    let capped = vec![("global:m:2026-11".to_owned(), Some(i64::MAX - 1))];
    assert_eq!(reserve(&store, 1, &capped), None);
}
