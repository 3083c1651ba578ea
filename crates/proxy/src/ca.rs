//! The local certificate authority that intercepted HTTPS is signed by.
//!
//! Keys are ECDSA P-256: a new intercepted connection then costs a fraction of what an
//! RSA-2048 handshake costs. Leaf certificates are made per host on first use and cached;
//! an IP literal gets an IP SAN (a DNS SAN of `127.0.0.1` is rejected by every client).

use std::{
    collections::HashMap,
    net::IpAddr,
    sync::{Arc, Mutex, PoisonError},
};

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    Issuer, KeyPair, KeyUsagePurpose, SanType,
};
use rustls::{
    ServerConfig,
    crypto::CryptoProvider,
    pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer},
};
use time::{Duration, OffsetDateTime};

/// How many hosts' leaf certificates are kept; past it the cache starts over.
const LEAF_CACHE: usize = 1024;

/// Why the authority could not be made or used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CaError {
    /// The stored CA could not be read back.
    #[error("the stored CA is unreadable: {0}")]
    Unreadable(String),
    /// Certificate generation failed.
    #[error("could not make a certificate: {0}")]
    Generate(#[from] rcgen::Error),
    /// rustls refused the certificate or key.
    #[error("TLS configuration failed: {0}")]
    Tls(#[from] rustls::Error),
}

/// The CA certificate and its key, as stored between runs.
#[derive(Clone, PartialEq, Eq)]
pub struct StoredCa {
    /// The CA certificate, PEM.
    pub cert_pem: String,
    /// The CA private key, PKCS#8 PEM. Secret: it can vouch for any site.
    pub key_pem: String,
}

impl std::fmt::Debug for StoredCa {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoredCa").field("cert_pem", &self.cert_pem).finish_non_exhaustive()
    }
}

/// PEM with `\n` line endings, as rcgen writes it (the `pem` crate's default is `\r\n`).
pub(crate) fn lf() -> pem::EncodeConfig {
    pem::EncodeConfig::new().set_line_ending(pem::LineEnding::LF)
}

impl StoredCa {
    /// Both parts in one text (the certificate, then the key), as kept in the keychain.
    pub fn to_text(&self) -> String {
        format!("{}{}", self.cert_pem, self.key_pem)
    }

    /// Reads [`StoredCa::to_text`] back.
    pub fn from_text(text: &str) -> Result<Self, CaError> {
        let blocks = pem::parse_many(text).map_err(|e| CaError::Unreadable(e.to_string()))?;
        let find = |tag: &str| {
            blocks
                .iter()
                .find(|b| b.tag() == tag)
                .map(|block| pem::encode_config(block, lf()))
                .ok_or_else(|| CaError::Unreadable(format!("no {tag} block")))
        };
        Ok(Self { cert_pem: find("CERTIFICATE")?, key_pem: find("PRIVATE KEY")? })
    }
}

/// The local CA: signs a leaf certificate for each intercepted host.
pub struct CertificateAuthority {
    issuer: Issuer<'static, KeyPair>,
    cert_der: CertificateDer<'static>,
    cert_pem: String,
    provider: Arc<CryptoProvider>,
    leaves: Mutex<HashMap<String, Arc<ServerConfig>>>,
}

impl std::fmt::Debug for CertificateAuthority {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CertificateAuthority").finish_non_exhaustive()
    }
}

/// The CA's own parameters.
fn ca_params(common_name: &str) -> CertificateParams {
    let mut params = CertificateParams::default();
    let mut name = DistinguishedName::new();
    name.push(DnType::CommonName, common_name);
    name.push(DnType::OrganizationName, "Purse");
    params.distinguished_name = name;
    params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    params
}

