//! The payment flow: a 402 comes in, a decision goes out, and the answer to the paid
//! request is written down.
//!
//! [`Payer::decide`] decodes the 402, picks and checks an offer, asks the policy, reserves
//! the money against today's budget, signs with the default account, and commits a
//! `signed` row before handing back the payment header. [`Payer::finish`] reads the paid
//! answer's settlement header and records it. Every refusal of an x402 402 is recorded too.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex, MutexGuard},
};

use alloy::primitives::keccak256;
use http::{HeaderMap, Uri, header::ACCEPT};
use purse_x402::{
    PaymentRequired, SettleResponse,
    exact::{self, Offer},
    registry,
};
use serde_json::Value;

use crate::{
    Reason, Refusal,
    money::{Usd, usd_value},
    policy::{FixedPolicy, Spend},
    ports::{Attempt, Clock, Fate, Keys, Ledger, Nonces, Outcome},
    quote::{Quote, QuoteOptions, quote},
};

/// The ports the flow runs on.
#[derive(Clone)]
pub struct Ports {
    /// Wall clock.
    pub clock: Arc<dyn Clock>,
    /// Nonce source.
    pub nonces: Arc<dyn Nonces>,
    /// Accounts.
    pub keys: Arc<dyn Keys>,
    /// History.
    pub ledger: Arc<dyn Ledger>,
}

/// A request that was answered 402.
#[derive(Debug, Clone, Copy)]
pub struct Request<'a> {
    /// The client's address, for the history.
    pub client: Option<&'a str>,
    /// Method.
    pub method: &'a str,
    /// Absolute URI.
    pub uri: &'a Uri,
    /// The client's headers.
    pub headers: &'a HeaderMap,
    /// Whether its body was kept, so that it can be sent again.
    pub replayable: bool,
}

/// The 402.
#[derive(Debug, Clone, Copy)]
pub struct PaymentRequiredAnswer<'a> {
    /// The server's headers.
    pub headers: &'a HeaderMap,
    /// The server's body.
    pub body: &'a [u8],
}

/// What to do with a 402.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Send the request again with this header; `ticket` goes back to [`Payer::finish`].
    Pay {
        /// `PAYMENT-SIGNATURE` or `X-PAYMENT`.
        name: &'static str,
        /// The encoded payment.
        value: String,
        /// The history row.
        ticket: i64,
    },
    /// Not machine-readable, but a browser's v1 paywall: ask again with this `Accept`
    /// (the v1 server then answers its JSON requirements), and decide on that answer.
    AskAgain {
        /// A non-HTML `Accept`.
        accept: &'static str,
    },
    /// Give the client the 402 with `X-Purse-Reason`.
    Refuse(Refusal),
    /// Not an x402 402: pass it through untouched.
    NotX402,
}

/// What the flow may spend and how it signs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Settings {
    /// Auto-approve limits.
    pub policy: FixedPolicy,
    /// Offer choice and checks.
    pub quote: QuoteOptions,
}

/// Today's reserved and spent dollars, apart for testnets and mainnets.
#[derive(Debug, Clone, Copy, Default)]
struct Today {
    day_start_ms: Option<i64>,
    testnet: Usd,
    mainnet: Usd,
}

impl Today {
    fn get(&mut self, testnet: bool) -> &mut Usd {
        if testnet { &mut self.testnet } else { &mut self.mainnet }
    }
}

/// A payment signed and not yet answered.
#[derive(Debug, Clone, Copy)]
struct Pending {
    usd: Option<Usd>,
    testnet: bool,
    day_start_ms: i64,
}

/// The payer side of x402, behind its ports.
pub struct Payer {
    settings: Settings,
    ports: Ports,
    today: Mutex<Today>,
    pending: Mutex<HashMap<i64, Pending>>,
}

impl std::fmt::Debug for Payer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Payer").field("settings", &self.settings).finish_non_exhaustive()
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // The data stays consistent across a panic elsewhere: every update is one assignment.
    mutex.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn header_pairs(headers: &HeaderMap) -> Vec<(&str, &str)> {
    headers.iter().filter_map(|(name, value)| Some((name.as_str(), value.to_str().ok()?))).collect()
}

/// A browser asked for a page (`Accept: text/html`): a v1 server answers it with HTML.
fn wants_html(headers: &HeaderMap) -> bool {
    headers
        .get_all(ACCEPT)
        .iter()
        .any(|v| v.to_str().is_ok_and(|v| v.to_ascii_lowercase().contains("text/html")))
}

fn text(value: Option<&Value>) -> Option<String> {
    match value? {
        Value::String(s) => Some(s.clone()),
        Value::Null => None,
        other => Some(other.to_string()),
    }
}

/// The USD value of a spent row, or `None` for assets that are not dollars.
fn spent_usd(network: &str, asset: &str, amount: &str) -> Option<(Usd, bool)> {
    let network =
        registry::network_by_caip2(network).or_else(|| registry::network_by_v1_name(network))?;
    let asset = registry::asset(network.chain_id, exact::parse_address(asset)?)?;
    Some((usd_value(asset, amount)?, network.testnet))
}

