//! The approval popup as the wallet's prompt: the app attaches itself for its whole life
//! (so payments no rule allows wait for an answer instead of being refused), shows the
//! popup on top and focused when a payment asks — making it first if it is gone
//! ([`crate::windows`]) — tells it the queue changed (`pending-changed`), hides it once
//! nothing is waiting, and lets it go when nothing has asked for a while.
//!
//! One thread does all of that, in the order the events come, so a popup being let go is
//! never the one a new payment is shown in.

use std::{sync::Arc, time::Duration};

use purse_api::{Approvals, Event};
use tauri::{AppHandle, Emitter as _, Manager as _, WebviewWindow};
use tokio::{sync::broadcast::error::RecvError, time::Instant};

use crate::windows::{self, POPUP, POPUP_KEPT};

/// A popup just made is shown when its page has loaded; should that event be missed (Tauri
/// drops it when the page loads before the window is registered), it is shown after this.
const RAISE_ANYWAY: Duration = Duration::from_secs(1);

/// Attaches the app as a prompt and follows the prompts on a thread of their own.
pub(crate) fn attach(app: &AppHandle, approvals: Arc<Approvals>) {
    let guard = approvals.attach();
    let mut events = approvals.subscribe();
    let app = app.clone();
    let spawned = std::thread::Builder::new().name("purse-prompt".into()).spawn(move || {
        // Held while the app lives: the app answers.
        let _guard = guard;
        // When a hidden popup is let go, if nothing asks before.
        let mut let_go: Option<Instant> = None;
        // When a popup just made is raised even if its page-load event was missed.
        let mut raise_by: Option<Instant> = None;
        loop {
            let wake = let_go.into_iter().chain(raise_by).min();
            let next = tauri::async_runtime::block_on(async {
                match wake {
                    Some(at) => tokio::time::timeout_at(at, events.recv()).await.ok(),
                    None => Some(events.recv().await),
                }
            });
            match next {
                Some(Ok(Event::Asked(_))) => {
                    let_go = None;
                    if show(&app, &approvals) {
                        raise_by = Some(Instant::now() + RAISE_ANYWAY);
                    }
                }
                Some(Ok(Event::Closed { .. }) | Err(RecvError::Lagged(_))) => {
                    if approvals.pending().is_empty() {
                        hide(&app);
                        (let_go, raise_by) = (Some(Instant::now() + POPUP_KEPT), None);
                    } else {
                        let_go = None;
                        if show(&app, &approvals) {
                            raise_by = Some(Instant::now() + RAISE_ANYWAY);
                        }
                    }
                }
                Some(Err(RecvError::Closed)) => return,
                None => {
                    let now = Instant::now();
                    if raise_by.is_some_and(|at| at <= now) {
                        raise_by = None;
                        if let Some(popup) = app.get_webview_window(POPUP)
                            && !approvals.pending().is_empty()
                            && !popup.is_visible().unwrap_or(false)
                        {
                            tracing::debug!("the new popup is raised without its page-load event");
                            raise(&popup);
                        }
                    }
                    if let_go.is_some_and(|at| at <= now) {
                        let_go = None;
                        if approvals.pending().is_empty() {
                            destroy(&app);
                        }
                    }
                }
            }
        }
    });
    if let Err(error) = spawned {
        tracing::error!("payments cannot be asked in the popup: {error}");
    }
}

/// Brings a popup with payments in its queue to the front.
fn raise(popup: &WebviewWindow) {
    if !popup.is_visible().unwrap_or(false) {
        let _ = popup.unminimize();
        let _ = popup.show();
    }
    let _ = popup.set_always_on_top(true);
    let _ = popup.set_focus();
}

/// Shows the popup with its queue; whether it had to be made (it shows itself once loaded).
fn show(app: &AppHandle, approvals: &Arc<Approvals>) -> bool {
    let approvals = approvals.clone();
    let asked = std::time::Instant::now();
    // A new popup is shown once its page has loaded, if a payment still waits then.
    let made = windows::popup(app, move |popup| {
        tracing::debug!("the new popup's page loaded {:?} after the ask", asked.elapsed());
        if !approvals.pending().is_empty() {
            raise(popup);
        }
    });
    match made {
        Ok(Some(popup)) => {
            let _ = app.emit_to(POPUP, "pending-changed", ());
            raise(&popup);
            false
        }
        Ok(None) => {
            tracing::debug!("the popup was made in {:?}", asked.elapsed());
            true
        }
        Err(error) => {
            tracing::error!("the approval popup could not be made: {error}");
            false
        }
    }
}

fn hide(app: &AppHandle) {
    let _ = app.emit_to(POPUP, "pending-changed", ());
    if let Some(popup) = app.get_webview_window(POPUP) {
        let _ = popup.hide();
    }
}

/// Lets the hidden popup and its web process go, and waits until it is gone (a popup
/// made meanwhile would clash with its label).
fn destroy(app: &AppHandle) {
    let Some(popup) = app.get_webview_window(POPUP) else { return };
    if popup.is_visible().unwrap_or(false) {
        return;
    }
    if let Err(error) = popup.destroy() {
        tracing::warn!("the hidden popup could not be let go: {error}");
        return;
    }
    for _ in 0..500 {
        if app.get_webview_window(POPUP).is_none() {
            return;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    tracing::warn!("the hidden popup is still there 5 s after it was let go");
}
