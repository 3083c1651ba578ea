//! Which JSON-RPC endpoint serves each network.

use std::{collections::BTreeMap, fmt};

use alloy::transports::http::reqwest::Url;
use purse_x402::registry;

use crate::Error;

/// Public endpoints, per EIP-155 chain id: the ones viem's chain definitions name (the
/// library the x402 reference clients use; read at its August 2026 head), which are the
/// endpoints the chains themselves document where they run one. Every network of
/// [`registry::networks`] has one, and so do Optimism and OP Sepolia.
///
/// Public endpoints are rate-limited and see the addresses asked about: a user who cares
/// sets their own in `config.toml`.
const DEFAULTS: &[(u64, &str, &str)] = &[
    (1, "Ethereum", "https://ethereum.reth.rs/rpc"),
    (10, "Optimism", "https://mainnet.optimism.io"),
    (14, "Flare", "https://flare-api.flare.network/ext/C/rpc"),
    (50, "XDC", "https://rpc.xdcrpc.com"),
    (51, "XDC Apothem", "https://erpc.apothem.network"),
    (137, "Polygon", "https://polygon.drpc.org"),
    (143, "Monad", "https://rpc.monad.xyz"),
    (988, "Stable", "https://rpc.stable.xyz"),
    (1328, "Sei testnet", "https://evm-rpc-testnet.sei-apis.com"),
    (1329, "Sei", "https://evm-rpc.sei-apis.com"),
    (1514, "Story", "https://mainnet.datarpc.io"),
    (2201, "Stable testnet", "https://rpc.testnet.stable.xyz"),
    (2741, "Abstract", "https://api.mainnet.abs.xyz"),
    (3338, "peaq", "https://quicknode1.peaq.xyz"),
    (4326, "MegaETH", "https://mainnet.megaeth.com/rpc"),
    (4689, "IoTeX", "https://babel-api.mainnet.iotex.io"),
    (8453, "Base", "https://mainnet.base.org"),
    (11124, "Abstract testnet", "https://api.testnet.abs.xyz"),
    (31611, "Mezo testnet", "https://rpc.test.mezo.org"),
    (31612, "Mezo", "https://rpc.mezo.org"),
    (36900, "ADI", "https://rpc.adifoundation.ai"),
    (38833, "Igra", "https://rpc.igralabs.com:8545"),
    (41923, "EDU Chain", "https://rpc.educhain.xyz"),
    (42161, "Arbitrum One", "https://arb1.arbitrum.io/rpc"),
    (42220, "Celo", "https://forno.celo.org"),
    (43113, "Avalanche Fuji", "https://api.avax-test.network/ext/bc/C/rpc"),
    (43114, "Avalanche C-Chain", "https://api.avax.network/ext/bc/C/rpc"),
    (72344, "Radius testnet", "https://rpc.testnet.radiustech.xyz"),
    (80002, "Polygon Amoy", "https://polygon-amoy.drpc.org"),
    (84532, "Base Sepolia", "https://sepolia.base.org"),
    (181228, "HPP Sepolia", "https://testnet.hpp.io"),
    (190415, "HPP", "https://mainnet.hpp.io"),
    (421614, "Arbitrum Sepolia", "https://sepolia-rollup.arbitrum.io/rpc"),
    (723487, "Radius", "https://rpc.radiustech.xyz"),
    (11142220, "Celo Sepolia", "https://forno.celo-sepolia.celo-testnet.org"),
    (11155111, "Sepolia", "https://11155111.rpc.thirdweb.com"),
    (11155420, "OP Sepolia", "https://sepolia.optimism.io"),
    (
        324705682,
        "SKALE Base Sepolia",
        "https://base-sepolia-testnet.skalenodes.com/v1/base-testnet",
    ),
];

/// The RPC URL of each network, by EIP-155 chain id.
///
/// `Debug` and every error show URLs with their secrets cut (see [`redact`]): hosted RPC
/// URLs often carry an API key in their path.
#[derive(Clone, Default)]
pub struct Rpcs {
    urls: BTreeMap<u64, Url>,
}

impl fmt::Debug for Rpcs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.urls.iter().map(|(id, url)| (id, redact(url)))).finish()
    }
}

impl Rpcs {
    /// No network at all.
    pub fn new() -> Self {
        Self::default()
    }

    /// The public endpoint of every network Purse knows (see [`Rpcs::default_url`]).
    pub fn with_defaults() -> Self {
        let urls = DEFAULTS
            .iter()
            .filter_map(|(id, _, url)| Url::parse(url).ok().map(|url| (*id, url)))
            .collect();
        Self { urls }
    }

