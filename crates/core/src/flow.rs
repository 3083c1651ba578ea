//! The payment flow: a 402 comes in, a decision goes out, and the answer to the paid
//! request is written down.
//!
//! [`Payer::decide`] decodes the 402, picks and checks an offer, and asks the user's
//! controls: paused, the rule that matches (see [`crate::rules`]), the payee the site was
//! paid before. An allowed payment is reserved against its budgets in one atomic step,
//! signed with the default account, and written down as `signed` before the payment
//! header goes back. A payment to be asked about comes back as [`Decision::Ask`]; the
//! caller shows it and calls [`Payer::approved`] or [`Payer::refuse_asked`].
//! [`Payer::finish`] reads the paid answer's settlement header and records it. Every
//! refusal of an x402 402 is recorded too.

use std::sync::Arc;

use alloy::primitives::keccak256;
use http::{HeaderMap, Uri, header::ACCEPT};
use purse_x402::{PaymentRequired, SettleResponse, exact::Offer, registry};
use serde_json::Value;

use crate::{
    Reason, Refusal,
    budget::{self, Budget},
    money::Usd,
    policy::{Facts, Judgement, Payee, Policy},
    ports::{Attempt, Clock, Fate, KeyError, Keys, Ledger, Nonces, Outcome, Reserved, Signer},
    quote::{Quote, QuoteOptions, quote},
    rules::{self, Rule, Target},
};

/// Who left an asked payment unpaid, as its history row records it (`decided_by`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unpaid {
    /// The user said no: denied it, or blocked the site.
    User,
    /// The prompt was left until it timed out.
    Timeout,
    /// No one could be asked, so the policy's reason to ask refuses it.
    Policy,
}

impl Unpaid {
    /// The `decided_by` text: `user`, `timeout` or `policy`.
    pub fn decided_by(self) -> &'static str {
        match self {
            Self::User => "user",
            Self::Timeout => "timeout",
            Self::Policy => "policy",
        }
    }
}

/// The ports the flow runs on.
#[derive(Clone)]
pub struct Ports {
    /// Wall clock.
    pub clock: Arc<dyn Clock>,
    /// Nonce source.
    pub nonces: Arc<dyn Nonces>,
    /// Accounts.
    pub keys: Arc<dyn Keys>,
    /// History, budgets and controls.
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

/// What a prompt shows about a payment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Approval {
    /// Payments with the same key (site, network, asset, amount, payee) share one prompt.
    pub key: String,
    /// The site (host).
    pub site: String,
    /// The URL paid for.
    pub url: String,
    /// The request's method.
    pub method: String,
    /// Atomic units, decimal.
    pub amount: String,
    /// The dollar value, for a USD stablecoin Purse knows.
    pub usd: Option<Usd>,
    /// Token address, checksummed.
    pub asset: String,
    /// Its ticker, when Purse knows it.
    pub symbol: Option<String>,
    /// CAIP-2 network id.
    pub network: String,
    /// The network's name.
    pub network_name: String,
    /// Whether the network's money is play money.
    pub testnet: bool,
    /// Payee, checksummed.
    pub pay_to: String,
    /// Whether the site paid this payee before.
    pub payee: Payee,
    /// The paying account.
    pub account: String,
    /// What is left of the global caps (`None`: no cap).
    pub budgets: Vec<(String, Option<Usd>)>,
    /// Why Purse asks: the policy's reason, worded for a prompt.
    pub why: Refusal,
}

impl Approval {
    /// The refusal when no one could be asked (no prompt attached, or a prompt that cannot
    /// be shown): why Purse would have asked, and that it could not.
    pub fn unanswered(&self) -> Refusal {
        Refusal::new(self.why.reason, format!("{}, and no one could be asked", self.why.text))
    }
}

/// A payment waiting for the user. Hand it back to [`Payer::approved`] or
/// [`Payer::refuse_asked`].
#[derive(Debug, Clone)]
pub struct Ask {
    /// What to show.
    pub approval: Approval,
    required: PaymentRequired,
    uri: Uri,
    attempt: Attempt,
}

/// What to do with a 402.
#[derive(Debug, Clone)]
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
    /// Ask the user.
    Ask(Box<Ask>),
    /// Give the client the 402 with `X-Purse-Reason`.
    Refuse(Refusal),
    /// Not an x402 402: pass it through untouched.
    NotX402,
}

impl PartialEq for Decision {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (Self::Pay { value: a, ticket: x, .. }, Self::Pay { value: b, ticket: y, .. }) => {
                a == b && x == y
            }
            (Self::AskAgain { accept: a }, Self::AskAgain { accept: b }) => a == b,
            (Self::Ask(a), Self::Ask(b)) => a.approval == b.approval,
            (Self::Refuse(a), Self::Refuse(b)) => a == b,
            (Self::NotX402, Self::NotX402) => true,
            _ => false,
        }
    }
}

/// How the flow decides and signs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Settings {
    /// Standing choices.
    pub policy: Policy,
    /// Offer choice and checks.
    pub quote: QuoteOptions,
}

/// The payer side of x402, behind its ports.
pub struct Payer {
    settings: Settings,
    ports: Ports,
}

