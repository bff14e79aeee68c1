//! TLS: serving HTTPS and `wss://` with rustls.

use std::path::Path;
use std::sync::Arc;

use rustls::ServerConfig;
use rustls_pki_types::PrivateKeyDer;
use rustls_pki_types::pem::PemObject;

/// The certificate and key a server presents; see [`ThingServer::tls`](crate::ThingServer::tls).
#[derive(Clone)]
pub struct Tls {
    pub(crate) config: Arc<ServerConfig>,
}

impl std::fmt::Debug for Tls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tls").finish_non_exhaustive()
    }
}

/// Why a certificate or key could not be used.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct TlsError(String);

impl Tls {
    /// A certificate chain and private key from PEM files (the certificate first, then any
    /// intermediates).
    pub fn from_pem_files(cert: impl AsRef<Path>, key: impl AsRef<Path>) -> Result<Self, TlsError> {
        let (cert, key) = (cert.as_ref(), key.as_ref());
        let read = |path: &Path, what: &str| {
            std::fs::read(path)
                .map_err(|e| TlsError(format!("the {what} {} cannot be read: {e}", path.display())))
        };
        Self::from_pem(&read(cert, "certificate")?, &read(key, "key")?).map_err(|TlsError(e)| {
            TlsError(format!("{} and {}: {e}", cert.display(), key.display()))
        })
    }

    /// A certificate chain and private key in PEM.
    pub fn from_pem(cert: &[u8], key: &[u8]) -> Result<Self, TlsError> {
        let chain = crate::pem::certificates(cert).map_err(TlsError)?;
        let key = PrivateKeyDer::from_pem_slice(key)
            .map_err(|e| TlsError(format!("the key is not a valid PEM private key: {e}")))?;
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut config = ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| TlsError(e.to_string()))?
            .with_no_client_auth()
            .with_single_cert(chain, key)
            .map_err(|e| TlsError(format!("the certificate and key do not fit: {e}")))?;
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(Self {
            config: Arc::new(config),
        })
    }

    /// A rustls configuration of your own (client certificates, other protocols, …).
    pub fn from_config(config: Arc<ServerConfig>) -> Self {
        Self { config }
    }
}
