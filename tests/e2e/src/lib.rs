//! Helpers for Purse's end-to-end tests: a WebDriver session on the real app through
//! `tauri-driver` and WebKitGTK's `WebKitWebDriver`.
//!
//! These tests need a display (Xvfb), `tauri-driver` and `WebKitWebDriver`; `scripts/test`
//! installs and starts all three and runs them. Each helper fails with a message that says
//! what is missing rather than skipping.
//!
//! [`testbed`] starts the local x402 testbed (anvil, USDC, the official facilitator and
//! servers) for payment tests.

pub mod testbed;

use std::{
    net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream},
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use serde_json::{Value, json};

/// Makes the page paint for about a second: a 1-pixel dot at 1% opacity in the bottom-right
/// corner changes colour each frame, then goes.
const REPAINT: &str = "const dot = document.createElement('div');
dot.style.cssText = 'position:fixed;right:0;bottom:0;width:1px;height:1px;opacity:0.01;pointer-events:none';
document.body.appendChild(dot);
let frame = 0;
const tick = () => {
  dot.style.background = frame % 2 ? '#000' : '#fff';
  if (++frame < 60) requestAnimationFrame(tick); else dot.remove();
};
requestAnimationFrame(tick);";

/// A boxed error with a message fit for a failing test.
pub type Error = Box<dyn std::error::Error + Send + Sync>;

/// A blocking HTTP client builder. reqwest carries rustls without a crypto provider in this
/// workspace (purse-chain hands it one); plain HTTP still needs one in place.
pub fn http_client() -> reqwest::blocking::ClientBuilder {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::blocking::Client::builder()
}

/// The directory that holds the workspace's built binaries (`target/debug`).
pub fn bin_dir() -> Result<PathBuf, Error> {
    // Test executables live in target/<profile>/deps.
    let exe = std::env::current_exe()?;
    let deps = exe.parent().ok_or("test executable has no parent directory")?;
    Ok(deps.parent().ok_or("test executable is not under target/<profile>/deps")?.to_path_buf())
}

/// Where tests leave screenshots and logs: `$PURSE_ARTIFACTS`, else `target/artifacts`.
pub fn artifacts_dir() -> Result<PathBuf, Error> {
    let dir = match std::env::var_os("PURSE_ARTIFACTS") {
        Some(dir) => PathBuf::from(dir),
        None => bin_dir()?.parent().ok_or("no target directory")?.join("artifacts"),
    };
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}

/// The built desktop app; fails when `cargo build -p purse-app` has not run.
pub fn app_binary() -> Result<PathBuf, Error> {
    let path = bin_dir()?.join("purse-app");
    if !path.exists() {
        return Err(
            format!("{} is missing: run `cargo build -p purse-app` first", path.display()).into()
        );
    }
    Ok(path)
}

fn find_program(name: &str) -> Result<PathBuf, Error> {
    let mut dirs: Vec<PathBuf> =
        std::env::var_os("PATH").map(|p| std::env::split_paths(&p).collect()).unwrap_or_default();
    if let Some(home) = std::env::var_os("HOME") {
        dirs.push(Path::new(&home).join(".cargo/bin"));
    }
    dirs.into_iter()
        .map(|d| d.join(name))
        .find(|p| p.is_file())
        .ok_or_else(|| format!("{name} is not installed (scripts/test installs it)").into())
}

fn free_port() -> Result<u16, Error> {
    Ok(TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?.local_addr()?.port())
}

/// The top-level windows titled `title`, read from `_NET_WM_NAME` (UTF-8: `WM_NAME` holds
/// Latin-1 or compound text, in which "—" is not its UTF-8 bytes).
fn windows_titled(
    conn: &impl x11rb::connection::Connection,
    screen: usize,
    title: &str,
) -> Result<Vec<x11rb::protocol::xproto::Window>, Error> {
    use x11rb::protocol::xproto::{AtomEnum, ConnectionExt as _};
    let root = conn.setup().roots.get(screen).ok_or("no X screen")?.root;
    let name = conn.intern_atom(false, b"_NET_WM_NAME")?.reply()?.atom;
    let mut titled = Vec::new();
    for window in conn.query_tree(root)?.reply()?.children {
        if conn.get_property(false, window, name, AtomEnum::ANY, 0, 256)?.reply()?.value
            == title.as_bytes()
        {
            titled.push(window);
        }
    }
    Ok(titled)
}