    /// The built-in public endpoint for `chain_id`, if there is one.
    pub fn default_url(chain_id: u64) -> Option<&'static str> {
        DEFAULTS.iter().find(|(id, _, _)| *id == chain_id).map(|(_, _, url)| *url)
    }

    /// Uses `url` (`http` or `https`) for `chain_id`, in place of any other.
    pub fn set(&mut self, chain_id: u64, url: &str) -> Result<(), Error> {
        self.urls.insert(chain_id, parse_url(url)?);
        Ok(())
    }

    /// Uses `url` for the network named `network`: a CAIP-2 id (`eip155:84532`) or an x402
    /// v1 name (`base-sepolia`). Returns its chain id.
    pub fn set_network(&mut self, network: &str, url: &str) -> Result<u64, Error> {
        let chain_id = resolve_network(network)?;
        self.set(chain_id, url)?;
        Ok(chain_id)
    }

    /// Reads one `NETWORK=URL` override (`eip155:84532=http://127.0.0.1:8545`,
    /// `base-sepolia=https://…`), applies it, and returns its chain id.
    pub fn parse_override(&mut self, text: &str) -> Result<u64, Error> {
        let (network, url) = text
            .split_once('=')
            .filter(|(network, url)| !network.trim().is_empty() && !url.trim().is_empty())
            .ok_or_else(|| Error::BadOverride { text: text.to_owned() })?;
        self.set_network(network.trim(), url.trim())
    }

    /// Forgets the URL of `chain_id`.
    pub fn remove(&mut self, chain_id: u64) {
        self.urls.remove(&chain_id);
    }

    /// The URL set for `chain_id`, whole (it may hold an API key: do not log it).
    pub fn url(&self, chain_id: u64) -> Option<&str> {
        self.urls.get(&chain_id).map(Url::as_str)
    }

    /// The chain ids that have a URL, in ascending order.
    pub fn chain_ids(&self) -> impl Iterator<Item = u64> + '_ {
        self.urls.keys().copied()
    }

    pub(crate) fn get(&self, chain_id: u64) -> Option<&Url> {
        self.urls.get(&chain_id)
    }
}

/// The chain id of a network named by CAIP-2 id (`eip155:8453`) or x402 v1 name (`base`).
/// A network must be in the registry or have a built-in endpoint.
pub fn resolve_network(name: &str) -> Result<u64, Error> {
    let name = name.trim();
    let known =
        |id: u64| registry::network_by_chain_id(id).is_some() || Rpcs::default_url(id).is_some();
    let chain_id = match registry::parse_caip2(name) {
        Some(id) => Some(id).filter(|id| known(*id)),
        None => registry::network_by_v1_name(&name.to_ascii_lowercase()).map(|n| n.chain_id),
    };
    chain_id.ok_or_else(|| Error::UnknownNetwork { name: name.to_owned() })
}

/// `Base Sepolia (eip155:84532)`, or `eip155:N` for a chain Purse has no name for.
pub fn network_label(chain_id: u64) -> String {
    let name = registry::network_by_chain_id(chain_id)
        .map(|n| n.name)
        .or_else(|| DEFAULTS.iter().find(|(id, _, _)| *id == chain_id).map(|(_, name, _)| *name));
    match name {
        Some(name) => format!("{name} (eip155:{chain_id})"),
        None => format!("eip155:{chain_id}"),
    }
}

fn parse_url(text: &str) -> Result<Url, Error> {
    let bad = |reason: &str| Error::BadUrl { url: redact_text(text), reason: reason.to_owned() };
    let url = Url::parse(text.trim()).map_err(|e| bad(&e.to_string()))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(bad("only http:// and https:// RPC URLs are supported"));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(bad("it names no host"));
    }
    Ok(url)
}

/// A URL fit for messages and logs: scheme, host and port, and the path with every segment
/// longer than 20 characters (where hosted RPCs put API keys) replaced by `…`. User info,
/// query and fragment are dropped.
pub fn redact(url: &Url) -> String {
    let mut out = format!("{}://{}", url.scheme(), url.host_str().unwrap_or_default());
    if let Some(port) = url.port() {
        out.push_str(&format!(":{port}"));
    }
    let path: Vec<&str> = url
        .path()
        .split('/')
        .skip(1)
        .map(|segment| if segment.chars().count() > 20 { "…" } else { segment })
        .collect();
    if !path.is_empty() && path != [""] {
        out.push('/');
        out.push_str(&path.join("/"));
    }
    if url.query().is_some() || url.fragment().is_some() || !url.username().is_empty() {
        out.push_str(" (query and credentials hidden)");
    }
    out
}

