//! Every EVM network and default stablecoin that `@x402/evm` 2.27.0 ships, as data.
//!
//! Networks come from its `EVM_NETWORK_CHAIN_ID_MAP` (the v1 names) and the keys of its
//! `DEFAULT_ASSETS`; assets from `DEFAULT_ASSETS` (all USD stablecoins). The EIP-712 `name`
//! and `version` are the ones the token contract hashes into its domain separator: an
//! offer that names another pair for a known asset is refused before signing.

use alloy::primitives::{Address, address};

/// How an asset's `exact` payments move funds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TransferMethod {
    /// EIP-3009 `transferWithAuthorization`.
    Eip3009,
    /// Permit2 `permitWitnessTransferFrom` through the x402 exact proxy.
    Permit2,
}

impl TransferMethod {
    /// The `extra.assetTransferMethod` value that names this method.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Eip3009 => "eip3009",
            Self::Permit2 => "permit2",
        }
    }
}

/// An EVM network.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Network {
    /// EIP-155 chain id.
    pub chain_id: u64,
    /// The x402 v1 name, where v1 has one.
    pub v1_name: Option<&'static str>,
    /// A human name.
    pub name: &'static str,
    /// Whether its money is play money.
    pub testnet: bool,
}

impl Network {
    /// The CAIP-2 id, `eip155:<chain id>`, as x402 v2 names networks.
    pub fn caip2(&self) -> String {
        format!("eip155:{}", self.chain_id)
    }
}

/// A stablecoin that Purse knows on one network.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Asset {
    /// EIP-155 chain id of its network.
    pub chain_id: u64,
    /// Token contract.
    pub address: Address,
    /// Ticker.
    pub symbol: &'static str,
    /// Decimals of its atomic unit.
    pub decimals: u8,
    /// EIP-712 domain name of the token contract.
    pub eip712_name: &'static str,
    /// EIP-712 domain version of the token contract.
    pub eip712_version: &'static str,
    /// How `exact` payments move it by default.
    pub transfer_method: TransferMethod,
    /// Whether the token implements EIP-2612 `permit`.
    pub eip2612: bool,
    /// Whether one whole token is worth one US dollar.
    pub usd: bool,
}

/// All known networks.
pub fn networks() -> &'static [Network] {
    NETWORKS
}

/// All known assets.
pub fn assets() -> &'static [Asset] {
    ASSETS
}

/// The network with this chain id.
pub fn network_by_chain_id(chain_id: u64) -> Option<&'static Network> {
    NETWORKS.iter().find(|n| n.chain_id == chain_id)
}

/// The network with this x402 v1 name (`base`, `base-sepolia`, …).
pub fn network_by_v1_name(name: &str) -> Option<&'static Network> {
    NETWORKS.iter().find(|n| n.v1_name == Some(name))
}

/// The network with this CAIP-2 id. Like the reference client, only `eip155:<digits>`
/// whose number is a safe JavaScript integer is read.
pub fn network_by_caip2(id: &str) -> Option<&'static Network> {
    network_by_chain_id(parse_caip2(id)?)
}

/// The chain id of a CAIP-2 `eip155:<digits>` id.
pub fn parse_caip2(id: &str) -> Option<u64> {
    const MAX_SAFE_INTEGER: u64 = (1 << 53) - 1;
    let digits = id.strip_prefix("eip155:")?;
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse::<u64>().ok().filter(|n| *n <= MAX_SAFE_INTEGER)
}

/// The known asset at `address` on `chain_id`.
pub fn asset(chain_id: u64, address: Address) -> Option<&'static Asset> {
    ASSETS.iter().find(|a| a.chain_id == chain_id && a.address == address)
}

/// The known assets on `chain_id`, the network's default first.
pub fn assets_on(chain_id: u64) -> impl Iterator<Item = &'static Asset> {
    ASSETS.iter().filter(move |a| a.chain_id == chain_id)
}

