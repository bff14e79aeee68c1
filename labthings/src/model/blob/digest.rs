//! The SHA-256 of a blob's bytes, computed once per blob (off the async workers, a file
//! streamed rather than read whole), for the provenance records that name it.

use sha2::{Digest, Sha256};

use super::media::MediaType;
use super::value::{Blob, Data};

impl<M: MediaType> Blob<M> {
    /// The SHA-256 of its bytes, in hexadecimal; an error for a blob of another server.
    pub(crate) async fn sha256(&self) -> std::io::Result<String> {
        let digest = self.inner.digest.get_or_try_init(|| {
            let data = match &self.inner.data {
                Data::Bytes(bytes) => Ok(Source::Bytes(bytes.clone())),
                Data::File { path, .. } => Ok(Source::File(path.clone())),
                Data::Remote { href } => Err(std::io::Error::other(format!(
                    "the blob {href} is another server's"
                ))),
            };
            async move {
                let source = data?;
                tokio::task::spawn_blocking(move || source.digest())
                    .await
                    .map_err(std::io::Error::other)?
            }
        });
        digest.await.cloned()
    }
}

/// Where a blob's bytes are.
enum Source {
    Bytes(bytes::Bytes),
    File(std::path::PathBuf),
}

impl Source {
    fn digest(self) -> std::io::Result<String> {
        let mut hasher = Sha256::new();
        match self {
            Self::Bytes(bytes) => hasher.update(&bytes),
            Self::File(path) => {
                std::io::copy(&mut std::fs::File::open(path)?, &mut hasher)?;
            }
        }
        Ok(format!("{:x}", hasher.finalize()))
    }
}
