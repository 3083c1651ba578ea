//! Purse's reads of the chain, over JSON-RPC through alloy's HTTP provider: stablecoin
//! balances, whether a settlement transaction moved the expected funds, and whether an
//! EIP-3009 authorization or a Permit2 permit was used.
//!
//! ```no_run
//! # async fn run() -> Result<(), purse_chain::Error> {
//! use purse_chain::{Chain, Rpcs};
//! let mut rpcs = Rpcs::with_defaults();
//! rpcs.parse_override("eip155:84532=http://127.0.0.1:8545")?;
//! let chain = Chain::new(rpcs);
//! let usdc = "0x036CbD53842c5426634e7929541eC2318f3dCF7e".parse().unwrap_or_default();
//! let owner = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8".parse().unwrap_or_default();
//! let balance = chain.token_balance(84532, usdc, owner).await?;
//! # let _ = balance; Ok(()) }
//! ```
//!
//! Every call is bounded by a timeout (10 s unless [`Chain::with_timeout`] says otherwise),
//! and the first call to a network checks that its endpoint serves that chain id. Errors
//! name the network and the endpoint, with API keys cut from the URL.
#![warn(missing_docs)]

mod http;
mod rpcs;
#[cfg(feature = "testing")]
pub mod testing;

use std::{
    collections::HashMap,
    fmt,
    future::IntoFuture,
    sync::{Mutex, PoisonError},
    time::Duration,
};

use alloy::{
    network::{AnyNetwork, ReceiptResponse as _},
    primitives::{Address, B256, U256},
    providers::{Provider as _, RootProvider},
    rpc::{
        client::ClientBuilder,
        types::{TransactionInput, TransactionRequest},
    },
    serde::WithOtherFields,
    sol,
    sol_types::{SolCall, SolEvent as _},
    transports::{TransportResult, http::reqwest},
};

pub use rpcs::{Rpcs, network_label, redact, resolve_network};

sol! {
    /// The parts of an ERC-20 / EIP-3009 token Purse reads.
    interface Token {
        /// ERC-20 balance.
        function balanceOf(address owner) external view returns (uint256);
        /// EIP-3009: whether `nonce` of `authorizer` was used or canceled.
        function authorizationState(address authorizer, bytes32 nonce) external view returns (bool);
        /// ERC-20 transfer event.
        event Transfer(address indexed from, address indexed to, uint256 value);
    }
}

sol! {
    /// The part of Permit2 Purse reads.
    interface Permit2 {
        /// Unordered nonces: bit `nonce & 255` of word `nonce >> 8` is set once the nonce
        /// is used (or invalidated).
        function nonceBitmap(address owner, uint256 wordPos) external view returns (uint256);
    }
}

/// How long one JSON-RPC call may take unless [`Chain::with_timeout`] says otherwise.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

/// What a settlement transaction turned out to be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Confirmation {
    /// Mined, successful, and it emitted the expected `Transfer`; in this block.
    Confirmed {
        /// Its block number.
        block: u64,
    },
    /// No receipt yet: not mined, dropped, or unknown to this node.
    Pending,
    /// Mined and reverted: nothing moved.
    Reverted,
    /// Mined and successful, but it did not move the expected funds; the text says what
    /// it moved instead.
    Mismatch(String),
}

