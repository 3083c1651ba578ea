//! The local x402 testbed (`tests/testbed`), started from a test: anvil with USDC and
//! Multicall3, the official x402 facilitator, and the official v2 (`@x402/express`) and v1
//! (`x402-express`) resource servers, each over HTTP and HTTPS, all on 127.0.0.1.
//!
//! Every [`Testbed`] is its own set of processes on ports the processes pick themselves
//! (they listen on port 0 and report the port), so tests can each start one in parallel.
//! Dropping it kills them and removes its temporary directory.
//!
//! The npm packages must be installed in `tests/testbed/node_modules`: `scripts/test` does
//! that (`npm ci`), and [`Testbed::start`] says so when they are missing.
//!
//! Blocking and std-only on purpose (HTTP to the local parts goes over a plain
//! `TcpStream`), so it can be started from any test, async or not.

use std::{
    fs::{self, File},
    io::{Read, Write},
    net::{Ipv4Addr, TcpStream},
    path::{Path, PathBuf},
    process::{Child, ChildStdin, Command, Stdio},
    sync::atomic::{AtomicU32, Ordering},
    time::{Duration, Instant, SystemTime, UNIX_EPOCH},
};

use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, SanType};
use serde_json::{Value, json};

use crate::Error;

/// The chain id: Base Sepolia's, which anvil takes.
pub const CHAIN_ID: u64 = 84532;
/// USDC's address on Base Sepolia, where the testbed places Circle's FiatTokenV2_2.
pub const USDC: &str = "0x036CbD53842c5426634e7929541eC2318f3dCF7e";
/// The payer's private key: anvil's well-known account 1.
pub const PAYER_KEY: &str = "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d";
/// The payer's address (anvil account 1), checksummed.
pub const PAYER: &str = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8";
/// The address the servers are paid to (anvil account 2), checksummed.
pub const PAY_TO: &str = "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC";
/// The payer's USDC at start, in atomic units (6 decimals): 100 USDC.
pub const FUNDED: u128 = 100_000_000;

/// How long each part may take to start (generous: CI machines are slow and tests share them).
const STARTUP: Duration = Duration::from_secs(90);

/// One resource server, with the same routes over both schemes.
#[derive(Debug, Clone)]
pub struct Server {
    /// `http://127.0.0.1:PORT`
    pub http: String,
    /// `https://127.0.0.1:PORT`, with a certificate for 127.0.0.1 and localhost signed by
    /// [`Testbed::ca_pem`].
    pub https: String,
}

/// A running testbed; see the module docs. Routes on both servers (network `eip155:84532`
/// on v2, `base-sepolia` on v1, paid in USDC to [`PAY_TO`]): `GET /free` (free JSON),
/// `GET /weather` ($0.001, JSON), `POST /echo` ($0.001, the request body back under the same
/// content type), `GET /premium` ($0.50), `GET /page` ($0.001, an HTML page).
pub struct Testbed {
    /// anvil's JSON-RPC endpoint, `http://127.0.0.1:PORT`.
    pub rpc_url: String,
    /// The facilitator, `http://127.0.0.1:PORT` (`/supported`, `/verify`, `/settle`).
    pub facilitator_url: String,
    /// The x402 v2 server (`@x402/express` 2.27.0).
    pub v2: Server,
    /// The x402 v1 server (`x402-express` 1.2.0).
    pub v1: Server,
    /// The CA (PEM file) that signed both servers' HTTPS certificate.
    pub ca_pem: PathBuf,
    /// The funded payer's private key, `0x…` hex ([`PAYER_KEY`]).
    pub payer_key: String,
    /// The funded payer's address, checksummed ([`PAYER`]).
    pub payer: String,
    /// The address the servers are paid to ([`PAY_TO`]).
    pub pay_to: String,
    /// The USDC contract ([`USDC`]).
    pub usdc: String,
    /// [`CHAIN_ID`].
    pub chain_id: u64,
    /// The payer's USDC at start, atomic units ([`FUNDED`]).
    pub funded: u128,
    /// The temporary directory with the TLS files and the processes' logs (`*.log`);
    /// removed on drop unless `PURSE_TESTBED_KEEP` is set.
    pub dir: PathBuf,
    root: PathBuf,
    processes: Vec<Process>,
    watchdog: Option<(Child, ChildStdin)>,
}

