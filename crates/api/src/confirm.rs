//! Payments checked on chain: a settled payment's transaction must hold a Transfer of the
//! right amount from the payer to payTo before it is called `confirmed`; a payment whose
//! fate is open (`signed`, `sent`, `unsure`: a crash, a lost answer, `settlement_pending`)
//! is decided by the token's EIP-3009 nonce state, never dropped.

use std::{sync::Arc, time::Duration};

use alloy::primitives::{Address, B256, U256};
use purse_chain::{Chain, Confirmation};
use purse_store::{Payment, PaymentId, Status, Update};
use purse_x402::{exact, registry};

use crate::adapters::{SharedStore, lock};

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
    Ok(OnChain {
        chain_id,
        asset: address(payment.asset.as_deref(), "asset")?,
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
            return match found {
                Confirmation::Confirmed { block } => {
                    tracing::info!(id, block, "payment confirmed on chain");
                    self.advance(id, &[Status::Confirmed], None).map(Check::Status)
                }
                Confirmation::Pending => Ok(Check::Later(format!("{tx} is not mined yet"))),
                Confirmation::Reverted => self
                    .advance(
                        id,
                        &[Status::Failed],
                        Some(format!("the settlement {tx} reverted: nothing was paid")),
                    )
                    .map(Check::Status),
                Confirmation::Mismatch(why) => {
                    // The server named a transaction that does not pay this payment: the
                    // nonce will tell.
                    self.advance(id, &[Status::Unsure], Some(format!("{tx}: {why}")))?;
                    Ok(Check::Later(why))
                }
            };
        }
        let used = self
            .chain
            .authorization_used(facts.chain_id, facts.asset, facts.payer, facts.nonce)
            .await
            .map_err(|e| e.to_string())?;
        let now_secs = u64::try_from(crate::now_ms() / 1000).unwrap_or(0);
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
        } else if now_secs > facts.valid_before {
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