impl std::fmt::Debug for Payer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Payer").field("settings", &self.settings).finish_non_exhaustive()
    }
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

/// The site a request goes to, as rules name it: its host, lowercase, without the dot
/// that may end a fully qualified name (`evil.example.` is `evil.example`).
fn site(uri: &Uri) -> String {
    let host = uri.host().unwrap_or_default();
    host.strip_suffix('.').unwrap_or(host).to_ascii_lowercase()
}

fn key_refusal(error: KeyError) -> Refusal {
    match error {
        KeyError::NoAccount(text) => Refusal::new(Reason::NoAccount, text),
        KeyError::Unavailable(text) => Refusal::new(Reason::Keychain, text),
    }
}

impl Payer {
    /// A payer with `settings`, on `ports`.
    pub fn new(settings: Settings, ports: Ports) -> Self {
        Self { settings, ports }
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
        match self.judge(request, required, &mut attempt) {
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
            host: site(request.uri),
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
        if let Err(error) = self.ports.ledger.refused(attempt) {
            tracing::warn!(%error, url = %attempt.url, "a refusal could not be recorded");
        }
        Decision::Refuse(refusal)
    }

    fn judge(
        &self,
        request: Request<'_>,
        required: PaymentRequired,
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
        let controls = self.ports.ledger.controls().map_err(Refusal::history)?;
        let quoted = quote(&required, request.uri, &self.settings.quote)?;
        record_offer(attempt, &required, &quoted);
        if controls.paused {
            return Err(Refusal::new(
                Reason::Paused,
                "Purse is paused: nothing is paid until it resumes",
            ));
        }
        let network = quoted.offer.network.caip2();
        let asset = quoted.offer.asset.to_checksum(None);
        let pay_to = quoted.offer.pay_to.to_checksum(None);
        let target = Target {
            host: &attempt.host,
            path: request.uri.path(),
            network: &network,
            asset: &asset,
            pay_to: &pay_to,
        };
        let rule = rules::select(&controls.rules, &target);
        let payee = self.ports.ledger.payee(&attempt.host, &pay_to).map_err(Refusal::history)?;
        let facts = Facts { host: &attempt.host, usd: quoted.usd, testnet: quoted.testnet, payee };
        let decided_by = rule.map_or_else(|| "policy".to_owned(), |r| format!("rule {}", r.id));
        match self.settings.policy.judge(rule, facts) {
            // A deny rule: recorded as its decision.
            Judgement::Deny(refusal) => {
                attempt.decided_by = Some(decided_by);
                Err(refusal)
            }
            Judgement::Allow => self.pay(&quoted, rule, &controls.caps, decided_by, None, attempt),
            Judgement::Ask(why) => {
                let account =
                    self.ports.keys.payer().map_err(key_refusal)?.address().to_checksum(None);
                let approval =
                    self.approval(request, &quoted, &controls.caps, payee, account, why)?;
                Ok(Decision::Ask(Box::new(Ask {
                    approval,
                    required,
                    uri: request.uri.clone(),
                    attempt: attempt.clone(),
                })))
            }
        }
    }

    fn approval(
        &self,
        request: Request<'_>,
        quoted: &Quote<'_>,
        caps: &budget::Caps,
        payee: Payee,
        account: String,
        why: Refusal,
    ) -> Result<Approval, Refusal> {
        let offer = &quoted.offer;
        let network = offer.network.caip2();
        let asset = offer.asset.to_checksum(None);
        let pay_to = offer.pay_to.to_checksum(None);
        let host = site(request.uri);
        let globals = budget::budgets(self.ports.clock.now(), *caps, None);
        let keys: Vec<String> = globals.iter().map(|b| b.key.clone()).collect();
        let used = self.ports.ledger.used(&keys, quoted.testnet).map_err(Refusal::history)?;
        let budgets = globals
            .iter()
            .zip(used)
            .map(|(b, used)| {
                (budget::describe(&b.key), b.limit.map(|limit| Usd(limit.0.saturating_sub(used.0))))
            })
            .collect();
        Ok(Approval {
            key: format!("{host}|{network}|{asset}|{}|{pay_to}", offer.amount),
            site: host,
            url: request.uri.to_string(),
            method: request.method.to_owned(),
            amount: offer.amount.to_string(),
            usd: quoted.usd,
            asset,
            symbol: offer.known_asset.map(|a| a.symbol.to_owned()),
            network,
            network_name: registry::network_by_chain_id(offer.network.chain_id)
                .map_or_else(|| offer.network.name.to_owned(), |n| n.name.to_owned()),
            testnet: quoted.testnet,
            pay_to,
            payee,
            account,
            budgets,
            why,
        })
    }

    /// The user approved `ask`: pays it (within the global caps), signing now, so that a
    /// slow answer never yields an expired authorization. What the user saw still holds:
    /// Purse paused meanwhile, or another account made the default, it is not paid.
    pub fn approved(&self, ask: Ask) -> Decision {
        let Ask { required, uri, mut attempt, approval } = ask;
        let decision = quote(&required, &uri, &self.settings.quote).and_then(|quoted| {
            let controls = self.ports.ledger.controls().map_err(Refusal::history)?;
            if controls.paused {
                return Err(Refusal::new(
                    Reason::Paused,
                    "Purse was paused before your answer arrived: nothing is paid until it resumes",
                ));
            }
            // The account the prompt named pays, or nothing does: the key is taken once, here.
            let signer = self.ports.keys.payer().map_err(key_refusal)?;
            let account = signer.address();
            if account.to_checksum(None) != approval.account {
                return Err(Refusal::new(
                    Reason::Denied,
                    format!(
                        "you approved paying from {}, but {account} pays now: not paid",
                        approval.account
                    ),
                ));
            }
            let user = "user".to_owned();
            self.pay(&quoted, None, &controls.caps, user, Some(signer), &mut attempt)
        });
        decision.unwrap_or_else(|refusal| self.refuse(&mut attempt, refusal))
    }

    /// `ask` is not paid (denied, timed out, or no one to ask): recorded with `refusal`, as
    /// decided `by`.
    pub fn refuse_asked(&self, ask: Ask, refusal: Refusal, by: Unpaid) -> Decision {
        let mut attempt = ask.attempt;
        attempt.decided_by = Some(by.decided_by().to_owned());
        self.refuse(&mut attempt, refusal)
    }

    /// Stores `rule` (an answer such as "always for this site" or "block this site").
    pub fn add_rule(&self, rule: &Rule) -> Result<i64, String> {
        self.ports.ledger.add_rule(rule)
    }

    /// Reserves and signs `quoted`, decided by `decided_by`, with `signer` when the caller
    /// has taken the key already (an approval checks it is the account it named), else with
    /// the default account's.
    fn pay(
        &self,
        quoted: &Quote<'_>,
        rule: Option<&Rule>,
        caps: &budget::Caps,
        decided_by: String,
        signer: Option<Arc<dyn Signer>>,
        attempt: &mut Attempt,
    ) -> Result<Decision, Refusal> {
        let now = self.ports.clock.now();
        attempt.at_ms = now.unix_ms;
        attempt.decided_by = Some(decided_by);
        // An amount past i64 micro-dollars (about $9.2T) counts as the most there is, so
        // it passes no budget.
        attempt.usd_micros = quoted.usd.map(|u| i64::try_from(u.0).unwrap_or(i64::MAX));
        attempt.testnet = Some(quoted.testnet);
        attempt.rule_id = rule.map(|r| r.id);
        let budgets: Vec<Budget> = budget::budgets(now, *caps, rule);
        // The key is unlocked before the reservation: the ledger's write lock is held only
        // for the signature itself.
        let signer = match signer {
            Some(signer) => signer,
            None => self.ports.keys.payer().map_err(key_refusal)?,
        };
        let mut header = None;
        let mut sign = || {
            let mut signed = attempt.clone();
            header = Some(self.sign(quoted, now.unix_secs(), signer.as_ref(), &mut signed)?);
            Ok(signed)
        };
        match self.ports.ledger.reserve(attempt, &budgets, &mut sign)? {
            Reserved::Row(ticket) => {
                let (name, value) = header.ok_or_else(|| Refusal::history("nothing was signed"))?;
                Ok(Decision::Pay { name, value, ticket })
            }
            Reserved::Over { key, used, limit } => {
                let usd = quoted.usd.unwrap_or_default();
                Err(Refusal::new(
                    Reason::Budget,
                    format!(
                        "{usd} would pass {}: {used} of {limit} is spent or reserved",
                        budget::describe(&key)
                    ),
                ))
            }
        }
    }

    fn sign(
        &self,
        quoted: &Quote<'_>,
        now_secs: u64,
        signer: &dyn Signer,
        attempt: &mut Attempt,
    ) -> Result<(&'static str, String), Refusal> {
        let nonce = self.ports.nonces.nonce();
        let authorization =
            quoted.offer.authorize(signer.address(), now_secs, nonce, Some(quoted.lifetime))?;
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
        let at = self.ports.clock.now().unix_ms;
        if let Err(error) = self.ports.ledger.finish(ticket, at, &outcome) {
            tracing::warn!(%error, ticket, "the outcome of a payment could not be recorded");
        }
        outcome
    }
}

fn record_offer(attempt: &mut Attempt, required: &PaymentRequired, quoted: &Quote<'_>) {
    let offer: &Offer<'_> = &quoted.offer;
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
                // The server says it was not settled, but it holds the signed authorization
                // until it expires: only the chain can tell it was never used.
                let said = response.error_message.clone().or(response.error_reason.clone());
                outcome.reason_code = response.error_reason;
                outcome.reason = Some(format!(
                    "the server says the settlement failed ({}); checking on chain until the \
                     authorization expires",
                    said.as_deref().unwrap_or("no reason given")
                ));
            }
        }
        Ok(None) if status == 402 => {
            outcome.reason_code = Some("payment-rejected".to_owned());
            outcome.reason = Some(
                "the server answered 402 again: the payment was not accepted, but the server \
                 holds the signed authorization until it expires; checking on chain"
                    .to_owned(),
            );
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
