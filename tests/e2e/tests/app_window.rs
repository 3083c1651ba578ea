//! The desktop app opens its main window, titled "Purse", with the built UI in it.

// Helpers outside #[test] functions fail the test loudly, as tests should.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Duration;

use purse_e2e::{Driver, app_binary};

#[test]
#[ignore = "needs a display, tauri-driver and WebKitWebDriver: run through scripts/test"]
fn main_window_is_titled_purse_and_shows_the_ui() {
    let driver = Driver::start().unwrap();
    let session = driver.session(&app_binary().unwrap(), &[]).unwrap();

    let title =
        session.wait_for(Duration::from_secs(20), |s| s.title().ok().filter(|t| !t.is_empty()));
    assert_eq!(title.as_deref(), Some("Purse"));

    let heading = session.wait_for(Duration::from_secs(20), |s| s.text("h1").ok());
    assert_eq!(heading.as_deref(), Some("Purse"));
    let status = session.text("#status").unwrap();
    assert!(!status.contains("Starting"), "the UI's script did not run: {status:?}");

    // The window manager sees a top-level window named "Purse", not only a document title.
    let tree = std::process::Command::new("xwininfo").args(["-root", "-tree"]).output().unwrap();
    let tree = String::from_utf8_lossy(&tree.stdout);
    assert!(tree.contains("\"Purse\""), "no X window is named \"Purse\":\n{tree}");
}
