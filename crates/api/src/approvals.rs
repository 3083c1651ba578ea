//! Payments waiting for the user: one prompt per offer, however many requests wait on it.
//!
//! [`Approvals::ask`] is what a held request awaits; [`Approvals::pending`],
//! [`Approvals::answer`] and [`Approvals::subscribe`] are what a prompt (the terminal, the
//! app's popup) uses. Concurrent 402s with the same key (site, network, asset, amount,
//! payee) share one prompt; different ones queue. An approval pays for the requests the
//! prompt showed when it was given, never for one that joined after: those stay on the
//! prompt, asked again. With no prompt attached, nothing waits: the payment is refused at
//! once with the reason it was asked for.

use std::{
    collections::{BTreeMap, HashMap},
    sync::{
        Arc, Mutex, MutexGuard, PoisonError,
        atomic::{AtomicU64, AtomicUsize, Ordering},
    },
    time::Duration,
};

use purse_core::{
    flow::{Approval, Payer},
    money::Usd,
    rules::{Action, Limits, Rule},
};
use tokio::sync::{broadcast, oneshot};

/// The user's answer to a prompt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answer {
    /// Pay this once (for the requests the prompt showed).
    ApproveOnce,
    /// Pay, and allow the site from now on up to these limits.
    ApproveAlways {
        /// The most one payment may cost.
        max_per_payment: Usd,
        /// The most a day's payments to the site may cost.
        daily: Usd,
    },
    /// Do not pay this.
    DenyOnce,
    /// Do not pay, and deny the site from now on.
    Block,
}

/// How a wait ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resolution {
    /// The user answered.
    Answered(Answer),
    /// No answer in time.
    TimedOut(Duration),
    /// Nothing can show a prompt.
    Nobody,
}

/// A payment on a prompt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pending {
    /// Its prompt's number.
    pub id: u64,
    /// What to show.
    pub approval: Approval,
    /// When it is refused for want of an answer (Unix ms).
    pub expires_at_ms: i64,
    /// How many requests wait on it.
    pub waiting: usize,
}

/// What a prompt hears.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// A new prompt, or one asked again: requests joined it after an approval that was
    /// given for fewer.
    Asked(Box<Pending>),
    /// More requests wait on a prompt (its count changed).
    Waiting(Box<Pending>),
    /// A prompt was answered or expired.
    Closed {
        /// Its number.
        id: u64,
    },
}

/// Why an answer was not taken.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AnswerError {
    /// No such prompt (answered already, or expired).
    #[error("no payment {0} is waiting for an answer (answered already, or expired)")]
    NotPending(u64),
    /// Remembering the answer as a rule failed.
    #[error("the rule could not be stored: {0}")]
    Rule(String),
}

struct Entry {
    pending: Pending,
    waiters: Vec<oneshot::Sender<Resolution>>,
    /// When it expires, whatever the timeout is now.
    deadline: tokio::time::Instant,
    /// The timeout it was shown with.
    timeout: Duration,
}

#[derive(Default)]
struct Inner {
    next_id: u64,
    by_key: HashMap<String, u64>,
    entries: BTreeMap<u64, Entry>,
}

/// The prompts of one wallet.
pub struct Approvals {
    payer: Arc<Payer>,
    /// How long a new prompt waits, in milliseconds (changeable while prompts wait).
    timeout_ms: AtomicU64,
    inner: Mutex<Inner>,
    events: broadcast::Sender<Event>,
    prompts: Arc<AtomicUsize>,
}

impl std::fmt::Debug for Approvals {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Approvals").field("timeout", &self.timeout()).finish_non_exhaustive()
    }
}

/// Held while a prompt can answer; dropping it detaches the prompt.
#[derive(Debug)]
pub struct PromptGuard(Arc<AtomicUsize>);

