//! Payments checked on chain: a settled payment's transaction must hold a Transfer of the
//! right amount from the payer to payTo before it is called `confirmed`; a payment whose
//! fate is open (`signed`, `sent`, `unsure`: a crash, a lost answer, a server that turned
//! it down but holds the authorization, `settlement_pending`), or whose named transaction
//! reverted or never landed, is decided by its nonce (EIP-3009 or Permit2), never dropped:
//! `failed` only once the authorization expired unused, with a margin for a node behind.

use std::{sync::Arc, time::Duration};

use alloy::primitives::{Address, B256, U256};
use purse_chain::{Chain, Confirmation};
use purse_store::{Payment, PaymentId, Status, Update};
use purse_x402::{exact, registry};

use crate::adapters::{SharedStore, lock};

/// How long after `validBefore` an unused authorization counts as expired: a node a few
/// blocks behind may not have seen a settlement mined just in time.
const EXPIRY_MARGIN_SECS: u64 = 60;

/// What one look at the chain found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Check {
    /// The payment's status now, final (`confirmed`, `failed`) or not.
    Status(Status),
    /// Nothing to decide yet: look again later.
    Later(String),
}

/// Checks payments on chain and records what it finds.
#[derive(Debug)]
pub struct Confirmer {
    chain: Chain,
    store: SharedStore,
}

/// The parts of a row the chain is asked about.
struct OnChain {
    chain_id: u64,
    asset: Address,
    payer: Address,
    pay_to: Address,
    amount: U256,
    nonce: B256,
    valid_before: u64,
    /// Whether the asset settles only through Permit2 (it has no EIP-3009 nonces).
    permit2_only: bool,
}

fn on_chain(payment: &Payment) -> Result<OnChain, String> {
    let missing = |what: &str| format!("payment {} has no {what}", payment.id);
    let network = payment.network.as_deref().ok_or_else(|| missing("network"))?;
    let chain_id = registry::network_by_caip2(network)
        .or_else(|| registry::network_by_v1_name(network))
        .map(|n| n.chain_id)
        .ok_or_else(|| format!("network {network} is not one Purse knows"))?;
    let address = |value: Option<&str>, what: &str| {
        value.and_then(exact::parse_address).ok_or_else(|| missing(what))
    };
    let asset = address(payment.asset.as_deref(), "asset")?;
    let permit2_only = registry::assets_on(chain_id)
        .any(|a| a.address == asset && a.transfer_method == registry::TransferMethod::Permit2);
    Ok(OnChain {
        chain_id,
        asset,
        payer: address(payment.payer.as_deref(), "payer")?,
        pay_to: address(payment.pay_to.as_deref(), "payTo")?,
        amount: payment
            .amount
            .as_deref()
            .and_then(exact::parse_amount)
            .ok_or_else(|| missing("amount"))?,
        nonce: payment
            .nonce
            .as_deref()
            .and_then(|n| n.parse().ok())
            .ok_or_else(|| missing("nonce"))?,
        valid_before: payment.valid_before.and_then(|v| u64::try_from(v).ok()).unwrap_or(0),
        permit2_only,
    })
}

impl Confirmer {
    /// A confirmer reading `chain` and writing `purse.db`.
    pub(crate) fn new(chain: Chain, store: SharedStore) -> Self {
        Self { chain, store }
    }

    fn advance(
        &self,
        id: PaymentId,
        path: &[Status],
        reason: Option<String>,
    ) -> Result<Status, String> {
        let at = crate::now_ms();
        let update = Update { reason, ..Update::default() };
        lock(&self.store).advance_through(id, path, at, &update).map_err(|e| e.to_string())?;
        Ok(path.last().copied().unwrap_or(Status::Requested))
    }

