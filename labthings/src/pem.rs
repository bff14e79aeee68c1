//! Certificates in PEM, as a lab's certificate authority hands them out.

use rustls_pki_types::CertificateDer;
use rustls_pki_types::pem::PemObject;

/// The certificates of `pem`: at least one, or why not. The one rule for every certificate
/// this crate reads (a server's chain, a client's or the MQTT binding's roots).
pub(crate) fn certificates(pem: &[u8]) -> Result<Vec<CertificateDer<'static>>, String> {
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(pem)
        .collect::<Result<_, _>>()
        .map_err(|e| format!("the certificate is not valid PEM: {e}"))?;
    if certs.is_empty() {
        return Err("the PEM holds no certificate".into());
    }
    Ok(certs)
}
