//! Notices payments as they happen (in `purse.db`, whoever wrote them): tells the windows
//! (`payments-changed`), refreshes the tray, and notifies on payments and refusals; and
//! notices a pause or resume made elsewhere (`paused-changed`).

use std::{collections::HashSet, time::Duration};

use purse_api::{
    DataDir,
    history::{HistoryWatch, PaymentRow},
};
use tauri::{AppHandle, Emitter as _};
use tauri_plugin_notification::NotificationExt as _;

/// How often `purse.db` is looked at (a cheap `PRAGMA data_version` when nothing changed).
const EVERY: Duration = Duration::from_millis(700);

/// Watches on a thread of its own for the life of the app.
pub(crate) fn spawn(app: AppHandle, place: DataDir) {
    let spawned = std::thread::Builder::new().name("purse-watch".into()).spawn(move || {
        let mut watch = match HistoryWatch::open(&place) {
            Ok(watch) => watch,
            Err(error) => {
                tracing::warn!("payments will not be followed live: {error}");
                return;
            }
        };
        let mut notified = HashSet::new();
        // `purse pause` / `purse resume` from a terminal reach the tray and the windows too.
        let mut paused = watch.paused().ok();
        let zone = purse_api::Zone::Local;
        let mut today = purse_api::history::local_date(zone, purse_api::now_ms());
        loop {
            // At local midnight, today's figures (tray, Dashboard) start again.
            let date = purse_api::history::local_date(zone, purse_api::now_ms());
            if date != today {
                today = date;
                let _ = app.emit_to(crate::windows::MAIN, "payments-changed", Vec::<()>::new());
                crate::tray::refresh(&app);
            }
            let now = watch.paused().ok();
            if now.is_some() && now != paused {
                paused = now;
                let _ = app.emit_to(crate::windows::MAIN, "paused-changed", now);
                crate::tray::refresh(&app);
            }
            match watch.changes() {
                Ok(rows) if !rows.is_empty() => {
                    let _ = app.emit_to(crate::windows::MAIN, "payments-changed", &rows);
                    crate::tray::refresh(&app);
                    // Paid without asking: notified from this amount up (`[app]
                    // notify_above`, read now so that a change in Settings applies at once).
                    let above = place.config().unwrap_or_default().app.notify_above();
                    for row in &rows {
                        notify(&app, row, above, &mut notified);
                    }
                }
                Ok(_) => {}
                Err(error) => tracing::debug!("history watch: {error}"),
            }
            std::thread::sleep(EVERY);
        }
    });
    if let Err(error) = spawned {
        tracing::warn!("payments will not be followed live: {error}");
    }
}

/// At most one notification per payment and title: paid without asking from `above` up
/// (once, settled or confirmed), and not paid (refused, or failed, even after a "Paid").
fn notify(
    app: &AppHandle,
    row: &PaymentRow,
    above: purse_api::Usd,
    notified: &mut HashSet<(i64, String)>,
) {
    let Some((title, body)) = purse_api::history::notification(row, above) else { return };
    if !notified.insert((row.payment.id, title.clone())) {
        return;
    }
    if let Err(error) = app.notification().builder().title(title).body(body).show() {
        tracing::debug!("no notification: {error}");
    }
}
