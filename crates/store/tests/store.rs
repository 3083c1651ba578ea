//! The store on a real SQLite file: lifecycle, filters, summaries, two connections at once.

// Helpers outside #[test] functions fail the test loudly, as tests should.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::PathBuf;

use purse_store::{Error, HistoryFilter, NewPayment, Status, Store, Update};

struct TempDb(PathBuf);

impl TempDb {
    fn new(tag: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("purse-store-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
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

/// 2026-01-01T12:00:00Z, in milliseconds.
const NOON: i64 = 1_767_268_800_000;
const DAY: i64 = 86_400_000;

fn new_payment(at: i64, host: &str, amount: &str) -> NewPayment {
    NewPayment {
        at,
        client: Some("127.0.0.1:50000".into()),
        method: "GET".into(),
        url: format!("https://{host}/data"),
        host: host.into(),
        x402_version: Some(2),
        scheme: Some("exact".into()),
        network: Some("eip155:84532".into()),
        asset: Some("0x036CbD53842c5426634e7929541eC2318f3dCF7e".into()),
        amount: Some(amount.into()),
        pay_to: Some("0x209693Bc6afc0C5328bA36FaF03C514EF312287C".into()),
    }
}

fn pay(store: &Store, at: i64, host: &str, amount: &str) -> i64 {
    let id = store.record(&new_payment(at, host, amount)).unwrap();
    let signed = Update {
        decided_by: Some("policy".into()),
        payer: Some("0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266".into()),
        nonce: Some("0x01".into()),
        valid_before: Some(at / 1000 + 60),
        payload_hash: Some("0xabc".into()),
        ..Update::default()
    };
    store.advance(id, Status::Signed, at + 1, &signed).unwrap();
    store.advance(id, Status::Sent, at + 2, &Update::default()).unwrap();
    let settled =
        Update { tx_hash: Some("0xtx".into()), server_status: Some(200), ..Update::default() };
    store.advance(id, Status::Settled, at + 3, &settled).unwrap();
    id
}

#[test]
fn a_payment_walks_its_lifecycle_and_keeps_what_it_learned() {
    let db = TempDb::new("lifecycle");
    let store = Store::open(&db.path()).unwrap();
    let id = pay(&store, NOON, "api.example.com", "10000");
    store.advance(id, Status::Confirmed, NOON + 4, &Update::default()).unwrap();
    let payment = store.payment(id).unwrap().unwrap();
    assert_eq!(payment.status, Status::Confirmed);
    assert_eq!(payment.decided_by.as_deref(), Some("policy"));
    assert_eq!(payment.tx_hash.as_deref(), Some("0xtx"));
    assert_eq!(payment.server_status, Some(200));
    assert_eq!((payment.created_at, payment.updated_at), (NOON, NOON + 4));

    // Forbidden moves are refused and change nothing.
    let refused = store.advance(id, Status::Signed, NOON + 5, &Update::default()).unwrap_err();
    assert!(
        matches!(refused, Error::Transition { from: Status::Confirmed, to: Status::Signed }),
        "{refused}"
    );
    let denied = store.record(&new_payment(NOON, "api.example.com", "5")).unwrap();
    let reason = Update {
        reason_code: Some("denied".into()),
        reason: Some("the user said no".into()),
        ..Update::default()
    };
    store.advance(denied, Status::Refused, NOON + 1, &reason).unwrap();
    assert!(store.advance(denied, Status::Signed, NOON + 2, &Update::default()).is_err());
    assert!(matches!(
        store.advance(999, Status::Signed, 0, &Update::default()),
        Err(Error::NotFound(999))
    ));
}

#[test]
fn open_payments_survive_a_restart() {
    let db = TempDb::new("restart");
    let signed_id;
    {
        let store = Store::open(&db.path()).unwrap();
        signed_id = store.record(&new_payment(NOON, "a.example", "1")).unwrap();
        store
            .advance(
                signed_id,
                Status::Signed,
                NOON,
                &Update { nonce: Some("0x02".into()), ..Update::default() },
            )
            .unwrap();
        pay(&store, NOON, "b.example", "2");
        let done = pay(&store, NOON, "c.example", "3");
        store.advance(done, Status::Confirmed, NOON + 9, &Update::default()).unwrap();
    }
    let store = Store::open(&db.path()).unwrap();
    let open: Vec<(String, Status)> =
        store.open_payments().unwrap().into_iter().map(|p| (p.host, p.status)).collect();
    assert_eq!(
        open,
        vec![("a.example".into(), Status::Signed), ("b.example".into(), Status::Settled)]
    );
    // A maybe-paid payment is reconciled, never dropped.
    store.advance(signed_id, Status::Unsure, NOON + 10, &Update::default()).unwrap();
    store
        .advance(
            signed_id,
            Status::Confirmed,
            NOON + 11,
            &Update { tx_hash: Some("0xfound".into()), ..Update::default() },
        )
        .unwrap();
}

#[test]
fn history_filters_and_pages_newest_first() {
    let db = TempDb::new("filters");
    let store = Store::open(&db.path()).unwrap();
    for day in 0..5 {
        pay(&store, NOON + day * DAY, "api.example.com", "10000");
        store.record(&new_payment(NOON + day * DAY + 1000, "other.example", "1")).unwrap();
    }
    let all = store.history(&HistoryFilter::default()).unwrap();
    assert_eq!(all.len(), 10);
    assert!(all.windows(2).all(|w| w[0].created_at >= w[1].created_at), "newest first");

    let host = HistoryFilter { host: Some("API.example.com".into()), ..HistoryFilter::default() };
    assert_eq!(store.history(&host).unwrap().len(), 5);
    let requested = HistoryFilter { status: Some(Status::Requested), ..HistoryFilter::default() };
    assert!(store.history(&requested).unwrap().iter().all(|p| p.host == "other.example"));
    let page = HistoryFilter { limit: Some(3), offset: Some(3), ..HistoryFilter::default() };
    assert_eq!(store.history(&page).unwrap(), all[3..6].to_vec());
    assert_eq!(store.count(&page).unwrap(), 10, "a count ignores the page");

    // A network under any of its names; a search over the text columns, ASCII case ignored,
    // never across two columns.
    let mut mainnet = new_payment(NOON, "main.example", "5");
    mainnet.network = Some("base".into());
    store.record(&mainnet).unwrap();
    let sepolia = HistoryFilter {
        networks: vec!["eip155:84532".into(), "base-sepolia".into()],
        ..HistoryFilter::default()
    };
    assert_eq!(store.count(&sepolia).unwrap(), 10);
    let base = HistoryFilter {
        networks: vec!["eip155:8453".into(), "base".into()],
        ..HistoryFilter::default()
    };
    assert_eq!(store.history(&base).unwrap()[0].host, "main.example");
    let search = |text: &str| {
        let filter = HistoryFilter { search: Some(text.into()), ..HistoryFilter::default() };
        store.count(&filter).unwrap()
    };
    assert_eq!(search("OTHER.example/DATA"), 5);
    assert_eq!(search("0x209693bc6afc"), 11);
    assert_eq!(search("0xtx"), 5);
    assert_eq!(search("requested"), 6);
    assert_eq!(search("datamain"), 0);
    assert_eq!(search("nowhere"), 0);
    let both = HistoryFilter {
        search: Some("example".into()),
        networks: vec!["base".into()],
        ..HistoryFilter::default()
    };
    assert_eq!(store.count(&both).unwrap(), 1);

    // Dates are local days; in UTC (what TZ the test runs in doesn't change the count of a
    // full-day window around noon).
    let window = HistoryFilter {
        since: Some("2026-01-02".into()),
        until: Some("2026-01-03".into()),
        ..HistoryFilter::default()
    };
    assert_eq!(store.history(&window).unwrap().len(), 4);
    let bad = HistoryFilter { since: Some("yesterday".into()), ..HistoryFilter::default() };
    assert!(matches!(store.history(&bad), Err(Error::Filter(_))));
}

#[test]
fn summaries_add_paid_amounts_per_day_host_and_network() {
    let db = TempDb::new("summary");
    let store = Store::open(&db.path()).unwrap();
    pay(&store, NOON, "a.example", "10000");
    pay(&store, NOON + 60_000, "a.example", "2500");
    pay(&store, NOON + DAY, "b.example", "1");
    store.record(&new_payment(NOON, "a.example", "999999")).unwrap();
    let summary = store.summary(&HistoryFilter::default()).unwrap();
    let a = summary.per_host.iter().find(|r| r.key == "a.example").unwrap();
    assert_eq!((a.attempts, a.paid, a.total.as_str()), (3, 2, "12500"));
    assert_eq!(summary.per_network.len(), 1);
    assert_eq!(summary.per_network[0].total, "12501");
    assert_eq!(summary.per_day.len(), 2);
    assert!(summary.per_day[0].key > summary.per_day[1].key, "newest day first");
}

#[test]
fn two_connections_share_the_file_and_see_each_others_writes() {
    let db = TempDb::new("shared");
    let app = Store::open(&db.path()).unwrap();
    let cli = Store::open(&db.path()).unwrap();
    let before = app.data_version().unwrap();
    pay(&cli, NOON, "a.example", "1");
    assert_ne!(app.data_version().unwrap(), before, "the app notices the CLI's write");
    assert_eq!(app.history(&HistoryFilter::default()).unwrap().len(), 1);
}

#[test]
fn accounts_keep_one_default() {
    use purse_store::KeyStorage;
    let db = TempDb::new("accounts");
    let store = Store::open(&db.path()).unwrap();
    assert_eq!(store.default_account().unwrap(), None);
    store
        .add_account(
            "0xAaA0000000000000000000000000000000000001",
            Some("main"),
            &KeyStorage::Keychain,
            1,
        )
        .unwrap();
    store
        .add_account(
            "0xBbB0000000000000000000000000000000000002",
            None,
            &KeyStorage::Keystore("/k.json".into()),
            2,
        )
        .unwrap();
    assert!(
        store
            .add_account(
                "0xaaa0000000000000000000000000000000000001",
                None,
                &KeyStorage::Keychain,
                3
            )
            .is_err()
            || store.accounts().unwrap().len() == 3
    );
    let first = store.default_account().unwrap().unwrap();
    assert_eq!(
        (first.address.as_str(), first.label.as_deref()),
        ("0xAaA0000000000000000000000000000000000001", Some("main"))
    );

    store.set_default_account("0xbbb0000000000000000000000000000000000002").unwrap();
    let accounts = store.accounts().unwrap();
    assert_eq!(accounts.iter().filter(|a| a.is_default).count(), 1);
    assert_eq!(accounts[0].storage, KeyStorage::Keystore("/k.json".into()));

    store.remove_account("0xBbB0000000000000000000000000000000000002").unwrap();
    assert_eq!(
        store.default_account().unwrap().unwrap().address,
        "0xAaA0000000000000000000000000000000000001"
    );
    assert!(store.set_default_account("0xCcC0000000000000000000000000000000000003").is_err());
}

#[test]
fn a_decided_payment_is_one_insert() {
    let db = TempDb::new("insert");
    let store = Store::open(&db.path()).unwrap();
    let signed = Update {
        decided_by: Some("policy".into()),
        payer: Some("0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266".into()),
        nonce: Some("0x01".into()),
        valid_before: Some(NOON / 1000 + 60),
        payload_hash: Some("0xabc".into()),
        ..Update::default()
    };
    let paid = store.insert(&new_payment(NOON, "a.example", "10000"), Status::Signed, &signed);
    let paid = paid.unwrap();
    assert_eq!(store.payment(paid).unwrap().unwrap().nonce.as_deref(), Some("0x01"));
    let refusal = Update { reason_code: Some("over-limit".into()), ..Update::default() };
    let refused =
        store.insert(&new_payment(NOON, "a.example", "900000"), Status::Refused, &refusal).unwrap();
    assert_eq!(store.payment(refused).unwrap().unwrap().status, Status::Refused);
    assert!(store.insert(&new_payment(NOON, "a", "1"), Status::Settled, &signed).is_err());
    let yesterday = store.insert(&new_payment(NOON - DAY, "a", "7"), Status::Signed, &signed);
    assert!(yesterday.is_ok());

    store.advance(paid, Status::Failed, NOON + 1, &Update::default()).unwrap();
    assert_eq!(store.payment(paid).unwrap().unwrap().status, Status::Failed);
}
