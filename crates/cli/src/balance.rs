//! `purse balance`: an account's USD stablecoin balances, read on chain.

use std::{sync::Arc, time::Duration};

use alloy::primitives::{Address, U256};
use anyhow::{Context as _, Result, bail};
use clap::Args;
use purse_chain::{Chain, network_label};
use purse_store::Store;
use purse_x402::registry::{self, Asset};

use crate::settings::Place;

/// The networks read when neither `config.toml [rpc]` nor `--rpc` names one.
const FALLBACK_NETWORKS: [u64; 2] = [8453, 84532];

#[derive(Debug, Args)]
pub(crate) struct BalanceArgs {
    /// The account (0x address). Default: the default account.
    #[arg(value_name = "ADDR")]
    address: Option<String>,
    /// Read NETWORK through URL (`eip155:84532=http://127.0.0.1:8545`, `base=https://…`);
    /// repeatable. Balances are read on the networks of config.toml `[rpc]` and of these
    /// options, else on Base and Base Sepolia through their public endpoints.
    #[arg(long = "rpc", value_name = "NETWORK=URL")]
    rpc: Vec<String>,
    /// Seconds each JSON-RPC call may take.
    #[arg(long, value_name = "S", default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..=600))]
    timeout: u64,
    #[command(flatten)]
    place: Place,
}

impl BalanceArgs {
    pub(crate) fn run(self) -> Result<()> {
        let context = self.place.resolve()?;
        let owner = match &self.address {
            Some(text) => purse_x402::exact::parse_address(text.trim()).with_context(|| {
                format!("{text:?} is not an address (0x and 40 hex digits, EIP-55 if mixed case)")
            })?,
            None => {
                let path = context.path("purse.db");
                let store = Store::open(&path)
                    .with_context(|| format!("cannot open {}", path.display()))?;
                let account = store.default_account()?.context(
                    "no default account: pass an address, or make one with `purse account new`",
                )?;
                account.address.parse().context("a stored address is malformed")?
            }
        };

        // Networks: those of config.toml [rpc], then of --rpc (which win for the same one).
        let (rpcs, mut chosen) = crate::settings::rpcs(&context.config()?.rpc, &self.rpc)?;
        if chosen.is_empty() {
            chosen.extend(FALLBACK_NETWORKS);
        }
        // In the registry's order (Base, Base Sepolia, Ethereum, …), each once.
        let networks: Vec<u64> = registry::networks()
            .iter()
            .map(|n| n.chain_id)
            .filter(|id| chosen.contains(id) && registry::assets_on(*id).any(|a| a.usd))
            .collect();
        chosen.sort_unstable();
        chosen.dedup();
        for id in chosen.iter().filter(|id| !networks.contains(id)) {
            eprintln!("{}: Purse knows no USD stablecoin there", network_label(*id));
        }
        eprintln!("balances of {}", owner.to_checksum(None));

        let chain = Arc::new(Chain::new(rpcs).with_timeout(Duration::from_secs(self.timeout)));
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .context("cannot start the runtime")?;
        let rows = runtime.block_on(read_all(chain, &networks, owner))?;

        let width = rows.iter().map(|r| r.network.chars().count()).max().unwrap_or(0);
        let symbol_width = rows.iter().map(|r| r.symbol.len()).max().unwrap_or(0);
        let mut failed = 0;
        let lines: Vec<String> = rows
            .iter()
            .map(|row| {
                let value = match &row.balance {
                    Ok(text) => text.clone(),
                    Err(error) => {
                        failed += 1;
                        format!("error: {error}")
                    }
                };
                format!("{:<width$}  {:<symbol_width$}  {value}", row.network, row.symbol)
            })
            .collect();
        if !lines.is_empty() {
            crate::print(&lines.join("\n"))?;
        }
        if failed > 0 {
            bail!("{failed} of {} balances could not be read", rows.len());
        }
        Ok(())
    }
}

/// One line of the table.
struct Row {
    network: String,
    symbol: &'static str,
    balance: Result<String, purse_chain::Error>,
}

/// Reads every USD stablecoin of every network at once, and returns the rows in order.
async fn read_all(chain: Arc<Chain>, networks: &[u64], owner: Address) -> Result<Vec<Row>> {
    let assets: Vec<&'static Asset> =
        networks.iter().flat_map(|id| registry::assets_on(*id).filter(|a| a.usd)).collect();
    let tasks: Vec<_> = assets
        .iter()
        .map(|asset| {
            let (chain, asset) = (Arc::clone(&chain), *asset);
            tokio::spawn(async move {
                chain
                    .token_balance(asset.chain_id, asset.address, owner)
                    .await
                    .map(|atomic| format_units(atomic, asset.decimals))
            })
        })
        .collect();
    let mut rows = Vec::with_capacity(tasks.len());
    for (asset, task) in assets.iter().zip(tasks) {
        rows.push(Row {
            network: network_label(asset.chain_id),
            symbol: asset.symbol,
            balance: task.await.context("a balance read stopped")?,
        });
    }
    Ok(rows)
}

/// `atomic` in whole tokens, exactly: every decimal digit is kept (`8.750000` for
/// 8 750 000 atomic units of a 6-decimal token).
fn format_units(atomic: U256, decimals: u8) -> String {
    let digits = atomic.to_string();
    let decimals = usize::from(decimals);
    if decimals == 0 {
        return digits;
    }
    let padded = format!("{digits:0>width$}", width = decimals + 1);
    let (whole, fraction) = padded.split_at(padded.len() - decimals);
    format!("{whole}.{fraction}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn units_are_exact() {
        assert_eq!(format_units(U256::from(8_750_000u64), 6), "8.750000");
        assert_eq!(format_units(U256::ZERO, 6), "0.000000");
        assert_eq!(format_units(U256::from(1u64), 6), "0.000001");
        assert_eq!(format_units(U256::from(123u64), 0), "123");
        assert_eq!(
            format_units(U256::from(10u64).pow(U256::from(18u64)), 18),
            "1.000000000000000000"
        );
        assert_eq!(
            format_units(U256::MAX, 18),
            "115792089237316195423570985008687907853269984665640564039457.584007913129639935"
        );
    }
}