struct Process {
    name: &'static str,
    child: Child,
    log: PathBuf,
}

/// What a reference payer (`pay-v2.mjs` or `pay-v1.mjs`) got.
#[derive(Debug, Clone)]
pub struct Paid {
    /// The final HTTP status.
    pub status: u16,
    /// The final body.
    pub body: String,
    /// The script's stderr: the decoded settlement header, or what went wrong.
    pub stderr: String,
}

/// The testbed's npm folder, `tests/testbed`.
pub fn testbed_dir() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../testbed");
    dir.canonicalize().unwrap_or(dir)
}

/// Whether `node` runs at all.
pub fn node_available() -> bool {
    Command::new("node")
        .arg("--version")
        .stdin(Stdio::null())
        .output()
        .is_ok_and(|o| o.status.success())
}

const ANVIL: &str = "node_modules/@foundry-rs/anvil-linux-amd64/bin/anvil";

fn check_installed(root: &Path) -> Result<(), Error> {
    if !node_available() {
        return Err("node is not installed: the x402 testbed needs Node.js 20 or newer \
                    (scripts/test installs it)"
            .into());
    }
    for needed in [ANVIL, "node_modules/@x402/express", "node_modules/x402-express"] {
        if !root.join(needed).exists() {
            return Err(format!(
                "the x402 testbed's npm packages are not installed ({} is missing): run \
                 scripts/test, or `npm ci --ignore-scripts --omit=optional` in {}",
                needed,
                root.display()
            )
            .into());
        }
    }
    Ok(())
}

fn temp_dir() -> Result<PathBuf, Error> {
    static COUNT: AtomicU32 = AtomicU32::new(0);
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.subsec_nanos()).unwrap_or(0);
    let dir = std::env::temp_dir().join(format!(
        "purse-testbed-{}-{}-{nanos}",
        std::process::id(),
        COUNT.fetch_add(1, Ordering::Relaxed)
    ));
    fs::create_dir(&dir)?;
    Ok(dir)
}

/// A CA and a certificate for 127.0.0.1 and localhost signed by it, written as PEM files.
/// Returns (CA certificate, server certificate, server key).
fn write_tls(dir: &Path) -> Result<(PathBuf, PathBuf, PathBuf), Error> {
    let ca_key = KeyPair::generate()?;
    let mut ca_params = CertificateParams::default();
    ca_params.distinguished_name.push(DnType::CommonName, "Purse testbed CA");
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca = ca_params.self_signed(&ca_key)?;
    let issuer = Issuer::new(ca_params, ca_key);

    let key = KeyPair::generate()?;
    let mut params = CertificateParams::new(vec!["localhost".to_owned()])?;
    params.distinguished_name.push(DnType::CommonName, "127.0.0.1");
    params.subject_alt_names.push(SanType::IpAddress(Ipv4Addr::LOCALHOST.into()));
    let leaf = params.signed_by(&key, &issuer)?;

    let paths = (dir.join("ca.pem"), dir.join("server.pem"), dir.join("server.key"));
    fs::write(&paths.0, ca.pem())?;
    fs::write(&paths.1, leaf.pem())?;
    fs::write(&paths.2, key.serialize_pem())?;
    Ok(paths)
}

/// Whether to keep the temporary directory (`PURSE_TESTBED_KEEP` is set).
fn keep_dir() -> bool {
    std::env::var_os("PURSE_TESTBED_KEEP").is_some()
}

