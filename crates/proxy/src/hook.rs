//! Where payments plug in: every 402, with a copy of the request that caused it.

use std::{future::Future, net::SocketAddr, pin::Pin};

use bytes::Bytes;
use http::{HeaderMap, Method, StatusCode, Uri};

/// A bounded copy of a request, kept so that it can be sent again with a payment.
#[derive(Debug, Clone)]
pub struct RequestSnapshot {
    /// The client that sent it (always a loopback address).
    pub client: SocketAddr,
    /// Method.
    pub method: Method,
    /// The absolute URI it was sent to (`https://…` for intercepted HTTPS).
    pub uri: Uri,
    /// Its headers, as the client sent them (hop-by-hop headers removed).
    pub headers: HeaderMap,
    /// The whole body, or `None` when it was larger than the replay limit and was
    /// streamed instead: such a request cannot be sent again.
    pub body: Option<Bytes>,
}

impl RequestSnapshot {
    /// Whether the request can be sent again.
    pub fn is_replayable(&self) -> bool {
        self.body.is_some()
    }
}

/// A 402 answer, whole.
#[derive(Debug, Clone)]
pub struct ResponseSnapshot {
    /// Always 402 today.
    pub status: StatusCode,
    /// The server's headers.
    pub headers: HeaderMap,
    /// The server's body, or nothing when it was larger than `Limits::max_402_body` (it
    /// then reaches the client as it streams).
    pub body: Bytes,
}

/// What to do with a 402.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum Verdict {
    /// Give the client the 402 as the server sent it, plus these headers (for example an
    /// `X-Purse-Reason`).
    PassThrough {
        /// Headers added to the server's.
        headers: HeaderMap,
    },
    /// Send the request again with these headers added (the payment), and give the client
    /// whatever that answers, without asking again.
    Resend {
        /// Headers added to the request's.
        headers: HeaderMap,
        /// The hook's own number for this payment, handed back to
        /// [`PaymentHook::on_resent`].
        ticket: u64,
    },
    /// Send the request again with these headers replaced (a v1 server answers a
    /// browser's `Accept: text/html` with a paywall page, and its JSON to other clients),
    /// and ask the hook once more about that answer. The request is re-asked at most once;
    /// if the hook then passes, the client gets the first 402 with the added headers.
    AskAgain {
        /// Headers that replace the request's.
        headers: HeaderMap,
    },
}

impl Verdict {
    /// Pass the 402 through untouched.
    pub fn pass() -> Self {
        Self::PassThrough { headers: HeaderMap::new() }
    }
}

/// A boxed future, so that the hook can be a trait object.
pub type HookFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Receives every 402 the proxy sees.
///
/// The proxy asks at most once per request: the answer to a re-sent request is given to
/// the client as it is, even when it is another 402, and [`PaymentHook::on_resent`] is told.
pub trait PaymentHook: Send + Sync + 'static {
    /// Decides what happens to a 402. `request.body` is `None` when the request was too
    /// large to keep: it cannot be re-sent, and a `Resend` verdict for it is turned into a
    /// pass-through.
    fn on_payment_required<'a>(
        &'a self,
        request: &'a RequestSnapshot,
        response: &'a ResponseSnapshot,
    ) -> HookFuture<'a, Verdict>;

    /// The answer to a request re-sent by [`Verdict::Resend`] (or the error that stopped it).
    fn on_resent<'a>(
        &'a self,
        request: &'a RequestSnapshot,
        ticket: u64,
        outcome: Result<(StatusCode, &'a HeaderMap), &'a str>,
    ) -> HookFuture<'a, ()> {
        let _ = (request, ticket, outcome);
        Box::pin(async {})
    }

    /// The client went away while the re-sent request was out, so its answer will never
    /// be read and [`PaymentHook::on_resent`] never called: the payment may or may not have
    /// been settled. Called as the request is dropped, on the proxy's runtime; it must not
    /// block.
    fn on_abandoned(&self, request: &RequestSnapshot, ticket: u64) {
        let _ = (request, ticket);
    }
}

/// The default hook: every 402 passes through untouched.
#[derive(Debug, Clone, Copy, Default)]
pub struct PassThrough;

impl PaymentHook for PassThrough {
    fn on_payment_required<'a>(
        &'a self,
        _request: &'a RequestSnapshot,
        _response: &'a ResponseSnapshot,
    ) -> HookFuture<'a, Verdict> {
        Box::pin(async { Verdict::pass() })
    }
}
