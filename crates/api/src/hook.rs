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

/// Logged when a payment decision stopped (it panicked): the 402 passes through.
const UNDECIDED: &str = "a payment decision stopped; the 402 passes through";

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

    /// Runs `work` on a blocking thread: a decision may wait on the keychain (its unlock
    /// prompt) or on purse.db's lock, and so may recording an answer, while the proxy's
    /// runtime, often one thread, serves every other connection. Tokio's blocking threads
    /// run in the runtime's context, so a task spawned there (the confirmer's) goes on the
    /// proxy's runtime. Work that panicked logs `failed` and gives `None`: a decision pays
    /// nothing, an answer not recorded leaves the row `signed` for the next start.
    async fn off_runtime<T: Send + 'static>(
        &self,
        failed: impl std::fmt::Display + Send,
        work: impl FnOnce(&Self) -> T + Send + 'static,
    ) -> Option<T> {
        let hook = self.clone();
        match tokio::task::spawn_blocking(move || work(&hook)).await {
            Ok(done) => Some(done),
            Err(error) => {
                tracing::error!(%error, "{failed}");
                None
            }
        }
    }

    async fn verdict(&self, request: &RequestSnapshot, response: &ResponseSnapshot) -> Verdict {
        let (client, method, uri) =
            (request.client.to_string(), request.method.clone(), request.uri.clone());
        let (request_headers, replayable) = (request.headers.clone(), request.is_replayable());
        let (headers, body) = (response.headers.clone(), response.body.clone());
        let decided = self.off_runtime(UNDECIDED, move |hook| {
            hook.payer.decide(
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
            let decided = self.off_runtime(UNDECIDED, move |hook| match answer {
                Resolution::Answered(Answer::ApproveOnce | Answer::ApproveAlways { .. }) => {
                    hook.payer.approved(*ask)
                }
                Resolution::Answered(Answer::DenyOnce) => {
                    let refusal = Refusal::new(Reason::Denied, "you declined this payment");
                    hook.payer.refuse_asked(*ask, refusal, Unpaid::User)
                }
                Resolution::Answered(Answer::Block) => {
                    let text = format!("you blocked {}", ask.approval.site);
                    hook.payer.refuse_asked(*ask, Refusal::new(Reason::Denied, text), Unpaid::User)
                }
                Resolution::TimedOut(after) => {
                    let text = format!("no answer within {} s", after.as_secs());
                    let refusal = Refusal::new(Reason::Timeout, text);
                    hook.payer.refuse_asked(*ask, refusal, Unpaid::Timeout)
                }
                Resolution::Nobody => {
                    let refusal = ask.approval.unanswered();
                    hook.payer.refuse_asked(*ask, refusal, Unpaid::Policy)
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
        let request = request.clone();
        Box::pin(async move {
            let failed = format!("the answer to paid request {ticket} was not recorded");
            self.off_runtime(failed, move |hook| {
                let outcome = outcome.as_ref().map(|(status, h)| (*status, h));
                hook.answered(&request, ticket, outcome.map_err(String::as_str));
            })
            .await;
        })
    }

    fn on_abandoned(&self, request: &RequestSnapshot, ticket: u64) {
        // Recorded as a paid request with no answer (`unsure`), and followed on chain. Here,
        // on the runtime: it runs from a drop, and a task spawned now might never run at
        // shutdown, leaving the row `signed`.
        self.answered(request, ticket, Err("the client went away before it came"));
    }
}
