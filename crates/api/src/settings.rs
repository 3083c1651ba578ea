//! Where Purse keeps things (the data dir and the keychain profile) and `config.toml`:
//! `[proxy]`, `[policy]` and `[rpc]`, read by both shells and edited by the app.

use std::{
    collections::BTreeMap,
    net::SocketAddr,
    path::{Path, PathBuf},
};

use serde::{Deserialize, Serialize};

use purse_core::money::Usd;

use crate::{Failure, PolicyConfig};

/// The settings file in the data dir.
pub const CONFIG_FILE: &str = "config.toml";
/// The history database in the data dir.
pub const DATABASE_FILE: &str = "purse.db";

/// The data dir and keychain profile in force.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataDir {
    /// `config.toml`, `purse.db` and the CA certificate are there.
    pub data_dir: PathBuf,
    /// Namespaces keychain entries (`PURSE_PROFILE`).
    pub profile: String,
}

impl DataDir {
    /// Resolves the data dir (`dir`, given from `--data-dir` or `PURSE_DATA_DIR`, else the
    /// OS data dir + `purse`) and creates it (mode 0700 on Unix); checks the profile name.
    pub fn resolve(dir: Option<PathBuf>, profile: &str) -> Result<Self, Failure> {
        let data_dir = match dir {
            Some(dir) => dir,
            None => dirs::data_dir()
                .ok_or_else(|| {
                    Failure::Settings(
                        "no data dir on this system: pass --data-dir or set PURSE_DATA_DIR".into(),
                    )
                })?
                .join("purse"),
        };
        if profile.is_empty()
            || !profile.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            return Err(Failure::Settings(format!(
                "profile {profile:?} must be letters, digits, - or _"
            )));
        }
        create_private_dir(&data_dir)?;
        Ok(Self { data_dir, profile: profile.to_owned() })
    }

    /// A file in the data dir.
    pub fn path(&self, name: &str) -> PathBuf {
        self.data_dir.join(name)
    }

    /// `config.toml`, or the defaults when there is none.
    pub fn config(&self) -> Result<Config, Failure> {
        let path = self.path(CONFIG_FILE);
        match std::fs::read_to_string(&path) {
            Ok(text) => Config::parse(&text)
                .map_err(|e| Failure::Settings(format!("{} is not valid: {e}", path.display()))),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Config::default()),
            Err(e) => Err(Failure::file("read", &path)(e)),
        }
    }

    /// Opens `purse.db`.
    pub fn store(&self) -> Result<purse_store::Store, Failure> {
        Ok(purse_store::Store::open(&self.path(DATABASE_FILE))?)
    }

    /// Writes the fields the app edits into `config.toml`, keeping everything else in the
    /// file (comments, other sections) as it was. The result is checked before it is
    /// written, and written whole (a temporary file renamed over the old one).
    pub fn save_settings(&self, edit: &SettingsEdit) -> Result<Config, Failure> {
        let path = self.path(CONFIG_FILE);
        let text = match std::fs::read_to_string(&path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
            Err(e) => return Err(Failure::file("read", &path)(e)),
        };
        let text = edit.apply(&text)?;
        let config = Config::parse(&text).map_err(|e| Failure::Invalid(e.to_string()))?;
        config.policy.settings().map_err(|e| Failure::Invalid(e.to_string()))?;
        rpcs(&config.rpc, &[])?;
        let temporary = self.path(".config.toml.new");
        std::fs::write(&temporary, text).map_err(Failure::file("write", &temporary))?;
        std::fs::rename(&temporary, &path).map_err(Failure::file("write", &path))?;
        Ok(config)
    }
}