pub(crate) const NETWORKS: &[Network] = &[
    Network { chain_id: 8453, v1_name: Some("base"), name: "Base", testnet: false },
    Network { chain_id: 84532, v1_name: Some("base-sepolia"), name: "Base Sepolia", testnet: true },
    Network { chain_id: 1, v1_name: Some("ethereum"), name: "Ethereum", testnet: false },
    Network { chain_id: 14, v1_name: Some("flare"), name: "Flare", testnet: false },
    Network { chain_id: 50, v1_name: None, name: "XDC", testnet: false },
    Network { chain_id: 51, v1_name: None, name: "XDC Apothem", testnet: true },
    Network { chain_id: 137, v1_name: Some("polygon"), name: "Polygon", testnet: false },
    Network { chain_id: 143, v1_name: Some("monad"), name: "Monad", testnet: false },
    Network { chain_id: 988, v1_name: Some("stable"), name: "Stable", testnet: false },
    Network { chain_id: 1328, v1_name: Some("sei-testnet"), name: "Sei testnet", testnet: true },
    Network { chain_id: 1329, v1_name: Some("sei"), name: "Sei", testnet: false },
    Network { chain_id: 1514, v1_name: Some("story"), name: "Story", testnet: false },
    Network {
        chain_id: 2201,
        v1_name: Some("stable-testnet"),
        name: "Stable testnet",
        testnet: true,
    },
    Network { chain_id: 2741, v1_name: Some("abstract"), name: "Abstract", testnet: false },
    Network { chain_id: 3338, v1_name: Some("peaq"), name: "peaq", testnet: false },
    Network { chain_id: 4326, v1_name: Some("megaeth"), name: "MegaETH", testnet: false },
    Network { chain_id: 4689, v1_name: Some("iotex"), name: "IoTeX", testnet: false },
    Network {
        chain_id: 11124,
        v1_name: Some("abstract-testnet"),
        name: "Abstract testnet",
        testnet: true,
    },
    Network { chain_id: 31611, v1_name: None, name: "Mezo testnet", testnet: true },
    Network { chain_id: 31612, v1_name: None, name: "Mezo", testnet: false },
    Network { chain_id: 36900, v1_name: None, name: "ADI", testnet: false },
    Network { chain_id: 38833, v1_name: None, name: "Igra", testnet: false },
    Network { chain_id: 41923, v1_name: Some("educhain"), name: "EDU Chain", testnet: false },
    Network { chain_id: 42161, v1_name: None, name: "Arbitrum One", testnet: false },
    Network { chain_id: 42220, v1_name: Some("celo"), name: "Celo", testnet: false },
    Network {
        chain_id: 43113,
        v1_name: Some("avalanche-fuji"),
        name: "Avalanche Fuji",
        testnet: true,
    },
    Network {
        chain_id: 43114,
        v1_name: Some("avalanche"),
        name: "Avalanche C-Chain",
        testnet: false,
    },
    Network { chain_id: 72344, v1_name: None, name: "Radius testnet", testnet: true },
    Network { chain_id: 80002, v1_name: Some("polygon-amoy"), name: "Polygon Amoy", testnet: true },
    Network { chain_id: 181228, v1_name: None, name: "HPP Sepolia", testnet: true },
    Network { chain_id: 190415, v1_name: None, name: "HPP", testnet: false },
    Network { chain_id: 421614, v1_name: None, name: "Arbitrum Sepolia", testnet: true },
    Network { chain_id: 723487, v1_name: None, name: "Radius", testnet: false },
    Network { chain_id: 11142220, v1_name: None, name: "Celo Sepolia", testnet: true },
    Network { chain_id: 11155111, v1_name: Some("sepolia"), name: "Sepolia", testnet: true },
    Network {
        chain_id: 324705682,
        v1_name: Some("skale-base-sepolia"),
        name: "SKALE Base Sepolia",
        testnet: true,
    },
];