impl Drop for PromptGuard {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

impl Approvals {
    /// Prompts for `payer`'s payments, each waiting at most `timeout`.
    pub fn new(payer: Arc<Payer>, timeout: Duration) -> Self {
        Self {
            payer,
            timeout_ms: AtomicU64::new(millis(timeout)),
            inner: Mutex::new(Inner::default()),
            events: broadcast::channel(256).0,
            prompts: Arc::new(AtomicUsize::new(0)),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// How long a payment waits (the prompts from now on).
    pub fn timeout(&self) -> Duration {
        Duration::from_millis(self.timeout_ms.load(Ordering::SeqCst))
    }

    /// Changes how long the next prompts wait; a prompt already shown keeps its deadline.
    pub fn set_timeout(&self, timeout: Duration) {
        self.timeout_ms.store(millis(timeout), Ordering::SeqCst);
    }

    /// Attaches a prompt: while the guard lives, asks wait for answers.
    pub fn attach(&self) -> PromptGuard {
        self.prompts.fetch_add(1, Ordering::SeqCst);
        PromptGuard(self.prompts.clone())
    }

    /// Events for a prompt (subscribe before reading [`Approvals::pending`]).
    pub fn subscribe(&self) -> broadcast::Receiver<Event> {
        self.events.subscribe()
    }

    /// The payments on prompts, oldest first.
    pub fn pending(&self) -> Vec<Pending> {
        self.lock().entries.values().map(|e| e.pending.clone()).collect()
    }

    /// Waits for the user's answer about `approval`, sharing the prompt of a payment with
    /// the same key.
    pub async fn ask(&self, approval: Approval) -> Resolution {
        if self.prompts.load(Ordering::SeqCst) == 0 {
            return Resolution::Nobody;
        }
        let (sender, receiver) = oneshot::channel();
        let (id, deadline, timeout) = {
            let mut inner = self.lock();
            if let Some(id) = inner.by_key.get(&approval.key).copied()
                && let Some(entry) = inner.entries.get_mut(&id)
            {
                entry.waiters.push(sender);
                entry.pending.waiting = entry.waiters.len();
                let _ = self.events.send(Event::Waiting(Box::new(entry.pending.clone())));
                (id, entry.deadline, entry.timeout)
            } else {
                inner.next_id += 1;
                let id = inner.next_id;
                let timeout = self.timeout();
                let now = tokio::time::Instant::now();
                // A timeout too long to add is cut to a year.
                let deadline = now.checked_add(timeout).unwrap_or(now + YEAR);
                let expires = crate::now_ms()
                    .saturating_add(i64::try_from(millis(timeout)).unwrap_or(i64::MAX));
                let pending = Pending { id, approval, expires_at_ms: expires, waiting: 1 };
                inner.by_key.insert(pending.approval.key.clone(), id);
                let entry =
                    Entry { pending: pending.clone(), waiters: vec![sender], deadline, timeout };
                inner.entries.insert(id, entry);
                let _ = self.events.send(Event::Asked(Box::new(pending)));
                (id, deadline, timeout)
            }
        };
        match tokio::time::timeout_at(deadline, receiver).await {
            Ok(Ok(resolution)) => resolution,
            // Timed out (or the prompt vanished): the whole prompt expires.
            _ => {
                self.close(id, Resolution::TimedOut(timeout));
                Resolution::TimedOut(timeout)
            }
        }
    }

    fn close(&self, id: u64, resolution: Resolution) -> Option<Approval> {
        let entry = {
            let mut inner = self.lock();
            let entry = inner.entries.remove(&id)?;
            inner.by_key.remove(&entry.pending.approval.key);
            entry
        };
        for waiter in entry.waiters {
            let _ = waiter.send(resolution);
        }
        let _ = self.events.send(Event::Closed { id });
        Some(entry.pending.approval)
    }

    /// Prompt `id` cannot be shown after all (a terminal prompt in the background): its
    /// requests are refused as if no prompt were attached, with the reason they were asked.
    pub fn unanswerable(&self, id: u64) -> Result<(), AnswerError> {
        self.close(id, Resolution::Nobody).map(|_| ()).ok_or(AnswerError::NotPending(id))
    }

    /// Answers prompt `id`, shown with `seen` requests waiting on it; "always" (for the
    /// site on this network and asset) and "block" (the whole site) are stored as rules
    /// first. A denial answers every request on it; an
    /// approval only the first `seen`, and the prompt is asked again for any that joined
    /// since (the user approved paying `seen` times, no more).
    pub fn answer(&self, id: u64, answer: Answer, seen: usize) -> Result<(), AnswerError> {
        let approval = self
            .lock()
            .entries
            .get(&id)
            .map(|e| e.pending.approval.clone())
            .ok_or(AnswerError::NotPending(id))?;
        let rule = |action: Action, limits: Limits| Rule {
            id: 0,
            host: approval.site.clone(),
            path_prefix: None,
            network: None,
            asset: None,
            pay_to: None,
            action,
            limits,
        };
        match answer {
            Answer::ApproveAlways { max_per_payment, daily } => {
                let limits = Limits {
                    max_per_payment: Some(max_per_payment),
                    daily: Some(daily),
                    ..Limits::default()
                };
                // For the network and asset approved: the dollar limits are in that asset,
                // and the site asking on another chain is asked again. "Block site" names
                // the site alone, so it still beats this rule.
                let allow = Rule {
                    network: Some(approval.network.clone()),
                    asset: Some(approval.asset.clone()),
                    ..rule(Action::Allow, limits)
                };
                self.payer.add_rule(&allow).map_err(AnswerError::Rule)?;
            }
            Answer::Block => {
                self.payer
                    .add_rule(&rule(Action::Deny, Limits::default()))
                    .map_err(AnswerError::Rule)?;
            }
            Answer::ApproveOnce | Answer::DenyOnce => {}
        }
        let resolution = Resolution::Answered(answer);
        let approved = matches!(answer, Answer::ApproveOnce | Answer::ApproveAlways { .. });
        if approved && self.answer_first(id, resolution, seen)? {
            return Ok(());
        }
        self.close(id, resolution).map(|_| ()).ok_or(AnswerError::NotPending(id))
    }

    /// Gives `resolution` to the first `seen` requests on prompt `id` and asks it again for
    /// the rest; false when no request joined after those (the prompt is closed instead).
    fn answer_first(
        &self,
        id: u64,
        resolution: Resolution,
        seen: usize,
    ) -> Result<bool, AnswerError> {
        let (answered, rest) = {
            let mut inner = self.lock();
            let entry = inner.entries.get_mut(&id).ok_or(AnswerError::NotPending(id))?;
            if seen >= entry.waiters.len() {
                return Ok(false);
            }
            let answered: Vec<_> = entry.waiters.drain(..seen).collect();
            entry.pending.waiting = entry.waiters.len();
            (answered, entry.pending.clone())
        };
        for waiter in answered {
            let _ = waiter.send(resolution);
        }
        let _ = self.events.send(Event::Asked(Box::new(rest)));
        Ok(true)
    }
}

const YEAR: Duration = Duration::from_secs(365 * 24 * 3600);

/// A duration in whole milliseconds (saturating).
fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}
