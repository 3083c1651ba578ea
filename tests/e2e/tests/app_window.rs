//! The desktop app opens its main window, titled "Purse", with the built UI in it (on a
//! data dir, keychain profile and port of the test's own).

// Helpers outside #[test] functions fail the test loudly, as tests should.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Duration;

use purse_e2e::{Driver, Place, app_binary};

#[test]
#[ignore = "needs a display, tauri-driver and WebKitWebDriver: run through scripts/test"]
fn main_window_is_titled_purse_and_shows_the_ui() {
    // A data dir and keychain profile of its own, and a free port: never the user's.
    let place = Place::new("window").unwrap();
    let driver = Driver::start_with_env(&[
        ("PURSE_PROFILE", &place.profile),
        ("PURSE_LISTEN", "127.0.0.1:0"),
    ])
    .unwrap();
    let session = driver
        .session(&app_binary().unwrap(), &["--data-dir", place.dir.to_str().unwrap()])
        .unwrap();

    let title =
        session.wait_for(Duration::from_secs(20), |s| s.title().ok().filter(|t| !t.is_empty()));
    assert_eq!(title.as_deref(), Some("Purse"));

    let brand = session.wait_for(Duration::from_secs(20), |s| s.text(".brand").ok());
    assert_eq!(brand.as_deref(), Some("Purse"));
    let heading = session.text("h1").unwrap();
    assert_eq!(heading, "Dashboard", "the UI's script did not run");
    // First run (no account): the Dashboard welcomes and offers to make one.
    let welcome = session.wait_for(Duration::from_secs(20), |s| s.text("#welcome").ok());
    assert!(welcome.is_some_and(|w| w.contains("Create an account")), "no first-run welcome");
    if let Ok(dir) = purse_e2e::artifacts_dir() {
        let _ = session.screenshot(&dir.join("screenshots").join("welcome.png"));
    }

    // The window manager sees a top-level window named "Purse", not only a document title.
    let tree = std::process::Command::new("xwininfo").args(["-root", "-tree"]).output().unwrap();
    let tree = String::from_utf8_lossy(&tree.stdout);
    assert!(tree.contains("\"Purse\""), "no X window is named \"Purse\":\n{tree}");
    // The app goes before its data dir does.
    drop(session);
    drop(place);
}
