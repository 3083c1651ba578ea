//! The schema, one additive step at a time; `PRAGMA user_version` says how far a file is.

use rusqlite::{Connection, TransactionBehavior};

/// Each entry moves the schema from version `i` to `i + 1`. Never edit or reorder an entry;
/// only append, and only add (tables, nullable columns, indexes), drop an index, or correct
/// values an older Purse wrote, so that an older Purse still reads a newer file. (An older
/// Purse that writes to the file afterwards writes as it did; a correction runs once.)
const MIGRATIONS: &[&str] = &[
    // 1: payment attempts.
    "CREATE TABLE payments (
        id            INTEGER PRIMARY KEY,
        created_at    INTEGER NOT NULL,
        updated_at    INTEGER NOT NULL,
        status        TEXT NOT NULL CHECK (status IN
                        ('requested','refused','signed','sent','settled','confirmed','failed','unsure')),
        decided_by    TEXT,
        client        TEXT,
        method        TEXT NOT NULL,
        url           TEXT NOT NULL,
        host          TEXT NOT NULL,
        x402_version  INTEGER,
        scheme        TEXT,
        network       TEXT,
        asset         TEXT,
        amount        TEXT,
        pay_to        TEXT,
        payer         TEXT,
        nonce         TEXT,
        valid_before  INTEGER,
        payload_hash  TEXT,
        tx_hash       TEXT,
        server_status INTEGER,
        reason_code   TEXT,
        reason        TEXT
    );
    CREATE INDEX payments_by_time ON payments (created_at);
    CREATE INDEX payments_by_host ON payments (host, created_at);
    CREATE INDEX payments_by_status ON payments (status);",
    // 2: payer accounts' public data (keys live in the keychain or a keystore file).
    "CREATE TABLE accounts (
        address       TEXT PRIMARY KEY,
        label         TEXT,
        is_default    INTEGER NOT NULL DEFAULT 0,
        storage       TEXT NOT NULL CHECK (storage IN ('keychain','keystore')),
        keystore_path TEXT,
        created_at    INTEGER NOT NULL
    );
    CREATE UNIQUE INDEX accounts_one_default ON accounts (is_default) WHERE is_default = 1;",
    // 3: rules, budgets (running totals per window, so that a reservation is one lookup),
    // the control settings (pause, global caps), and what each payment counted against.
    "ALTER TABLE payments ADD COLUMN usd_micros INTEGER;
    ALTER TABLE payments ADD COLUMN testnet INTEGER;
    ALTER TABLE payments ADD COLUMN rule_id INTEGER;
    ALTER TABLE payments ADD COLUMN budget_keys TEXT;
    CREATE INDEX payments_by_host_pay_to ON payments (host, pay_to);
    CREATE TABLE rules (
        id              INTEGER PRIMARY KEY,
        host            TEXT NOT NULL,
        path_prefix     TEXT,
        network         TEXT,
        asset           TEXT,
        pay_to          TEXT,
        action          TEXT NOT NULL CHECK (action IN ('allow','ask','deny')),
        max_per_payment INTEGER,
        daily           INTEGER,
        weekly          INTEGER,
        monthly         INTEGER,
        total           INTEGER,
        created_at      INTEGER NOT NULL
    );
    CREATE TABLE settings (
        key   TEXT PRIMARY KEY,
        value TEXT NOT NULL
    );
    CREATE TABLE spend (
        key     TEXT NOT NULL,
        testnet INTEGER NOT NULL,
        micros  INTEGER NOT NULL,
        PRIMARY KEY (key, testnet)
    );",
    // 4: the payments that were paid, by site and payee: "was this site paid, and to whom"
    // without reading the site's whole history.
    "CREATE INDEX payments_paid ON payments (host, pay_to COLLATE NOCASE)
        WHERE status IN ('settled','confirmed');",
    // 5: payments_paid answers what payments_by_host_pay_to did; one index fewer to write
    // with every payment.
    "DROP INDEX IF EXISTS payments_by_host_pay_to;",
    // 6: asked payments left unpaid were all recorded as decided by the user; a prompt left
    // to time out, and one no one could be asked about, say so now (an approved payment is
    // refused only over a budget or for the key or the history, so these codes never came
    // from an approval). A deny rule's refusal names its rule.
    "UPDATE payments SET decided_by = 'timeout'
        WHERE decided_by = 'user' AND status = 'refused' AND reason_code = 'timeout';
     UPDATE payments SET decided_by = 'policy'
        WHERE decided_by = 'user' AND status = 'refused'
          AND (reason LIKE '%no one could be asked' OR reason_code IN ('unsupported', 'over-limit'));
     UPDATE payments SET decided_by = substr(reason, 1, instr(reason, ' denies ') - 1)
        WHERE decided_by IS NULL AND status = 'refused' AND reason_code = 'denied'
          AND reason GLOB 'rule [0-9]* denies *';",
    // 7: a rule's id is never given to another: budgets are kept by rule id, and a
    // payment names the rule that decided it. Ids used by a rule or a payment so far are
    // skipped too.
    "CREATE TABLE rules_kept (
        id              INTEGER PRIMARY KEY AUTOINCREMENT,
        host            TEXT NOT NULL,
        path_prefix     TEXT,
        network         TEXT,
        asset           TEXT,
        pay_to          TEXT,
        action          TEXT NOT NULL CHECK (action IN ('allow','ask','deny')),
        max_per_payment INTEGER,
        daily           INTEGER,
        weekly          INTEGER,
        monthly         INTEGER,
        total           INTEGER,
        created_at      INTEGER NOT NULL
    );
    INSERT INTO rules_kept SELECT * FROM rules;
    DROP TABLE rules;
    ALTER TABLE rules_kept RENAME TO rules;
    DELETE FROM sqlite_sequence WHERE name IN ('rules', 'rules_kept');
    INSERT INTO sqlite_sequence (name, seq)
        SELECT 'rules', max(coalesce((SELECT max(id) FROM rules), 0),
                            coalesce((SELECT max(rule_id) FROM payments), 0));",
];

