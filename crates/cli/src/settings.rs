//! Where Purse keeps things (data dir, profile) and `config.toml`.

use std::{
    net::SocketAddr,
    path::{Path, PathBuf},
};

use anyhow::{Context as _, Result, bail};
use clap::Args;
use serde::Deserialize;

/// Options every verb that touches the data dir or the keychain takes.
#[derive(Debug, Clone, Args)]
pub(crate) struct Place {
    /// The data dir: config.toml, purse.db, the CA certificate. Default: the OS data dir
    /// + purse (~/.local/share/purse on Linux).
    #[arg(long, global = true, env = "PURSE_DATA_DIR", value_name = "DIR")]
    data_dir: Option<PathBuf>,
    /// The profile that namespaces keychain entries, so that tests and development builds
    /// never touch a user's real ones.
    #[arg(
        long,
        global = true,
        env = "PURSE_PROFILE",
        default_value = "default",
        value_name = "NAME"
    )]
    profile: String,
}

/// The data dir and profile in force.
#[derive(Debug, Clone)]
pub(crate) struct Context {
    pub(crate) data_dir: PathBuf,
    pub(crate) profile: String,
}

impl Place {
    /// Resolves the data dir (`--data-dir`, else `PURSE_DATA_DIR`, else the OS data dir)
    /// and creates it (mode 0700 on Unix).
    pub(crate) fn resolve(&self) -> Result<Context> {
        let data_dir = match &self.data_dir {
            Some(dir) => dir.clone(),
            None => dirs::data_dir()
                .context("no data dir on this system: pass --data-dir or set PURSE_DATA_DIR")?
                .join("purse"),
        };
        if self.profile.is_empty()
            || !self.profile.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            bail!("profile {:?} must be letters, digits, - or _", self.profile);
        }
        create_private_dir(&data_dir)?;
        Ok(Context { data_dir, profile: self.profile.clone() })
    }
}

fn create_private_dir(dir: &Path) -> Result<()> {
    std::fs::create_dir_all(dir)
        .with_context(|| format!("cannot create the data dir {}", dir.display()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
            .with_context(|| format!("cannot restrict the data dir {}", dir.display()))?;
    }
    Ok(())
}

impl Context {
    pub(crate) fn path(&self, name: &str) -> PathBuf {
        self.data_dir.join(name)
    }

    /// `config.toml`, or the defaults when there is none.
    pub(crate) fn config(&self) -> Result<Config> {
        let path = self.path("config.toml");
        match std::fs::read_to_string(&path) {
            Ok(text) => {
                toml::from_str(&text).with_context(|| format!("{} is not valid", path.display()))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Config::default()),
            Err(e) => Err(e).with_context(|| format!("cannot read {}", path.display())),
        }
    }
}

/// `config.toml`. Sections other crates own are ignored here.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub(crate) struct Config {
    pub(crate) proxy: ProxyConfig,
    /// `[policy]`: what is paid without asking.
    pub(crate) policy: purse_api::PolicyConfig,
    /// `[rpc]`: JSON-RPC URL per network, keyed by CAIP-2 id or x402 v1 name.
    pub(crate) rpc: std::collections::BTreeMap<String, String>,
}

/// `[proxy]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub(crate) struct ProxyConfig {
    /// Loopback address and port.
    pub(crate) listen: SocketAddr,
    /// Hosts tunnelled untouched (`example.com`, `*.example.com`).
    pub(crate) passthrough: Vec<String>,
    /// When not empty, only these hosts are intercepted.
    pub(crate) intercept_only: Vec<String>,
    /// Extra CA certificates (PEM) trusted for upstream TLS.
    pub(crate) upstream_ca: Option<PathBuf>,
    /// `Proxy-Authorization` credentials clients must present.
    pub(crate) credentials: Option<CredentialsConfig>,
    /// A corporate proxy to send everything through: `http://[user:password@]host:port`.
    pub(crate) upstream_proxy: Option<String>,
    /// Connections served at once.
    pub(crate) max_connections: usize,
    /// Seconds an idle connection stays open.
    pub(crate) idle_timeout_secs: u64,
    /// Largest request body kept for a paid re-send, in bytes.
    pub(crate) max_replay_body: usize,
    /// Threads that serve connections; 0 means one per CPU core.
    pub(crate) worker_threads: usize,
}

/// `[proxy.credentials]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct CredentialsConfig {
    pub(crate) user: String,
    pub(crate) password: String,
}

impl Default for ProxyConfig {
    fn default() -> Self {
        let limits = purse_proxy::Limits::default();
        Self {
            listen: purse_proxy::Config::default().listen,
            passthrough: Vec::new(),
            intercept_only: Vec::new(),
            upstream_ca: None,
            credentials: None,
            upstream_proxy: None,
            max_connections: limits.max_connections,
            idle_timeout_secs: limits.idle_timeout.as_secs(),
            max_replay_body: limits.max_replay_body,
            worker_threads: 1,
        }
    }
}

/// The JSON-RPC endpoints: the public defaults, then config.toml `[rpc]`, then `--rpc
/// NETWORK=URL` options (which win for the same network). Also returns the networks the
/// user named, in the order named.
pub(crate) fn rpcs(
    config: &std::collections::BTreeMap<String, String>,
    overrides: &[String],
) -> Result<(purse_chain::Rpcs, Vec<u64>)> {
    let mut rpcs = purse_chain::Rpcs::with_defaults();
    let mut named = Vec::new();
    for (network, url) in config {
        named.push(
            rpcs.set_network(network, url)
                .with_context(|| format!("config.toml [rpc] {network}"))?,
        );
    }
    for text in overrides {
        named.push(rpcs.parse_override(text).context("--rpc")?);
    }
    Ok((rpcs, named))
}
