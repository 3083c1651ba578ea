//! `purse x402 decode` and `purse x402 sign`, run as a user runs them.

// Helpers outside #[test] functions fail the test loudly, as tests should.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::{
    io::Write as _,
    path::{Path, PathBuf},
    process::{Command, Output, Stdio},
};

use serde_json::Value;

fn purse(args: &[&str], stdin: Option<&[u8]>) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_purse"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut input = child.stdin.take().unwrap();
    input.write_all(stdin.unwrap_or_default()).unwrap();
    drop(input);
    child.wait_with_output().unwrap()
}

fn stdout(output: &Output) -> String {
    String::from_utf8(output.stdout.clone()).unwrap()
}

fn stderr(output: &Output) -> String {
    String::from_utf8(output.stderr.clone()).unwrap()
}

fn vector(name: &str) -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../x402/tests/data").join(name);
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

struct Scratch(PathBuf);

impl Scratch {
    fn new(tag: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("purse-cli-test-{tag}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        Self(dir)
    }

    fn write(&self, name: &str, contents: &[u8]) -> String {
        let path = self.0.join(name);
        std::fs::write(&path, contents).unwrap();
        path.to_string_lossy().into_owned()
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The 402 of a vector as `curl -si` saves it.
fn curl_si(vector: &Value) -> Vec<u8> {
    let response = &vector["response_402"];
    let mut text = String::from("HTTP/1.1 402 Payment Required\r\n");
    for (name, value) in response["headers"].as_object().unwrap() {
        text.push_str(&format!("{name}: {}\r\n", value.as_str().unwrap()));
    }
    let body = response["body"].as_str().unwrap();
    text.push_str(&format!("content-length: {}\r\n\r\n{body}", body.len()));
    text.into_bytes()
}

const VECTORS: [&str; 9] = [
    "v1-base-sepolia-usdc.json",
    "v1-large-amount.json",
    "v1-two-accepts.json",
    "v2-base-mainnet-usdc.json",
    "v2-base-sepolia-usdc.json",
    "v2-large-amount.json",
    "v2-permit2-base-sepolia.json",
    "v2-two-accepts-first-wins.json",
    "v2-two-accepts-spend-filter.json",
];

#[test]
fn sign_reproduces_every_paid_vector() {
    let scratch = Scratch::new("sign");
    let mut signed = 0;
    for name in VECTORS {
        let vector = vector(name);
        let response = scratch.write(name, &curl_si(&vector));
        let key = scratch.write(
            "key",
            format!("{}\n", vector["pinned"]["payer_private_key"].as_str().unwrap()).as_bytes(),
        );
        for case in vector["cases"].as_array().unwrap() {
            let case_id = case["case_id"].as_str().unwrap();
            if case["outcome"] != "paid" || case_id.starts_with("legacy") {
                continue;
            }
            let retry = &case["retry_request"];
            let expected = format!(
                "{}: {}\n",
                retry["payment_header_name"].as_str().unwrap(),
                retry["payment_header_value"].as_str().unwrap()
            );
            let now = case["timing"]["now_unix"].to_string();
            let nonce = case["pinned_random_bytes"].as_str().unwrap();
            let index = case["selected_accept_index"].to_string();
            let mut args = vec![
                "x402",
                "sign",
                &response,
                "--private-key-file",
                &key,
                "--now",
                &now,
                "--nonce",
                nonce,
            ];

            let by_default = purse(&args, None);
            if by_default.status.success() && stdout(&by_default) == expected {
                signed += 1;
                continue;
            }
            // The case paid a token outside the registry: refused by default, signed only
            // when the user allows unknown assets.
            args.extend(["--accept", &index]);
            let refused = purse(&args, None);
            assert!(!refused.status.success(), "{name}/{case_id}");
            assert!(stdout(&refused).is_empty());
            assert!(stderr(&refused).contains("not in Purse's registry"), "{}", stderr(&refused));
            args.push("--allow-unknown-asset");
            let allowed = purse(&args, None);
            assert_eq!(stdout(&allowed), expected, "{name}/{case_id}: {}", stderr(&allowed));
            signed += 1;
        }
    }
    assert_eq!(signed, 10);
}

#[test]
fn sign_reads_bare_values_and_stdin() {
    let scratch = Scratch::new("bare");
    let vector = vector("v2-base-sepolia-usdc.json");
    let case = &vector["cases"][0];
    let key =
        scratch.write("key", vector["pinned"]["payer_private_key"].as_str().unwrap().as_bytes());
    let header = vector["response_402"]["headers"]["payment-required"].as_str().unwrap();
    let expected = format!(
        "PAYMENT-SIGNATURE: {}\n",
        case["retry_request"]["payment_header_value"].as_str().unwrap()
    );
    let args = [
        "x402",
        "sign",
        "-",
        "--private-key-file",
        &key,
        "--now",
        "1767225600",
        "--nonce",
        case["pinned_random_bytes"].as_str().unwrap(),
    ];
    for input in [header.to_owned(), format!("PAYMENT-REQUIRED: {header}\n")] {
        let output = purse(&args, Some(input.as_bytes()));
        assert_eq!(stdout(&output), expected, "{}", stderr(&output));
    }
    // A random nonce and the real clock still give one valid header line.
    let output = purse(&["x402", "sign", "-", "--private-key-file", &key], Some(header.as_bytes()));
    let line = stdout(&output);
    assert!(
        output.status.success()
            && line.starts_with("PAYMENT-SIGNATURE: ")
            && line.lines().count() == 1,
        "{line}"
    );
    assert_ne!(line, expected);
}

#[test]
fn sign_refusals_are_one_line_on_stderr_and_nothing_on_stdout() {
    let scratch = Scratch::new("refuse");
    let vector = vector("v2-base-sepolia-usdc.json");
    let key =
        scratch.write("key", vector["pinned"]["payer_private_key"].as_str().unwrap().as_bytes());
    let bad_key = scratch.write("bad-key", b"0xnot-a-key-0123456789");
    let response = scratch.write("402", &curl_si(&vector));
    let html = scratch.write(
        "html",
        b"HTTP/1.1 402 Payment Required\r\ncontent-type: text/html\r\n\r\n<p>pay</p>",
    );
    let erc7710 = {
        let mut required = vector["response_402"]["payment_required"].clone();
        required["accepts"][0]["extra"]["assetTransferMethod"] = "erc7710".into();
        let header = purse_x402::encode_base64(required.to_string().as_bytes());
        scratch.write(
            "erc7710",
            format!("HTTP/1.1 402 Payment Required\r\nPAYMENT-REQUIRED: {header}\r\n\r\n")
                .as_bytes(),
        )
    };
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (vec!["x402", "sign", &html, "--private-key-file", &key], "not x402"),
        (
            vec!["x402", "sign", &erc7710, "--private-key-file", &key],
            "unsupported asset transfer method \"erc7710\"",
        ),
        (
            vec!["x402", "sign", &response, "--private-key-file", &key, "--accept", "3"],
            "there is no accepts[3]",
        ),
        (vec!["x402", "sign", &response], "--private-key-file"),
        (
            vec!["x402", "sign", &response, "--private-key-file", &bad_key],
            "does not hold a private key",
        ),
        (vec!["x402", "sign", "/nonexistent/402"], "cannot read /nonexistent/402"),
    ];
    for (args, reason) in cases {
        let output = purse(&args, None);
        assert!(!output.status.success(), "{args:?}");
        assert!(stdout(&output).is_empty(), "{args:?}");
        let message = stderr(&output);
        assert_eq!(message.lines().count(), 1, "{message}");
        assert!(message.contains(reason), "{args:?}: {message}");
        assert!(!message.contains("0xnot-a-key"), "a key file's content leaked: {message}");
    }
}

#[test]
fn decode_prints_the_x402_content() {
    let scratch = Scratch::new("decode");
    for name in VECTORS {
        let vector = vector(name);
        let file = scratch.write(name, &curl_si(&vector));
        let output = purse(&["x402", "decode", &file], None);
        assert!(output.status.success(), "{name}: {}", stderr(&output));
        let decoded: Value = serde_json::from_str(&stdout(&output)).unwrap();
        assert_eq!(decoded, vector["response_402"]["payment_required"], "{name}");

        let case = &vector["cases"][vector["cases"].as_array().unwrap().len() - 1];
        if let Some(value) = case["retry_request"]["payment_header_value"].as_str() {
            let output = purse(&["x402", "decode", "-"], Some(value.as_bytes()));
            let decoded: Value = serde_json::from_str(&stdout(&output)).unwrap();
            assert_eq!(decoded, case["retry_request"]["payment_payload"], "{name}");
        }
        let sample = &case["settlement_response_sample"];
        if let Some(value) = sample["header_value"].as_str() {
            let line = format!("{}: {value}", sample["header_name"].as_str().unwrap());
            let output = purse(&["x402", "decode", "-"], Some(line.as_bytes()));
            let decoded: Value = serde_json::from_str(&stdout(&output)).unwrap();
            assert_eq!(decoded, sample["decoded"], "{name}");
        }
    }
}

#[test]
fn decode_says_plainly_when_a_402_is_not_x402() {
    let output = purse(
        &["x402", "decode", "-"],
        Some(b"HTTP/1.1 402 Payment Required\r\n\r\n<html>paywall</html>"),
    );
    assert!(!output.status.success());
    assert!(stdout(&output).is_empty());
    assert!(
        stderr(&output).contains("not x402: this 402 has no PAYMENT-REQUIRED header"),
        "{}",
        stderr(&output)
    );

    let output = purse(
        &["x402", "decode", "-"],
        Some(b"HTTP/1.1 402 Payment Required\r\nPAYMENT-REQUIRED: ???\r\n\r\n"),
    );
    assert!(!output.status.success());
    assert!(
        stderr(&output).contains("PAYMENT-REQUIRED is not standard base64"),
        "{}",
        stderr(&output)
    );
}
