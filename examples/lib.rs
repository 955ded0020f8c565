//! What the examples share: reading PEM roots and ALPN lists from the command line.

use std::path::Path;
use std::sync::Arc;

use rustls::RootCertStore;
use rustls_pki_types::CertificateDer;
use rustls_pki_types::pem::PemObject;

/// A root store could not be read from a PEM file.
#[derive(Debug, thiserror::Error)]
pub enum RootsError {
    /// The file is not PEM, or not readable.
    #[error("cannot read certificates from {path}")]
    Pem {
        /// The file.
        path: String,
        /// Why.
        source: rustls_pki_types::pem::Error,
    },
    /// The file holds no certificate.
    #[error("{path} holds no certificate")]
    Empty {
        /// The file.
        path: String,
    },
    /// rustls refused a certificate.
    #[error("{path}: unusable certificate")]
    Rustls {
        /// The file.
        path: String,
        /// Why.
        source: rustls::Error,
    },
}

/// The certificates of a PEM file as a root store.
pub fn roots_from_pem(path: &Path) -> Result<Arc<RootCertStore>, RootsError> {
    let shown = path.display().to_string();
    let certs = CertificateDer::pem_file_iter(path)
        .and_then(|iter| iter.collect::<Result<Vec<_>, _>>())
        .map_err(|source| RootsError::Pem {
            path: shown.clone(),
            source,
        })?;
    if certs.is_empty() {
        return Err(RootsError::Empty { path: shown });
    }
    let mut roots = RootCertStore::empty();
    for cert in certs {
        roots.add(cert).map_err(|source| RootsError::Rustls {
            path: shown.clone(),
            source,
        })?;
    }
    Ok(Arc::new(roots))
}

/// `h2,http/1.1` as ALPN protocol names.
pub fn alpn_list(list: &str) -> Vec<Vec<u8>> {
    list.split(',')
        .filter(|p| !p.is_empty())
        .map(|p| p.as_bytes().to_vec())
        .collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn alpn_list_splits_on_commas() {
        assert_eq!(
            super::alpn_list("h2,http/1.1,"),
            vec![b"h2".to_vec(), b"http/1.1".to_vec()]
        );
        assert!(super::alpn_list("").is_empty());
    }
}
