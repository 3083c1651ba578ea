//! A real local chain for tests (feature `testing`): anvil from the npm package
//! `@foundry-rs/anvil-linux-amd64`, with chain id 84532 (Base Sepolia) and a small EIP-3009
//! token, `TestUSDC`, placed at the Base Sepolia USDC address with `anvil_setCode`
//! (source and build notes in `crates/chain/tests/fixtures/`).
//!
//! ```no_run
//! # async fn run() -> purse_chain::testing::Result<()> {
//! use purse_chain::testing::{Anvil, anvil_binary};
//! let Some(binary) = anvil_binary() else { return Ok(()) };
//! let anvil = Anvil::start(&binary)?;
//! let usdc = anvil.place_test_usdc().await?;
//! let payer = anvil.accounts().await?[1];
//! anvil.mint(usdc, payer, alloy::primitives::U256::from(10_000_000)).await?;
//! # Ok(()) }
//! ```

use std::{
    io::{BufRead as _, BufReader},
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    sync::mpsc,
    time::Duration,
};

use alloy::{
    primitives::{Address, B256, Bytes, U256},
    providers::{Provider as _, RootProvider},
    rpc::{
        client::ClientBuilder,
        types::{TransactionInput, TransactionRequest},
    },
    sol,
    sol_types::SolCall as _,
    transports::http::reqwest::Url,
};

use crate::Rpcs;

/// What the helpers fail with.
pub type Error = Box<dyn std::error::Error + Send + Sync>;
/// A result of the helpers.
pub type Result<T> = std::result::Result<T, Error>;

/// The chain id anvil runs with: Base Sepolia's.
pub const CHAIN_ID: u64 = 84532;

/// Runtime bytecode of `TestUSDC` (hex, `0x`-prefixed).
pub const TEST_USDC_RUNTIME: &str = include_str!("../tests/fixtures/TestUSDC.runtime.hex");

sol! {
    /// The calls of `TestUSDC` the tests make.
    interface TestUsdc {
        /// Anyone may mint.
        function mint(address to, uint256 value) external;
        /// ERC-20 transfer.
        function transfer(address to, uint256 value) external returns (bool);
        /// EIP-3009, with `v, r, s`.
        function transferWithAuthorization(
            address from, address to, uint256 value, uint256 validAfter, uint256 validBefore,
            bytes32 nonce, uint8 v, bytes32 r, bytes32 s
        ) external;
    }
}

/// Where anvil is: `PURSE_ANVIL`, else the testbed's npm install
/// (`tests/testbed/v2/node_modules/.bin/anvil`, then `tests/testbed/node_modules/.bin/anvil`).
/// `None` when none of them exists.
pub fn anvil_binary() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("PURSE_ANVIL").filter(|p| !p.is_empty()) {
        return Some(PathBuf::from(path));
    }
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    ["tests/testbed/v2/node_modules/.bin/anvil", "tests/testbed/node_modules/.bin/anvil"]
        .into_iter()
        .map(|relative| workspace.join(relative))
        .find(|path| path.is_file())
}

/// Why a test that needs anvil fails without one.
pub const NO_ANVIL: &str = "no anvil: set PURSE_ANVIL to an anvil binary, or install the testbed (npm ci in tests/testbed); scripts/test does both";

/// A running anvil on a free 127.0.0.1 port, stopped when dropped.
pub struct Anvil {
    child: Child,
    url: String,
    provider: RootProvider,
}

impl std::fmt::Debug for Anvil {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Anvil").field("pid", &self.child.id()).field("url", &self.url).finish()
    }
}