impl Payer {
    /// A payer with `settings`, on `ports`.
    pub fn new(settings: Settings, ports: Ports) -> Self {
        Self {
            settings,
            ports,
            today: Mutex::new(Today::default()),
            pending: Mutex::new(HashMap::new()),
        }
    }

    /// The settings it runs with.
    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// Decides what to do with a 402 (see the module documentation).
    pub fn decide(&self, request: Request<'_>, answer: PaymentRequiredAnswer<'_>) -> Decision {
        let required =
            match PaymentRequired::from_response(402, header_pairs(answer.headers), answer.body) {
                Ok(Some(required)) => required,
                Ok(None) if wants_html(request.headers) && request.replayable => {
                    return Decision::AskAgain { accept: "application/json" };
                }
                Ok(None) => return Decision::NotX402,
                Err(error) => {
                    let refusal = Refusal::from(error);
                    let mut attempt = self.attempt(request, None);
                    return self.refuse(&mut attempt, refusal);
                }
            };
        let mut attempt = self.attempt(request, Some(&required));
        match self.pay(request, &required, &mut attempt) {
            Ok(decision) => decision,
            Err(refusal) => self.refuse(&mut attempt, refusal),
        }
    }

    /// The row's fields known before any decision: the request, and the first offer
    /// (replaced by the chosen one once there is one).
    fn attempt(&self, request: Request<'_>, required: Option<&PaymentRequired>) -> Attempt {
        let first = required.and_then(|r| r.accept(0));
        let field = |name: &str| text(first.and_then(|a| a.get(name)));
        let amount = field("amount").or_else(|| field("maxAmountRequired"));
        Attempt {
            at_ms: self.ports.clock.now().unix_ms,
            client: request.client.map(str::to_owned),
            method: request.method.to_owned(),
            url: request.uri.to_string(),
            host: request.uri.host().unwrap_or_default().to_ascii_lowercase(),
            x402_version: required.map(|r| i64::try_from(r.x402_version()).unwrap_or(0)),
            scheme: field("scheme"),
            network: field("network"),
            asset: field("asset"),
            amount,
            pay_to: field("payTo"),
            ..Attempt::default()
        }
    }

    fn refuse(&self, attempt: &mut Attempt, refusal: Refusal) -> Decision {
        attempt.reason_code = Some(refusal.reason.code().to_owned());
        attempt.reason = Some(refusal.text.clone());
        if let Err(error) = self.ports.ledger.insert(attempt, Fate::Refused) {
            tracing::warn!(%error, url = %attempt.url, "a refusal could not be recorded");
        }
        Decision::Refuse(refusal)
    }

    fn pay(
        &self,
        request: Request<'_>,
        required: &PaymentRequired,
        attempt: &mut Attempt,
    ) -> Result<Decision, Refusal> {
        for name in [purse_x402::X_PAYMENT, purse_x402::PAYMENT_SIGNATURE] {
            if request.headers.contains_key(name) {
                return Err(Refusal::new(
                    Reason::AlreadyPaid,
                    format!("the request already carries {name}: it is not paid again"),
                ));
            }
        }
        if !request.replayable {
            return Err(Refusal::new(
                Reason::NotReplayable,
                "the request body was too large to keep, so it cannot be sent again with a payment",
            ));
        }
        let quote = quote(required, request.uri, &self.settings.quote)?;
        record_offer(attempt, required, &quote.offer);
        attempt.decided_by = Some("policy".to_owned());

        let now = self.ports.clock.now();
        let reserved = self.reserve(&quote, now.day_start_ms())?;
        match self.sign(&quote, now.unix_secs(), attempt) {
            Ok((name, value)) => match self.ports.ledger.insert(attempt, Fate::Signed) {
                Ok(ticket) => {
                    lock(&self.pending).insert(ticket, reserved);
                    Ok(Decision::Pay { name, value, ticket })
                }
                Err(error) => {
                    self.release(reserved);
                    // Never pay what the history does not know of.
                    Err(Refusal::new(
                        Reason::History,
                        format!("the payment could not be recorded, so it was not sent: {error}"),
                    ))
                }
            },
            Err(refusal) => {
                self.release(reserved);
                Err(refusal)
            }
        }
    }

    /// Checks the policy against today's spending and reserves the amount, in one step so
    /// that concurrent payments cannot overrun a cap together.
    fn reserve(&self, quote: &Quote<'_>, day_start_ms: i64) -> Result<Pending, Refusal> {
        let mut today = lock(&self.today);
        if today.day_start_ms != Some(day_start_ms) {
            let rows = self.ports.ledger.spent_since(day_start_ms).map_err(|error| {
                Refusal::new(Reason::History, format!("today's spending cannot be read: {error}"))
            })?;
            let mut fresh = Today { day_start_ms: Some(day_start_ms), ..Today::default() };
            for row in rows {
                if let Some((usd, testnet)) = spent_usd(&row.network, &row.asset, &row.amount) {
                    let total = fresh.get(testnet);
                    *total = total.plus(usd);
                }
            }
            *today = fresh;
        }
        let spend = Spend { usd: quote.usd, testnet: quote.testnet };
        self.settings.policy.decide(spend, *today.get(quote.testnet))?;
        if let Some(usd) = quote.usd {
            let total = today.get(quote.testnet);
            *total = total.plus(usd);
        }
        Ok(Pending { usd: quote.usd, testnet: quote.testnet, day_start_ms })
    }

