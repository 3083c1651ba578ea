//! `purse balance`: an account's USD stablecoin balances, read on chain.

use std::{sync::Arc, time::Duration};

use anyhow::{Context as _, Result, bail};
use clap::Args;
use purse_chain::{Chain, network_label};

use crate::settings::Place;

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
        let owner = purse_api::accounts::owner(&context, self.address.as_deref())?;

        let (rpcs, networks, without_usd) =
            purse_api::accounts::balance_networks(&context, &self.rpc)?;
        for id in without_usd {
            eprintln!("{}: Purse knows no USD stablecoin there", network_label(id));
        }
        eprintln!("balances of {}", owner.to_checksum(None));

        let chain = Arc::new(Chain::new(rpcs).with_timeout(Duration::from_secs(self.timeout)));
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .context("cannot start the runtime")?;
        let rows = runtime.block_on(purse_api::accounts::read_balances(chain, &networks, owner));

        let width = rows.iter().map(|r| r.network.chars().count()).max().unwrap_or(0);
        let symbol_width = rows.iter().map(|r| r.symbol.len()).max().unwrap_or(0);
        let mut failed = 0;
        let lines: Vec<String> = rows
            .iter()
            .map(|row| {
                let value = match (&row.balance, &row.error) {
                    (Some(text), _) => text.clone(),
                    (None, error) => {
                        failed += 1;
                        format!("error: {}", error.as_deref().unwrap_or("unknown"))
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
