//! The tray icon: the proxy's state (active or paused, the icon greyed while paused),
//! today's spend, and open, pause / resume, quit. Pausing writes `purse.db`, so
//! `purse pause` and the app agree.

use purse_api::{DataDir, Failure};
use tauri::{
    AppHandle, Emitter as _, Manager as _,
    image::Image,
    menu::{Menu, MenuItem, PredefinedMenuItem},
    tray::{TrayIcon, TrayIconBuilder},
};

use crate::{AppState, ProxyStatus};

/// The tray icon and the menu items whose text changes.
struct TrayItems {
    icon: TrayIcon<tauri::Wry>,
    state: MenuItem<tauri::Wry>,
    spend: MenuItem<tauri::Wry>,
    pause: MenuItem<tauri::Wry>,
    /// The app's icon, and the same in grey for while paying is paused.
    looks: Option<(Image<'static>, Image<'static>)>,
    /// Whether the grey one is shown (setting an icon writes it to a file on Linux, so it
    /// is set only when this changes).
    greyed: std::sync::Mutex<bool>,
}

/// `icon` in grey, its transparency kept.
fn greyed(icon: &Image<'_>) -> Image<'static> {
    let mut rgba = icon.rgba().to_vec();
    for pixel in rgba.chunks_exact_mut(4) {
        let [r, g, b] = [pixel[0], pixel[1], pixel[2]].map(u32::from);
        // Luma, lightened towards the middle so that it reads as "off" on dark and light bars.
        let luma = (r * 299 + g * 587 + b * 114) / 1000;
        let grey = u8::try_from((luma + 128) / 2).unwrap_or(u8::MAX);
        pixel[..3].fill(grey);
    }
    Image::new_owned(rgba, icon.width(), icon.height())
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
    let looks = app.default_window_icon().map(|icon| (icon.clone().to_owned(), greyed(icon)));
    if let Some((active, _)) = &looks {
        tray = tray.icon(active.clone());
    }
    let icon = tray.build(app)?;
    app.manage(TrayItems { icon, state, spend, pause, looks, greyed: false.into() });
    refresh(app);
    Ok(())
}

/// Sets the state and today's spend in the menu and the tooltip, and greys the icon while
/// paused.
pub(crate) fn refresh(app: &AppHandle) {
    let Some(items) = app.try_state::<TrayItems>() else { return };
    let state = app.state::<AppState>();
    let paused = purse_api::rules::paused(&state.place).unwrap_or(false);
    let _ = items.pause.set_text(if paused { "Resume payments" } else { "Pause payments" });
    let status = match state.status() {
        ProxyStatus::Starting => "Purse: starting…".to_owned(),
        ProxyStatus::Running { address } if paused => format!("Purse: paused on {address}"),
        ProxyStatus::Running { address } => format!("Purse: active on {address}"),
        ProxyStatus::Failed { code, .. } => format!("Purse: stopped ({code})"),
    };
    let _ = items.state.set_text(&status);
    if let (Some((active, grey)), Ok(mut greyed)) = (&items.looks, items.greyed.lock())
        && *greyed != paused
    {
        let _ = items.icon.set_icon(Some(if paused { grey.clone() } else { active.clone() }));
        *greyed = paused;
    }
    let now = purse_api::now_ms();
    let spend = purse_api::history::spend(&state.place, purse_api::Zone::Local, now);
    let mut tooltip = status;
    if let Ok(spend) = spend {
        let mut text = format!("Today: ${}", spend.day.mainnet_usd);
        if spend.day.testnet_usd != "0.00" {
            text.push_str(&format!(" · testnet ${}", spend.day.testnet_usd));
        }
        let _ = items.spend.set_text(&text);
        tooltip = format!("{tooltip}\n{text}");
    }
    // Shown where the platform shows tray tooltips (not by Linux's AppIndicator).
    let _ = items.icon.set_tooltip(Some(tooltip));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_paused_icon_is_grey_with_the_same_transparency() {
        let icon = Image::new_owned(vec![255, 0, 0, 255, 10, 200, 30, 0], 2, 1);
        let grey = greyed(&icon);
        assert_eq!((grey.width(), grey.height()), (2, 1));
        let px = grey.rgba();
        assert!(px[0] == px[1] && px[1] == px[2], "{px:?}");
        assert!(px[4] == px[5] && px[5] == px[6], "{px:?}");
        assert_eq!((px[3], px[7]), (255, 0));
        assert_eq!(px[0], (76 + 128) / 2);
    }
}