/// Asks the top-level window titled `title` to close, as a window manager's close button
/// does (a `WM_DELETE_WINDOW` message); Xvfb runs no window manager to do it. Whether such
/// a window was found.
pub fn close_window_titled(title: &str) -> Result<bool, Error> {
    use x11rb::protocol::xproto::{ClientMessageEvent, ConnectionExt as _, EventMask};
    let (conn, screen) = x11rb::connect(None)?;
    let Some(&window) = windows_titled(&conn, screen, title)?.first() else { return Ok(false) };
    let atom =
        |name: &[u8]| -> Result<u32, Error> { Ok(conn.intern_atom(false, name)?.reply()?.atom) };
    let (protocols, delete) = (atom(b"WM_PROTOCOLS")?, atom(b"WM_DELETE_WINDOW")?);
    let message =
        ClientMessageEvent::new(32, window, protocols, [delete, x11rb::CURRENT_TIME, 0, 0, 0]);
    conn.send_event(false, window, EventMask::NO_EVENT, message)?;
    // A round trip before the connection closes, as Xlib's XCloseDisplay makes. The server
    // drops what it has not read from a client that has hung up, and without it about one
    // message in three never reached the app.
    conn.get_input_focus()?.reply()?;
    Ok(true)
}

/// Whether a top-level window titled `title` is on screen with something drawn in it (more
/// than a few colours: a page that did not load is one). Reads the window's pixels from X.
pub fn window_painted(title: &str) -> Result<bool, Error> {
    use x11rb::protocol::xproto::{ConnectionExt as _, ImageFormat, MapState};
    let (conn, screen) = x11rb::connect(None)?;
    for window in windows_titled(&conn, screen, title)? {
        if conn.get_window_attributes(window)?.reply()?.map_state != MapState::VIEWABLE {
            continue;
        }
        let size = conn.get_geometry(window)?.reply()?;
        let image = conn
            .get_image(ImageFormat::Z_PIXMAP, window, 0, 0, size.width, size.height, !0)?
            .reply()?;
        let colours: std::collections::HashSet<&[u8]> = image.data.chunks(4).collect();
        if colours.len() > 8 {
            return Ok(true);
        }
    }
    Ok(false)
}

/// The WebKit network processes of the app running with keychain profile `profile`: the
/// children, running `WebKitNetworkProcess`, of a `purse-app` whose `PURSE_PROFILE` it is.
pub fn network_processes(profile: &str) -> Vec<u32> {
    let wanted = format!("PURSE_PROFILE={profile}");
    let processes: Vec<(u32, u32, String)> = std::fs::read_dir("/proc")
        .into_iter()
        .flatten()
        .filter_map(|entry| {
            let dir = entry.ok()?.path();
            let pid = dir.file_name()?.to_str()?.parse().ok()?;
            let stat = std::fs::read_to_string(dir.join("stat")).ok()?;
            let parent = stat.rsplit_once(')')?.1.split_whitespace().nth(1)?.parse().ok()?;
            let exe = std::fs::read_link(dir.join("exe")).ok()?;
            Some((pid, parent, exe.file_name()?.to_string_lossy().into_owned()))
        })
        .collect();
    let apps: Vec<u32> = processes
        .iter()
        .filter(|(pid, _, exe)| {
            exe == "purse-app"
                && std::fs::read(format!("/proc/{pid}/environ"))
                    .is_ok_and(|env| env.split(|b| *b == 0).any(|var| var == wanted.as_bytes()))
        })
        .map(|(pid, _, _)| *pid)
        .collect();
    processes
        .iter()
        .filter(|(_, parent, exe)| apps.contains(parent) && exe == "WebKitNetworkProcess")
        .map(|(pid, _, _)| *pid)
        .collect()
}

