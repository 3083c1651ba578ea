//! Notices payments as they happen (in `purse.db`, whoever wrote them): tells the windows
//! (`payments-changed`), refreshes the tray, and notifies on payments and refusals.

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
        loop {
            match watch.changes() {
                Ok(rows) if !rows.is_empty() => {
                    let _ = app.emit("payments-changed", &rows);
                    crate::tray::refresh(&app);
                    for row in &rows {
                        notify(&app, row, &mut notified);
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

/// One notification per payment: when it is paid, or when it is refused or fails.
fn notify(app: &AppHandle, row: &PaymentRow, notified: &mut HashSet<i64>) {
    let payment = &row.payment;
    let amount = row.amount.as_ref().map_or_else(String::new, |a| a.text.clone());
    let (title, body) = match payment.status.as_str() {
        "settled" | "confirmed" => (format!("Paid {amount}"), format!("to {}", payment.host)),
        "refused" | "failed" => (
            format!("Not paid: {}", payment.host),
            payment.reason.clone().unwrap_or_else(|| payment.status.to_string()),
        ),
        _ => return,
    };
    if !notified.insert(payment.id) {
        return;
    }
    if let Err(error) = app.notification().builder().title(title).body(body).show() {
        tracing::debug!("no notification: {error}");
    }
}
