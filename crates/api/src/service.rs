//! The running wallet: `config.toml` read, the wallet opened, the CA loaded, and the proxy
//! bound and served on a Tokio runtime of its own thread. `purse proxy` and the app start
//! it the same way.

use std::{net::SocketAddr, path::PathBuf, sync::Arc, time::Duration};

use purse_keys::Secret;
use purse_proxy::{Credentials, HostPattern, Limits, Proxy};

use crate::{Chain, Config, DataDir, Failure, Options, Wallet};

/// How long open connections may take to finish once the proxy is told to stop.
const GRACE: Duration = Duration::from_secs(5);

/// What a service starts with, besides `config.toml` (these win over it, or add to it).
#[derive(Debug)]
pub struct ServiceOptions {
    /// The data dir and keychain profile.
    pub place: DataDir,
    /// The address to listen on, instead of `[proxy] listen` (port 0 picks one).
    pub listen: Option<SocketAddr>,
    /// Extra CA certificates (PEM) to trust upstream, instead of `[proxy] upstream_ca`.
    pub upstream_ca: Option<PathBuf>,
    /// Hosts tunnelled untouched, added to `[proxy] passthrough`.
    pub passthrough: Vec<String>,
    /// Hosts intercepted alone, added to `[proxy] intercept_only`.
    pub intercept_only: Vec<String>,
    /// A corporate proxy, instead of `[proxy] upstream_proxy`.
    pub upstream_proxy: Option<String>,
    /// `NETWORK=URL` JSON-RPC endpoints, over `[rpc]`.
    pub rpc: Vec<String>,
    /// Whether 402s are paid (false: every 402 passes through untouched).
    pub pay: bool,
    /// The password of a default account kept in a keystore file.
    pub keystore_password: Option<Secret>,
}

impl ServiceOptions {
    /// Everything from `config.toml`, paying.
    pub fn new(place: DataDir) -> Self {
        Self {
            place,
            listen: None,
            upstream_ca: None,
            passthrough: Vec::new(),
            intercept_only: Vec::new(),
            upstream_proxy: None,
            rpc: Vec::new(),
            pay: true,
            keystore_password: None,
        }
    }
}

