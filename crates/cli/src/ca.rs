//! The local CA: kept in the keychain, exported, and trusted by browsers.

use std::{
    path::{Path, PathBuf},
    sync::Arc,
};

use anyhow::{Context as _, Result, bail};
use clap::Subcommand;
use purse_keys::{Keychain, Secret};
use purse_proxy::CryptoProvider;
use purse_proxy::{CertificateAuthority, StoredCa};

use crate::settings::{Context, Place};

/// The keychain entry that holds the CA certificate and key.
const KEYCHAIN_ENTRY: &str = "ca";
/// The documented fallback where no keychain exists: a file only its owner can read.
const FALLBACK_FILE: &str = "ca-key.pem";
/// The CA certificate (public), for users and tools to trust.
pub(crate) const CERT_FILE: &str = "ca.pem";

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
                let ca = load_or_create(&context, purse_proxy::crypto_provider())?;
                match out {
                    Some(path) => std::fs::write(&path, ca.cert_pem())
                        .with_context(|| format!("cannot write {}", path.display())),
                    None => crate::print(ca.cert_pem().trim_end()),
                }
            }
            Self::Install { nssdb, place } => {
                let context = place.resolve()?;
                load_or_create(&context, purse_proxy::crypto_provider())?;
                install(&context, nssdb)
            }
            Self::Uninstall { nssdb, place } => uninstall(&place.resolve()?, nssdb),
        }
    }
}

/// The CA's name, which is also its nickname in NSS databases.
pub(crate) fn ca_name(profile: &str) -> String {
    if profile == "default" {
        "Purse Local CA".into()
    } else {
        format!("Purse Local CA ({profile})")
    }
}

/// Loads the CA from the keychain (or, where there is no keychain, from the 0600
/// fallback file), or makes one on first run; refreshes `ca.pem` in the data dir.
pub(crate) fn load_or_create(
    context: &Context,
    provider: Arc<CryptoProvider>,
) -> Result<CertificateAuthority> {
    let keychain = Keychain::new(&context.profile);
    let fallback = context.path(FALLBACK_FILE);
    let stored = match keychain.get(KEYCHAIN_ENTRY) {
        Ok(Some(secret)) => {
            StoredCa::from_text(secret.expose()).context("the CA in the keychain is unreadable")?
        }
        Ok(None) => match read_fallback(&fallback)? {
            // A CA made while there was no keychain moves into it now that there is one.
            Some(stored) => {
                keychain.set(KEYCHAIN_ENTRY, &Secret::new(stored.to_text()))?;
                std::fs::remove_file(&fallback).with_context(|| {
                    format!(
                        "moved the CA key into the keychain but cannot remove {}",
                        fallback.display()
                    )
                })?;
                tracing::info!("moved the CA key from {} into the OS keychain", fallback.display());
                stored
            }
            None => {
                let (_, made) =
                    CertificateAuthority::generate(&ca_name(&context.profile), provider.clone())?;
                keychain.set(KEYCHAIN_ENTRY, &Secret::new(made.to_text()))?;
                tracing::info!("made a new local CA; its key is in the OS keychain");
                // Two processes starting at once (the app and the CLI) converge on whichever
                // CA was stored last.
                match keychain.get(KEYCHAIN_ENTRY)? {
                    Some(secret) => StoredCa::from_text(secret.expose())
                        .context("the CA in the keychain is unreadable")?,
                    None => made,
                }
            }
        },
        Err(error) if error.is_unavailable() => {
            tracing::warn!(
                "{error}; keeping the CA key in {} (readable only by you) instead",
                fallback.display()
            );
            match read_fallback(&fallback)? {
                Some(stored) => stored,
                None => {
                    let (_, stored) = CertificateAuthority::generate(
                        &ca_name(&context.profile),
                        provider.clone(),
                    )?;
                    write_private(&fallback, &stored.to_text())?;
                    stored
                }
            }
        }
        Err(error) => return Err(error.into()),
    };
    let cert_path = context.path(CERT_FILE);
    if std::fs::read_to_string(&cert_path).ok().as_deref() != Some(stored.cert_pem.as_str()) {
        std::fs::write(&cert_path, &stored.cert_pem)
            .with_context(|| format!("cannot write {}", cert_path.display()))?;
    }
    Ok(CertificateAuthority::from_stored(&stored, provider)?)
}

fn read_fallback(path: &Path) -> Result<Option<StoredCa>> {
    match std::fs::read_to_string(path) {
        Ok(text) => Ok(Some(
            StoredCa::from_text(&text)
                .with_context(|| format!("{} is unreadable", path.display()))?,
        )),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e).with_context(|| format!("cannot read {}", path.display())),
    }
}