/// The last `lines` lines of a file, for error messages.
fn tail(path: &Path, lines: usize) -> String {
    let text = fs::read(path).map(|b| String::from_utf8_lossy(&b).into_owned()).unwrap_or_default();
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

/// The ports in a `{prefix}{"http":PORT,"https":PORT}` line of a testbed script.
fn ready_ports(line: &str, prefix: &str) -> Option<(u16, Option<u16>)> {
    let ready: Value = serde_json::from_str(line.strip_prefix(prefix)?).ok()?;
    let port = |key: &str| ready[key].as_u64().and_then(|p| u16::try_from(p).ok());
    Some((port("http")?, port("https")))
}

/// A minimal HTTP/1.0 exchange with a 127.0.0.1 server (HTTP/1.0, so no chunked body);
/// returns the status and the body.
fn http_exchange(url: &str, method: &str, body: Option<&str>) -> Result<(u16, String), Error> {
    let rest = url.strip_prefix("http://").ok_or_else(|| format!("not an http URL: {url}"))?;
    let (authority, path) = rest.find('/').map_or((rest, "/"), |i| (&rest[..i], &rest[i..]));
    let mut stream = TcpStream::connect(authority)?;
    stream.set_read_timeout(Some(Duration::from_secs(60)))?;
    let body = body.unwrap_or_default();
    write!(
        stream,
        "{method} {path} HTTP/1.0\r\nHost: {authority}\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\n\r\n{body}",
        body.len()
    )?;
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer)?;
    let answer = String::from_utf8_lossy(&answer);
    let (head, body) = answer.split_once("\r\n\r\n").ok_or("malformed HTTP answer")?;
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| format!("malformed HTTP status line in {head:?}"))?;
    Ok((status, body.to_owned()))
}

impl Testbed {
    /// Starts a fresh testbed: anvil; then, at the same time, the chain setup (USDC, Multicall3,
    /// [`FUNDED`] USDC to the payer), the facilitator and, once the facilitator listens, the
    /// two servers, which wait for its `/supported` before they listen (the v2 middleware asks
    /// it once, at start). Returns when everything is ready, or an error with the tail of the
    /// failing part's log.
    pub fn start() -> Result<Self, Error> {
        let root = testbed_dir();
        check_installed(&root)?;
        let dir = temp_dir()?;
        let mut bed = Self {
            rpc_url: String::new(),
            facilitator_url: String::new(),
            v2: Server { http: String::new(), https: String::new() },
            v1: Server { http: String::new(), https: String::new() },
            ca_pem: PathBuf::new(),
            payer_key: PAYER_KEY.to_owned(),
            payer: PAYER.to_owned(),
            pay_to: PAY_TO.to_owned(),
            usdc: USDC.to_owned(),
            chain_id: CHAIN_ID,
            funded: FUNDED,
            dir,
            root,
            processes: Vec::new(),
            watchdog: None,
        };
        // From here on, an error drops `bed`, which kills what has started.
        bed.start_watchdog()?;
        let (ca, cert, key) = write_tls(&bed.dir)?;
        bed.ca_pem = ca;

        let mut anvil = Command::new(bed.root.join(ANVIL));
        anvil.args(["--host", "127.0.0.1", "--port", "0", "--chain-id", &CHAIN_ID.to_string()]);
        let anvil = bed.spawn("anvil", anvil)?;
        let port = bed.wait_for_line(anvil, |line| {
            line.trim().strip_prefix("Listening on 127.0.0.1:")?.parse::<u16>().ok()
        })?;
        bed.rpc_url = format!("http://127.0.0.1:{port}");

        // The facilitator listens before it loads the x402 packages, so the servers can load
        // theirs meanwhile: they wait for its /supported themselves.
        let mut facilitator = bed.node("facilitator.mjs");
        facilitator.env("RPC_URL", &bed.rpc_url).env("PORT", "0");
        let facilitator = bed.spawn("facilitator", facilitator)?;
        let mut setup = bed.node("setup-chain.mjs");
        setup.env("RPC_URL", &bed.rpc_url).env("PAYER", PAYER).env("AMOUNT", FUNDED.to_string());
        let setup = bed.spawn("setup-chain", setup)?;
        let port = bed.wait_for_line(facilitator, |line| ready_ports(line, "listening "))?.0;
        bed.facilitator_url = format!("http://127.0.0.1:{port}");

        let mut servers = Vec::new();
        for (name, script) in [("server-v2", "server-v2.mjs"), ("server-v1", "server-v1.mjs")] {
            let mut server = bed.node(script);
            server
                .env("FACILITATOR_URL", &bed.facilitator_url)
                .env("PAY_TO", PAY_TO)
                .env("RPC_URL", &bed.rpc_url)
                .env("PORT", "0")
                .env("HTTPS_PORT", "0")
                .env("TLS_CERT", &cert)
                .env("TLS_KEY", &key);
            servers.push(bed.spawn(name, server)?);
        }
        bed.wait_ready(facilitator)?;
        let (status, body) =
            http_exchange(&format!("{}/supported", bed.facilitator_url), "GET", None)?;
        if status != 200 {
            return Err(format!("the facilitator's /supported answered {status}: {body}").into());
        }
        bed.wait_exit_ok(setup)?;
        let mut ready = Vec::new();
        for server in servers {
            let (http, https) = bed.wait_ready(server)?;
            let https = https.ok_or("a server did not report its HTTPS port")?;
            ready.push(Server {
                http: format!("http://127.0.0.1:{http}"),
                https: format!("https://127.0.0.1:{https}"),
            });
        }
        bed.v1 = ready.pop().ok_or("no v1 server")?;
        bed.v2 = ready.pop().ok_or("no v2 server")?;
        Ok(bed)
    }

