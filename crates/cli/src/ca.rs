//! `purse ca`: the local CA (kept by purse-api), exported and trusted by browsers.

use std::path::PathBuf;

use anyhow::{Context as _, Result};
use clap::Subcommand;
use purse_api::ca;

use crate::settings::Place;

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Write the CA certificate (PEM) to standard output or to a file.
    Export {
        /// Where to write it.
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
        #[command(flatten)]
        place: Place,
    },
    /// Trust the CA in the user's NSS databases (Chromium, Firefox on Linux) and print how
    /// to trust it system-wide.
    Install {
        /// Only this NSS database directory (default: ~/.pki/nssdb and every Firefox profile).
        #[arg(long, value_name = "DIR")]
        nssdb: Option<PathBuf>,
        #[command(flatten)]
        place: Place,
    },
    /// Remove the CA from the NSS databases it was added to.
    Uninstall {
        /// Only this NSS database directory.
        #[arg(long, value_name = "DIR")]
        nssdb: Option<PathBuf>,
        #[command(flatten)]
        place: Place,
    },
}

impl Command {
    pub(crate) fn run(self) -> Result<()> {
        match self {
            Self::Export { out, place } => {
                let context = place.resolve()?;
                let ca = ca::load_or_create(&context, purse_proxy::crypto_provider())?;
                match out {
                    Some(path) => std::fs::write(&path, ca.cert_pem())
                        .with_context(|| format!("cannot write {}", path.display())),
                    None => crate::print(ca.cert_pem().trim_end()),
                }
            }
            Self::Install { nssdb, place } => {
                let context = place.resolve()?;
                let name = ca::ca_name(&context.profile);
                for db in ca::install_nss(&context, nssdb)? {
                    eprintln!("trusted {name:?} in {}", db.display());
                }
                crate::print(&format!(
                    "The Purse CA is trusted by Chromium and Firefox for this user.\n{}",
                    ca::system_trust_instructions(&context.path(ca::CERT_FILE))
                ))
            }
            Self::Uninstall { nssdb, place } => {
                let context = place.resolve()?;
                let name = ca::ca_name(&context.profile);
                for db in ca::uninstall_nss(&context, nssdb)? {
                    eprintln!("removed {name:?} from {}", db.display());
                }
                crate::print(&format!(
                    "Removed the Purse CA from this user's NSS databases.\n{}",
                    ca::system_removal_instructions(&name)
                ))
            }
        }
    }
}