fn write_private(path: &Path, text: &str) -> Result<()> {
    use std::io::Write as _;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    let mut file =
        options.open(path).with_context(|| format!("cannot create {}", path.display()))?;
    file.write_all(text.as_bytes()).with_context(|| format!("cannot write {}", path.display()))?;
    file.sync_all().with_context(|| format!("cannot write {}", path.display()))
}

/// The NSS databases to change: the one given, or the user's shared one (made if
/// missing) and each Firefox profile's.
fn nss_databases(only: Option<PathBuf>, create_shared: bool) -> Result<Vec<PathBuf>> {
    if let Some(dir) = only {
        if create_shared {
            ensure_nss_database(&dir)?;
        }
        return Ok(vec![dir]);
    }
    let home = dirs::home_dir().context("no home directory")?;
    let mut found = Vec::new();
    let shared = home.join(".pki/nssdb");
    if shared.join("cert9.db").exists() {
        found.push(shared);
    } else if create_shared {
        ensure_nss_database(&shared)?;
        found.push(shared);
    }
    for root in [home.join(".mozilla/firefox"), home.join("snap/firefox/common/.mozilla/firefox")] {
        let Ok(entries) = std::fs::read_dir(&root) else { continue };
        found.extend(entries.flatten().map(|e| e.path()).filter(|p| p.join("cert9.db").exists()));
    }
    Ok(found)
}

/// Makes an empty NSS database in `dir` (as Chromium would on first run) if there is none.
fn ensure_nss_database(dir: &Path) -> Result<()> {
    if dir.join("cert9.db").exists() {
        return Ok(());
    }
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let output = certutil(&["-N", "--empty-password", "-d", &sql(dir)])?;
    if !output.status.success() {
        bail!(
            "certutil could not create an NSS database in {}: {}",
            dir.display(),
            String::from_utf8_lossy(&output.stderr).trim()
        );
    }
    Ok(())
}

fn sql(dir: &Path) -> String {
    format!("sql:{}", dir.display())
}

fn certutil(args: &[&str]) -> Result<std::process::Output> {
    let output = std::process::Command::new("certutil").args(args).output().map_err(|e| {
        if e.kind() == std::io::ErrorKind::NotFound {
            anyhow::anyhow!("certutil is not installed: install libnss3-tools (Debian, Ubuntu) or nss-tools (Fedora)")
        } else {
            anyhow::anyhow!("cannot run certutil: {e}")
        }
    })?;
    Ok(output)
}

fn install(context: &Context, only: Option<PathBuf>) -> Result<()> {
    let name = ca_name(&context.profile);
    let cert = context.path(CERT_FILE);
    for db in nss_databases(only, true)? {
        let output = certutil(&[
            "-A",
            "-d",
            &sql(&db),
            "-n",
            &name,
            "-t",
            "C,,",
            "-i",
            &cert.display().to_string(),
        ])?;
        if !output.status.success() {
            bail!(
                "certutil could not add the CA to {}: {}",
                db.display(),
                String::from_utf8_lossy(&output.stderr).trim()
            );
        }
        eprintln!("trusted {name:?} in {}", db.display());
    }
    let cert = cert.display();
    crate::print(&format!(
        "The Purse CA is trusted by Chromium and Firefox for this user.\n\
         To trust it system-wide (curl, Python, Node without `purse env`):\n  \
         Debian/Ubuntu: sudo cp {cert} /usr/local/share/ca-certificates/purse.crt && sudo update-ca-certificates\n  \
         Fedora:        sudo cp {cert} /etc/pki/ca-trust/source/anchors/purse.pem && sudo update-ca-trust\n  \
         macOS:         sudo security add-trusted-cert -d -r trustRoot -k /Library/Keychains/System.keychain {cert}\n  \
         Windows:       certutil -addstore -f Root {cert}"
    ))
}

fn uninstall(context: &Context, only: Option<PathBuf>) -> Result<()> {
    let name = ca_name(&context.profile);
    for db in nss_databases(only, false)? {
        let output = certutil(&["-D", "-d", &sql(&db), "-n", &name])?;
        if output.status.success() {
            eprintln!("removed {name:?} from {}", db.display());
        }
    }
    crate::print(&format!(
        "Removed the Purse CA from this user's NSS databases.\n\
         If you trusted it system-wide, remove it there too:\n  \
         Debian/Ubuntu: sudo rm /usr/local/share/ca-certificates/purse.crt && sudo update-ca-certificates --fresh\n  \
         Fedora:        sudo rm /etc/pki/ca-trust/source/anchors/purse.pem && sudo update-ca-trust\n  \
         macOS:         sudo security delete-certificate -c \"{name}\" /Library/Keychains/System.keychain\n  \
         Windows:       certutil -delstore Root \"{name}\""
    ))
}