fn version(conn: &Connection) -> rusqlite::Result<i64> {
    conn.query_row("PRAGMA user_version", [], |row| row.get(0))
}

/// Brings the schema up to date, in one transaction per step.
pub(crate) fn run(conn: &mut Connection) -> rusqlite::Result<()> {
    // A newer Purse may have gone further: its additions are left alone.
    let done = usize::try_from(version(conn)?).unwrap_or(0);
    for (step, sql) in (1i64..).zip(MIGRATIONS).skip(done) {
        // Another connection may be migrating the same file (the app's commands at once,
        // `purse` beside the app): each step is taken under the write lock, after checking
        // again that no one took it meanwhile.
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        if version(&tx)? >= step {
            continue;
        }
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", step)?;
        tx.commit()?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migrations_run_once_and_a_newer_file_still_opens() {
        let mut conn = Connection::open_in_memory().unwrap();
        run(&mut conn).unwrap();
        run(&mut conn).unwrap();
        let version: i64 = conn.query_row("PRAGMA user_version", [], |row| row.get(0)).unwrap();
        assert_eq!(version, MIGRATIONS.len() as i64);
        // A later Purse added a table and bumped the version.
        conn.execute_batch("CREATE TABLE later (x); PRAGMA user_version = 99;").unwrap();
        run(&mut conn).unwrap();
        conn.execute(
            "INSERT INTO payments (created_at, updated_at, status, method, url, host)
                      VALUES (1, 1, 'requested', 'GET', 'http://a/', 'a')",
            [],
        )
        .unwrap();
    }

    #[test]
    fn a_rule_id_is_never_given_again() {
        let mut conn = Connection::open_in_memory().unwrap();
        run(&mut conn).unwrap();
        // A file from before step 7: rules 1 and 2, rule 3 deleted but named by a payment.
        conn.execute_batch("PRAGMA user_version = 6;").unwrap();
        conn.execute_batch(
            "DROP TABLE rules;
             CREATE TABLE rules (
                id INTEGER PRIMARY KEY, host TEXT NOT NULL, path_prefix TEXT, network TEXT,
                asset TEXT, pay_to TEXT,
                action TEXT NOT NULL CHECK (action IN ('allow','ask','deny')),
                max_per_payment INTEGER, daily INTEGER, weekly INTEGER, monthly INTEGER,
                total INTEGER, created_at INTEGER NOT NULL);
             INSERT INTO rules (id, host, action, daily, created_at)
                VALUES (1, 'a', 'allow', 5, 1), (2, 'b', 'deny', NULL, 2);
             INSERT INTO payments (created_at, updated_at, status, method, url, host, rule_id)
                VALUES (1, 1, 'refused', 'GET', 'http://c/', 'c', 3);",
        )
        .unwrap();
        run(&mut conn).unwrap();
        let kept: Vec<(i64, String, Option<i64>)> = conn
            .prepare("SELECT id, host, daily FROM rules ORDER BY id")
            .unwrap()
            .query_map([], |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)))
            .unwrap()
            .map(Result::unwrap)
            .collect();
        assert_eq!(kept, [(1, "a".into(), Some(5)), (2, "b".into(), None)]);
        let add = |conn: &Connection| {
            conn.execute("INSERT INTO rules (host, action, created_at) VALUES ('d', 'ask', 3)", [])
                .unwrap();
            conn.last_insert_rowid()
        };
        assert_eq!(add(&conn), 4);
        conn.execute("DELETE FROM rules WHERE id = 4", []).unwrap();
        assert_eq!(add(&conn), 5);
    }

    #[test]
    fn connections_opening_a_new_file_at_once_migrate_it_once() {
        let dir = std::env::temp_dir().join(format!("purse-migrate-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        for round in 0..10 {
            let path = dir.join(format!("purse-{round}.db"));
            let start = std::sync::Arc::new(std::sync::Barrier::new(4));
            let opened: Vec<_> = (0..4)
                .map(|_| {
                    let (path, start) = (path.clone(), start.clone());
                    std::thread::spawn(move || {
                        start.wait();
                        crate::Store::open(&path).map(|_| ())
                    })
                })
                .collect();
            for open in opened {
                open.join().unwrap().unwrap();
            }
        }
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn asked_payments_left_unpaid_get_who_left_them() {
        let mut conn = Connection::open_in_memory().unwrap();
        run(&mut conn).unwrap();
        // Rows as a Purse before step 6 wrote them.
        conn.execute_batch("PRAGMA user_version = 5;").unwrap();
        for (decided_by, reason_code, reason) in [
            (Some("user"), "timeout", "no answer within 60 s"),
            (Some("user"), "denied", "no rule allows a, and no one could be asked"),
            (Some("user"), "over-limit", "$2.00 is above rule 1's maximum of $1.00"),
            (Some("user"), "denied", "you declined this payment"),
            (Some("user"), "budget", "$0.04 would pass the global cap today"),
            (None, "denied", "rule 12 denies a"),
            (None, "paused", "Purse is paused: nothing is paid until it resumes"),
        ] {
            conn.execute(
                "INSERT INTO payments (created_at, updated_at, status, decided_by, method, url,
                                       host, reason_code, reason)
                 VALUES (1, 1, 'refused', ?1, 'GET', 'http://a/', 'a', ?2, ?3)",
                rusqlite::params![decided_by, reason_code, reason],
            )
            .unwrap();
        }
        run(&mut conn).unwrap();
        let mut query = conn.prepare("SELECT decided_by FROM payments ORDER BY id").unwrap();
        let deciders: Vec<Option<String>> =
            query.query_map([], |row| row.get(0)).unwrap().map(Result::unwrap).collect();
        let expected = [
            Some("timeout"),
            Some("policy"),
            Some("policy"),
            Some("user"),
            Some("user"),
            Some("rule 12"),
            None,
        ];
        assert_eq!(deciders, expected.map(|d| d.map(str::to_owned)));
    }
}
