//! Purse's wallet logic, with no GUI, OS, socket or clock in it.
//!
//! [`money`] (dollars and atomic units, never floats), [`Refusal`] (why a 402 is
//! not paid, with the stable codes the client sees in `X-Purse-Reason`), [`checks`] (what
//! must hold before any signature), [`quote`] (the offer to pay, chosen and checked, with
//! its dollar value), [`rules`] (which sites are paid without asking), [`policy`] (what
//! decides before budgets) and [`budget`] (running totals per window), strung together by
//! [`flow::Payer`] behind the [`ports`] for keys, history, clock and nonces.

pub mod budget;
pub mod checks;
pub mod flow;
pub mod money;
pub mod policy;
pub mod ports;
pub mod quote;
mod reason;
pub mod rules;

pub use reason::{Reason, Refusal};