/// Why a chain read failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// No RPC URL is set for the network.
    #[error("no RPC URL is set for {}", network_label(*chain_id))]
    NoRpc {
        /// The network's EIP-155 chain id.
        chain_id: u64,
    },
    /// The endpoint failed or answered with an error.
    #[error("RPC {url} for {} failed: {reason}", network_label(*chain_id))]
    Rpc {
        /// The network's EIP-155 chain id.
        chain_id: u64,
        /// The endpoint, secrets cut ([`redact`]).
        url: String,
        /// What went wrong.
        reason: String,
    },
    /// The endpoint did not answer in time.
    #[error("RPC {url} for {} did not answer {method} within {} s", network_label(*chain_id), timeout.as_secs_f32())]
    Timeout {
        /// The network's EIP-155 chain id.
        chain_id: u64,
        /// The endpoint, secrets cut ([`redact`]).
        url: String,
        /// The JSON-RPC method asked.
        method: &'static str,
        /// The time allowed.
        timeout: Duration,
    },
    /// The endpoint serves another chain than the one it is set for.
    #[error("RPC {url} is set for {} but serves chain id {actual}", network_label(*chain_id))]
    WrongChain {
        /// The chain id it is set for.
        chain_id: u64,
        /// The endpoint, secrets cut ([`redact`]).
        url: String,
        /// The chain id it reports.
        actual: u64,
    },
    /// The endpoint answered something that is not what the contract returns.
    #[error("RPC {url} for {}: {reason}", network_label(*chain_id))]
    BadAnswer {
        /// The network's EIP-155 chain id.
        chain_id: u64,
        /// The endpoint, secrets cut ([`redact`]).
        url: String,
        /// What was wrong with it.
        reason: String,
    },
    /// A network name that is neither in the registry nor has a built-in endpoint.
    #[error(
        "unknown network {name:?}: name a known network by CAIP-2 id (eip155:84532) or x402 v1 name (base-sepolia)"
    )]
    UnknownNetwork {
        /// The name as given.
        name: String,
    },
    /// An RPC URL that cannot be used.
    #[error("bad RPC URL {url}: {reason}")]
    BadUrl {
        /// The URL, secrets cut.
        url: String,
        /// Why.
        reason: String,
    },
    /// An override that is not `NETWORK=URL`.
    #[error("{text:?} is not NETWORK=URL (for example eip155:84532=http://127.0.0.1:8545)")]
    BadOverride {
        /// The text as given.
        text: String,
    },
    /// The HTTP client could not be set up (TLS).
    #[error("{reason}")]
    HttpClient {
        /// Why.
        reason: String,
    },
}

/// Reads the chains of the networks in its [`Rpcs`]. Providers are built at the first call
/// to each network and kept; one HTTP client (rustls, ring) serves them all.
///
/// Its calls need a Tokio runtime with I/O and time enabled (`enable_all`). No HTTP proxy
/// is used, not even `HTTPS_PROXY` (which, in a shell set up by `purse env`, points at
/// Purse's own proxy).
pub struct Chain {
    rpcs: Rpcs,
    timeout: Duration,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    client: Option<reqwest::Client>,
    endpoints: HashMap<u64, Endpoint>,
}

#[derive(Clone)]
struct Endpoint {
    chain_id: u64,
    provider: RootProvider<AnyNetwork>,
    /// The URL as messages show it.
    shown: String,
    /// The URL as written, cut out of error texts.
    secret: String,
    /// Whether `eth_chainId` matched.
    checked: bool,
}

impl Endpoint {
    fn scrub(&self, text: &str) -> String {
        let bare = self.secret.trim_end_matches('/');
        let text = text.replace(&self.secret, &self.shown);
        if bare.is_empty() { text } else { text.replace(bare, &self.shown) }
    }

    fn bad_answer(&self, reason: String) -> Error {
        Error::BadAnswer { chain_id: self.chain_id, url: self.shown.clone(), reason }
    }
}

impl fmt::Debug for Chain {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Chain").field("rpcs", &self.rpcs).field("timeout", &self.timeout).finish()
    }
}

impl Chain {
    /// Reads through the endpoints of `rpcs`, each call bounded by [`DEFAULT_TIMEOUT`].
    pub fn new(rpcs: Rpcs) -> Self {
        Self { rpcs, timeout: DEFAULT_TIMEOUT, state: Mutex::default() }
    }

