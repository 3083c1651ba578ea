//! `purse env`: the environment that sends command-line tools through Purse.

use std::fmt::Write as _;

use anyhow::{Context as _, Result};
use clap::{Args, ValueEnum};

use crate::settings::{Context, Place};

/// The trust bundle: the system's roots plus the Purse CA.
const BUNDLE_FILE: &str = "ca-bundle.pem";

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum Shell {
    Bash,
    Zsh,
    Fish,
    Powershell,
}

#[derive(Debug, Args)]
pub(crate) struct EnvArgs {
    /// The shell to print for.
    #[arg(long, value_enum, default_value = "bash")]
    shell: Shell,
    #[command(flatten)]
    place: Place,
}

impl EnvArgs {
    pub(crate) fn run(self) -> Result<()> {
        let context = self.place.resolve()?;
        let listen = context.config()?.proxy.listen;
        let ca = crate::ca::load_or_create(&context, purse_proxy::crypto_provider())?;
        let bundle = write_bundle(&context, ca.cert_pem())?;
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
            let _ = match self.shell {
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
        crate::print(out.trim_end())
    }
}

/// Writes the system's root certificates and the Purse CA into one PEM bundle.
fn write_bundle(context: &Context, ca_pem: &str) -> Result<std::path::PathBuf> {
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
    let path = context.path(BUNDLE_FILE);
    std::fs::write(&path, bundle).with_context(|| format!("cannot write {}", path.display()))?;
    Ok(path)
}