/// [`redact`] for text that may not even parse as a URL: its scheme and host part only.
fn redact_text(text: &str) -> String {
    let text = text.trim();
    if let Ok(url) = Url::parse(text) {
        return redact(&url);
    }
    let (scheme, rest) = text.split_once("://").unwrap_or(("", text));
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(end);
    let host = authority.rsplit('@').next().unwrap_or_default();
    let host: String = host.chars().take(64).collect();
    let more = if tail.is_empty() && !authority.contains('@') { "" } else { "/…" };
    if scheme.is_empty() { format!("{host}{more}") } else { format!("{scheme}://{host}{more}") }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use super::*;

    #[test]
    fn every_registry_network_has_a_default() {
        let rpcs = Rpcs::with_defaults();
        for network in registry::networks() {
            let url = rpcs.url(network.chain_id).unwrap_or_else(|| panic!("{network:?}"));
            assert!(url.starts_with("https://"), "{url}");
        }
        assert_eq!(rpcs.chain_ids().count(), DEFAULTS.len());
        assert_eq!(rpcs.url(8453), Some("https://mainnet.base.org/"));
        assert_eq!(rpcs.url(84532), Some("https://sepolia.base.org/"));
        for id in [1, 10, 137, 42161, 421614, 43113, 43114, 80002, 11155111, 11155420] {
            assert!(rpcs.url(id).is_some(), "{id}");
        }
    }

    #[test]
    fn overrides_by_caip2_or_v1_name() {
        let mut rpcs = Rpcs::new();
        assert_eq!(rpcs.parse_override("eip155:84532=http://127.0.0.1:8545").unwrap(), 84532);
        assert_eq!(rpcs.url(84532), Some("http://127.0.0.1:8545/"));
        assert_eq!(rpcs.parse_override(" base = https://rpc.example/v1 ").unwrap(), 8453);
        assert_eq!(rpcs.url(8453), Some("https://rpc.example/v1"));
        assert_eq!(rpcs.parse_override("Base-Sepolia=http://[::1]:9").unwrap(), 84532);
        assert_eq!(rpcs.url(84532), Some("http://[::1]:9/"));
        // Not in the registry, but Purse has an endpoint for it.
        assert_eq!(rpcs.parse_override("eip155:10=https://op.example").unwrap(), 10);
        // A URL may hold `=`.
        assert_eq!(rpcs.parse_override("base=https://rpc.example/?key=a=b").unwrap(), 8453);
        assert_eq!(rpcs.chain_ids().collect::<Vec<_>>(), [10, 8453, 84532]);
        rpcs.remove(10);
        assert_eq!(rpcs.url(10), None);
    }

    #[test]
    fn unknown_networks_and_bad_urls_are_refused() {
        let mut rpcs = Rpcs::new();
        for (text, message) in [
            ("base-sepolai=http://127.0.0.1:1", "unknown network \"base-sepolai\""),
            ("eip155:999999=http://127.0.0.1:1", "unknown network \"eip155:999999\""),
            ("solana:5eykt4UsFv8P8NJdTREpY1vzqKqZKvdp=http://x", "unknown network"),
            ("84532=http://127.0.0.1:1", "unknown network \"84532\""),
            ("base", "\"base\" is not NETWORK=URL"),
            ("=http://127.0.0.1:1", "is not NETWORK=URL"),
            ("base=", "is not NETWORK=URL"),
            ("base=127.0.0.1:8545", "bad RPC URL"),
            ("base=ws://127.0.0.1:8545", "only http:// and https://"),
            ("base=file:///etc/passwd", "only http:// and https://"),
        ] {
            let error = rpcs.parse_override(text).unwrap_err().to_string();
            assert!(error.contains(message), "{text}: {error}");
        }
        assert_eq!(rpcs.chain_ids().count(), 0);
        assert!(rpcs.set(1, "not a url").is_err());
    }

    #[test]
    fn urls_are_shown_without_their_secrets() {
        let url = |text| Url::parse(text).unwrap();
        assert_eq!(redact(&url("http://127.0.0.1:8545")), "http://127.0.0.1:8545");
        assert_eq!(redact(&url("https://mainnet.base.org/")), "https://mainnet.base.org");
        assert_eq!(
            redact(&url("https://api.avax.network/ext/bc/C/rpc")),
            "https://api.avax.network/ext/bc/C/rpc"
        );
        assert_eq!(
            redact(&url("https://base-mainnet.g.alchemy.com/v2/0123456789abcdef0123456789abcdef")),
            "https://base-mainnet.g.alchemy.com/v2/…"
        );
        assert_eq!(
            redact(&url("https://user:pw@rpc.example/?apikey=s3cret")),
            "https://rpc.example (query and credentials hidden)"
        );
        let mut rpcs = Rpcs::new();
        rpcs.set(8453, "https://rpc.example/v3/0123456789abcdef0123456789abcdef").unwrap();
        let debug = format!("{rpcs:?}");
        assert!(!debug.contains("0123456789"), "{debug}");
        let error =
            Rpcs::new().set(1, "https://x.example:99999/0123456789abcdef01234567").unwrap_err();
        assert!(!error.to_string().contains("0123456789abcdef"), "{error}");
    }

    #[test]
    fn labels() {
        assert_eq!(network_label(84532), "Base Sepolia (eip155:84532)");
        assert_eq!(network_label(11155420), "OP Sepolia (eip155:11155420)");
        assert_eq!(network_label(31337), "eip155:31337");
    }
}