/// Saves the settings (as [`DataDir::save_settings`]), then applies to `wallet`, the one
/// running, what changes without a restart: the prompt timeout, for its next prompts.
pub fn save(
    place: &DataDir,
    edit: &SettingsEdit,
    wallet: Option<&crate::Wallet>,
) -> Result<Config, Failure> {
    let config = place.save_settings(edit)?;
    if let Some(approvals) = wallet.map(crate::Wallet::approvals) {
        approvals.set_timeout(std::time::Duration::from_secs(config.policy.prompt_timeout_secs));
    }
    Ok(config)
}

fn create_private_dir(dir: &Path) -> Result<(), Failure> {
    std::fs::create_dir_all(dir).map_err(|e| {
        Failure::Settings(format!("cannot create the data dir {}: {e}", dir.display()))
    })?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700)).map_err(|e| {
            Failure::Settings(format!("cannot restrict the data dir {}: {e}", dir.display()))
        })?;
    }
    Ok(())
}

/// `config.toml`. Sections other parts own are ignored here.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct Config {
    /// `[proxy]`.
    pub proxy: ProxyConfig,
    /// `[policy]`: what is paid without asking.
    pub policy: PolicyConfig,
    /// `[rpc]`: JSON-RPC URL per network, keyed by CAIP-2 id or x402 v1 name.
    pub rpc: BTreeMap<String, String>,
    /// `[app]`: the desktop app's own settings.
    pub app: AppConfig,
}

/// `[app]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AppConfig {
    /// Payments paid without asking notify from this many dollars up (refusals always do).
    pub notify_above: String,
}

/// Payments made without asking notify from $0.10 up unless `[app] notify_above` says.
const NOTIFY_ABOVE: Usd = Usd(100_000);

impl Default for AppConfig {
    fn default() -> Self {
        Self { notify_above: NOTIFY_ABOVE.decimal() }
    }
}

impl AppConfig {
    /// [`Self::notify_above`] as an amount; the default where it is not one.
    pub fn notify_above(&self) -> Usd {
        self.notify_above.trim().parse().unwrap_or(NOTIFY_ABOVE)
    }
}

impl Config {
    /// Reads `config.toml`'s text.
    pub fn parse(text: &str) -> Result<Self, toml::de::Error> {
        toml::from_str(text)
    }
}

/// `[proxy]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ProxyConfig {
    /// Loopback address and port.
    pub listen: SocketAddr,
    /// Hosts tunnelled untouched (`example.com`, `*.example.com`).
    pub passthrough: Vec<String>,
    /// When not empty, only these hosts are intercepted.
    pub intercept_only: Vec<String>,
    /// Extra CA certificates (PEM) trusted for upstream TLS.
    pub upstream_ca: Option<PathBuf>,
    /// `Proxy-Authorization` credentials clients must present.
    pub credentials: Option<CredentialsConfig>,
    /// A corporate proxy to send everything through: `http://[user:password@]host:port`.
    pub upstream_proxy: Option<String>,
    /// Connections served at once.
    pub max_connections: usize,
    /// Seconds an idle connection stays open.
    pub idle_timeout_secs: u64,
    /// Largest request body kept for a paid re-send, in bytes.
    pub max_replay_body: usize,
    /// Threads that serve connections; 0 means one per CPU core.
    pub worker_threads: usize,
}

/// `[proxy.credentials]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CredentialsConfig {
    /// The user name.
    pub user: String,
    /// The password.
    pub password: String,
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
/// NETWORK=URL` overrides (which win for the same network). Also returns the networks the
/// user named, in the order named.
pub fn rpcs(
    config: &BTreeMap<String, String>,
    overrides: &[String],
) -> Result<(purse_chain::Rpcs, Vec<u64>), Failure> {
    let mut rpcs = purse_chain::Rpcs::with_defaults();
    let mut named = Vec::new();
    for (network, url) in config {
        named.push(
            rpcs.set_network(network, url)
                .map_err(|e| Failure::Settings(format!("config.toml [rpc] {network}: {e}")))?,
        );
    }
    for text in overrides {
        named
            .push(rpcs.parse_override(text).map_err(|e| Failure::Settings(format!("--rpc: {e}")))?);
    }
    Ok((rpcs, named))
}