/// A data dir and keychain profile of a test's own, never the user's; on drop, the
/// profile's keys and the directory go.
pub struct Place {
    /// The data dir.
    pub dir: PathBuf,
    /// The keychain profile (`PURSE_PROFILE`).
    pub profile: String,
}

impl Place {
    /// A fresh, empty place named for the test (`name`) and this process.
    pub fn new(name: &str) -> std::io::Result<Self> {
        let id = std::process::id();
        let dir = std::env::temp_dir().join(format!("purse-e2e-{name}-{id}"));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir)?;
        Ok(Self { dir, profile: format!("e2e-{name}-{id}") })
    }

    /// Runs the `purse` command on this place.
    pub fn purse(&self, args: &[&str]) -> std::io::Result<std::process::Output> {
        Command::new(bin_dir().map_err(std::io::Error::other)?.join("purse"))
            .args(args)
            .env("PURSE_DATA_DIR", &self.dir)
            .env("PURSE_PROFILE", &self.profile)
            .stdin(Stdio::null())
            .output()
    }
}

impl Drop for Place {
    fn drop(&mut self) {
        let listed = self.purse(&["account", "list", "--json"]).map(|o| o.stdout);
        if let Ok(Ok(Value::Array(accounts))) = listed.map(|l| serde_json::from_slice(&l)) {
            for account in accounts {
                if let Some(address) = account["address"].as_str() {
                    let _ = self.purse(&["account", "remove", address, "--yes"]);
                }
            }
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A running `tauri-driver`, killed on drop.
pub struct Driver {
    child: Child,
    base: String,
}

impl Driver {
    /// Starts `tauri-driver` on free loopback ports, in front of `WebKitWebDriver`.
    pub fn start() -> Result<Self, Error> {
        Self::start_with_env(&[])
    }

    /// [`Driver::start`], with environment variables for the driver and so for the app it
    /// launches (`PURSE_PROFILE`, `PURSE_LISTEN`, …).
    pub fn start_with_env(env: &[(&str, &str)]) -> Result<Self, Error> {
        if std::env::var_os("DISPLAY").is_none() && std::env::var_os("WAYLAND_DISPLAY").is_none() {
            return Err("no display: run under Xvfb (scripts/test does)".into());
        }
        let tauri_driver = find_program("tauri-driver")?;
        let native = find_program("WebKitWebDriver")?;
        let (port, native_port) = (free_port()?, free_port()?);
        let child = Command::new(tauri_driver)
            .args(["--port", &port.to_string(), "--native-port", &native_port.to_string()])
            .arg("--native-driver")
            .arg(native)
            .envs(env.iter().copied())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()?;
        let driver = Self { child, base: format!("http://127.0.0.1:{port}") };
        let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
        let deadline = Instant::now() + Duration::from_secs(20);
        while TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_err() {
            if Instant::now() > deadline {
                return Err("tauri-driver did not start listening within 20 s".into());
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        Ok(driver)
    }

    /// Opens a session on `application`, which tauri-driver launches.
    pub fn session(&self, application: &Path, args: &[&str]) -> Result<Session, Error> {
        let client = http_client().no_proxy().timeout(Duration::from_secs(60)).build()?;
        let capabilities = json!({
            "capabilities": { "alwaysMatch": {
                "browserName": "wry",
                "tauri:options": { "application": application, "args": args },
            }}
        });
        let answer: Value =
            client.post(format!("{}/session", self.base)).json(&capabilities).send()?.json()?;
        let id = answer["value"]["sessionId"]
            .as_str()
            .ok_or_else(|| format!("WebDriver refused the session: {answer}"))?
            .to_owned();
        Ok(Session { client, url: format!("{}/session/{id}", self.base) })
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A WebDriver session on the app; closes the app on drop.
pub struct Session {
    client: reqwest::blocking::Client,
    url: String,
}

impl Session {
    fn value(&self, answer: reqwest::blocking::Response) -> Result<Value, Error> {
        let status = answer.status();
        let body: Value = answer.json()?;
        if !status.is_success() {
            return Err(format!("WebDriver error {status}: {body}").into());
        }
        Ok(body["value"].clone())
    }

    /// GET `{session}/{path}`.
    pub fn get(&self, path: &str) -> Result<Value, Error> {
        self.value(self.client.get(format!("{}/{path}", self.url)).send()?)
    }

    /// POST `body` to `{session}/{path}`.
    pub fn post(&self, path: &str, body: &Value) -> Result<Value, Error> {
        self.value(self.client.post(format!("{}/{path}", self.url)).json(body).send()?)
    }

    /// Runs `script` in the current window's page with `args`; what it returns.
    pub fn execute(&self, script: &str, args: Value) -> Result<Value, Error> {
        self.post("execute/sync", &json!({ "script": script, "args": args }))
    }

    /// The current window's title.
    pub fn title(&self) -> Result<String, Error> {
        Ok(self.get("title")?.as_str().unwrap_or_default().to_owned())
    }

    /// The visible text of the first element matching a CSS selector.
    pub fn text(&self, css: &str) -> Result<String, Error> {
        let element = self.post("element", &json!({ "using": "css selector", "value": css }))?;
        let id = element
            .as_object()
            .and_then(|o| o.values().next())
            .and_then(Value::as_str)
            .ok_or_else(|| format!("no element matches {css}"))?;
        Ok(self.get(&format!("element/{id}/text"))?.as_str().unwrap_or_default().to_owned())
    }

    /// The WebDriver id of the first element matching a CSS selector.
    pub fn element(&self, css: &str) -> Result<String, Error> {
        let element = self.post("element", &json!({ "using": "css selector", "value": css }))?;
        Ok(element
            .as_object()
            .and_then(|o| o.values().next())
            .and_then(Value::as_str)
            .ok_or_else(|| format!("no element matches {css}"))?
            .to_owned())
    }

    /// Clicks the first element matching a CSS selector.
    pub fn click(&self, css: &str) -> Result<(), Error> {
        let id = self.element(css)?;
        self.post(&format!("element/{id}/click"), &json!({}))?;
        Ok(())
    }

    /// Replaces the value of the first input matching a CSS selector, as typing would
    /// (an `input` event follows).
    pub fn fill(&self, css: &str, text: &str) -> Result<(), Error> {
        let script = "const e = document.querySelector(arguments[0]); \
                      e.value = arguments[1]; \
                      e.dispatchEvent(new Event('input', { bubbles: true })); \
                      return e.value;";
        let set = self.execute(script, json!([css, text]))?;
        if set.as_str() != Some(text) {
            return Err(format!("could not fill {css}: {set}").into());
        }
        Ok(())
    }

    /// The handles of the app's windows, as WebDriver sees them.
    pub fn window_handles(&self) -> Result<Vec<String>, Error> {
        Ok(self
            .get("window/handles")?
            .as_array()
            .map(|a| a.iter().filter_map(Value::as_str).map(str::to_owned).collect())
            .unwrap_or_default())
    }

    /// Makes the window with `handle` the one commands go to.
    pub fn switch_to_window(&self, handle: &str) -> Result<(), Error> {
        self.post("window", &json!({ "handle": handle }))?;
        Ok(())
    }

    /// Saves a PNG screenshot of the current window.
    ///
    /// WebKitWebDriver takes it after the page's next paint, and a page drawn without GPU
    /// compositing (as the app draws) that has nothing to change never paints again: the
    /// page is first made to paint a few frames, in a pixel nobody sees.
    pub fn screenshot(&self, path: &Path) -> Result<(), Error> {
        use base64::Engine as _;
        self.execute(REPAINT, json!([]))?;
        let data = self.get("screenshot")?;
        let png = base64::engine::general_purpose::STANDARD
            .decode(data.as_str().ok_or("no screenshot data")?)?;
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        std::fs::write(path, png)?;
        Ok(())
    }

    /// Polls `probe` until it returns `Some`, for up to `timeout`.
    pub fn wait_for<T>(
        &self,
        timeout: Duration,
        mut probe: impl FnMut(&Self) -> Option<T>,
    ) -> Option<T> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(found) = probe(self) {
                return Some(found);
            }
            if Instant::now() > deadline {
                return None;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        let _ = self.client.delete(&self.url).send();
    }
}
