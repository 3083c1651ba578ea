#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! `Chain` against a real anvil (chain id 84532) with `TestUSDC` at the Base Sepolia USDC
//! address, and against sockets that fail in the ways real endpoints do.

use std::{
    io::Read as _,
    net::TcpListener,
    time::{Duration, SystemTime, UNIX_EPOCH},
};

use alloy::{
    primitives::{Address, B256, U256, address},
    providers::Provider as _,
    signers::{SignerSync as _, local::PrivateKeySigner},
    sol_types::{SolCall as _, SolStruct as _, eip712_domain},
};
use purse_chain::{
    Chain, Confirmation, Error, Rpcs,
    testing::{self, Anvil, NO_ANVIL, TestUsdc},
};
use purse_x402::exact::TransferWithAuthorization;

const CHAIN_ID: u64 = testing::CHAIN_ID;

/// A fresh anvil; these tests are ignored in a plain `cargo test` and fail without one.
fn anvil() -> Anvil {
    let binary = testing::anvil_binary().unwrap_or_else(|| panic!("{NO_ANVIL}"));
    Anvil::start(&binary).expect("anvil starts")
}

fn usdc(n: u64) -> U256 {
    U256::from(n)
}

#[tokio::test]
#[ignore = "needs anvil from the npm testbed; scripts/test runs it"]
async fn token_balance_reads_balance_of() {
    let anvil = anvil();
    let token = anvil.place_test_usdc().await.unwrap();
    let accounts = anvil.accounts().await.unwrap();
    let (payer, other) = (accounts[1], accounts[2]);
    anvil.mint(token, payer, usdc(10_000_000)).await.unwrap();

    let chain = Chain::new(anvil.rpcs().unwrap());
    assert_eq!(chain.token_balance(CHAIN_ID, token, payer).await.unwrap(), usdc(10_000_000));
    assert_eq!(chain.token_balance(CHAIN_ID, token, other).await.unwrap(), U256::ZERO);

    // An address without code answers nothing, which is not a balance.
    let nothing = address!("0x000000000000000000000000000000000000dEaD");
    let error = chain.token_balance(CHAIN_ID, nothing, payer).await.unwrap_err();
    assert!(matches!(error, Error::BadAnswer { chain_id: CHAIN_ID, .. }), "{error:?}");
    assert!(error.to_string().contains("is it a token contract"), "{error}");
}

#[tokio::test]
#[ignore = "needs anvil from the npm testbed; scripts/test runs it"]
async fn confirm_transfer_checks_the_receipt() {
    let anvil = anvil();
    let token = anvil.place_test_usdc().await.unwrap();
    let accounts = anvil.accounts().await.unwrap();
    let (payer, payee, stranger) = (accounts[1], accounts[2], accounts[3]);
    anvil.mint(token, payer, usdc(10_000_000)).await.unwrap();
    let tx = anvil.transfer(token, payer, payee, usdc(1_250_000)).await.unwrap();
    let block = anvil.provider().get_transaction_receipt(tx).await.unwrap().unwrap().block_number;

    let chain = Chain::new(anvil.rpcs().unwrap());
    let confirm = |from: Address, to: Address, amount: u64, asset: Address| {
        let chain = &chain;
        async move { chain.confirm_transfer(CHAIN_ID, tx, asset, from, to, usdc(amount)).await.unwrap() }
    };
    assert_eq!(
        confirm(payer, payee, 1_250_000, token).await,
        Confirmation::Confirmed { block: block.unwrap() }
    );
    assert_eq!(chain.token_balance(CHAIN_ID, token, payer).await.unwrap(), usdc(8_750_000));
    assert_eq!(chain.token_balance(CHAIN_ID, token, payee).await.unwrap(), usdc(1_250_000));

    for (from, to, amount) in
        [(payer, payee, 1_250_001), (payer, stranger, 1_250_000), (stranger, payee, 1_250_000)]
    {
        let Confirmation::Mismatch(why) = confirm(from, to, amount, token).await else {
            panic!("{from} -> {to} {amount} is not a mismatch");
        };
        assert!(
            why.contains(&format!("moved 1250000 from {payer} to {payee} of {token}")),
            "{why}"
        );
        assert!(why.contains(&format!("expected {amount} from {from} to {to}")), "{why}");
    }
    let other_token = address!("0x833589fCD6eDb6E08f4c7C32D4f71b54bdA02913");
    let Confirmation::Mismatch(why) = confirm(payer, payee, 1_250_000, other_token).await else {
        panic!("a transfer of another token is a mismatch");
    };
    assert!(why.contains(&format!("emitted no Transfer of {other_token}")), "{why}");

    // A hash no node knows: no receipt yet.
    let unknown = B256::repeat_byte(0x77);
    assert_eq!(
        chain
            .confirm_transfer(CHAIN_ID, unknown, token, payer, payee, usdc(1_250_000))
            .await
            .unwrap(),
        Confirmation::Pending
    );

    // More than the payer holds: mined (gas given, so anvil does not refuse it) and reverted.
    let data = TestUsdc::transferCall { to: payee, value: usdc(1_000_000_000) }.abi_encode();
    let reverted = anvil.send(payer, token, data, Some(200_000)).await.unwrap();
    assert_eq!(
        chain
            .confirm_transfer(CHAIN_ID, reverted, token, payer, payee, usdc(1_000_000_000))
            .await
            .unwrap(),
        Confirmation::Reverted
    );
}