impl CertificateAuthority {
    /// Makes a new CA named `common_name`, valid for ten years.
    pub fn generate(
        common_name: &str,
        provider: Arc<CryptoProvider>,
    ) -> Result<(Self, StoredCa), CaError> {
        let key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256)?;
        let mut params = ca_params(common_name);
        let now = OffsetDateTime::now_utc();
        params.not_before = now - Duration::days(1);
        params.not_after = now + Duration::days(3650);
        let cert = params.self_signed(&key)?;
        let stored = StoredCa { cert_pem: cert.pem(), key_pem: key.serialize_pem() };
        let ca = Self::from_stored(&stored, provider)?;
        Ok((ca, stored))
    }

    /// Loads a CA made by [`CertificateAuthority::generate`].
    pub fn from_stored(stored: &StoredCa, provider: Arc<CryptoProvider>) -> Result<Self, CaError> {
        let key =
            KeyPair::from_pem(&stored.key_pem).map_err(|e| CaError::Unreadable(e.to_string()))?;
        let cert = pem::parse(&stored.cert_pem).map_err(|e| CaError::Unreadable(e.to_string()))?;
        let cert_der = CertificateDer::from(cert.into_contents());
        let issuer = Issuer::from_ca_cert_der(&cert_der, key)
            .map_err(|e| CaError::Unreadable(e.to_string()))?;
        Ok(Self {
            issuer,
            cert_der,
            cert_pem: stored.cert_pem.clone(),
            provider,
            leaves: Mutex::new(HashMap::new()),
        })
    }

    /// The CA certificate, PEM: what users install as trusted.
    pub fn cert_pem(&self) -> &str {
        &self.cert_pem
    }

    /// The CA certificate, DER.
    pub fn cert_der(&self) -> &CertificateDer<'static> {
        &self.cert_der
    }

    /// A TLS server configuration presenting a certificate for `host`, made on first use.
    pub fn server_config(&self, host: &str) -> Result<Arc<ServerConfig>, CaError> {
        let host = host.trim_start_matches('[').trim_end_matches(']').to_ascii_lowercase();
        if let Some(config) = self.leaves.lock().unwrap_or_else(PoisonError::into_inner).get(&host)
        {
            return Ok(config.clone());
        }
        let config = Arc::new(self.make_server_config(&host)?);
        let mut leaves = self.leaves.lock().unwrap_or_else(PoisonError::into_inner);
        if leaves.len() >= LEAF_CACHE {
            leaves.clear();
        }
        leaves.insert(host, config.clone());
        Ok(config)
    }

    fn make_server_config(&self, host: &str) -> Result<ServerConfig, CaError> {
        let key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256)?;
        let mut params = CertificateParams::default();
        let mut name = DistinguishedName::new();
        name.push(DnType::CommonName, host);
        params.distinguished_name = name;
        params.subject_alt_names = vec![match host.parse::<IpAddr>() {
            Ok(ip) => SanType::IpAddress(ip),
            Err(_) => SanType::DnsName(host.try_into()?),
        }];
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        params.use_authority_key_identifier_extension = true;
        let now = OffsetDateTime::now_utc();
        params.not_before = now - Duration::days(1);
        params.not_after = now + Duration::days(365);
        let leaf = params.signed_by(&key, &self.issuer)?;

        let key_der = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der()));
        let mut config = ServerConfig::builder_with_provider(self.provider.clone())
            .with_safe_default_protocol_versions()?
            .with_no_client_auth()
            .with_single_cert(vec![leaf.der().clone(), self.cert_der.clone()], key_der)?;
        config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
        Ok(config)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn provider() -> Arc<CryptoProvider> {
        Arc::new(rustls::crypto::ring::default_provider())
    }

    #[test]
    fn a_stored_ca_loads_back_and_signs_for_dns_names_and_ips() {
        let (ca, stored) =
            CertificateAuthority::generate("Purse Local CA (test)", provider()).unwrap();
        assert!(stored.cert_pem.starts_with("-----BEGIN CERTIFICATE-----"));
        assert!(!format!("{stored:?}").contains("PRIVATE"));
        let again = StoredCa::from_text(&stored.to_text()).unwrap();
        assert_eq!(again, stored);
        let loaded = CertificateAuthority::from_stored(&again, provider()).unwrap();
        for host in ["example.com", "127.0.0.1", "[::1]", "LOCALHOST"] {
            let first = loaded.server_config(host).unwrap();
            assert!(Arc::ptr_eq(&first, &loaded.server_config(host).unwrap()), "{host} is cached");
        }
        drop(ca);
    }
}
