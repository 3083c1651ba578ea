//! `purse account`: payer accounts, their keys in the OS keychain.

use std::{
    io::{BufRead as _, IsTerminal as _, Write as _},
    path::{Path, PathBuf},
};

use anyhow::{Context as _, Result, bail};
use clap::{Args, Subcommand};
use purse_api::{
    Failure,
    accounts::{Accounts, Keep},
};
use purse_keys::Secret;
use purse_store::KeyStorage;

use crate::settings::Place;

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Make a new account from a fresh 12-word BIP-39 mnemonic, shown once for backup.
    New {
        /// A name for it.
        #[arg(long)]
        label: Option<String>,
        /// Do not show the mnemonic (the key is still stored).
        #[arg(long)]
        quiet: bool,
        #[command(flatten)]
        keystore: KeystoreArgs,
        #[command(flatten)]
        place: Place,
    },
    /// Import an account from a private key, a mnemonic or an encrypted keystore.
    Import {
        /// A file holding a 0x-prefixed hex private key.
        #[arg(
            long,
            value_name = "F",
            conflicts_with_all = ["mnemonic_file", "from_keystore"],
            required_unless_present_any = ["mnemonic_file", "from_keystore"]
        )]
        private_key_file: Option<PathBuf>,
        /// A file holding a BIP-39 mnemonic (English).
        #[arg(long, value_name = "F", conflicts_with = "from_keystore")]
        mnemonic_file: Option<PathBuf>,
        /// An encrypted JSON keystore (v3) holding the key, as `purse account export` and
        /// other wallets write it.
        #[arg(long, value_name = "FILE")]
        from_keystore: Option<PathBuf>,
        /// Read that keystore's password from this file instead of asking.
        #[arg(long, value_name = "F", requires = "from_keystore")]
        from_password_file: Option<PathBuf>,
        /// Which account of the mnemonic: m/44'/60'/0'/0/N.
        #[arg(long, value_name = "N", default_value_t = 0, requires = "mnemonic_file")]
        index: u32,
        /// A name for it.
        #[arg(long)]
        label: Option<String>,
        #[command(flatten)]
        keystore: KeystoreArgs,
        #[command(flatten)]
        place: Place,
    },
    /// List the accounts (addresses and labels; never keys).
    List {
        /// Print JSON.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        place: Place,
    },
    /// Forget an account and delete its key from the keychain. Asks first: a key that is
    /// not backed up cannot be recovered.
    Remove {
        /// The account's address.
        address: String,
        /// Do not ask (for scripts).
        #[arg(long)]
        yes: bool,
        #[command(flatten)]
        place: Place,
    },
    /// Make an account the one payments use.
    Default {
        /// The account's address.
        address: String,
        #[command(flatten)]
        place: Place,
    },
    /// Write an account's key to an encrypted JSON keystore (v3).
    Export {
        /// The account's address.
        address: String,
        /// The keystore file to write (never overwritten).
        #[arg(long, value_name = "FILE")]
        keystore: PathBuf,
        /// Read the new keystore's password from this file instead of asking (and the
        /// account's own keystore password too, unless --from-password-file gives it).
        #[arg(long, value_name = "F")]
        password_file: Option<PathBuf>,
        /// For an account kept in a keystore file: read that file's password from here.
        #[arg(long, value_name = "F")]
        from_password_file: Option<PathBuf>,
        #[command(flatten)]
        place: Place,
    },
}

/// On a host without a keychain: keep the key in an encrypted keystore file instead.
#[derive(Debug, Clone, Args)]
pub(crate) struct KeystoreArgs {
    /// Keep the key in this encrypted JSON keystore instead of the OS keychain (for hosts
    /// without one).
    #[arg(long, value_name = "FILE")]
    keystore: Option<PathBuf>,
    /// Read the keystore's password from this file instead of asking.
    #[arg(long, value_name = "F", requires = "keystore")]
    password_file: Option<PathBuf>,
}

pub(crate) fn read_secret(path: &Path, what: &str) -> Result<Secret> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read the {what} file {}", path.display()))?;
    Ok(Secret::new(text.trim().to_owned()))
}

/// A password from `file` (the option `flag` names), or asked on the terminal as `prompt`
/// (twice when `confirm`, for a new one).
fn password(file: Option<&Path>, flag: &str, prompt: &str, confirm: bool) -> Result<Secret> {
    if let Some(path) = file {
        return read_secret(path, "password");
    }
    if !std::io::stdin().is_terminal() {
        bail!("no terminal to ask for a password: pass {flag} F");
    }
    let first = Secret::new(rpassword::prompt_password(format!("{prompt}: "))?);
    if confirm && first != Secret::new(rpassword::prompt_password("Again: ")?) {
        bail!("the passwords differ");
    }
    if first.expose().is_empty() {
        bail!("an empty password would leave the key unprotected");
    }
    Ok(first)
}

impl KeystoreArgs {
    /// Keeps `signer`'s key in the keystore asked for (asking its password), else the
    /// keychain; returns the account's address.
    fn add(
        &self,
        accounts: &Accounts,
        signer: &alloy::signers::local::PrivateKeySigner,
        label: Option<&str>,
    ) -> Result<String> {
        let added = match &self.keystore {
            Some(path) => {
                let password = password(
                    self.password_file.as_deref(),
                    "--password-file",
                    "New keystore password",
                    true,
                )?;
                accounts.add(signer, label, Keep::Keystore { path, password: &password })
            }
            None => accounts.add(signer, label, Keep::Keychain),
        };
        added.map_err(|e| match e {
            Failure::Keychain(_) => anyhow::anyhow!(
                "{e}. On a host without a keychain, keep the key in an encrypted file with --keystore FILE"
            ),
            e => e.into(),
        })
    }
}