#[tokio::test]
#[ignore = "needs anvil from the npm testbed; scripts/test runs it"]
async fn authorization_used_follows_transfer_with_authorization() {
    let anvil = anvil();
    let token = anvil.place_test_usdc().await.unwrap();
    let accounts = anvil.accounts().await.unwrap();
    let (relayer, payee) = (accounts[0], accounts[2]);
    // The payer only signs: it needs tokens, no ETH, and no unlocked account.
    let payer = PrivateKeySigner::from_bytes(&B256::repeat_byte(0x42)).unwrap();
    anvil.mint(token, payer.address(), usdc(5_000_000)).await.unwrap();

    let chain = Chain::new(anvil.rpcs().unwrap());
    let nonce = B256::repeat_byte(0x3c);
    assert!(!chain.authorization_used(CHAIN_ID, token, payer.address(), nonce).await.unwrap());

    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs();
    let message = TransferWithAuthorization {
        from: payer.address(),
        to: payee,
        value: usdc(10_000),
        validAfter: U256::ZERO,
        validBefore: U256::from(now + 600),
        nonce,
    };
    let domain = eip712_domain! {
        name: "USDC",
        version: "2",
        chain_id: CHAIN_ID,
        verifying_contract: token,
    };
    let signature = payer.sign_hash_sync(&message.eip712_signing_hash(&domain)).unwrap();
    let call = TestUsdc::transferWithAuthorizationCall {
        from: message.from,
        to: message.to,
        value: message.value,
        validAfter: message.validAfter,
        validBefore: message.validBefore,
        nonce,
        v: 27 + u8::from(signature.v()),
        r: signature.r().into(),
        s: signature.s().into(),
    };
    let tx = anvil.send(relayer, token, call.abi_encode(), None).await.unwrap();

    assert!(chain.authorization_used(CHAIN_ID, token, payer.address(), nonce).await.unwrap());
    assert!(
        !chain
            .authorization_used(CHAIN_ID, token, payer.address(), B256::repeat_byte(0x3d))
            .await
            .unwrap()
    );
    assert!(matches!(
        chain
            .confirm_transfer(CHAIN_ID, tx, token, payer.address(), payee, usdc(10_000))
            .await
            .unwrap(),
        Confirmation::Confirmed { .. }
    ));
    assert_eq!(chain.token_balance(CHAIN_ID, token, payee).await.unwrap(), usdc(10_000));
}

#[tokio::test]
#[ignore = "needs anvil from the npm testbed; scripts/test runs it"]
async fn an_endpoint_of_another_chain_is_refused() {
    let anvil = anvil();
    let token = anvil.place_test_usdc().await.unwrap();
    let mut rpcs = Rpcs::new();
    rpcs.set_network("base", anvil.url()).unwrap();
    let chain = Chain::new(rpcs);
    let error = chain.token_balance(8453, token, Address::ZERO).await.unwrap_err();
    assert!(matches!(error, Error::WrongChain { chain_id: 8453, actual: 84532, .. }), "{error:?}");
    assert_eq!(
        error.to_string(),
        format!("RPC {} is set for Base (eip155:8453) but serves chain id 84532", anvil.url())
    );
}

#[tokio::test]
async fn a_network_without_rpc_is_named() {
    let chain = Chain::new(Rpcs::new());
    let error = chain.token_balance(84532, Address::ZERO, Address::ZERO).await.unwrap_err();
    assert_eq!(error, Error::NoRpc { chain_id: 84532 });
    assert_eq!(error.to_string(), "no RPC URL is set for Base Sepolia (eip155:84532)");
}

#[tokio::test]
async fn a_dead_endpoint_is_a_clear_error() {
    // A port nobody listens on: connection refused.
    let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let mut rpcs = Rpcs::new();
    rpcs.parse_override(&format!("base-sepolia=http://127.0.0.1:{port}")).unwrap();
    let chain = Chain::new(rpcs);
    let error = chain.token_balance(84532, Address::ZERO, Address::ZERO).await.unwrap_err();
    let Error::Rpc { chain_id: 84532, url, reason } = &error else { panic!("{error:?}") };
    assert_eq!(url, &format!("http://127.0.0.1:{port}"));
    assert!(reason.starts_with("eth_chainId: "), "{reason}");
    let text = error.to_string();
    assert!(
        text.starts_with(&format!(
            "RPC http://127.0.0.1:{port} for Base Sepolia (eip155:84532) failed: "
        )),
        "{text}"
    );
}

#[tokio::test]
async fn a_silent_endpoint_times_out() {
    // Accepts connections and reads requests, never answers.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in listener.incoming().flatten() {
            let mut reader = stream.try_clone().unwrap();
            held.push(stream);
            std::thread::spawn(move || {
                let mut sink = [0u8; 1024];
                while reader.read(&mut sink).is_ok_and(|n| n > 0) {}
            });
        }
    });
    let mut rpcs = Rpcs::new();
    // An API key in the path stays out of the message.
    rpcs.set(84532, &format!("http://127.0.0.1:{port}/v2/0123456789abcdef0123456789abcdef"))
        .unwrap();
    let chain = Chain::new(rpcs).with_timeout(Duration::from_millis(300));
    let started = std::time::Instant::now();
    let error = chain.token_balance(84532, Address::ZERO, Address::ZERO).await.unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(5));
    assert!(
        matches!(error, Error::Timeout { chain_id: 84532, method: "eth_chainId", .. }),
        "{error:?}"
    );
    assert_eq!(
        error.to_string(),
        format!(
            "RPC http://127.0.0.1:{port}/v2/… for Base Sepolia (eip155:84532) did not answer eth_chainId within 0.3 s"
        )
    );
}
