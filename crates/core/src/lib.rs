//! Purse's wallet logic, with no GUI, OS, socket or clock in it.
//!
//! So far: [`money`] (dollars and atomic units, never floats), [`Refusal`] (why a 402 is
//! not paid, with the stable codes the client sees in `X-Purse-Reason`), [`checks`] (what
//! must hold before any signature), [`quote`] (the offer to pay, chosen and checked, with
//! its dollar value) and [`policy`] (the fixed auto-approve policy of the first paying
//! release). The payment flow that strings them together, behind ports for keys, store,
//! clock and chain, comes next.

pub mod checks;
pub mod money;
pub mod policy;
pub mod quote;
mod reason;

pub use reason::{Reason, Refusal};