/// The networks Purse knows: CAIP-2 id → name, for choosing a preference.
pub fn known_networks() -> BTreeMap<String, String> {
    purse_x402::registry::networks().iter().map(|n| (n.caip2(), n.name.to_owned())).collect()
}

/// What the app's Settings view shows and edits.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SettingsEdit {
    /// `[proxy] listen`.
    pub listen: String,
    /// `[proxy] passthrough`.
    pub passthrough: Vec<String>,
    /// `[policy] network_preference`.
    pub network_preference: Vec<String>,
    /// `[rpc]`, network → URL.
    pub rpc: BTreeMap<String, String>,
    /// `[policy] prompt_timeout_secs`: how long a payment waits for an answer (a running
    /// wallet applies it to its next prompts when saved through [`save`]).
    #[serde(default = "default_prompt_timeout")]
    pub prompt_timeout_secs: u64,
    /// `[app] notify_above`: payments made without asking notify from this many dollars
    /// up (the app reads it at each payment, so it applies at once).
    #[serde(default = "default_notify_above")]
    pub notify_above: String,
}

fn default_prompt_timeout() -> u64 {
    PolicyConfig::default().prompt_timeout_secs
}

fn default_notify_above() -> String {
    AppConfig::default().notify_above
}

/// The shortest and longest prompt timeouts the Settings view takes, in seconds.
pub const PROMPT_TIMEOUT_SECS: std::ops::RangeInclusive<u64> = 5..=600;

impl SettingsEdit {
    /// The fields as `config` has them.
    pub fn of(config: &Config) -> Self {
        Self {
            listen: config.proxy.listen.to_string(),
            passthrough: config.proxy.passthrough.clone(),
            network_preference: config.policy.network_preference.clone(),
            rpc: config.rpc.clone(),
            prompt_timeout_secs: config.policy.prompt_timeout_secs,
            notify_above: config.app.notify_above.clone(),
        }
    }