fn confirm(question: &str) -> Result<bool> {
    if !std::io::stdin().is_terminal() {
        bail!("{question} needs a yes: pass --yes to confirm without a terminal");
    }
    eprint!("{question} [y/N] ");
    std::io::stderr().flush()?;
    let mut answer = String::new();
    std::io::stdin().lock().read_line(&mut answer)?;
    Ok(matches!(answer.trim(), "y" | "Y" | "yes"))
}

impl Command {
    pub(crate) fn run(self) -> Result<()> {
        match self {
            Self::New { label, quiet, keystore, place } => {
                let accounts = Accounts::open(&place.resolve()?)?;
                let made = purse_keys::generate()?;
                let address = keystore.add(&accounts, &made.signer, label.as_deref())?;
                if !quiet {
                    eprintln!(
                        "Write these 12 words down and keep them safe: they restore this account, and they are not shown again."
                    );
                    crate::print(made.mnemonic.expose())?;
                }
                crate::print(&address)
            }
            Self::Import {
                private_key_file,
                mnemonic_file,
                from_keystore,
                from_password_file,
                index,
                label,
                keystore,
                place,
            } => {
                let accounts = Accounts::open(&place.resolve()?)?;
                let signer = match (private_key_file, mnemonic_file, from_keystore) {
                    (Some(path), _, _) => {
                        purse_keys::from_private_key(&read_secret(&path, "private key")?)
                            .with_context(|| {
                                format!("{} does not hold a private key", path.display())
                            })?
                    }
                    (None, Some(path), _) => {
                        purse_keys::from_mnemonic(&read_secret(&path, "mnemonic")?, index)
                            .with_context(|| {
                                format!("{} does not hold a mnemonic", path.display())
                            })?
                    }
                    (None, None, Some(path)) => {
                        let prompt = format!("Password of {}", path.display());
                        let secret = password(
                            from_password_file.as_deref(),
                            "--from-password-file",
                            &prompt,
                            false,
                        )?;
                        purse_keys::read_keystore(&path, &secret)?
                    }
                    (None, None, None) => bail!(
                        "pass --private-key-file F, --mnemonic-file F or --from-keystore FILE"
                    ),
                };
                crate::print(&keystore.add(&accounts, &signer, label.as_deref())?)
            }
            Self::List { json, place } => {
                let list = Accounts::open(&place.resolve()?)?.list()?;
                if json {
                    return crate::print(&serde_json::to_string_pretty(&list)?);
                }
                if list.is_empty() {
                    eprintln!("no accounts yet: `purse account new` or `purse account import`");
                    return Ok(());
                }
                let lines: Vec<String> = list
                    .iter()
                    .map(|a| {
                        let storage = match &a.storage {
                            KeyStorage::Keychain => "keychain".to_owned(),
                            KeyStorage::Keystore(path) => format!("keystore {path}"),
                        };
                        format!(
                            "{} {}  {:<16}  {storage}",
                            if a.is_default { "*" } else { " " },
                            a.address,
                            a.label.as_deref().unwrap_or("")
                        )
                    })
                    .collect();
                crate::print(&lines.join("\n"))
            }
            Self::Remove { address, yes, place } => {
                let accounts = Accounts::open(&place.resolve()?)?;
                let account = accounts.account(&address)?;
                if !yes
                    && !confirm(&format!(
                        "Remove {} and delete its key? Funds it holds are lost unless its key or words are backed up.",
                        account.address
                    ))?
                {
                    bail!("kept {}", account.address);
                }
                let removed = accounts.remove(&account.address)?;
                eprintln!("removed {}", removed.address);
                Ok(())
            }
            Self::Default { address, place } => {
                let accounts = Accounts::open(&place.resolve()?)?;
                accounts.set_default(&address)?;
                eprintln!(
                    "payments now use {}",
                    accounts.default_account()?.map(|a| a.address).unwrap_or(address)
                );
                Ok(())
            }
            Self::Export { address, keystore, password_file, from_password_file, place } => {
                let accounts = Accounts::open(&place.resolve()?)?;
                let account = accounts.account(&address)?;
                // Told before any password is asked.
                purse_keys::ensure_unused(&keystore)?;
                // A key kept in a keystore file is opened with that file's password.
                let source = match &account.storage {
                    KeyStorage::Keychain if from_password_file.is_some() => bail!(
                        "{} keeps its key in the keychain: --from-password-file is for an account kept in a keystore file",
                        account.address
                    ),
                    KeyStorage::Keychain => None,
                    KeyStorage::Keystore(file) => {
                        let prompt = format!("Password of {file}");
                        let (from, flag) = match &from_password_file {
                            Some(given) => (Some(given.as_path()), "--from-password-file"),
                            None => (password_file.as_deref(), "--password-file"),
                        };
                        Some(password(from, flag, &prompt, false)?)
                    }
                };
                // Opened now: a wrong password (or a keychain that cannot give the key) is
                // told before a new password is asked twice.
                let signer = accounts.unlock(&account, source.as_ref())?;
                let password = password(
                    password_file.as_deref(),
                    "--password-file",
                    "New keystore password",
                    true,
                )?;
                purse_api::accounts::write_keystore(&keystore, &signer, &password)?;
                eprintln!("wrote {} (encrypted)", keystore.display());
                Ok(())
            }
        }
    }
}