pub(crate) const ASSETS: &[Asset] = &[
    Asset {
        chain_id: 8453,
        address: address!("0x833589fCD6eDb6E08f4c7C32D4f71b54bdA02913"),
        symbol: "USDC",
        decimals: 6,
        eip712_name: "USD Coin",
        eip712_version: "2",
        transfer_method: TransferMethod::Eip3009,
        eip2612: false,
        usd: true,
    },
    Asset {
        chain_id: 84532,
        address: address!("0x036CbD53842c5426634e7929541eC2318f3dCF7e"),
        symbol: "USDC",
        decimals: 6,
        eip712_name: "USDC",
        eip712_version: "2",
        transfer_method: TransferMethod::Eip3009,
        eip2612: false,
        usd: true,
    },
    Asset {
        chain_id: 1,
        address: address!("0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48"),
        symbol: "USDC",
        decimals: 6,
        eip712_name: "USD Coin",
        eip712_version: "2",
        transfer_method: TransferMethod::Eip3009,
        eip2612: false,
        usd: true,
    },
    Asset {
        chain_id: 43114,
        address: address!("0xB97EF9Ef8734C71904D8002F8b6Bc66Dd9c48a6E"),
        symbol: "USDC",
        decimals: 6,
        eip712_name: "USD Coin",
        eip712_version: "2",
        transfer_method: TransferMethod::Eip3009,
        eip2612: false,
        usd: true,
    },
    Asset {
        chain_id: 4326,
        address: address!("0xFAfDdbb3FC7688494971a79cc65DCa3EF82079E7"),
        symbol: "MegaUSD",
        decimals: 18,
        eip712_name: "MegaUSD",
        eip712_version: "1",
        transfer_method: TransferMethod::Permit2,
        eip2612: true,
        usd: true,
    },
    Asset {
        chain_id: 143,
        address: address!("0x754704Bc059F8C67012fEd69BC8A327a5aafb603"),
        symbol: "USDC",
        decimals: 6,
        eip712_name: "USDC",
        eip712_version: "2",
        transfer_method: TransferMethod::Eip3009,
        eip2612: false,
        usd: true,
    },
    Asset {
        chain_id: 988,
        address: address!("0x779Ded0c9e1022225f8E0630b35a9b54bE713736"),
        symbol: "USDT0",
        decimals: 6,
        eip712_name: "USDT0",
        eip712_version: "1",
        transfer_method: TransferMethod::Eip3009,
        eip2612: false,
        usd: true,
    },
    Asset {
        chain_id: 2201,
        address: address!("0x78Cf24370174180738C5B8E352B6D14c83a6c9A9"),
        symbol: "USDT0",
        decimals: 6,
        eip712_name: "USDT0",
        eip712_version: "1",
        transfer_method: TransferMethod::Eip3009,
        eip2612: false,
        usd: true,
    },
    Asset {
        chain_id: 137,
        address: address!("0x3c499c542cEF5E3811e1192ce70d8cC03d5c3359"),
        symbol: "USDC",
        decimals: 6,
        eip712_name: "USD Coin",
        eip712_version: "2",
        transfer_method: TransferMethod::Eip3009,
        eip2612: false,
        usd: true,
    },
    Asset {
        chain_id: 42161,
        address: address!("0xaf88d065e77c8cC2239327C5EDb3A432268e5831"),
        symbol: "USDC",
        decimals: 6,
        eip712_name: "USD Coin",
        eip712_version: "2",
        transfer_method: TransferMethod::Eip3009,
        eip2612: false,
        usd: true,
    },
    Asset {
        chain_id: 421614,
        address: address!("0x75faf114eafb1BDbe2F0316DF893fd58CE46AA4d"),
        symbol: "USDC",
        decimals: 6,
        eip712_name: "USD Coin",
        eip712_version: "2",
        transfer_method: TransferMethod::Eip3009,
        eip2612: false,
        usd: true,
    },
    Asset {
        chain_id: 31612,
        address: address!("0xdD468A1DDc392dcdbEf6db6e34E89AA338F9F186"),
        symbol: "mUSD",
        decimals: 18,
        eip712_name: "Mezo USD",
        eip712_version: "1",
        transfer_method: TransferMethod::Permit2,
        eip2612: true,
        usd: true,
    },
    Asset {
        chain_id: 31611,
        address: address!("0x118917a40FAF1CD7a13dB0Ef56C86De7973Ac503"),
        symbol: "mUSD",
        decimals: 18,
        eip712_name: "Mezo USD",
        eip712_version: "1",
        transfer_method: TransferMethod::Permit2,
        eip2612: true,
        usd: true,
    },
    Asset {
        chain_id: 723487,
        address: address!("0x33ad9e4BD16B69B5BFdED37D8B5D9fF9aba014Fb"),
        symbol: "SBC",
        decimals: 6,
        eip712_name: "Stable Coin",
        eip712_version: "1",
        transfer_method: TransferMethod::Permit2,
        eip2612: true,
        usd: true,
    },
    Asset {
        chain_id: 72344,
        address: address!("0x33ad9e4BD16B69B5BFdED37D8B5D9fF9aba014Fb"),
        symbol: "SBC",
        decimals: 6,
        eip712_name: "Stable Coin",
        eip712_version: "1",
        transfer_method: TransferMethod::Permit2,
        eip2612: true,
        usd: true,
    },
    Asset {
        chain_id: 36900,
        address: address!("0x9cb8142aEBBcdc60AF7c97Af897A67A8f3CA71C2"),
        symbol: "USDC.e",
        decimals: 6,
        eip712_name: "USDC.e",
        eip712_version: "2",
        transfer_method: TransferMethod::Eip3009,
        eip2612: false,
        usd: true,
    },
    Asset {
        chain_id: 190415,
        address: address!("0x401eCb1D350407f13ba348573E5630B83638E30D"),
        symbol: "USDC.e",
        decimals: 6,
        eip712_name: "Bridged USDC",
        eip712_version: "2",
        transfer_method: TransferMethod::Eip3009,
        eip2612: false,
        usd: true,
    },
    Asset {
        chain_id: 181228,
        address: address!("0x401eCb1D350407f13ba348573E5630B83638E30D"),
        symbol: "USDC.e",
        decimals: 6,
        eip712_name: "Bridged USDC",
        eip712_version: "2",
        transfer_method: TransferMethod::Eip3009,
        eip2612: false,
        usd: true,
    },
    Asset {
        chain_id: 50,
        address: address!("0xfA2958CB79b0491CC627c1557F441eF849Ca8eb1"),
        symbol: "USDC",
        decimals: 6,
        eip712_name: "USDC",
        eip712_version: "2",
        transfer_method: TransferMethod::Eip3009,
        eip2612: false,
        usd: true,
    },
    Asset {
        chain_id: 51,
        address: address!("0xb5AB69F7bBada22B28e79C8FFAECe55eF1c771D4"),
        symbol: "USDC",
        decimals: 6,
        eip712_name: "USDC",
        eip712_version: "2",
        transfer_method: TransferMethod::Eip3009,
        eip2612: false,
        usd: true,
    },
    Asset {
        chain_id: 38833,
        address: address!("0xA5b8BF902b2844dA17d4506cc827F7F1681735E7"),
        symbol: "USDC",
        decimals: 6,
        eip712_name: "USDC",
        eip712_version: "1",
        transfer_method: TransferMethod::Permit2,
        eip2612: false,
        usd: true,
    },
    Asset {
        chain_id: 14,
        address: address!("0xe7cd86e13AC4309349F30B3435a9d337750fC82D"),
        symbol: "USDT0",
        decimals: 6,
        eip712_name: "USD\u{20AE}0",
        eip712_version: "1",
        transfer_method: TransferMethod::Eip3009,
        eip2612: false,
        usd: true,
    },
    Asset {
        chain_id: 42220,
        address: address!("0xcebA9300f2b948710d2653dD7B07f33A8B32118C"),
        symbol: "USDC",
        decimals: 6,
        eip712_name: "USDC",
        eip712_version: "2",
        transfer_method: TransferMethod::Eip3009,
        eip2612: false,
        usd: true,
    },
    Asset {
        chain_id: 42220,
        address: address!("0x48065fbBE25f71C9282ddf5e1cD6D6A887483D5e"),
        symbol: "USDT",
        decimals: 6,
        eip712_name: "Tether USD",
        eip712_version: "1",
        transfer_method: TransferMethod::Eip3009,
        eip2612: false,
        usd: true,
    },
    Asset {
        chain_id: 42220,
        address: address!("0xD2ab3C9A02DBBAB236BfEC45D1d755DF4267F771"),
        symbol: "USAT",
        decimals: 6,
        eip712_name: "Tether America USD",
        eip712_version: "1",
        transfer_method: TransferMethod::Eip3009,
        eip2612: false,
        usd: true,
    },
    Asset {
        chain_id: 11142220,
        address: address!("0x01C5C0122039549AD1493B8220cABEdD739BC44E"),
        symbol: "USDC",
        decimals: 6,
        eip712_name: "USDC",
        eip712_version: "2",
        transfer_method: TransferMethod::Eip3009,
        eip2612: false,
        usd: true,
    },
    Asset {
        chain_id: 1329,
        address: address!("0xe15fC38F6D8c56aF07bbCBe3BAf5708A2Bf42392"),
        symbol: "USDC",
        decimals: 6,
        eip712_name: "USDC",
        eip712_version: "2",
        transfer_method: TransferMethod::Eip3009,
        eip2612: false,
        usd: true,
    },
    Asset {
        chain_id: 1328,
        address: address!("0x4fCF1784B31630811181f670Aea7A7bEF803eaED"),
        symbol: "USDC",
        decimals: 6,
        eip712_name: "USDC",
        eip712_version: "2",
        transfer_method: TransferMethod::Eip3009,
        eip2612: false,
        usd: true,
    },
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_asset_sits_on_a_known_network_once() {
        for a in ASSETS {
            assert!(network_by_chain_id(a.chain_id).is_some(), "{a:?}");
            assert_eq!(
                ASSETS
                    .iter()
                    .filter(|b| b.chain_id == a.chain_id && b.address == a.address)
                    .count(),
                1
            );
        }
        for n in NETWORKS {
            assert_eq!(NETWORKS.iter().filter(|m| m.chain_id == n.chain_id).count(), 1, "{n:?}");
        }
    }

    #[test]
    fn lookups() {
        let base_sepolia = network_by_v1_name("base-sepolia").unwrap();
        assert_eq!(base_sepolia.caip2(), "eip155:84532");
        assert!(base_sepolia.testnet);
        assert_eq!(network_by_caip2("eip155:8453").unwrap().v1_name, Some("base"));
        assert_eq!(parse_caip2("eip155:09007199254740991"), Some(9_007_199_254_740_991));
        assert_eq!(parse_caip2("eip155:9007199254740992"), None);
        assert_eq!(parse_caip2("eip155:"), None);
        assert_eq!(parse_caip2("eip155:-1"), None);
        assert_eq!(parse_caip2("solana:5eykt4UsFv8P8NJdTREpY1vzqKqZKvdp"), None);
        let usdc = asset(84532, address!("0x036CbD53842c5426634e7929541eC2318f3dCF7e")).unwrap();
        assert_eq!((usdc.eip712_name, usdc.eip712_version, usdc.decimals), ("USDC", "2", 6));
        let flare = assets_on(14).next().unwrap();
        assert_eq!(flare.eip712_name.as_bytes(), b"USD\xe2\x82\xae0");
        assert_eq!(assets_on(42220).count(), 3);
    }
}