/// A running proxy and wallet; stopped by [`Service::stop`] or when dropped.
#[derive(Debug)]
pub struct Service {
    address: SocketAddr,
    place: DataDir,
    wallet: Option<Wallet>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

fn patterns(items: &[String]) -> Result<Vec<HostPattern>, Failure> {
    items
        .iter()
        .map(|p| p.parse().map_err(|e| Failure::Settings(format!("host pattern {p:?}: {e}"))))
        .collect()
}

/// The proxy's configuration from `config.toml` and the options.
fn proxy_config(config: &Config, options: &ServiceOptions) -> Result<purse_proxy::Config, Failure> {
    let settings = &config.proxy;
    let upstream_ca = options.upstream_ca.as_ref().or(settings.upstream_ca.as_ref());
    let extra_roots = match upstream_ca {
        Some(path) => {
            let text = std::fs::read_to_string(path).map_err(Failure::file("read", path))?;
            purse_proxy::parse_pem_certificates(&text).map_err(|e| {
                Failure::Settings(format!("{} holds no usable certificate: {e}", path.display()))
            })?
        }
        None => Vec::new(),
    };
    Ok(purse_proxy::Config {
        listen: options.listen.unwrap_or(settings.listen),
        passthrough: patterns(&[&settings.passthrough[..], &options.passthrough[..]].concat())?,
        intercept_only: patterns(
            &[&settings.intercept_only[..], &options.intercept_only[..]].concat(),
        )?,
        use_system_roots: true,
        extra_roots,
        credentials: settings
            .credentials
            .as_ref()
            .map(|c| Credentials { user: c.user.clone(), password: c.password.clone() }),
        upstream_proxy: options
            .upstream_proxy
            .as_ref()
            .or(settings.upstream_proxy.as_ref())
            .map(|u| u.parse::<purse_proxy::UpstreamProxy>())
            .transpose()
            .map_err(|e| Failure::Settings(format!("upstream proxy: {e}")))?,
        limits: Limits {
            max_connections: settings.max_connections,
            idle_timeout: Duration::from_secs(settings.idle_timeout_secs),
            max_replay_body: settings.max_replay_body,
            ..Limits::default()
        },
    })
}

impl Service {
    /// Reads `config.toml`, opens the wallet (unless `pay` is off), loads or makes the CA,
    /// and binds the proxy; then serves it on a thread of its own until stopped. Returns
    /// once the proxy accepts connections, or with why it cannot.
    pub fn start(options: ServiceOptions) -> Result<Self, Failure> {
        let config = options.place.config()?;
        let wallet = if options.pay {
            Some(Wallet::open(Options {
                data_dir: options.place.data_dir.clone(),
                profile: options.place.profile.clone(),
                policy: config.policy.clone(),
                keystore_password: options.keystore_password.clone(),
                zone: crate::Zone::Local,
                chain: Some(Chain::new(crate::settings::rpcs(&config.rpc, &options.rpc)?.0)),
            })?)
        } else {
            None
        };
        let hook = wallet
            .as_ref()
            .map(|wallet| Arc::new(wallet.hook()) as Arc<dyn purse_proxy::PaymentHook>);
        let proxy_config = proxy_config(&config, &options)?;
        let provider = purse_proxy::crypto_provider();
        let ca = Arc::new(crate::ca::load_or_create(&options.place, provider.clone())?);
        // One thread serves a desktop's traffic with the least overhead: no work stealing,
        // no cross-core wake-ups. More threads help only under heavy HTTPS handshaking.
        let mut builder = match config.proxy.worker_threads {
            1 => tokio::runtime::Builder::new_current_thread(),
            0 => tokio::runtime::Builder::new_multi_thread(),
            n => {
                let mut builder = tokio::runtime::Builder::new_multi_thread();
                builder.worker_threads(n);
                builder
            }
        };
        let runtime = builder
            .enable_all()
            .thread_name("purse-proxy")
            .build()
            .map_err(|e| Failure::Settings(format!("cannot start the runtime: {e}")))?;
        let (bound_tx, bound_rx) = std::sync::mpsc::channel();
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let reconciler = wallet.clone();
        let thread = std::thread::Builder::new()
            .name("purse-proxy".into())
            .spawn(move || {
                runtime.block_on(async move {
                    let proxy = match Proxy::bind(proxy_config, ca, provider, hook).await {
                        Ok(proxy) => proxy,
                        Err(error) => {
                            let _ = bound_tx.send(Err(error));
                            return;
                        }
                    };
                    // Payments a previous run left open are followed on chain, never dropped.
                    let open = reconciler.as_ref().map_or(0, Wallet::reconcile);
                    if open > 0 {
                        tracing::info!(open, "checking payments left open on chain");
                    }
                    let _ = bound_tx.send(Ok(proxy.local_addr()));
                    proxy
                        .serve(
                            async {
                                let _ = stop_rx.await;
                            },
                            GRACE,
                        )
                        .await;
                    tracing::info!("Purse proxy stopped");
                });
            })
            .map_err(|e| Failure::Settings(format!("cannot start the proxy's thread: {e}")))?;
        let address = match bound_rx.recv() {
            Ok(Ok(address)) => address,
            Ok(Err(error)) => {
                let _ = thread.join();
                return Err(error.into());
            }
            Err(_) => {
                let _ = thread.join();
                return Err(Failure::Settings("the proxy's thread stopped at start".into()));
            }
        };
        tracing::info!(%address, data_dir = %options.place.data_dir.display(), "Purse proxy started");
        Ok(Self {
            address,
            place: options.place,
            wallet,
            stop: Some(stop_tx),
            thread: Some(thread),
        })
    }

    /// The address the proxy listens on.
    pub fn address(&self) -> SocketAddr {
        self.address
    }

    /// The data dir and profile it serves.
    pub fn place(&self) -> &DataDir {
        &self.place
    }

    /// The wallet that pays, unless paying is off.
    pub fn wallet(&self) -> Option<&Wallet> {
        self.wallet.as_ref()
    }

    /// Stops accepting, gives open connections a few seconds, and returns once stopped.
    pub fn stop(mut self) {
        self.shut_down();
    }

    fn shut_down(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        self.shut_down();
    }
}
