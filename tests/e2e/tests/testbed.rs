//! The local x402 testbed starts, its servers answer over HTTP and HTTPS, ask for payment
//! the v2 and the v1 way, and the official clients' payments settle on the local chain.

// Helpers outside #[test] functions fail the test loudly, as tests should.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::{process::Command, time::Instant};

use base64::{Engine, engine::general_purpose::STANDARD};
use purse_e2e::testbed::{FUNDED, PAY_TO, PAYER, Testbed, USDC};
use serde_json::Value;

/// GET over HTTPS with curl, trusting only the testbed's CA: (status, body).
fn curl_https(bed: &Testbed, url: &str) -> (u16, String) {
    let out = Command::new("curl")
        .args(["-sS", "--noproxy", "*", "--cacert"])
        .arg(&bed.ca_pem)
        .args(["-w", "\n%{http_code}", url])
        .output()
        .unwrap();
    assert!(out.status.success(), "curl {url}: {}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8(out.stdout).unwrap();
    let (body, status) = text.rsplit_once('\n').unwrap();
    (status.parse().unwrap(), body.to_owned())
}

fn client() -> reqwest::blocking::Client {
    purse_e2e::http_client().no_proxy().build().unwrap()
}

/// The decoded `PAYMENT-REQUIRED` header of a v2 402.
fn payment_required(response: &reqwest::blocking::Response) -> Value {
    let header = response.headers().get("payment-required").expect("no PAYMENT-REQUIRED header");
    serde_json::from_slice(&STANDARD.decode(header.as_bytes()).unwrap()).unwrap()
}

#[test]
#[ignore = "needs the npm testbed; scripts/test runs it"]
fn testbed_serves_asks_and_settles() {
    let started = Instant::now();
    let bed = Testbed::start().unwrap_or_else(|e| panic!("{e}"));
    println!("testbed started in {:?} (logs in {})", started.elapsed(), bed.dir.display());
    let http = client();

    // Free route, both servers, both schemes.
    for server in [&bed.v2, &bed.v1] {
        let free = http.get(format!("{}/free", server.http)).send().unwrap();
        assert_eq!(free.status(), 200);
        let (status, body) = curl_https(&bed, &format!("{}/free", server.https));
        assert_eq!(status, 200, "{body}");
        assert_eq!(serde_json::from_str::<Value>(&body).unwrap()["free"], true);
    }

    // v2: 402 with PAYMENT-REQUIRED (base64 JSON), $0.001 = 1000 atomic USDC.
    let weather = http.get(format!("{}/weather", bed.v2.http)).send().unwrap();
    assert_eq!(weather.status(), 402);
    let required = payment_required(&weather);
    assert_eq!(required["x402Version"], 2);
    let accept = &required["accepts"][0];
    assert_eq!(accept["network"], "eip155:84532");
    assert_eq!(accept["amount"], "1000");
    assert_eq!(accept["asset"], USDC);
    assert_eq!(accept["payTo"], PAY_TO);
    let premium = http.get(format!("{}/premium", bed.v2.http)).send().unwrap();
    assert_eq!(premium.status(), 402);
    assert_eq!(payment_required(&premium)["accepts"][0]["amount"], "500000");

    // v1: 402 with the requirements in a JSON body.
    let weather = http.get(format!("{}/weather", bed.v1.http)).send().unwrap();
    assert_eq!(weather.status(), 402);
    let body: Value = weather.json().unwrap();
    assert_eq!(body["x402Version"], 1);
    assert_eq!(body["accepts"][0]["network"], "base-sepolia");
    assert_eq!(body["accepts"][0]["maxAmountRequired"], "1000");
    assert_eq!(body["accepts"][0]["payTo"], PAY_TO);

    // The payer is funded; the payee's balance rises by exactly the price per payment.
    assert_eq!(bed.usdc_balance(PAYER).unwrap(), FUNDED);
    let before = bed.usdc_balance(PAY_TO).unwrap();

    let paying = Instant::now();
    let paid = bed.pay_v2(&format!("{}/weather", bed.v2.http)).unwrap();
    println!("official v2 client paid /weather in {:?}", paying.elapsed());
    assert_eq!(paid.status, 200, "{paid:?}\n{}", bed.logs());
    assert!(paid.body.contains("sunny"), "{paid:?}");
    assert_eq!(bed.usdc_balance(PAY_TO).unwrap(), before + 1000);
    assert_eq!(bed.usdc_balance(PAYER).unwrap(), FUNDED - 1000);

    // The v1 scheme over HTTPS (node trusts the CA through NODE_EXTRA_CA_CERTS).
    let paid = bed.pay_v1(&format!("{}/weather", bed.v1.https)).unwrap();
    assert_eq!(paid.status, 200, "{paid:?}\n{}", bed.logs());
    assert_eq!(bed.usdc_balance(PAY_TO).unwrap(), before + 2000);

    let stopping = Instant::now();
    drop(bed);
    println!("testbed stopped in {:?}; whole test {:?}", stopping.elapsed(), started.elapsed());
}
