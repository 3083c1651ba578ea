//! Why a verb of the API failed, with a stable code a shell can branch on (the app sends
//! it across IPC as `{code, message}`).

use std::path::PathBuf;

/// Why a verb failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Failure {
    /// The data dir, the profile or `config.toml` is wrong or unreadable.
    #[error("{0}")]
    Settings(String),
    /// A file could not be read or written.
    #[error("cannot {action} {}: {source}", path.display())]
    File {
        /// What was being done: "read", "write", "create".
        action: &'static str,
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// `purse.db` failed.
    #[error(transparent)]
    History(purse_store::Error),
    /// The OS keychain failed.
    #[error(transparent)]
    Keychain(#[from] purse_keys::Error),
    /// A key, mnemonic or keystore was refused.
    #[error(transparent)]
    Account(#[from] purse_keys::AccountError),
    /// The local CA could not be made, read or trusted.
    #[error("{0}")]
    Ca(String),
    /// The proxy could not start.
    #[error(transparent)]
    Proxy(#[from] purse_proxy::StartError),
    /// The wallet could not be opened.
    #[error(transparent)]
    Wallet(#[from] crate::Error),
    /// A JSON-RPC endpoint could not be used.
    #[error(transparent)]
    Chain(#[from] purse_chain::Error),
    /// Something asked for does not exist.
    #[error("{0}")]
    NotFound(String),
    /// An argument is malformed.
    #[error("{0}")]
    Invalid(String),
}

impl From<purse_store::Error> for Failure {
    fn from(e: purse_store::Error) -> Self {
        match e {
            purse_store::Error::NotFound(_) | purse_store::Error::Missing(_) => {
                Self::NotFound(e.to_string())
            }
            // A filter or a value that is not one: the caller's to fix.
            purse_store::Error::Filter(_) => Self::Invalid(e.to_string()),
            e => Self::History(e),
        }
    }
}

impl Failure {
    /// The stable code: `settings`, `file`, `history`, `keychain`, `account`, `ca`, `proxy`,
    /// `wallet`, `chain`, `not-found`, `invalid`.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Settings(_) => "settings",
            Self::File { .. } => "file",
            Self::History(_) => "history",
            Self::Keychain(_) => "keychain",
            Self::Account(_) => "account",
            Self::Ca(_) => "ca",
            Self::Proxy(_) => "proxy",
            Self::Wallet(_) => "wallet",
            Self::Chain(_) => "chain",
            Self::NotFound(_) => "not-found",
            Self::Invalid(_) => "invalid",
        }
    }

    pub(crate) fn file(
        action: &'static str,
        path: &std::path::Path,
    ) -> impl FnOnce(std::io::Error) -> Self {
        let path = path.to_path_buf();
        move |source| Self::File { action, path, source }
    }
}