    /// A `sh` that kills every PID written to its stdin, and removes the temporary directory,
    /// once that stdin closes: when this process dies without running `Drop` (SIGKILL,
    /// abort), nothing is left behind.
    fn start_watchdog(&mut self) -> Result<(), Error> {
        let dir = if keep_dir() { PathBuf::new() } else { self.dir.clone() };
        let mut child = Command::new("sh")
            .args([
                "-c",
                "pids=; while read -r p; do pids=\"$pids $p\"; done; \
                 [ -n \"$pids\" ] && kill -9 $pids 2>/dev/null; \
                 [ -n \"$1\" ] && rm -rf -- \"$1\"; exit 0",
                "watchdog",
            ])
            .arg(dir)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()?;
        let stdin = child.stdin.take().ok_or("no stdin for the watchdog")?;
        self.watchdog = Some((child, stdin));
        Ok(())
    }

    fn node(&self, script: &str) -> Command {
        let mut command = Command::new("node");
        command.arg(self.root.join(script)).current_dir(&self.root);
        command
    }

    /// Starts a process with stdout and stderr to `{dir}/{name}.log`; returns its index.
    fn spawn(&mut self, name: &'static str, mut command: Command) -> Result<usize, Error> {
        let log = self.dir.join(format!("{name}.log"));
        let out = File::create(&log)?;
        let err = out.try_clone()?;
        let child = command
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
            .map_err(|e| format!("could not start {name}: {e}"))?;
        if let Some((_, stdin)) = &mut self.watchdog {
            writeln!(stdin, "{}", child.id())?;
        }
        self.processes.push(Process { name, child, log });
        Ok(self.processes.len() - 1)
    }

    fn failure(&self, index: usize, what: &str) -> Error {
        let process = &self.processes[index];
        format!(
            "testbed: {} {what}; the end of its log ({}):\n{}",
            process.name,
            process.log.display(),
            tail(&process.log, 40)
        )
        .into()
    }

