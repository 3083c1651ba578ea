//! `purse proxy --ask terminal`: payments to be approved are asked on the terminal, one
//! line each, answered with y (once), n (no), a (always for this site) or v (never).

use std::{
    io::{BufRead as _, Write as _},
    sync::Arc,
};

use purse_api::{Answer, Approvals, Event, Pending};
use purse_core::money::Usd;

fn question(pending: &Pending) -> String {
    let a = &pending.approval;
    let amount = match (a.usd, &a.symbol) {
        (Some(usd), Some(symbol)) => format!("{usd} ({} {symbol} units)", a.amount),
        (_, Some(symbol)) => format!("{} {symbol} units", a.amount),
        _ => format!("{} units of {}", a.amount, a.asset),
    };
    let payee = match a.payee {
        purse_core::policy::Payee::Known => "",
        purse_core::policy::Payee::New => " (new payee)",
        purse_core::policy::Payee::Changed => {
            " (CHANGED payee: this site paid someone else before)"
        }
    };
    let left: Vec<String> = a
        .budgets
        .iter()
        .filter_map(|(label, left)| left.map(|l| format!("{l} left of {label}")))
        .collect();
    let waiting = if pending.waiting > 1 {
        format!(" [{} requests]", pending.waiting)
    } else {
        String::new()
    };
    format!(
        "Pay {amount} on {} to {}{payee} for {} {}?{waiting} ({}; account {}{}) [y]es/[n]o/[a]lways/ne[v]er: ",
        a.network_name,
        a.pay_to,
        a.method,
        a.url,
        a.why.text,
        a.account,
        if left.is_empty() { String::new() } else { format!("; {}", left.join(", ")) }
    )
}

/// Whether this process may read the terminal now: a background job that reads is stopped
/// by the shell (SIGTTIN), proxy and all.
#[cfg(unix)]
fn in_foreground() -> bool {
    let stdin = std::io::stdin();
    rustix::termios::tcgetpgrp(&stdin).is_ok_and(|group| group == rustix::process::getpgrp())
}

#[cfg(not(unix))]
fn in_foreground() -> bool {
    true
}

/// Starts the terminal prompt; it answers until standard input closes.
pub(crate) fn spawn(approvals: Arc<Approvals>, default_max: Usd, default_daily: Usd) {
    let guard = approvals.attach();
    let mut events = approvals.subscribe();
    std::thread::spawn(move || {
        let _guard = guard;
        let stdin = std::io::stdin();
        loop {
            let pending = match events.blocking_recv() {
                Ok(Event::Asked(pending)) => *pending,
                Ok(Event::Closed { .. } | Event::Waiting(_)) => continue,
                Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => continue,
                Err(tokio::sync::broadcast::error::RecvError::Closed) => return,
            };
            // It may have been answered or expired while an earlier one was asked.
            if !approvals.pending().iter().any(|p| p.id == pending.id) {
                continue;
            }
            // Run in the background (`purse proxy &`), the question cannot be answered here:
            // it is refused at once, with its reason, rather than stopping the proxy on a read.
            if std::io::IsTerminal::is_terminal(&std::io::stdin()) && !in_foreground() {
                eprintln!(
                    "purse: not asked, the proxy runs in the background: {}",
                    pending.approval.why.text
                );
                let _ = approvals.unanswerable(pending.id);
                continue;
            }
            let mut stderr = std::io::stderr().lock();
            let _ = write!(stderr, "{}", question(&pending));
            let _ = stderr.flush();
            drop(stderr);
            let mut line = String::new();
            if stdin.lock().read_line(&mut line).unwrap_or(0) == 0 {
                return;
            }
            let answer = match line.trim().to_ascii_lowercase().as_str() {
                "y" | "yes" => Answer::ApproveOnce,
                "a" | "always" => {
                    Answer::ApproveAlways { max_per_payment: default_max, daily: default_daily }
                }
                "v" | "never" => Answer::Block,
                _ => Answer::DenyOnce,
            };
            // For the requests the question named; any that joined since are asked again.
            if let Err(error) = approvals.answer(pending.id, answer, pending.waiting) {
                eprintln!("purse: {error}");
            }
        }
    });
}