impl Drop for Anvil {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Anvil {
    /// Starts `binary` with chain id [`CHAIN_ID`] on a port the system picks, and waits
    /// (up to 30 s) until it listens.
    pub fn start(binary: &Path) -> Result<Self> {
        let mut child = Command::new(binary)
            .args(["--host", "127.0.0.1", "--port", "0", "--chain-id"])
            .arg(CHAIN_ID.to_string())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", binary.display()))?;
        let Some(stdout) = child.stdout.take() else {
            let _ = child.kill();
            return Err("anvil has no stdout".into());
        };
        // anvil prints `Listening on 127.0.0.1:PORT` once it serves; its log is drained
        // afterwards so that it never blocks on a full pipe.
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut tx = Some(tx);
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if let Some(address) = line.trim().strip_prefix("Listening on ")
                    && let Some(tx) = tx.take()
                {
                    let _ = tx.send(address.to_owned());
                }
            }
        });
        let address = match rx.recv_timeout(Duration::from_secs(30)) {
            Ok(address) => address,
            Err(e) => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!("anvil did not start listening: {e}").into());
            }
        };
        let url = format!("http://{address}");
        let client = crate::http::client(Duration::from_secs(10))?;
        let rpc = ClientBuilder::default().http_with_client(client, Url::parse(&url)?);
        Ok(Self { child, url, provider: RootProvider::new(rpc) })
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// [`Rpcs`] with only this anvil, for [`CHAIN_ID`].
    pub fn rpcs(&self) -> Result<Rpcs> {
        let mut rpcs = Rpcs::new();
        rpcs.set(CHAIN_ID, &self.url)?;
        Ok(rpcs)
    }

    /// A provider on this anvil.
    pub fn provider(&self) -> &RootProvider {
        &self.provider
    }

    /// anvil's unlocked accounts (each holds 10 000 ETH).
    pub async fn accounts(&self) -> Result<Vec<Address>> {
        Ok(self.provider.get_accounts().await?)
    }

    /// Places `TestUSDC` at the Base Sepolia USDC address of the registry, and returns
    /// that address.
    pub async fn place_test_usdc(&self) -> Result<Address> {
        let usdc = purse_x402::registry::assets_on(CHAIN_ID)
            .next()
            .ok_or("the registry has no asset on Base Sepolia")?
            .address;
        self.set_code(usdc, TEST_USDC_RUNTIME.trim()).await?;
        Ok(usdc)
    }

    /// `anvil_setCode`.
    pub async fn set_code(&self, at: Address, code_hex: &str) -> Result<()> {
        self.provider.raw_request::<_, ()>("anvil_setCode".into(), (at, code_hex)).await?;
        Ok(())
    }

    /// Mints `amount` of `token` to `to` (sent from anvil's first account).
    pub async fn mint(&self, token: Address, to: Address, amount: U256) -> Result<B256> {
        let from = *self.accounts().await?.first().ok_or("anvil has no accounts")?;
        self.send(from, token, TestUsdc::mintCall { to, value: amount }.abi_encode(), None).await
    }

    /// `from` (an unlocked account) transfers `amount` of `token` to `to`.
    pub async fn transfer(
        &self,
        token: Address,
        from: Address,
        to: Address,
        amount: U256,
    ) -> Result<B256> {
        let data = TestUsdc::transferCall { to, value: amount }.abi_encode();
        self.send(from, token, data, None).await
    }

    /// Sends a transaction from the unlocked account `from` with `eth_sendTransaction`
    /// and returns its hash once it is mined. With `gas` set, a transaction that reverts is
    /// still mined (anvil estimates otherwise, and refuses one that would revert).
    pub async fn send(
        &self,
        from: Address,
        to: Address,
        data: Vec<u8>,
        gas: Option<u64>,
    ) -> Result<B256> {
        let request = TransactionRequest {
            from: Some(from),
            to: Some(to.into()),
            input: TransactionInput::new(Bytes::from(data)),
            gas,
            ..TransactionRequest::default()
        };
        let hash = *self.provider.send_transaction(request).await?.tx_hash();
        for _ in 0..100 {
            if self.provider.get_transaction_receipt(hash).await?.is_some() {
                return Ok(hash);
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Err(format!("transaction {hash} was not mined within 5 s").into())
    }
}