    /// Looks at payment `id` on chain once and records what is certain.
    pub async fn check(&self, id: PaymentId) -> Result<Check, String> {
        let payment = lock(&self.store)
            .payment(id)
            .map_err(|e| e.to_string())?
            .ok_or_else(|| format!("no payment {id}"))?;
        if !payment.status.is_open() {
            return Ok(Check::Status(payment.status));
        }
        let facts = on_chain(&payment)?;
        let now_secs = u64::try_from(crate::now_ms() / 1000).unwrap_or(0);
        let expired = now_secs > facts.valid_before.saturating_add(EXPIRY_MARGIN_SECS);
        if payment.status == Status::Settled
            && let Some(tx) = payment.tx_hash.as_deref().and_then(|t| t.parse::<B256>().ok())
        {
            let found = self
                .chain
                .confirm_transfer(
                    facts.chain_id,
                    tx,
                    facts.asset,
                    facts.payer,
                    facts.pay_to,
                    facts.amount,
                )
                .await
                .map_err(|e| e.to_string())?;
            match found {
                Confirmation::Confirmed { block } => {
                    tracing::info!(id, block, "payment confirmed on chain");
                    return self.advance(id, &[Status::Confirmed], None).map(Check::Status);
                }
                // Not mined yet; past the authorization's life, the nonce tells (a gas bump
                // lands another transaction, a made-up hash never lands).
                Confirmation::Pending if !expired => {
                    return Ok(Check::Later(format!("{tx} is not mined yet")));
                }
                Confirmation::Pending => {
                    let why = format!("{tx} never landed");
                    self.advance(id, &[Status::Unsure], Some(why))?;
                }
                // A reverted settlement may be one of two sent for the same authorization (a
                // copy front-ran it): the nonce tells whether the payee was paid.
                Confirmation::Reverted => {
                    let why = format!("the settlement {tx} reverted");
                    self.advance(id, &[Status::Unsure], Some(why))?;
                }
                Confirmation::Mismatch(why) => {
                    // The server named a transaction that does not pay this payment.
                    self.advance(id, &[Status::Unsure], Some(format!("{tx}: {why}")))?;
                }
            }
        }
        let used = self.used(&facts).await?;
        let path_to = |last: Status| -> Vec<Status> {
            match payment.status {
                // A signed or sent payment is not known to be settled: it passes unsure.
                Status::Signed | Status::Sent if last == Status::Confirmed => {
                    vec![Status::Unsure, Status::Confirmed]
                }
                _ => vec![last],
            }
        };
        if used {
            self.advance(
                id,
                &path_to(Status::Confirmed),
                Some("the authorization was used on chain".into()),
            )
            .map(Check::Status)
        } else if expired {
            self.advance(
                id,
                &path_to(Status::Failed),
                Some("the authorization expired unused: nothing was paid".into()),
            )
            .map(Check::Status)
        } else {
            Ok(Check::Later(format!("not settled yet; valid until {}", facts.valid_before)))
        }
    }

    /// Whether the payment's nonce was used: an EIP-3009 authorization's or a Permit2
    /// permit's (the row keeps the nonce, not which it was; both are 32 random bytes, so
    /// the one used is this payment's). Both must answer, unless the asset has no EIP-3009.
    async fn used(&self, facts: &OnChain) -> Result<bool, String> {
        let permit2 = self
            .chain
            .permit2_nonce_used(facts.chain_id, facts.payer, U256::from_be_bytes(facts.nonce.0))
            .await
            .map_err(|e| e.to_string())?;
        if permit2 || facts.permit2_only {
            return Ok(permit2);
        }
        self.chain
            .authorization_used(facts.chain_id, facts.asset, facts.payer, facts.nonce)
            .await
            .map_err(|e| e.to_string())
    }

    /// Checks payment `id` until its fate is final, backing off; gives up (leaving the row
    /// open for the next start) after about ten minutes.
    pub async fn follow(self: Arc<Self>, id: PaymentId) {
        let mut delay = Duration::from_millis(200);
        let deadline = tokio::time::Instant::now() + Duration::from_secs(600);
        loop {
            match self.check(id).await {
                Ok(Check::Status(status)) if !status.is_open() => return,
                Ok(Check::Status(_)) => {}
                Ok(Check::Later(why)) => tracing::debug!(id, %why, "payment not final yet"),
                Err(error) => tracing::warn!(id, %error, "payment could not be checked on chain"),
            }
            if tokio::time::Instant::now() + delay > deadline {
                tracing::warn!(id, "payment still open; it is checked again at the next start");
                return;
            }
            tokio::time::sleep(delay).await;
            delay = (delay * 2).min(Duration::from_secs(30));
        }
    }

    /// Follows every payment left open (by a crash, a lost answer, a pending settlement).
    pub fn reconcile(self: &Arc<Self>) -> usize {
        let open = match lock(&self.store).open_payments() {
            Ok(open) => open,
            Err(error) => {
                tracing::warn!(%error, "open payments could not be read");
                return 0;
            }
        };
        for payment in &open {
            tokio::spawn(self.clone().follow(payment.id));
        }
        open.len()
    }
}
