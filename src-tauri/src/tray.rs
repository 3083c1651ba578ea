//! The tray icon: the proxy's state (active or paused), today's spend, and open, pause /
//! resume, quit. Pausing writes `purse.db`, so `purse pause` and the app agree.

use purse_api::{DataDir, Failure};
use tauri::{
    AppHandle, Emitter as _, Manager as _,
    menu::{Menu, MenuItem, PredefinedMenuItem},
    tray::TrayIconBuilder,
};

use crate::{AppState, ProxyStatus};

/// The menu items whose text changes.
struct TrayItems {
    state: MenuItem<tauri::Wry>,
    spend: MenuItem<tauri::Wry>,
    pause: MenuItem<tauri::Wry>,
}

/// Pauses or resumes paying, then tells the tray and the main window (`paused-changed`).
pub(crate) fn set_paused(app: &AppHandle, place: &DataDir, paused: bool) -> Result<bool, Failure> {
    let paused = purse_api::rules::set_paused(place, paused)?;
    refresh(app);
    let _ = app.emit_to(crate::windows::MAIN, "paused-changed", paused);
    Ok(paused)
}

/// Whether the tray icon was made (on Linux a tray host may still be missing).
pub(crate) fn has_tray(app: &AppHandle) -> bool {
    app.try_state::<TrayItems>().is_some()
}

/// Makes the tray icon and its menu.
pub(crate) fn create(app: &AppHandle) -> tauri::Result<()> {
    let state = MenuItem::with_id(app, "state", "Purse: starting…", false, None::<&str>)?;
    let spend = MenuItem::with_id(app, "spend", "Today: $0.00", false, None::<&str>)?;
    let open = MenuItem::with_id(app, "open", "Open Purse", true, None::<&str>)?;
    let pause = MenuItem::with_id(app, "pause", "Pause payments", true, None::<&str>)?;
    let quit = MenuItem::with_id(app, "quit", "Quit Purse", true, None::<&str>)?;
    let menu = Menu::with_items(
        app,
        &[
            &state,
            &spend,
            &PredefinedMenuItem::separator(app)?,
            &open,
            &pause,
            &PredefinedMenuItem::separator(app)?,
            &quit,
        ],
    )?;
    let mut tray = TrayIconBuilder::with_id("purse").tooltip("Purse").menu(&menu).on_menu_event(
        |app, event| match event.id().as_ref() {
            "open" => crate::windows::show_main(app),
            "pause" => {
                let place = app.state::<AppState>().place.clone();
                let paused = purse_api::rules::paused(&place).unwrap_or(false);
                if let Err(error) = set_paused(app, &place, !paused) {
                    tracing::warn!("cannot pause or resume: {error}");
                }
            }
            "quit" => app.exit(0),
            _ => {}
        },
    );
    if let Some(icon) = app.default_window_icon() {
        tray = tray.icon(icon.clone());
    }
    tray.build(app)?;
    app.manage(TrayItems { state, spend, pause });
    refresh(app);
    Ok(())
}

/// Sets the state and today's spend in the menu.
pub(crate) fn refresh(app: &AppHandle) {
    let Some(items) = app.try_state::<TrayItems>() else { return };
    let state = app.state::<AppState>();
    let paused = purse_api::rules::paused(&state.place).unwrap_or(false);
    let _ = items.pause.set_text(if paused { "Resume payments" } else { "Pause payments" });
    let text = match state.status() {
        ProxyStatus::Starting => "Purse: starting…".to_owned(),
        ProxyStatus::Running { address } if paused => format!("Purse: paused on {address}"),
        ProxyStatus::Running { address } => format!("Purse: active on {address}"),
        ProxyStatus::Failed { code, .. } => format!("Purse: stopped ({code})"),
    };
    let _ = items.state.set_text(text);
    let now = purse_api::now_ms();
    let spend = purse_api::history::spend(&state.place, state.utc_offset_secs, now);
    if let Ok(spend) = spend {
        let mut text = format!("Today: ${}", spend.day.mainnet_usd);
        if spend.day.testnet_usd != "0.00" {
            text.push_str(&format!(" · testnet ${}", spend.day.testnet_usd));
        }
        let _ = items.spend.set_text(text);
    }
}
