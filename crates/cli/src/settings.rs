//! Where Purse keeps things (data dir, profile); `config.toml` is read by purse-api.

use std::path::PathBuf;

use anyhow::Result;
use clap::Args;

/// Options every verb that touches the data dir or the keychain takes.
#[derive(Debug, Clone, Args)]
pub(crate) struct Place {
    /// The data dir: config.toml, purse.db, the CA certificate. Default: the OS data dir
    /// + purse (~/.local/share/purse on Linux).
    #[arg(long, global = true, env = "PURSE_DATA_DIR", value_name = "DIR")]
    data_dir: Option<PathBuf>,
    /// The profile that namespaces keychain entries, so that tests and development builds
    /// never touch a user's real ones.
    #[arg(
        long,
        global = true,
        env = "PURSE_PROFILE",
        default_value = "default",
        value_name = "NAME"
    )]
    profile: String,
}

/// The data dir and profile in force.
pub(crate) type Context = purse_api::DataDir;

impl Place {
    /// Resolves the data dir (`--data-dir`, else `PURSE_DATA_DIR`, else the OS data dir)
    /// and creates it (mode 0700 on Unix).
    pub(crate) fn resolve(&self) -> Result<Context> {
        Ok(purse_api::DataDir::resolve(self.data_dir.clone(), &self.profile)?)
    }
}
