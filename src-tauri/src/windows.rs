//! The app's two windows, made when they are needed and gone when they are not.
//!
//! Each WebKitGTK web view runs in a web process of its own, about 105 MiB (PSS, under
//! Xvfb, `benches/app.sh`) however small its page, beside 64 MiB for the whole wallet in
//! the tray. A wallet spends most of its life in the tray, so a window that is not on
//! screen does not exist:
//!
//! - the main window is made at launch (not with `--hidden`, which login autostart uses)
//!   and from the tray's Open; closing it, when there is a tray to come back from,
//!   destroys it and its web process;
//! - the approval popup is made when a payment asks and shown once its page has loaded;
//!   it is kept, hidden, for [`POPUP_KEPT`] after its queue empties, so a burst of
//!   payments shows it at once, then destroyed;
//! - once neither is left, WebKit's network process goes too ([`crate::webkit`]).
//!
//! Both are declared in `tauri.conf.json` with `"create": false` and built from there.

use tauri::{AppHandle, Manager as _, WebviewWindow, WebviewWindowBuilder, webview::PageLoadEvent};

/// The main window's label.
pub(crate) const MAIN: &str = "main";
/// The approval popup's label.
pub(crate) const POPUP: &str = "popup";

/// How long a hidden popup is kept before its web process is let go.
pub(crate) const POPUP_KEPT: std::time::Duration = std::time::Duration::from_secs(60);

/// The builder for a window declared in tauri.conf.json.
fn declared<'a>(
    app: &'a AppHandle,
    label: &str,
) -> tauri::Result<WebviewWindowBuilder<'a, tauri::Wry, AppHandle>> {
    let config = app
        .config()
        .app
        .windows
        .iter()
        .find(|w| w.label == label)
        .ok_or_else(|| tauri::Error::WindowNotFound)?;
    WebviewWindowBuilder::from_config(app, config)
}

/// Shows the main window, making it if it is gone, and brings it to the front. On the main
/// thread, so that two callers (the tray, a second launch) cannot both make one.
pub(crate) fn show_main(app: &AppHandle) {
    let handle = app.clone();
    if let Err(error) = app.run_on_main_thread(move || show_main_here(&handle)) {
        tracing::error!("the main window could not be shown: {error}");
    }
}

fn show_main_here(app: &AppHandle) {
    if let Some(window) = app.get_webview_window(MAIN) {
        let _ = window.unminimize();
        let _ = window.show();
        let _ = window.set_focus();
    } else if let Err(error) = declared(app, MAIN).and_then(|b| b.build()) {
        tracing::error!("the main window could not be made: {error}");
    }
}

/// The popup if it exists, else makes it hidden; `on_loaded` runs on the new popup once
/// its page has loaded (the page asks for the queue as it starts). On the main thread and
/// waiting for it, so that a popup is registered as soon as it is made
/// ([`crate::webkit`] relies on that).
pub(crate) fn popup(
    app: &AppHandle,
    on_loaded: impl Fn(&WebviewWindow) + Send + Sync + 'static,
) -> tauri::Result<Option<WebviewWindow>> {
    let (made, outcome) = std::sync::mpsc::channel();
    let handle = app.clone();
    app.run_on_main_thread(move || {
        let _ = made.send(popup_here(&handle, on_loaded));
    })?;
    outcome.recv().map_err(|_| tauri::Error::FailedToReceiveMessage)?
}

fn popup_here(
    app: &AppHandle,
    on_loaded: impl Fn(&WebviewWindow) + Send + Sync + 'static,
) -> tauri::Result<Option<WebviewWindow>> {
    if let Some(window) = app.get_webview_window(POPUP) {
        return Ok(Some(window));
    }
    declared(app, POPUP)?
        .visible(false)
        .on_page_load(move |window, payload| {
            if payload.event() == PageLoadEvent::Finished {
                on_loaded(&window);
            }
        })
        .build()?;
    Ok(None)
}
