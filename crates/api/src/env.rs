//! `purse env`: the environment that sends command-line tools through Purse.

use std::{fmt::Write as _, net::SocketAddr, path::PathBuf};

use crate::{DataDir, Failure};

/// The trust bundle: the system's roots plus the Purse CA.
pub const BUNDLE_FILE: &str = "ca-bundle.pem";

/// The shells `purse env` prints for (`"bash"`, `"zsh"`, `"fish"`, `"powershell"`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Shell {
    /// bash.
    Bash,
    /// zsh.
    Zsh,
    /// fish.
    Fish,
    /// PowerShell.
    Powershell,
}

/// The lines that send curl, Python and Node through the proxy at `listen` and make them
/// trust the Purse CA (made first if needed), in `shell`'s syntax; writes the trust bundle.
pub fn env_text(place: &DataDir, listen: SocketAddr, shell: Shell) -> Result<String, Failure> {
    let ca = crate::ca::load_or_create(place, purse_proxy::crypto_provider())?;
    let bundle = write_bundle(place, ca.cert_pem())?;
    let proxy = format!("http://{listen}");
    let bundle = bundle.display().to_string();
    let vars: [(&str, &str); 11] = [
        ("HTTP_PROXY", &proxy),
        ("HTTPS_PROXY", &proxy),
        // curl reads only the lowercase http_proxy.
        ("http_proxy", &proxy),
        ("https_proxy", &proxy),
        ("NO_PROXY", "localhost,127.0.0.1,::1"),
        ("SSL_CERT_FILE", &bundle),
        ("NODE_EXTRA_CA_CERTS", &bundle),
        ("REQUESTS_CA_BUNDLE", &bundle),
        ("CURL_CA_BUNDLE", &bundle),
        // Node 24+ (and 22.21+) send fetch and http through HTTP(S)_PROXY with this.
        ("NODE_USE_ENV_PROXY", "1"),
        ("no_proxy", "localhost,127.0.0.1,::1"),
    ];
    let mut out = String::new();
    for (name, value) in vars {
        let _ = match shell {
            Shell::Bash | Shell::Zsh => {
                writeln!(out, "export {name}='{}'", value.replace('\'', r"'\''"))
            }
            Shell::Fish => writeln!(
                out,
                "set -gx {name} '{}';",
                value.replace('\\', r"\\").replace('\'', r"\'")
            ),
            Shell::Powershell => writeln!(out, "$env:{name} = '{}'", value.replace('\'', "''")),
        };
    }
    Ok(out.trim_end().to_owned())
}

/// Writes the system's root certificates and the Purse CA into one PEM bundle.
fn write_bundle(place: &DataDir, ca_pem: &str) -> Result<PathBuf, Failure> {
    let native = rustls_native_certs::load_native_certs();
    let mut bundle = String::new();
    for cert in native.certs {
        let block = pem::Pem::new("CERTIFICATE", cert.to_vec());
        bundle.push_str(&pem::encode_config(
            &block,
            pem::EncodeConfig::new().set_line_ending(pem::LineEnding::LF),
        ));
    }
    bundle.push_str(ca_pem);
    let path = place.path(BUNDLE_FILE);
    std::fs::write(&path, bundle).map_err(Failure::file("write", &path))?;
    Ok(path)
}
