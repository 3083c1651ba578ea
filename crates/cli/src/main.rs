//! `purse`: the headless x402 wallet and its command line.

mod response;
mod x402;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Purse: a wallet for x402 payments over HTTP.
#[derive(Debug, Parser)]
#[command(name = "purse", version, about, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Decode and sign x402 messages by hand, without the proxy.
    #[command(subcommand)]
    X402(x402::Command),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
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
