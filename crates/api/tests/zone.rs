//! The local calendar follows daylight saving while the wallet runs: a tray app started in
//! winter still resets its budgets at local midnight in summer.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use purse_api::{Zone, history::local_date};

/// Central European Time, as a POSIX rule (no tz database needed): UTC+1, and UTC+2 from
/// the last Sunday of March to the last Sunday of October.
const CET: &str = "CET-1CEST,M3.5.0,M10.5.0/3";

#[test]
fn the_local_zone_follows_daylight_saving() {
    if std::env::var_os("PURSE_ZONE_CHILD").is_some() {
        // In the child, under CET.
        let winter = 1_767_225_600_000; // 2026-01-01 00:00 UTC
        let summer = 1_782_864_000_000; // 2026-07-01 00:00 UTC
        assert_eq!(Zone::Local.offset_at(winter), 3600);
        assert_eq!(Zone::Local.offset_at(summer), 7200);
        // 22:30 UTC on 1 July is 00:30 on 2 July in Berlin: a new day, and a new budget.
        let late = summer + 22 * 3_600_000 + 30 * 60_000;
        assert_eq!(local_date(Zone::Local, late), "2026-07-02");
        assert_eq!(Zone::Local.at(late).utc_offset_secs, 7200);
        assert_eq!(local_date(Zone::Fixed(3600), late), "2026-07-01");
        return;
    }
    // The zone is the process's: the check runs in a child with TZ set.
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "the_local_zone_follows_daylight_saving", "--nocapture"])
        .env("PURSE_ZONE_CHILD", "1")
        .env("TZ", CET)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}
