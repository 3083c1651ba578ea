//! The payment flow as the proxy's [`PaymentHook`].

use std::sync::Arc;

use http::{HeaderMap, HeaderName, HeaderValue, StatusCode, header::ACCEPT};
use purse_core::{
    flow::{Decision, Payer, PaymentRequiredAnswer, Request, Unpaid},
    ports::Fate,
};
use purse_proxy::{HookFuture, PaymentHook, RequestSnapshot, ResponseSnapshot, Verdict};

use purse_core::{Reason, Refusal};

use crate::{
    approvals::{Answer, Approvals, Resolution},
    confirm::Confirmer,
};

/// The header a refusal adds to the 402 the client gets.
pub const PURSE_REASON: &str = "x-purse-reason";

/// Pays the 402s the proxy hands over.
#[derive(Debug, Clone)]
pub struct PayingHook {
    payer: Arc<Payer>,
    approvals: Arc<Approvals>,
    confirmer: Option<Arc<Confirmer>>,
}

impl PayingHook {
    /// A hook paying through `payer`, asking through `approvals`; with a `confirmer`, each
    /// payment is then followed on chain (in a task of the proxy's runtime) until it is
    /// confirmed or failed.
    pub fn new(
        payer: Arc<Payer>,
        approvals: Arc<Approvals>,
        confirmer: Option<Arc<Confirmer>>,
    ) -> Self {
        Self { payer, approvals, confirmer }
    }

    /// Records what the paid request got, and follows the payment on chain while its fate
    /// is open.
    fn answered(
        &self,
        request: &RequestSnapshot,
        ticket: u64,
        outcome: Result<(StatusCode, &HeaderMap), &str>,
    ) {
        let Ok(ticket) = i64::try_from(ticket) else { return };
        let outcome = self.payer.finish(ticket, outcome.map(|(status, h)| (status.as_u16(), h)));
        tracing::info!(uri = %request.uri, fate = ?outcome.fate, tx = ?outcome.tx_hash, "paid request answered");
        if let Some(confirmer) = &self.confirmer
            && matches!(outcome.fate, Fate::Settled | Fate::Unsure)
            && let Ok(runtime) = tokio::runtime::Handle::try_current()
        {
            runtime.spawn(confirmer.clone().follow(ticket));
        }
    }

    /// [`Self::answered`] on a blocking thread, as decisions are: recording waits on
    /// purse.db's lock when someone else holds it. If that thread fails, the row stays
    /// `signed`, which the next start reconciles.
    async fn answered_off_runtime(
        &self,
        request: &RequestSnapshot,
        ticket: u64,
        outcome: Result<(StatusCode, HeaderMap), String>,
    ) {
        let (hook, request) = (self.clone(), request.clone());
        // Tokio's blocking threads run in their runtime's context: the confirmer's task
        // `answered` spawns goes on the proxy's runtime.
        let recorded = tokio::task::spawn_blocking(move || {
            let outcome = outcome.as_ref().map(|(status, h)| (*status, h)).map_err(String::as_str);
            hook.answered(&request, ticket, outcome);
        });
        if let Err(error) = recorded.await {
            tracing::error!(%error, ticket, "a paid request's answer was not recorded");
        }
    }

    /// Runs `work` on the payer on a blocking thread: a decision may wait on the keychain
    /// (its unlock prompt) or on purse.db's lock, and the proxy's runtime, often one thread,
    /// serves every other connection meanwhile. A decision that panicked pays nothing.
    async fn off_runtime(
        &self,
        work: impl FnOnce(&Payer) -> Decision + Send + 'static,
    ) -> Option<Decision> {
        let payer = self.payer.clone();
        match tokio::task::spawn_blocking(move || work(&payer)).await {
            Ok(decision) => Some(decision),
            Err(error) => {
                tracing::error!(%error, "a payment decision stopped; the 402 passes through");
                None
            }
        }
    }