    /// `text` (a `config.toml`) with these fields set, the rest untouched.
    fn apply(&self, text: &str) -> Result<String, Failure> {
        use toml_edit::{Array, DocumentMut, Item, Table, value};
        let listen: SocketAddr =
            self.listen.trim().parse().map_err(|_| {
                Failure::Invalid(format!("{:?} is not an address:port", self.listen))
            })?;
        if !listen.ip().is_loopback() {
            return Err(Failure::Invalid(format!(
                "{listen} is not a loopback address: the proxy listens on 127.0.0.1 or ::1 only"
            )));
        }
        let mut document: DocumentMut = text
            .parse()
            .map_err(|e| Failure::Settings(format!("config.toml is not valid: {e}")))?;
        let array = |items: &[String]| {
            let mut array = Array::new();
            for item in items.iter().map(|i| i.trim()).filter(|i| !i.is_empty()) {
                array.push(item);
            }
            value(array)
        };
        let section = |document: &mut DocumentMut, name: &str| -> Result<(), Failure> {
            if !document.contains_key(name) {
                document.insert(name, Item::Table(Table::new()));
            }
            if document[name].is_table_like() {
                Ok(())
            } else {
                Err(Failure::Settings(format!("config.toml: {name} is not a table")))
            }
        };
        section(&mut document, "proxy")?;
        document["proxy"]["listen"] = value(listen.to_string());
        document["proxy"]["passthrough"] = array(&self.passthrough);
        section(&mut document, "policy")?;
        document["policy"]["network_preference"] = array(&self.network_preference);
        if !PROMPT_TIMEOUT_SECS.contains(&self.prompt_timeout_secs) {
            return Err(Failure::Invalid(format!(
                "the prompt timeout is {} to {} seconds",
                PROMPT_TIMEOUT_SECS.start(),
                PROMPT_TIMEOUT_SECS.end()
            )));
        }
        document["policy"]["prompt_timeout_secs"] =
            value(i64::try_from(self.prompt_timeout_secs).unwrap_or(i64::MAX));
        let mut rpc = Table::new();
        for (network, url) in &self.rpc {
            let (network, url) = (network.trim(), url.trim());
            if !network.is_empty() && !url.is_empty() {
                rpc.insert(network, value(url));
            }
        }
        document.insert("rpc", Item::Table(rpc));
        let notify_above = self
            .notify_above
            .trim()
            .parse::<Usd>()
            .map_err(|e| Failure::Invalid(format!("notifications from: {e}")))?;
        section(&mut document, "app")?;
        document["app"]["notify_above"] = value(notify_above.decimal());
        Ok(document.to_string())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn an_edit_keeps_the_rest_of_the_file() {
        let text = "# mine\n[proxy]\nlisten = \"127.0.0.1:8402\"\nmax_connections = 7 # keep\n\n[policy]\ndaily_cap = \"2.00\"\n";
        let edit = SettingsEdit {
            listen: "127.0.0.1:9000".into(),
            passthrough: vec!["*.apple.com".into(), " ".into()],
            network_preference: vec!["base".into()],
            rpc: [("eip155:84532".to_owned(), "http://127.0.0.1:8545".to_owned())].into(),
            prompt_timeout_secs: 45,
            notify_above: " $2.5 ".into(),
        };
        let out = edit.apply(text).unwrap();
        assert!(out.starts_with("# mine\n"), "{out}");
        assert!(out.contains("max_connections = 7 # keep"), "{out}");
        let config = Config::parse(&out).unwrap();
        assert_eq!(config.proxy.listen.port(), 9000);
        assert_eq!(config.proxy.passthrough, ["*.apple.com"]);
        assert_eq!(config.proxy.max_connections, 7);
        assert_eq!(config.policy.daily_cap, "2.00");
        assert_eq!(config.policy.network_preference, ["base"]);
        assert_eq!(config.rpc["eip155:84532"], "http://127.0.0.1:8545");
        assert_eq!(config.policy.prompt_timeout_secs, 45);
        assert_eq!(config.app.notify_above, "2.50");
        assert_eq!(config.app.notify_above(), Usd(2_500_000));
        assert!(SettingsEdit { prompt_timeout_secs: 1, ..edit.clone() }.apply("").is_err());
        let lots = SettingsEdit { notify_above: "lots".into(), ..edit.clone() }.apply("");
        assert!(lots.unwrap_err().to_string().starts_with("notifications from: "));
        assert_eq!(
            SettingsEdit::of(&config),
            SettingsEdit {
                passthrough: vec!["*.apple.com".into()],
                notify_above: "2.50".into(),
                ..edit.clone()
            }
        );

        let open = SettingsEdit { listen: "0.0.0.0:8402".into(), ..edit };
        assert!(open.apply("").is_err());
    }

    #[test]
    fn the_data_dir_is_made_private_and_profiles_are_checked() {
        let dir = std::env::temp_dir().join(format!("purse-api-settings-{}", std::process::id()));
        let resolved = DataDir::resolve(Some(dir.clone()), "test_1").unwrap();
        assert_eq!(resolved.path("x"), dir.join("x"));
        assert!(DataDir::resolve(Some(dir.clone()), "a/b").is_err());
        let saved = resolved
            .save_settings(&SettingsEdit {
                listen: "127.0.0.1:8402".into(),
                passthrough: vec![],
                network_preference: vec!["atlantis".into()],
                rpc: BTreeMap::new(),
                prompt_timeout_secs: 60,
                notify_above: "0.10".into(),
            })
            .unwrap_err();
        assert_eq!(saved.code(), "invalid");
        assert!(!dir.join(CONFIG_FILE).exists());
        let _ = std::fs::remove_dir_all(dir);
    }
}
