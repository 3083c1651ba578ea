//! The local CA that intercepted HTTPS is signed by: kept in the keychain (or, where there
//! is none, a 0600 file), its certificate in the data dir, trusted in NSS databases.

use std::{
    path::{Path, PathBuf},
    sync::Arc,
};

use purse_keys::{Keychain, Secret};
use purse_proxy::{CertificateAuthority, CryptoProvider, StoredCa};
use serde::Serialize;

use crate::{DataDir, Failure};

/// The keychain entry that holds the CA certificate and key.
const KEYCHAIN_ENTRY: &str = "ca";
/// The documented fallback where no keychain exists: a file only its owner can read.
const FALLBACK_FILE: &str = "ca-key.pem";
/// The CA certificate (public), for users and tools to trust.
pub const CERT_FILE: &str = "ca.pem";

/// The CA's name, which is also its nickname in NSS databases.
pub fn ca_name(profile: &str) -> String {
    if profile == "default" {
        "Purse Local CA".into()
    } else {
        format!("Purse Local CA ({profile})")
    }
}

fn ca_failure(what: &str) -> impl FnOnce(purse_proxy::CaError) -> Failure + '_ {
    move |e| Failure::Ca(format!("{what}: {e}"))
}

/// Loads the CA from the keychain (or, where there is no keychain, from the 0600
/// fallback file), or makes one on first run; refreshes `ca.pem` in the data dir.
pub fn load_or_create(
    place: &DataDir,
    provider: Arc<CryptoProvider>,
) -> Result<CertificateAuthority, Failure> {
    let keychain = Keychain::new(&place.profile);
    let fallback = place.path(FALLBACK_FILE);
    let stored = match keychain.get(KEYCHAIN_ENTRY) {
        Ok(Some(secret)) => StoredCa::from_text(secret.expose())
            .map_err(ca_failure("the CA in the keychain is unreadable"))?,
        Ok(None) => match read_fallback(&fallback)? {
            // A CA made while there was no keychain moves into it now that there is one.
            Some(stored) => {
                keychain.set(KEYCHAIN_ENTRY, &Secret::new(stored.to_text()))?;
                std::fs::remove_file(&fallback).map_err(|e| {
                    Failure::Ca(format!(
                        "moved the CA key into the keychain but cannot remove {}: {e}",
                        fallback.display()
                    ))
                })?;
                tracing::info!("moved the CA key from {} into the OS keychain", fallback.display());
                stored
            }
            None => {
                let (_, made) =
                    CertificateAuthority::generate(&ca_name(&place.profile), provider.clone())
                        .map_err(ca_failure("cannot make a CA"))?;
                keychain.set(KEYCHAIN_ENTRY, &Secret::new(made.to_text()))?;
                tracing::info!("made a new local CA; its key is in the OS keychain");
                // Two processes starting at once (the app and the CLI) converge on whichever
                // CA was stored last.
                match keychain.get(KEYCHAIN_ENTRY)? {
                    Some(secret) => StoredCa::from_text(secret.expose())
                        .map_err(ca_failure("the CA in the keychain is unreadable"))?,
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
                    let (_, stored) =
                        CertificateAuthority::generate(&ca_name(&place.profile), provider.clone())
                            .map_err(ca_failure("cannot make a CA"))?;
                    write_private(&fallback, &stored.to_text())?;
                    stored
                }
            }
        }
        Err(error) => return Err(error.into()),
    };
    let cert_path = place.path(CERT_FILE);
    if std::fs::read_to_string(&cert_path).ok().as_deref() != Some(stored.cert_pem.as_str()) {
        std::fs::write(&cert_path, &stored.cert_pem).map_err(Failure::file("write", &cert_path))?;
    }
    CertificateAuthority::from_stored(&stored, provider).map_err(ca_failure("the CA is unusable"))
}

fn read_fallback(path: &Path) -> Result<Option<StoredCa>, Failure> {
    match std::fs::read_to_string(path) {
        Ok(text) => Ok(Some(
            StoredCa::from_text(&text)
                .map_err(|e| Failure::Ca(format!("{} is unreadable: {e}", path.display())))?,
        )),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(Failure::file("read", path)(e)),
    }
}

fn write_private(path: &Path, text: &str) -> Result<(), Failure> {
    use std::io::Write as _;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    let mut file = options.open(path).map_err(Failure::file("create", path))?;
    file.write_all(text.as_bytes()).map_err(Failure::file("write", path))?;
    file.sync_all().map_err(Failure::file("write", path))
}