    async fn verdict(&self, request: &RequestSnapshot, response: &ResponseSnapshot) -> Verdict {
        let (client, method, uri) =
            (request.client.to_string(), request.method.clone(), request.uri.clone());
        let (request_headers, replayable) = (request.headers.clone(), request.is_replayable());
        let (headers, body) = (response.headers.clone(), response.body.clone());
        let decided = self.off_runtime(move |payer| {
            payer.decide(
                Request {
                    client: Some(&client),
                    method: method.as_str(),
                    uri: &uri,
                    headers: &request_headers,
                    replayable,
                },
                PaymentRequiredAnswer { headers: &headers, body: &body },
            )
        });
        let Some(mut decision) = decided.await else { return Verdict::pass() };
        if let Decision::Ask(ask) = decision {
            let answer = self.approvals.ask(ask.approval.clone()).await;
            let decided = self.off_runtime(move |payer| match answer {
                Resolution::Answered(Answer::ApproveOnce | Answer::ApproveAlways { .. }) => {
                    payer.approved(*ask)
                }
                Resolution::Answered(Answer::DenyOnce) => {
                    let refusal = Refusal::new(Reason::Denied, "you declined this payment");
                    payer.refuse_asked(*ask, refusal, Unpaid::User)
                }
                Resolution::Answered(Answer::Block) => {
                    let text = format!("you blocked {}", ask.approval.site);
                    payer.refuse_asked(*ask, Refusal::new(Reason::Denied, text), Unpaid::User)
                }
                Resolution::TimedOut(after) => {
                    let text = format!("no answer within {} s", after.as_secs());
                    let refusal = Refusal::new(Reason::Timeout, text);
                    payer.refuse_asked(*ask, refusal, Unpaid::Timeout)
                }
                Resolution::Nobody => {
                    let refusal = ask.approval.unanswered();
                    payer.refuse_asked(*ask, refusal, Unpaid::Policy)
                }
            });
            let Some(answered) = decided.await else { return Verdict::pass() };
            decision = answered;
        }
        let mut headers = HeaderMap::new();
        match decision {
            Decision::Pay { name, value, ticket } => {
                match (HeaderName::from_bytes(name.as_bytes()), HeaderValue::from_str(&value)) {
                    (Ok(name), Ok(value)) => {
                        headers.insert(name, value);
                        Verdict::Resend { headers, ticket: u64::try_from(ticket).unwrap_or(0) }
                    }
                    // Base64 is always a valid header value; should it ever not be, the
                    // payment never leaves, and the history says so.
                    _ => {
                        self.payer.finish(ticket, Err("the payment header could not be built"));
                        Verdict::pass()
                    }
                }
            }
            Decision::AskAgain { accept } => {
                headers.insert(ACCEPT, HeaderValue::from_static(accept));
                Verdict::AskAgain { headers }
            }
            Decision::Refuse(refusal) => {
                tracing::info!(uri = %request.uri, reason = %refusal, "402 not paid");
                if let Ok(value) = HeaderValue::from_str(&refusal.header_value()) {
                    headers.insert(HeaderName::from_static(PURSE_REASON), value);
                }
                Verdict::PassThrough { headers }
            }
            Decision::NotX402 => Verdict::pass(),
            // Answered above.
            Decision::Ask(_) => Verdict::pass(),
        }
    }
}

impl PaymentHook for PayingHook {
    fn on_payment_required<'a>(
        &'a self,
        request: &'a RequestSnapshot,
        response: &'a ResponseSnapshot,
    ) -> HookFuture<'a, Verdict> {
        Box::pin(self.verdict(request, response))
    }

    fn on_resent<'a>(
        &'a self,
        request: &'a RequestSnapshot,
        ticket: u64,
        outcome: Result<(StatusCode, &'a HeaderMap), &'a str>,
    ) -> HookFuture<'a, ()> {
        let outcome = outcome.map(|(status, h)| (status, h.clone())).map_err(str::to_owned);
        Box::pin(self.answered_off_runtime(request, ticket, outcome))
    }

    fn on_abandoned(&self, request: &RequestSnapshot, ticket: u64) {
        // Recorded as a paid request with no answer (`unsure`), and followed on chain. Here,
        // on the runtime: it runs from a drop, and a task spawned now might never run at
        // shutdown, leaving the row `signed`.
        self.answered(request, ticket, Err("the client went away before it came"));
    }
}
