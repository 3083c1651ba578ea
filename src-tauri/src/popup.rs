//! The approval popup as the wallet's prompt: the app attaches itself for its whole life
//! (so payments no rule allows wait for an answer instead of being refused), shows the
//! popup on top and focused when a payment asks — making it first if it is gone
//! ([`crate::windows`]) — tells it the queue changed (`pending-changed`), hides it a moment
//! after nothing is waiting, and lets it go when nothing has asked for a while.
//!
//! One thread does all of that, in the order the events come, so a popup being let go is
//! never the one a new payment is shown in.

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use purse_api::{Approvals, Event};
use tauri::{AppHandle, Emitter as _, Manager as _, WebviewWindow};
use tokio::sync::broadcast::error::RecvError;

use crate::windows::{self, POPUP, POPUP_KEPT};

/// A popup just made is shown when its page has loaded; should that event be missed (Tauri
/// drops it when the page loads before the window is registered), it is shown after this.
const RAISE_ANYWAY: Duration = Duration::from_secs(1);

/// The popup stays this long after its last answer, so the click that answered is drawn
/// before the window goes (and the page says nothing is waiting).
const HIDE_AFTER: Duration = Duration::from_millis(250);

/// The popup's timers: when an emptied popup hides, when a hidden popup is let go, and
/// when a popup just made is raised even if its page-load event was missed.
#[derive(Debug, Default)]
struct Timers {
    hide_at: Option<Instant>,
    let_go: Option<Instant>,
    raise_by: Option<Instant>,
}

/// The timers that ran out.
#[derive(Debug, Default, PartialEq, Eq)]
struct Due {
    hide: bool,
    raise: bool,
    let_go: bool,
}

impl Timers {
    /// The first of them, if any is set.
    fn next(&self) -> Option<Instant> {
        self.hide_at.into_iter().chain(self.let_go).chain(self.raise_by).min()
    }

    /// A payment asks: the popup neither hides nor is let go.
    fn asked(&mut self) {
        self.hide_at = None;
        self.let_go = None;
    }

    /// The last payment was answered: the popup hides after [`HIDE_AFTER`].
    fn answered(&mut self, now: Instant) {
        self.hide_at = Some(now + HIDE_AFTER);
        self.raise_by = None;
    }

    /// A popup was made: raised by [`RAISE_ANYWAY`] at the latest.
    fn made(&mut self, now: Instant) {
        self.raise_by = Some(now + RAISE_ANYWAY);
    }

    /// The queue emptied and the popup hid: let go after [`POPUP_KEPT`] unless a payment
    /// asks before.
    fn emptied(&mut self, now: Instant) {
        self.hide_at = None;
        self.let_go = Some(now + POPUP_KEPT);
        self.raise_by = None;
    }

    /// Takes the timers that ran out by `now`.
    fn due(&mut self, now: Instant) -> Due {
        let take = |timer: &mut Option<Instant>| timer.take_if(|at| *at <= now).is_some();
        Due {
            hide: take(&mut self.hide_at),
            raise: take(&mut self.raise_by),
            let_go: take(&mut self.let_go),
        }
    }
}

/// Attaches the app as a prompt and follows the prompts on a thread of their own.
pub(crate) fn attach(app: &AppHandle, approvals: Arc<Approvals>) {
    let guard = approvals.attach();
    let mut events = approvals.subscribe();
    let app = app.clone();
    let spawned = std::thread::Builder::new().name("purse-prompt".into()).spawn(move || {
        // Held while the app lives: the app answers.
        let _guard = guard;
        let mut timers = Timers::default();
        loop {
            let next = tauri::async_runtime::block_on(async {
                match timers.next() {
                    Some(at) => tokio::time::timeout_at(at.into(), events.recv()).await.ok(),
                    None => Some(events.recv().await),
                }
            });
            match next {
                Some(Ok(Event::Closed { .. }) | Err(RecvError::Lagged(_)))
                    if approvals.pending().is_empty() =>
                {
                    let _ = app.emit_to(POPUP, "pending-changed", ());
                    timers.answered(Instant::now());
                }
                Some(
                    Ok(Event::Asked(_) | Event::Waiting(_) | Event::Closed { .. })
                    | Err(RecvError::Lagged(_)),
                ) => {
                    timers.asked();
                    if show(&app, &approvals) {
                        timers.made(Instant::now());
                    }
                }
                Some(Err(RecvError::Closed)) => return,
                None => {
                    let due = timers.due(Instant::now());
                    if due.hide && approvals.pending().is_empty() {
                        hide(&app);
                        timers.emptied(Instant::now());
                    }
                    if due.raise
                        && let Some(popup) = app.get_webview_window(POPUP)
                        && !approvals.pending().is_empty()
                        && !popup.is_visible().unwrap_or(false)
                    {
                        tracing::debug!("the new popup is raised without its page-load event");
                        raise(&popup);
                    }
                    if due.let_go && approvals.pending().is_empty() {
                        destroy(&app);
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
    let asked = Instant::now();
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_emptied_popup_is_let_go_after_a_minute_unless_a_payment_asks() {
        let start = Instant::now();
        let mut timers = Timers::default();
        assert_eq!(timers.next(), None);
        timers.emptied(start);
        assert_eq!(timers.next(), Some(start + POPUP_KEPT));
        assert_eq!(timers.due(start + POPUP_KEPT / 2), Due::default());
        assert_eq!(timers.due(start + POPUP_KEPT), Due { let_go: true, ..Due::default() });
        assert_eq!(timers.next(), None, "let go once");

        timers.emptied(start);
        timers.asked();
        assert_eq!(timers.next(), None);
        assert_eq!(timers.due(start + POPUP_KEPT * 2), Due::default());
    }

    #[test]
    fn an_answered_popup_hides_a_moment_later_unless_a_payment_asks() {
        let start = Instant::now();
        let mut timers = Timers::default();
        timers.made(start);
        timers.answered(start);
        assert_eq!(timers.next(), Some(start + HIDE_AFTER), "no raise once answered");
        assert_eq!(timers.due(start + HIDE_AFTER), Due { hide: true, ..Due::default() });
        timers.emptied(start + HIDE_AFTER);
        assert_eq!(timers.next(), Some(start + HIDE_AFTER + POPUP_KEPT));

        timers.answered(start);
        timers.asked();
        assert_eq!(timers.next(), None);
        assert_eq!(timers.due(start + POPUP_KEPT * 2), Due::default());
    }

    #[test]
    fn a_new_popup_is_raised_by_the_deadline_and_an_emptied_queue_cancels_it() {
        let start = Instant::now();
        let mut timers = Timers::default();
        timers.made(start);
        assert_eq!(timers.next(), Some(start + RAISE_ANYWAY));
        assert_eq!(timers.due(start + RAISE_ANYWAY), Due { raise: true, ..Due::default() });
        assert_eq!(timers.next(), None);

        timers.made(start);
        timers.emptied(start);
        assert_eq!(timers.next(), Some(start + POPUP_KEPT));
        assert_eq!(timers.due(start + RAISE_ANYWAY), Due::default());
    }
}
