//! The Purse desktop shell: one process that runs the proxy and the wallet (the same
//! [`purse_api::Service`] as `purse proxy`), lives in the system tray, and shows the main
//! window (dashboard, history, accounts, setup, settings) and the approval popup. Every
//! command is a one-line call into purse-api ([`commands`]); windows get their own
//! capabilities (`capabilities/`).

mod commands;
mod popup;
mod tray;
mod watch;
mod webkit;
mod windows;

use std::{net::SocketAddr, path::PathBuf, sync::Mutex};

use purse_api::{DataDir, Service, ServiceOptions, Wallet};
use serde::Serialize;
use tauri::{Emitter as _, Manager as _, RunEvent, WindowEvent};

/// The argument that starts the app in the tray.
const HIDDEN: &str = "--hidden";

/// What the app starts with: `--data-dir DIR` (else `PURSE_DATA_DIR`), `--hidden` (start
/// in the tray without the main window, as login autostart does), `PURSE_PROFILE`, and
/// `PURSE_LISTEN` (an address to listen on instead of config.toml's; port 0 picks one).
#[derive(Debug, Clone)]
pub struct Startup {
    data_dir: Option<PathBuf>,
    hidden: bool,
    profile: String,
    listen: Option<SocketAddr>,
}

impl Startup {
    /// Reads the arguments (after the program name) and the environment.
    pub fn from_env(args: impl Iterator<Item = String>) -> Result<Self, String> {
        let mut data_dir = std::env::var_os("PURSE_DATA_DIR").map(PathBuf::from);
        let mut hidden = false;
        let mut args = args.peekable();
        while let Some(arg) = args.next() {
            if arg == HIDDEN {
                hidden = true;
            } else if let Some(dir) = arg.strip_prefix("--data-dir=") {
                data_dir = Some(dir.into());
            } else if arg == "--data-dir" {
                data_dir = Some(args.next().ok_or("--data-dir needs a directory")?.into());
            }
        }
        let profile = std::env::var("PURSE_PROFILE").unwrap_or_else(|_| "default".into());
        let listen = match std::env::var("PURSE_LISTEN") {
            Ok(text) if !text.is_empty() => {
                Some(text.parse().map_err(|_| format!("PURSE_LISTEN={text:?} is not an address"))?)
            }
            _ => None,
        };
        Ok(Self { data_dir, hidden, profile, listen })
    }
}

/// The proxy, as the dashboard and the tray show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase", tag = "state")]
pub enum ProxyStatus {
    /// Being started.
    Starting,
    /// Serving.
    Running {
        /// Where.
        address: String,
    },
    /// It could not start (the port is taken, the keychain is locked, …).
    Failed {
        /// The failure's code.
        code: String,
        /// Why.
        message: String,
    },
}

/// What the commands share.
pub(crate) struct AppState {
    pub(crate) place: DataDir,
    pub(crate) status: Mutex<ProxyStatus>,
    service: Mutex<Option<Service>>,
}

impl AppState {
    pub(crate) fn status(&self) -> ProxyStatus {
        self.status.lock().map_or(ProxyStatus::Starting, |s| s.clone())
    }

    /// The wallet, once the service runs (and pays).
    pub(crate) fn wallet(&self) -> Option<Wallet> {
        self.service.lock().ok()?.as_ref()?.wallet().cloned()
    }

    /// The proxy's address while it runs.
    pub(crate) fn address(&self) -> Option<SocketAddr> {
        match self.status() {
            ProxyStatus::Running { address } => address.parse().ok(),
            _ => None,
        }
    }
}

/// The single-instance D-Bus name: one app per keychain profile.
fn instance_id(profile: &str) -> String {
    let safe: String =
        profile.chars().map(|c| if c.is_ascii_alphanumeric() { c } else { '_' }).collect();
    format!("app.purse.wallet.p_{safe}")
}