    /// Polls the process's log until `find` recognizes a line, the process exits, or
    /// [`STARTUP`] passes.
    fn wait_for_line<T>(
        &mut self,
        index: usize,
        find: impl Fn(&str) -> Option<T>,
    ) -> Result<T, Error> {
        let deadline = Instant::now() + STARTUP;
        loop {
            let text = fs::read(&self.processes[index].log)?;
            if let Some(found) = String::from_utf8_lossy(&text).lines().find_map(&find) {
                return Ok(found);
            }
            if let Some(status) = self.processes[index].child.try_wait()? {
                return Err(self.failure(index, &format!("exited ({status}) before it was ready")));
            }
            if Instant::now() > deadline {
                return Err(
                    self.failure(index, &format!("was not ready within {} s", STARTUP.as_secs()))
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Waits for the `ready {"http":PORT,"https":PORT}` line of a testbed script.
    fn wait_ready(&mut self, index: usize) -> Result<(u16, Option<u16>), Error> {
        self.wait_for_line(index, |line| ready_ports(line, "ready "))
    }

    /// Waits for a one-shot process to exit successfully.
    fn wait_exit_ok(&mut self, index: usize) -> Result<(), Error> {
        let deadline = Instant::now() + STARTUP;
        loop {
            if let Some(status) = self.processes[index].child.try_wait()? {
                if status.success() {
                    return Ok(());
                }
                return Err(self.failure(index, &format!("failed ({status})")));
            }
            if Instant::now() > deadline {
                return Err(
                    self.failure(index, &format!("did not finish within {} s", STARTUP.as_secs()))
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// One JSON-RPC call to anvil; returns `result`, or an error with anvil's `error`.
    pub fn rpc(&self, method: &str, params: Value) -> Result<Value, Error> {
        let request = json!({ "jsonrpc": "2.0", "id": 1, "method": method, "params": params });
        let (status, body) = http_exchange(&self.rpc_url, "POST", Some(&request.to_string()))?;
        let mut answer: Value = serde_json::from_str(&body)
            .map_err(|e| format!("anvil answered {status} with no JSON ({e}): {body}"))?;
        if let Some(error) = answer.get("error") {
            return Err(format!("{method} failed: {error}").into());
        }
        Ok(answer["result"].take())
    }

    /// `address`'s USDC balance in atomic units (6 decimals).
    pub fn usdc_balance(&self, address: &str) -> Result<u128, Error> {
        let hex = address.strip_prefix("0x").unwrap_or(address);
        if hex.len() != 40 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(format!("not an address: {address}").into());
        }
        // balanceOf(address)
        let data = format!("0x70a08231{:0>64}", hex.to_ascii_lowercase());
        let result = self.rpc("eth_call", json!([{ "to": USDC, "data": data }, "latest"]))?;
        let word = result.as_str().ok_or_else(|| format!("eth_call returned {result}"))?;
        let digits = word.trim_start_matches("0x").trim_start_matches('0');
        if digits.is_empty() {
            return Ok(0);
        }
        Ok(u128::from_str_radix(digits, 16).map_err(|e| format!("balance {word}: {e}"))?)
    }

    /// Pays `url` with the official v2 client (`@x402/fetch`, `pay-v2.mjs`) from the payer.
    pub fn pay_v2(&self, url: &str) -> Result<Paid, Error> {
        self.pay("pay-v2.mjs", url)
    }

    /// Pays `url` with the official client's v1 scheme (`pay-v1.mjs`) from the payer.
    pub fn pay_v1(&self, url: &str) -> Result<Paid, Error> {
        self.pay("pay-v1.mjs", url)
    }

    fn pay(&self, script: &str, url: &str) -> Result<Paid, Error> {
        let output = self
            .node(script)
            .arg(url)
            .env("PAYER_KEY", &self.payer_key)
            .env("NODE_EXTRA_CA_CERTS", &self.ca_pem)
            .stdin(Stdio::null())
            .output()?;
        let stdout = String::from_utf8_lossy(&output.stdout);
        let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
        let (status, body) = stdout.split_once('\n').unwrap_or((&stdout, ""));
        match status.trim().parse() {
            Ok(status) if output.status.success() => {
                Ok(Paid { status, body: body.to_owned(), stderr })
            }
            _ => {
                Err(format!("{script} {url} failed ({}): {stdout}\n{stderr}", output.status).into())
            }
        }
    }

    /// The end of every process's log, for a failing test's message.
    pub fn logs(&self) -> String {
        self.processes
            .iter()
            .map(|p| format!("--- {} ---\n{}\n", p.name, tail(&p.log, 30)))
            .collect()
    }
}

impl Drop for Testbed {
    fn drop(&mut self) {
        // The watchdog goes first, so it never signals a PID after it was reused.
        if let Some((mut child, stdin)) = self.watchdog.take() {
            let _ = child.kill();
            drop(stdin);
            let _ = child.wait();
        }
        for process in &mut self.processes {
            let _ = process.child.kill();
            let _ = process.child.wait();
        }
        if keep_dir() {
            eprintln!("testbed: kept {}", self.dir.display());
        } else {
            let _ = fs::remove_dir_all(&self.dir);
        }
    }
}
