//! `purse proxy`: the proxy, headless.

use std::{net::SocketAddr, path::PathBuf, sync::Arc, time::Duration};

use anyhow::{Context as _, Result};
use clap::Args;
use purse_proxy::{Config, Credentials, HostPattern, Limits, Proxy};

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

fn patterns(items: &[String]) -> Result<Vec<HostPattern>> {
    items.iter().map(|p| p.parse().map_err(anyhow::Error::from)).collect()
}

impl ProxyArgs {
    pub(crate) fn run(self) -> Result<()> {
        let context = self.place.resolve()?;
        let config = context.config()?;
        let settings = config.proxy;
        // Read while the process has one thread: the offset cannot be read safely later.
        let utc_offset_secs =
            time::UtcOffset::current_local_offset().map_or(0, time::UtcOffset::whole_seconds);
        let wallet = if self.no_pay {
            None
        } else {
            let keystore_password = match &self.password_file {
                Some(path) => Some(crate::account::read_secret(path, "password")?),
                None => None,
            };
            let wallet = purse_api::Wallet::open(purse_api::Options {
                data_dir: context.data_dir.clone(),
                profile: context.profile.clone(),
                policy: config.policy,
                keystore_password,
                utc_offset_secs,
                chain: Some(purse_api::Chain::new(
                    crate::settings::rpcs(&config.rpc, &self.rpc)?.0,
                )),
            })?;
            Some(wallet)
        };
        let hook = wallet
            .as_ref()
            .map(|wallet| Arc::new(wallet.hook()) as Arc<dyn purse_proxy::PaymentHook>);
        let worker_threads = settings.worker_threads;
        let upstream_ca = self.upstream_ca.or(settings.upstream_ca);
        let extra_roots = match &upstream_ca {
            Some(path) => {
                let text = std::fs::read_to_string(path)
                    .with_context(|| format!("cannot read {}", path.display()))?;
                purse_proxy::parse_pem_certificates(&text).map_err(|e| {
                    anyhow::anyhow!("{} holds no usable certificate: {e}", path.display())
                })?
            }
            None => Vec::new(),
        };
        let config = Config {
            listen: self.listen.unwrap_or(settings.listen),
            passthrough: patterns(&[settings.passthrough, self.passthrough].concat())?,
            intercept_only: patterns(&[settings.intercept_only, self.intercept_only].concat())?,
            use_system_roots: true,
            extra_roots,
            credentials: settings
                .credentials
                .map(|c| Credentials { user: c.user, password: c.password }),
            upstream_proxy: self
                .upstream_proxy
                .or(settings.upstream_proxy)
                .map(|u| u.parse::<purse_proxy::UpstreamProxy>())
                .transpose()?,
            limits: Limits {
                max_connections: settings.max_connections,
                idle_timeout: Duration::from_secs(settings.idle_timeout_secs),
                max_replay_body: settings.max_replay_body,
                ..Limits::default()
            },
        };
        let provider = purse_proxy::crypto_provider();
        let ca = Arc::new(crate::ca::load_or_create(&context, provider.clone())?);
        // One thread serves a desktop's traffic with the least overhead: no work stealing,
        // no cross-core wake-ups. More threads help only under heavy HTTPS handshaking.
        let mut runtime = match worker_threads {
            1 => tokio::runtime::Builder::new_current_thread(),
            0 => tokio::runtime::Builder::new_multi_thread(),
            n => {
                let mut builder = tokio::runtime::Builder::new_multi_thread();
                builder.worker_threads(n);
                builder
            }
        };
        let runtime = runtime.enable_all().build().context("cannot start the runtime")?;
        runtime.block_on(async move {
            let proxy = Proxy::bind(config, ca, provider, hook).await?;
            // Payments a previous run left open are followed on chain, never dropped.
            let open = wallet.as_ref().map_or(0, purse_api::Wallet::reconcile);
            if let Some(wallet) = &wallet {
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
            if open > 0 {
                tracing::info!(open, "checking payments left open on chain");
            }
            let address = proxy.local_addr();
            tracing::info!(%address, data_dir = %context.data_dir.display(), "Purse proxy started");
            crate::print(&format!("Purse proxy listening on http://{address}"))?;
            proxy.serve(shutdown_signal(), Duration::from_secs(5)).await;
            tracing::info!("Purse proxy stopped");
            Ok(())
        })
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
