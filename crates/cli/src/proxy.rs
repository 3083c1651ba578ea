//! `purse proxy`: the proxy, headless.

use std::{net::SocketAddr, path::PathBuf};

use anyhow::{Context as _, Result};
use clap::Args;
use purse_api::{Service, ServiceOptions};

use crate::settings::Place;

#[derive(Debug, Args)]
pub(crate) struct ProxyArgs {
    /// Address to listen on: loopback only (default 127.0.0.1:8402; port 0 picks one).
    #[arg(long, value_name = "ADDR")]
    listen: Option<SocketAddr>,
    /// Extra CA certificates (PEM) to trust for upstream TLS, for private servers.
    #[arg(long, value_name = "FILE")]
    upstream_ca: Option<PathBuf>,
    /// A host to tunnel untouched (`example.com` or `*.example.com`); repeatable.
    #[arg(long, value_name = "HOST")]
    passthrough: Vec<String>,
    /// Intercept only these hosts and tunnel the rest; repeatable.
    #[arg(long, value_name = "HOST")]
    intercept_only: Vec<String>,
    /// Send everything through this proxy (a corporate proxy): http://[user:password@]host:port.
    #[arg(long, value_name = "URL")]
    upstream_proxy: Option<String>,
    /// Check payments on chain through URL for NETWORK (`eip155:84532=http://127.0.0.1:8545`,
    /// `base=https://…`); repeatable; adds to config.toml `[rpc]` and the public defaults.
    #[arg(long = "rpc", value_name = "NETWORK=URL")]
    rpc: Vec<String>,
    /// Where payments that need approval are asked: `terminal` (one line each on this
    /// terminal), `none` (refused, with the reason), or `auto` (the terminal when standard
    /// input is one).
    #[arg(long, value_enum, default_value_t = Ask::Auto)]
    ask: Ask,
    /// Do not pay: pass every 402 through untouched.
    #[arg(long)]
    no_pay: bool,
    /// The password of a default account kept in a keystore file, read from this file.
    #[arg(long, value_name = "F")]
    password_file: Option<PathBuf>,
    #[command(flatten)]
    place: Place,
}

/// Where approvals are asked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Ask {
    /// The terminal when standard input is one, else nowhere.
    Auto,
    /// This terminal.
    Terminal,
    /// Nowhere: what needs approval is refused.
    None,
}

impl ProxyArgs {
    pub(crate) fn run(self) -> Result<()> {
        let context = self.place.resolve()?;
        let keystore_password = match &self.password_file {
            Some(path) if !self.no_pay => Some(crate::account::read_secret(path, "password")?),
            _ => None,
        };
        let service = Service::start(ServiceOptions {
            listen: self.listen,
            upstream_ca: self.upstream_ca,
            passthrough: self.passthrough,
            intercept_only: self.intercept_only,
            upstream_proxy: self.upstream_proxy,
            rpc: self.rpc,
            pay: !self.no_pay,
            keystore_password,
            ..ServiceOptions::new(context)
        })?;
        if let Some(wallet) = service.wallet() {
            use std::io::IsTerminal as _;
            let terminal = match self.ask {
                Ask::Terminal => true,
                Ask::None => false,
                Ask::Auto => std::io::stdin().is_terminal(),
            };
            if terminal {
                let policy = wallet.payer().settings().policy;
                crate::prompt::spawn(
                    wallet.approvals().clone(),
                    policy.default_max,
                    policy.default_daily,
                );
            }
        }
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .context("cannot start the runtime")?;
        runtime.block_on(async {
            let shutdown = shutdown_signal();
            crate::print(&format!("Purse proxy listening on http://{}", service.address()))?;
            shutdown.await;
            anyhow::Ok(())
        })?;
        service.stop();
        Ok(())
    }
}

/// Ctrl-C, or SIGTERM on Unix.
async fn shutdown_signal() {
    let interrupt = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => {}
        () = terminate => {}
    }
}
