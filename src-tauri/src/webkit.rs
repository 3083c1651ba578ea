//! WebKitGTK's network process, let go once no window is left.
//!
//! Every page WebKitGTK shows loads through one network process, which WebKit starts with
//! the first page and keeps for as long as the app's web context lives: for the app's
//! whole life, since wry never lets its context go (tauri-apps/tauri#14626). A wallet
//! that spends its days in the tray would carry it, 60 MiB RSS (35 MiB PSS), for a popup
//! it showed once in the morning (`benches/app.sh`).
//!
//! So a moment after the last window is gone, the app ends it (SIGTERM). WebKit takes that
//! as a crash of a process no page uses, and starts a new one with the next page. Whether a
//! window is left is checked, and the signal sent, on the main thread, where windows are
//! made ([`crate::windows`]), so no page can be loading through it meanwhile. The app's
//! pages keep nothing in WebKit's storage (no cookies, local storage or caches).
//!
//! WebKitWebDriver ends its session when the network process ends, so the tests that drive
//! the app keep a window open; `tests/e2e/tests/app_idle.rs` checks this without WebDriver.

use std::{path::Path, time::Duration};

use tauri::{AppHandle, Manager as _};

/// The network process's program, as WebKitGTK installs it.
const NETWORK_PROCESS: &str = "WebKitNetworkProcess";

/// How long after a window is gone the network process is let go: WebKit closes the
/// window's page in the meantime (ending its network process while the page closes is,
/// to WebKit, a page that crashed).
const AFTER_THE_LAST_PAGE: Duration = Duration::from_secs(2);

/// Ends WebKit's network process [`AFTER_THE_LAST_PAGE`] from now, if no window is left
/// by then.
pub(crate) fn let_network_process_go_soon(app: &AppHandle) {
    let app = app.clone();
    let spawned = std::thread::Builder::new().name("purse-webkit".into()).spawn(move || {
        std::thread::sleep(AFTER_THE_LAST_PAGE);
        let handle = app.clone();
        let _ = app.run_on_main_thread(move || let_network_process_go(&handle));
    });
    if let Err(error) = spawned {
        tracing::debug!("WebKit's network process stays: {error}");
    }
}

/// Ends WebKit's network process if no window is left. On the main thread.
fn let_network_process_go(app: &AppHandle) {
    if !app.webview_windows().is_empty() {
        return;
    }
    for pid in children_running(Path::new("/proc"), std::process::id(), NETWORK_PROCESS) {
        match end(pid) {
            Ok(()) => tracing::debug!(pid, "WebKit's network process let go: no window is left"),
            Err(error) => tracing::debug!(pid, "WebKit's network process stays: {error}"),
        }
    }
}

#[cfg(target_os = "linux")]
fn end(pid: u32) -> std::io::Result<()> {
    use rustix::process::{Pid, Signal, kill_process};
    let pid =
        i32::try_from(pid).ok().and_then(Pid::from_raw).ok_or(std::io::ErrorKind::InvalidInput)?;
    Ok(kill_process(pid, Signal::TERM)?)
}

#[cfg(not(target_os = "linux"))]
fn end(_pid: u32) -> std::io::Result<()> {
    Err(std::io::ErrorKind::Unsupported.into())
}

/// The children of `parent` that run `program`, found in a procfs at `proc`.
///
/// Only a child: WebKit waits for its children, so a child's pid cannot be another
/// process's until WebKit has seen it end.
fn children_running(proc: &Path, parent: u32, program: &str) -> Vec<u32> {
    let Ok(entries) = std::fs::read_dir(proc) else { return Vec::new() };
    entries
        .filter_map(|entry| {
            let entry = entry.ok()?;
            let pid: u32 = entry.file_name().to_str()?.parse().ok()?;
            let stat = std::fs::read_to_string(entry.path().join("stat")).ok()?;
            (parent_in_stat(&stat)? == parent).then_some(())?;
            let exe = std::fs::read_link(entry.path().join("exe")).ok()?;
            (exe.file_name()? == program).then_some(pid)
        })
        .collect()
}

/// The parent pid in a `/proc/PID/stat` line: the second field after the program name,
/// which is in parentheses and may itself hold spaces and parentheses.
fn parent_in_stat(stat: &str) -> Option<u32> {
    let (_, rest) = stat.rsplit_once(')')?;
    rest.split_whitespace().nth(1)?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_parent_is_read_past_a_program_name_with_spaces_and_parentheses() {
        assert_eq!(parent_in_stat("4242 (WebKitNetworkPr) S 4200 4200 4200 0 -1"), Some(4200));
        assert_eq!(parent_in_stat("7 (a) (b c) R 1 7 7 0 -1"), Some(1));
        assert_eq!(parent_in_stat("7 (cut"), None);
        assert_eq!(parent_in_stat("7 (x) S"), None);
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn only_the_children_running_the_program_are_found() {
        // This test's own children, in the real procfs: two `sleep`s and a `true` that
        // ended (a zombie until waited for, with no program left to read).
        let mut sleeps: Vec<_> = (0..2)
            .map(|_| std::process::Command::new("sleep").arg("30").spawn().unwrap())
            .collect();
        let mut ended = std::process::Command::new("true").spawn().unwrap();
        std::thread::sleep(Duration::from_millis(200));
        let mut found = children_running(Path::new("/proc"), std::process::id(), "sleep");
        found.sort_unstable();
        let mut expected: Vec<u32> = sleeps.iter().map(|child| child.id()).collect();
        expected.sort_unstable();
        assert_eq!(found, expected);
        assert!(children_running(Path::new("/proc"), std::process::id(), "true").is_empty());
        // Not another process's children: pid 1 has no child of ours.
        assert!(
            children_running(Path::new("/proc"), 1, "sleep").iter().all(|p| !expected.contains(p))
        );
        for child in &mut sleeps {
            child.kill().unwrap();
            child.wait().unwrap();
        }
        ended.wait().unwrap();
    }
}