    /// Bounds each JSON-RPC call (and each connection attempt) by `timeout` instead.
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self.state = Mutex::default();
        self
    }

    /// The endpoints in use.
    pub fn rpcs(&self) -> &Rpcs {
        &self.rpcs
    }

    /// The bound on each call.
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// `owner`'s balance of the ERC-20 `asset`, in atomic units (`balanceOf` at the latest
    /// block).
    pub async fn token_balance(
        &self,
        chain_id: u64,
        asset: Address,
        owner: Address,
    ) -> Result<U256, Error> {
        let endpoint = self.endpoint(chain_id).await?;
        let data =
            self.eth_call(&endpoint, asset, Token::balanceOfCall { owner }.abi_encode()).await?;
        Token::balanceOfCall::abi_decode_returns(&data).map_err(|e| {
            endpoint.bad_answer(format!(
                "balanceOf on {asset} answered {} bytes, not a uint256 ({e}): is it a token contract on this network?",
                data.len()
            ))
        })
    }

    /// Whether the EIP-3009 authorization `nonce` of `authorizer` on `asset` was used (or
    /// canceled): the token's `authorizationState(authorizer, nonce)` at the latest block.
    pub async fn authorization_used(
        &self,
        chain_id: u64,
        asset: Address,
        authorizer: Address,
        nonce: B256,
    ) -> Result<bool, Error> {
        let endpoint = self.endpoint(chain_id).await?;
        let data = self
            .eth_call(
                &endpoint,
                asset,
                Token::authorizationStateCall { authorizer, nonce }.abi_encode(),
            )
            .await?;
        Token::authorizationStateCall::abi_decode_returns(&data).map_err(|e| {
            endpoint.bad_answer(format!(
                "authorizationState on {asset} answered {} bytes, not a bool ({e}): is it an EIP-3009 token on this network?",
                data.len()
            ))
        })
    }

    /// Whether Permit2 nonce `nonce` of `owner` was used (or invalidated). On a chain with
    /// no Permit2 contract, no permit was ever used: false.
    pub async fn permit2_nonce_used(
        &self,
        chain_id: u64,
        owner: Address,
        nonce: U256,
    ) -> Result<bool, Error> {
        let endpoint = self.endpoint(chain_id).await?;
        let (word, bit) = (nonce >> 8usize, (nonce & U256::from(0xffu8)).to::<usize>());
        let call = Permit2::nonceBitmapCall { owner, wordPos: word }.abi_encode();
        let data = self.eth_call(&endpoint, purse_x402::exact::PERMIT2, call).await?;
        if data.is_empty() {
            return Ok(false);
        }
        let bitmap = Permit2::nonceBitmapCall::abi_decode_returns(&data).map_err(|e| {
            endpoint.bad_answer(format!(
                "Permit2's nonceBitmap answered {} bytes, not a uint256 ({e})",
                data.len()
            ))
        })?;
        Ok(bitmap.bit(bit))
    }

    /// Whether transaction `tx` moved exactly `amount` of `asset` from `from` to `to`:
    /// its receipt must be successful and hold a `Transfer(from, to, amount)` log emitted
    /// by `asset`.
    pub async fn confirm_transfer(
        &self,
        chain_id: u64,
        tx: B256,
        asset: Address,
        from: Address,
        to: Address,
        amount: U256,
    ) -> Result<Confirmation, Error> {
        let endpoint = self.endpoint(chain_id).await?;
        let receipt = self
            .answer(
                &endpoint,
                "eth_getTransactionReceipt",
                endpoint.provider.get_transaction_receipt(tx),
            )
            .await?;
        let Some(receipt) = receipt else { return Ok(Confirmation::Pending) };
        let Some(block) = receipt.block_number() else { return Ok(Confirmation::Pending) };
        if !receipt.status() {
            return Ok(Confirmation::Reverted);
        }
        let transfers: Vec<Token::Transfer> = receipt
            .inner
            .logs()
            .iter()
            .filter(|log| log.address() == asset)
            .filter_map(|log| Token::Transfer::decode_log(&log.inner).ok())
            .map(|log| log.data)
            .collect();
        if transfers.iter().any(|t| t.from == from && t.to == to && t.value == amount) {
            return Ok(Confirmation::Confirmed { block });
        }
        let expected = format!("{amount} from {from} to {to}");
        Ok(Confirmation::Mismatch(if transfers.is_empty() {
            format!(
                "transaction {tx} (block {block}) emitted no Transfer of {asset}; expected {expected}"
            )
        } else {
            let moved: Vec<String> = transfers
                .iter()
                .map(|t| format!("{} from {} to {}", t.value, t.from, t.to))
                .collect();
            format!(
                "transaction {tx} (block {block}) moved {} of {asset}; expected {expected}",
                moved.join(", ")
            )
        }))
    }

    /// The endpoint of `chain_id`, built at first use and checked to serve that chain.
    async fn endpoint(&self, chain_id: u64) -> Result<Endpoint, Error> {
        let endpoint = self.provider(chain_id)?;
        if endpoint.checked {
            return Ok(endpoint);
        }
        let actual =
            self.answer(&endpoint, "eth_chainId", endpoint.provider.get_chain_id()).await?;
        if actual != chain_id {
            return Err(Error::WrongChain { chain_id, url: endpoint.shown, actual });
        }
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(kept) = state.endpoints.get_mut(&chain_id) {
            kept.checked = true;
        }
        Ok(endpoint)
    }

    fn provider(&self, chain_id: u64) -> Result<Endpoint, Error> {
        let url = self.rpcs.get(chain_id).ok_or(Error::NoRpc { chain_id })?;
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(endpoint) = state.endpoints.get(&chain_id) {
            return Ok(endpoint.clone());
        }
        let client = match &state.client {
            Some(client) => client.clone(),
            None => {
                let client =
                    http::client(self.timeout).map_err(|reason| Error::HttpClient { reason })?;
                state.client = Some(client.clone());
                client
            }
        };
        let rpc = ClientBuilder::default().http_with_client(client, url.clone());
        let endpoint = Endpoint {
            chain_id,
            provider: RootProvider::new(rpc),
            shown: redact(url),
            secret: url.as_str().to_owned(),
            checked: false,
        };
        state.endpoints.insert(chain_id, endpoint.clone());
        Ok(endpoint)
    }

    async fn eth_call(
        &self,
        endpoint: &Endpoint,
        to: Address,
        data: Vec<u8>,
    ) -> Result<alloy::primitives::Bytes, Error> {
        let request = WithOtherFields::new(TransactionRequest {
            to: Some(to.into()),
            input: TransactionInput::new(data.into()),
            ..TransactionRequest::default()
        });
        self.answer(endpoint, "eth_call", endpoint.provider.call(request)).await
    }

    /// Runs one call within the timeout and names the endpoint in its error.
    async fn answer<T>(
        &self,
        endpoint: &Endpoint,
        method: &'static str,
        call: impl IntoFuture<Output = TransportResult<T>>,
    ) -> Result<T, Error> {
        match tokio::time::timeout(self.timeout, call.into_future()).await {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(error)) => Err(Error::Rpc {
                chain_id: endpoint.chain_id,
                url: endpoint.shown.clone(),
                reason: endpoint.scrub(&format!("{method}: {}", chain_text(&error))),
            }),
            Err(_) => Err(Error::Timeout {
                chain_id: endpoint.chain_id,
                url: endpoint.shown.clone(),
                method,
                timeout: self.timeout,
            }),
        }
    }
}

/// An error and its causes on one line, without repeating a cause its parent already shows.
pub(crate) fn chain_text(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let part = cause.to_string();
        if !text.contains(&part) {
            text.push_str(": ");
            text.push_str(&part);
        }
        source = cause.source();
    }
    text
}
