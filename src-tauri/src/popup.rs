//! The approval popup as the wallet's prompt: the app attaches itself for its whole life
//! (so payments no rule allows wait for an answer instead of being refused), shows the
//! popup — created hidden at start — on top and focused when a payment asks, tells it the
//! queue changed (`pending-changed`), and hides it once nothing is waiting.

use std::sync::Arc;

use purse_api::{Approvals, Event};
use tauri::{AppHandle, Emitter as _, Manager as _};
use tokio::sync::broadcast::error::RecvError;

/// The popup window's label.
const POPUP: &str = "popup";

/// Attaches the app as a prompt and follows the prompts on a thread of their own.
pub(crate) fn attach(app: &AppHandle, approvals: Arc<Approvals>) {
    let guard = approvals.attach();
    let mut events = approvals.subscribe();
    let app = app.clone();
    let spawned = std::thread::Builder::new().name("purse-prompt".into()).spawn(move || {
        // Held while the app lives: the app answers.
        let _guard = guard;
        loop {
            match events.blocking_recv() {
                Ok(Event::Asked(_)) => show(&app),
                Ok(Event::Closed { .. }) | Err(RecvError::Lagged(_)) => {
                    if approvals.pending().is_empty() {
                        hide(&app);
                    } else {
                        show(&app);
                    }
                }
                Err(RecvError::Closed) => return,
            }
        }
    });
    if let Err(error) = spawned {
        tracing::error!("payments cannot be asked in the popup: {error}");
    }
}

fn show(app: &AppHandle) {
    let _ = app.emit_to(POPUP, "pending-changed", ());
    if let Some(popup) = app.get_webview_window(POPUP) {
        if !popup.is_visible().unwrap_or(false) {
            let _ = popup.unminimize();
            let _ = popup.show();
        }
        let _ = popup.set_always_on_top(true);
        let _ = popup.set_focus();
    }
}

fn hide(app: &AppHandle) {
    let _ = app.emit_to(POPUP, "pending-changed", ());
    if let Some(popup) = app.get_webview_window(POPUP) {
        let _ = popup.hide();
    }
}
