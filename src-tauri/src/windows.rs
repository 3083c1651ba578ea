//! How the app's two web views are made, with memory in mind.
//!
//! Measured with `benches/app.sh` under Xvfb: each WebKitGTK web view in its own web
//! process costs 70-150 MiB, most of it the compositor's GL buffers and a second copy of
//! WebKit's and Mesa's private pages. So:
//!
//! - the approval popup is made hidden at start (it must be on screen within 300 ms of an
//!   ask) as a *related* view of the main window: both pages share one web process. They
//!   share nothing else: each page has its own JavaScript realm, and IPC capabilities are
//!   checked per window in this process;
//! - both views draw without hardware acceleration. A wallet's forms and tables need no
//!   GPU compositing, and it was half the main page's memory.

use tauri::{AppHandle, Manager as _, WebviewUrl, WebviewWindowBuilder};

/// The popup window's label.
pub(crate) const POPUP: &str = "popup";
/// The main window's label.
pub(crate) const MAIN: &str = "main";

fn popup_builder(app: &AppHandle) -> WebviewWindowBuilder<'_, tauri::Wry, AppHandle> {
    WebviewWindowBuilder::new(app, POPUP, WebviewUrl::App("popup.html".into()))
        .title("Purse — approve a payment")
        .inner_size(440.0, 600.0)
        .resizable(false)
        .visible(false)
        .always_on_top(true)
        .skip_taskbar(true)
        .center()
        .focused(true)
}

/// Makes the hidden popup beside the main window (declared in tauri.conf.json).
#[cfg(target_os = "linux")]
pub(crate) fn create(app: &AppHandle) {
    use webkit2gtk::{HardwareAccelerationPolicy, SettingsExt as _, WebViewExt as _};

    let Some(main) = app.get_webview_window(MAIN) else {
        tracing::error!("no main window: the popup cannot be made");
        return;
    };
    let handle = app.clone();
    let made = main.with_webview(move |webview| {
        let main_view = webview.inner();
        if let Some(settings) = main_view.settings() {
            settings.set_hardware_acceleration_policy(HardwareAccelerationPolicy::Never);
        }
        // Window creation re-enters the event loop: do it once this callback has returned.
        webkit2gtk::glib::idle_add_local_once(move || {
            let built = popup_builder(&handle).with_related_view(main_view).build();
            match built {
                Ok(popup) => {
                    let _ = popup.with_webview(|webview| {
                        if let Some(settings) = webview.inner().settings() {
                            settings.set_hardware_acceleration_policy(
                                HardwareAccelerationPolicy::Never,
                            );
                        }
                    });
                }
                Err(error) => tracing::error!("the approval popup could not be made: {error}"),
            }
        });
    });
    if let Err(error) = made {
        tracing::error!("the approval popup could not be made: {error}");
    }
}

/// Makes the hidden popup beside the main window (declared in tauri.conf.json).
#[cfg(not(target_os = "linux"))]
pub(crate) fn create(app: &AppHandle) {
    if let Err(error) = popup_builder(app).build() {
        tracing::error!("the approval popup could not be made: {error}");
    }
}
