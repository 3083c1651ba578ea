//! What the payment flow needs from the world, as traits: the adapters (keychain, SQLite,
//! the system clock, the OS random source) live in other crates, and tests pass fakes.

use std::sync::Arc;

use alloy::primitives::{Address, B256, Signature};

use crate::{
    Refusal,
    budget::{Budget, Caps},
    money::Usd,
    policy::Payee,
    rules::Rule,
};

/// A moment, as the wall clock and the user's time zone see it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Now {
    /// Unix milliseconds.
    pub unix_ms: i64,
    /// The local offset from UTC, in seconds: budgets reset at local midnight.
    pub utc_offset_secs: i32,
}

const DAY_MS: i64 = 86_400_000;

impl Now {
    /// Unix seconds (0 before 1970, which no clock of ours reports).
    pub fn unix_secs(&self) -> u64 {
        u64::try_from(self.unix_ms.div_euclid(1000)).unwrap_or(0)
    }

    /// The Unix milliseconds of the local midnight that began today.
    pub fn day_start_ms(&self) -> i64 {
        let offset = i64::from(self.utc_offset_secs) * 1000;
        (self.unix_ms + offset).div_euclid(DAY_MS) * DAY_MS - offset
    }
}

/// The wall clock.
pub trait Clock: Send + Sync {
    /// Now.
    fn now(&self) -> Now;
}

/// Fresh 32-byte nonces for authorizations.
pub trait Nonces: Send + Sync {
    /// A nonce never handed out before (random: EIP-3009 nonces are not sequential).
    fn nonce(&self) -> B256;
}

/// Why no key could sign.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    /// No account is set up, or none is the default.
    #[error("{0}")]
    NoAccount(String),
    /// The keychain (or keystore) could not give the key.
    #[error("{0}")]
    Unavailable(String),
}

/// An unlocked account: signs 32-byte hashes, shows only its address.
pub trait Signer: Send + Sync {
    /// The account's address.
    fn address(&self) -> Address;
    /// Signs an EIP-712 signing hash.
    fn sign_hash(&self, hash: &B256) -> Result<Signature, KeyError>;
}

/// The accounts that may pay.
pub trait Keys: Send + Sync {
    /// The account that pays now (the default one).
    fn payer(&self) -> Result<Arc<dyn Signer>, KeyError>;
}

/// Where a payment stands, as the flow records it (the history's statuses).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Fate {
    /// Not paid: a check, the policy or the user said no.
    Refused,
    /// Signed, and the paid request is about to leave.
    Signed,
    /// The server says the payment settled.
    Settled,
    /// Not paid: the server or the facilitator turned the payment down.
    Failed,
    /// Maybe paid: to be reconciled on chain.
    Unsure,
}

/// One payment attempt, as it is first written down.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Attempt {
    /// Unix milliseconds.
    pub at_ms: i64,
    /// The client's address.
    pub client: Option<String>,
    /// Request method.
    pub method: String,
    /// Request URL.
    pub url: String,
    /// Request host.
    pub host: String,
    /// 1 or 2.
    pub x402_version: Option<i64>,
    /// The offer's scheme.
    pub scheme: Option<String>,
    /// The offer's network, as the server named it.
    pub network: Option<String>,
    /// Token address.
    pub asset: Option<String>,
    /// Atomic units, decimal.
    pub amount: Option<String>,
    /// Payee.
    pub pay_to: Option<String>,
    /// What decided: `rule 3`, `policy`, `user` (asked), `timeout` (asked, no answer).
    pub decided_by: Option<String>,
    /// Paying account.
    pub payer: Option<String>,
    /// Authorization nonce, hex.
    pub nonce: Option<String>,
    /// Unix seconds.
    pub valid_before: Option<i64>,
    /// keccak256 of the payment header value, hex.
    pub payload_hash: Option<String>,
    /// Refusal code.
    pub reason_code: Option<String>,
    /// Refusal text.
    pub reason: Option<String>,
    /// Its value in millionths of a dollar, for a USD stablecoin.
    pub usd_micros: Option<i64>,
    /// Whether it is play money.
    pub testnet: Option<bool>,
    /// The rule that allowed it.
    pub rule_id: Option<i64>,
}

/// What became of a payment after the paid request was answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    /// [`Fate::Settled`], [`Fate::Failed`] or [`Fate::Unsure`].
    pub fate: Fate,
    /// The settlement transaction.
    pub tx_hash: Option<String>,
    /// The server's HTTP status.
    pub server_status: Option<i64>,
    /// The server's or facilitator's reason code.
    pub reason_code: Option<String>,
    /// Text.
    pub reason: Option<String>,
}

/// The controls the user sets from anywhere (the CLI, the app), read at each decision.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Controls {
    /// Nothing is signed while paused.
    pub paused: bool,
    /// The global caps.
    pub caps: Caps,
    /// Every rule.
    pub rules: Vec<Rule>,
}

/// What a reservation found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reserved {
    /// Reserved and signed: the payment's row, counting in its budgets.
    Row(i64),
    /// A budget would be passed: nothing was written.
    Over {
        /// The budget's key.
        key: String,
        /// Already spent or reserved in it.
        used: Usd,
        /// Its limit.
        limit: Usd,
    },
}

/// The payment history, the budgets and the user's controls.
pub trait Ledger: Send + Sync {
    /// Writes down a refused attempt.
    fn refused(&self, attempt: &Attempt) -> Result<i64, String>;
    /// The user's controls, as they are now.
    fn controls(&self) -> Result<Controls, String>;
    /// Whether `host` was paid before, and whether to `pay_to`.
    fn payee(&self, host: &str, pay_to: &str) -> Result<Payee, String>;
    /// What is spent or reserved in these budgets (testnet or mainnet dollars).
    fn used(&self, keys: &[String], testnet: bool) -> Result<Vec<Usd>, String>;
    /// In one atomic step: checks that `attempt.usd_micros` fits every budget that has a
    /// limit, then calls `sign` (which fills in the payer, nonce, `validBefore` and payload
    /// hash), adds the amount to every budget and writes the payment down as `signed`.
    /// Nothing is written when a budget would be passed or `sign` refuses, so the money is
    /// reserved before the signature and the row is committed before the payment leaves.
    fn reserve(
        &self,
        attempt: &Attempt,
        budgets: &[Budget],
        sign: &mut dyn FnMut() -> Result<Attempt, Refusal>,
    ) -> Result<Reserved, Refusal>;
    /// Records what the paid request's answer says about payment `id`; a failed payment
    /// gives its money back to its budgets.
    fn finish(&self, id: i64, at_ms: i64, outcome: &Outcome) -> Result<(), String>;
    /// Stores a rule (from an answer such as "always for this site"); returns its id.
    fn add_rule(&self, rule: &Rule) -> Result<i64, String>;
}