/// Starts the proxy and the wallet on a thread, then reports to the windows and the tray.
fn start_service(app: tauri::AppHandle, startup: &Startup, place: DataDir) {
    let mut options = ServiceOptions::new(place);
    options.listen = startup.listen;
    let spawned = std::thread::Builder::new().name("purse-start".into()).spawn(move || {
        let (status, service) = match Service::start(options) {
            Ok(service) => {
                // The app is a prompt: payments no rule allows wait for the popup.
                if let Some(wallet) = service.wallet() {
                    popup::attach(&app, wallet.approvals().clone());
                }
                let address = service.address().to_string();
                // For scripts and tests that start the app: where the proxy listens.
                println!("Purse proxy listening on http://{address}");
                (ProxyStatus::Running { address }, Some(service))
            }
            Err(error) => {
                tracing::error!("the proxy did not start: {error}");
                let status =
                    ProxyStatus::Failed { code: error.code().into(), message: error.to_string() };
                (status, None)
            }
        };
        let state = app.state::<AppState>();
        if let Ok(mut slot) = state.service.lock() {
            *slot = service;
        }
        if let Ok(mut slot) = state.status.lock() {
            *slot = status.clone();
        }
        tray::refresh(&app);
        let _ = app.emit_to(windows::MAIN, "proxy-status", status);
    });
    if let Err(error) = spawned {
        tracing::error!("cannot start the proxy's thread: {error}");
    }
}

/// Builds and runs the app until it is quit.
pub fn run(startup: Startup) -> Result<(), Box<dyn std::error::Error>> {
    let place = DataDir::resolve(startup.data_dir.clone(), &startup.profile)?;
    let state = AppState {
        place: place.clone(),
        status: Mutex::new(ProxyStatus::Starting),
        service: Mutex::new(None),
    };
    let app = tauri::Builder::default()
        // First, so that a second launch only shows this one's window.
        .plugin(
            tauri_plugin_single_instance::Builder::new()
                .dbus_id(instance_id(&startup.profile))
                .callback(|app, args, _cwd| {
                    // A second launch shows the window, unless it asks for the tray only.
                    if !args.iter().any(|arg| arg == HIDDEN) {
                        windows::show_main(app);
                    }
                })
                .build(),
        )
        .plugin(tauri_plugin_autostart::init(
            tauri_plugin_autostart::MacosLauncher::LaunchAgent,
            Some(vec![HIDDEN]),
        ))
        .plugin(tauri_plugin_dialog::init())
        .plugin(tauri_plugin_notification::init())
        .plugin(tauri_plugin_opener::init())
        .manage(state)
        .invoke_handler(commands::handler())
        .setup(move |app| {
            let handle = app.handle().clone();
            if let Err(error) = tray::create(&handle) {
                tracing::warn!("no tray icon: {error}");
            }
            // Without a tray to come back from, the window shows even with --hidden.
            if !startup.hidden || !tray::has_tray(&handle) {
                windows::show_main(&handle);
            }
            start_service(handle.clone(), &startup, place.clone());
            watch::spawn(handle.clone(), place);
            Ok(())
        })
        .on_window_event(|window, event| {
            if matches!(event, WindowEvent::CloseRequested { .. } | WindowEvent::Destroyed) {
                tracing::debug!(window = window.label(), ?event, "window closing");
            }
            // Closing the popup hides it (its payments still wait, until their timeout).
            // The main window closes; the wallet lives on in the tray until Quit.
            if let WindowEvent::CloseRequested { api, .. } = event
                && window.label() == windows::POPUP
            {
                api.prevent_close();
                let _ = window.hide();
            }
        })
        .build(tauri::generate_context!())?;
    app.run(|app, event| {
        // With no window left, WebKit's network process goes a moment after the last one.
        if let RunEvent::WindowEvent { event: WindowEvent::Destroyed, .. } = &event {
            webkit::let_network_process_go_soon(app);
        }
        // The last window closing is not Quit while there is a tray to come back from.
        if let RunEvent::ExitRequested { code: None, api, .. } = &event
            && tray::has_tray(app)
        {
            api.prevent_exit();
        }
        if let RunEvent::Exit = event {
            let state = app.state::<AppState>();
            let service = state.service.lock().ok().and_then(|mut slot| slot.take());
            if let Some(service) = service {
                service.stop();
            }
        }
    });
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn startup(args: &[&str]) -> Result<Startup, String> {
        Startup::from_env(args.iter().map(|a| a.to_string()))
    }

    #[test]
    fn hidden_starts_in_the_tray_and_the_data_dir_comes_from_the_arguments() {
        let plain = startup(&["--data-dir", "/tmp/purse-a"]).unwrap();
        assert!(!plain.hidden);
        assert_eq!(plain.data_dir.as_deref(), Some(std::path::Path::new("/tmp/purse-a")));
        let hidden = startup(&["--hidden", "--data-dir=/tmp/purse-b"]).unwrap();
        assert!(hidden.hidden);
        assert_eq!(hidden.data_dir.as_deref(), Some(std::path::Path::new("/tmp/purse-b")));
        assert!(startup(&["--data-dir"]).is_err());
    }
}