/// The NSS databases to change: the one given, or the user's shared one (made if
/// missing) and each Firefox profile's.
fn nss_databases(only: Option<PathBuf>, create_shared: bool) -> Result<Vec<PathBuf>, Failure> {
    if let Some(dir) = only {
        if create_shared {
            ensure_nss_database(&dir)?;
        }
        return Ok(vec![dir]);
    }
    let home = dirs::home_dir().ok_or_else(|| Failure::Ca("no home directory".into()))?;
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
fn ensure_nss_database(dir: &Path) -> Result<(), Failure> {
    if dir.join("cert9.db").exists() {
        return Ok(());
    }
    std::fs::create_dir_all(dir).map_err(Failure::file("create", dir))?;
    let output = certutil(&["-N", "--empty-password", "-d", &sql(dir)])?;
    if !output.status.success() {
        return Err(Failure::Ca(format!(
            "certutil could not create an NSS database in {}: {}",
            dir.display(),
            String::from_utf8_lossy(&output.stderr).trim()
        )));
    }
    Ok(())
}

fn sql(dir: &Path) -> String {
    format!("sql:{}", dir.display())
}

fn certutil(args: &[&str]) -> Result<std::process::Output, Failure> {
    std::process::Command::new("certutil").args(args).output().map_err(|e| {
        Failure::Ca(if e.kind() == std::io::ErrorKind::NotFound {
            "certutil is not installed: install libnss3-tools (Debian, Ubuntu) or nss-tools (Fedora)"
                .into()
        } else {
            format!("cannot run certutil: {e}")
        })
    })
}

/// Trusts the CA (made first if needed) in the user's NSS databases (Chromium, Firefox on
/// Linux), or only in `only`; returns the databases changed.
pub fn install_nss(place: &DataDir, only: Option<PathBuf>) -> Result<Vec<PathBuf>, Failure> {
    load_or_create(place, purse_proxy::crypto_provider())?;
    let name = ca_name(&place.profile);
    let cert = place.path(CERT_FILE);
    let mut changed = Vec::new();
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
            return Err(Failure::Ca(format!(
                "certutil could not add the CA to {}: {}",
                db.display(),
                String::from_utf8_lossy(&output.stderr).trim()
            )));
        }
        changed.push(db);
    }
    Ok(changed)
}

/// Removes the CA from the NSS databases that hold it (or only from `only`); returns the
/// databases changed.
pub fn uninstall_nss(place: &DataDir, only: Option<PathBuf>) -> Result<Vec<PathBuf>, Failure> {
    let name = ca_name(&place.profile);
    let mut changed = Vec::new();
    for db in nss_databases(only, false)? {
        if certutil(&["-D", "-d", &sql(&db), "-n", &name])?.status.success() {
            changed.push(db);
        }
    }
    Ok(changed)
}

/// How to trust the certificate at `cert` system-wide, per OS.
pub fn system_trust_instructions(cert: &Path) -> String {
    let cert = cert.display();
    format!(
        "To trust it system-wide (curl, Python, Node without `purse env`):\n  \
         Debian/Ubuntu: sudo cp {cert} /usr/local/share/ca-certificates/purse.crt && sudo update-ca-certificates\n  \
         Fedora:        sudo cp {cert} /etc/pki/ca-trust/source/anchors/purse.pem && sudo update-ca-trust\n  \
         macOS:         sudo security add-trusted-cert -d -r trustRoot -k /Library/Keychains/System.keychain {cert}\n  \
         Windows:       certutil -addstore -f Root {cert}"
    )
}

/// How to remove a system-wide trust of the CA named `name`, per OS.
pub fn system_removal_instructions(name: &str) -> String {
    format!(
        "If you trusted it system-wide, remove it there too:\n  \
         Debian/Ubuntu: sudo rm /usr/local/share/ca-certificates/purse.crt && sudo update-ca-certificates --fresh\n  \
         Fedora:        sudo rm /etc/pki/ca-trust/source/anchors/purse.pem && sudo update-ca-trust\n  \
         macOS:         sudo security delete-certificate -c \"{name}\" /Library/Keychains/System.keychain\n  \
         Windows:       certutil -delstore Root \"{name}\""
    )
}

/// Where the CA stands, for the app's Setup view.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CaStatus {
    /// The CA's name (its NSS nickname).
    pub name: String,
    /// `ca.pem` in the data dir.
    pub cert_path: String,
    /// The certificate, PEM.
    pub cert_pem: String,
    /// The user's NSS databases that trust it.
    pub trusted_in: Vec<String>,
    /// The user's NSS databases that do not.
    pub not_trusted_in: Vec<String>,
    /// Whether `certutil` could be run.
    pub certutil: bool,
    /// How to trust it system-wide, per OS.
    pub instructions: String,
}

/// The CA (made first if needed) and the NSS databases that trust it.
pub fn status(place: &DataDir) -> Result<CaStatus, Failure> {
    let ca = load_or_create(place, purse_proxy::crypto_provider())?;
    let name = ca_name(&place.profile);
    let cert = place.path(CERT_FILE);
    let (mut trusted_in, mut not_trusted_in, mut has_certutil) = (Vec::new(), Vec::new(), true);
    let databases = nss_databases(None, false)?;
    for db in &databases {
        match certutil(&["-L", "-d", &sql(db), "-n", &name]) {
            Ok(output) if output.status.success() => trusted_in.push(db.display().to_string()),
            Ok(_) => not_trusted_in.push(db.display().to_string()),
            Err(_) => has_certutil = false,
        }
    }
    // With no database yet, installing makes one, which needs certutil too.
    if databases.is_empty() {
        has_certutil = certutil(&["-H"]).is_ok();
    }
    Ok(CaStatus {
        name,
        cert_path: cert.display().to_string(),
        cert_pem: ca.cert_pem().to_owned(),
        trusted_in,
        not_trusted_in,
        certutil: has_certutil,
        instructions: system_trust_instructions(&cert),
    })
}
