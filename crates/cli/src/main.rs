//! `purse`: the headless x402 wallet and its command line.

mod account;
mod balance;
mod ca;
mod env;
mod history;
mod prompt;
mod proxy;
mod response;
mod rules;
mod settings;
mod x402;

use std::{io::Write as _, process::ExitCode};

use clap::{Parser, Subcommand};
use tracing_subscriber::EnvFilter;

/// Purse: a wallet for x402 payments over HTTP.
#[derive(Debug, Parser)]
#[command(name = "purse", version, about, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Payer accounts: keys in the OS keychain.
    #[command(subcommand)]
    Account(account::Command),
    /// Stablecoin balances of an account on the configured networks.
    Balance(balance::BalanceArgs),
    /// Run the proxy on 127.0.0.1 that browsers and tools point at, until Ctrl-C.
    Proxy(proxy::ProxyArgs),
    /// The local CA that intercepted HTTPS is signed by.
    #[command(subcommand)]
    Ca(ca::Command),
    /// Print the environment that sends curl, Python and Node through Purse
    /// (`eval "$(purse env)"`).
    Env(env::EnvArgs),
    /// The payments Purse made or refused (purse.db in the data dir).
    History(history::HistoryArgs),
    /// Auto-approve rules: which sites are paid without asking, up to what, which never.
    #[command(subcommand)]
    Rules(rules::RulesCommand),
    /// The global caps over all rules, and what is spent against them.
    Budget(rules::BudgetArgs),
    /// Stop paying: every 402 passes through, with the reason, until `purse resume`.
    Pause(rules::PauseArgs),
    /// Pay again, by the rules.
    Resume(rules::PauseArgs),
    /// Decode and sign x402 messages by hand, without the proxy.
    #[command(subcommand)]
    X402(x402::Command),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_env("PURSE_LOG").unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .with_target(false)
        .init();
    let result = match cli.command {
        Command::Account(command) => command.run(),
        Command::Balance(args) => args.run(),
        Command::Proxy(args) => args.run(),
        Command::Ca(command) => command.run(),
        Command::Env(args) => args.run(),
        Command::History(args) => args.run(),
        Command::Rules(command) => command.run(),
        Command::Budget(args) => args.run(),
        Command::Pause(args) => args.run(true),
        Command::Resume(args) => args.run(false),
        Command::X402(command) => command.run(),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            // One line: the reason, with its causes.
            eprintln!("purse: {error:#}");
            ExitCode::FAILURE
        }
    }
}

/// Prints one line (or a block) on standard output and flushes it, so that a reader
/// waiting on a pipe sees it at once.
pub(crate) fn print(text: &str) -> anyhow::Result<()> {
    use anyhow::Context as _;
    let mut stdout = std::io::stdout().lock();
    writeln!(stdout, "{text}")
        .and_then(|()| stdout.flush())
        .context("cannot write to standard output")
}