    fn release(&self, pending: Pending) {
        let mut today = lock(&self.today);
        if let (Some(usd), Some(day)) = (pending.usd, today.day_start_ms)
            && day == pending.day_start_ms
        {
            let total = today.get(pending.testnet);
            *total = Usd(total.0.saturating_sub(usd.0));
        }
    }

    fn sign(
        &self,
        quote: &Quote<'_>,
        now_secs: u64,
        attempt: &mut Attempt,
    ) -> Result<(&'static str, String), Refusal> {
        let signer = self.ports.keys.payer().map_err(|error| match error {
            crate::ports::KeyError::NoAccount(text) => Refusal::new(Reason::NoAccount, text),
            crate::ports::KeyError::Unavailable(text) => Refusal::new(Reason::Keychain, text),
        })?;
        let nonce = self.ports.nonces.nonce();
        let authorization =
            quote.offer.authorize(signer.address(), now_secs, nonce, Some(quote.lifetime))?;
        let signature = signer
            .sign_hash(&authorization.signing_hash())
            .map_err(|error| Refusal::new(Reason::Keychain, error.to_string()))?;
        attempt.payer = Some(signer.address().to_checksum(None));
        attempt.nonce = Some(format!("{:#x}", authorization.nonce()));
        attempt.valid_before = i64::try_from(authorization.valid_before()).ok();
        let payload = authorization.into_payload(&signature);
        let (name, value) = payload.header();
        attempt.payload_hash = Some(format!("{:#x}", keccak256(value.as_bytes())));
        Ok((name, value))
    }

    /// Records the answer to the paid request for `ticket`: its status and headers, or the
    /// error that kept it from arriving. Returns what was recorded.
    pub fn finish(&self, ticket: i64, answer: Result<(u16, &HeaderMap), &str>) -> Outcome {
        let outcome = outcome(answer);
        let pending = lock(&self.pending).remove(&ticket);
        if outcome.fate == Fate::Failed
            && let Some(pending) = pending
        {
            self.release(pending);
        }
        let at = self.ports.clock.now().unix_ms;
        if let Err(error) = self.ports.ledger.finish(ticket, at, &outcome) {
            tracing::warn!(%error, ticket, "the outcome of a payment could not be recorded");
        }
        outcome
    }
}

fn record_offer(attempt: &mut Attempt, required: &PaymentRequired, offer: &Offer<'_>) {
    let accept = required.accept(offer.index);
    let field = |name: &str| text(accept.and_then(|a| a.get(name)));
    attempt.scheme = field("scheme");
    attempt.network = field("network");
    attempt.asset = Some(offer.asset.to_checksum(None));
    attempt.amount = Some(offer.amount.to_string());
    attempt.pay_to = Some(offer.pay_to.to_checksum(None));
}

/// What the answer to a paid request says about the payment.
fn outcome(answer: Result<(u16, &HeaderMap), &str>) -> Outcome {
    let (status, headers) = match answer {
        Ok(pair) => pair,
        Err(error) => {
            return Outcome {
                fate: Fate::Unsure,
                tx_hash: None,
                server_status: None,
                reason_code: Some("no-answer".to_owned()),
                reason: Some(format!(
                    "the paid request got no answer ({error}); checking on chain"
                )),
            };
        }
    };
    let settled = SettleResponse::from_headers(header_pairs(headers));
    let mut outcome = Outcome {
        fate: Fate::Unsure,
        tx_hash: None,
        server_status: Some(i64::from(status)),
        reason_code: None,
        reason: None,
    };
    match settled {
        Ok(Some(response)) => {
            outcome.tx_hash = Some(response.transaction.clone()).filter(|t| !t.is_empty());
            if response.success {
                outcome.fate = Fate::Settled;
            } else if response.is_pending() {
                outcome.reason_code = Some("settlement_pending".to_owned());
                outcome.reason =
                    Some("the facilitator broadcast the transfer; checking on chain".to_owned());
            } else {
                outcome.fate = Fate::Failed;
                outcome.reason_code = response.error_reason.clone();
                outcome.reason = response.error_message.clone().or(response.error_reason);
            }
        }
        Ok(None) if status == 402 => {
            outcome.fate = Fate::Failed;
            outcome.reason_code = Some("payment-rejected".to_owned());
            outcome.reason =
                Some("the server answered 402 again; the payment was not accepted".to_owned());
        }
        Ok(None) => {
            // A server settles after its handler succeeds; without a receipt the transfer
            // may or may not have happened, and only the chain knows.
            outcome.reason_code = Some("no-receipt".to_owned());
            outcome.reason = Some(format!(
                "the server answered {status} without a settlement header; checking on chain"
            ));
        }
        Err(error) => {
            outcome.reason_code = Some("bad-receipt".to_owned());
            outcome.reason = Some(format!("the settlement header cannot be read: {error}"));
        }
    }
    outcome
}
