//! A blob: bytes in memory, a file on disk, or a link to another server's blob.

use std::fmt;
use std::marker::PhantomData;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use bytes::Bytes;

use super::media::{Any, MediaType, matches};

/// Binary data with a media type: bytes in memory, or a file on disk. Cheap to clone.
pub struct Blob<M: MediaType = Any> {
    pub(super) inner: Arc<Inner>,
    pub(super) _media: PhantomData<fn() -> M>,
}

pub(super) struct Inner {
    pub(super) media_type: String,
    pub(super) data: Data,
    /// The SHA-256 of its bytes, once computed.
    #[cfg(feature = "provenance")]
    pub(super) digest: tokio::sync::OnceCell<String>,
}

pub(super) enum Data {
    Bytes(Bytes),
    /// A file; deleted with the blob when `owned`.
    File {
        path: PathBuf,
        owned: bool,
    },
    /// A blob of another server, known by its link: what a client receives as an action's
    /// output, and passes back as another action's argument.
    Remote {
        href: String,
    },
}

impl Drop for Inner {
    fn drop(&mut self) {
        if let Data::File { path, owned: true } = &self.data
            && let Err(error) = std::fs::remove_file(path)
            && error.kind() != std::io::ErrorKind::NotFound
        {
            tracing::warn!(file = %path.display(), %error, "a blob's file could not be deleted");
        }
    }
}

impl<M: MediaType> Blob<M> {
    pub(super) fn new(media_type: String, data: Data) -> Self {
        Self {
            inner: Arc::new(Inner {
                media_type,
                data,
                #[cfg(feature = "provenance")]
                digest: tokio::sync::OnceCell::new(),
            }),
            _media: PhantomData,
        }
    }

    /// A blob of `bytes`, of media type `M`.
    ///
    /// # Panics
    /// For `Blob<Any>`, which needs a media type: use [`from_bytes_as`](Self::from_bytes_as).
    pub fn from_bytes(bytes: impl Into<Bytes>) -> Self {
        Self::new(
            Self::fixed_media_type().to_owned(),
            Data::Bytes(bytes.into()),
        )
    }

    /// A blob of `bytes` of media type `media_type` (which must match `M`).
    pub fn from_bytes_as(bytes: impl Into<Bytes>, media_type: &str) -> Self {
        Self::new(Self::checked(media_type), Data::Bytes(bytes.into()))
    }

    /// A blob of the file at `path`, which stays where it is when the blob goes.
    pub fn from_file(path: impl Into<PathBuf>, media_type: &str) -> Self {
        Self::new(
            Self::checked(media_type),
            Data::File {
                path: path.into(),
                owned: false,
            },
        )
    }

    /// A blob of the file at `path`, which the blob owns: it is deleted with the blob (when
    /// the invocation that returned it expires).
    pub fn from_temporary_file(path: impl Into<PathBuf>, media_type: &str) -> Self {
        Self::new(
            Self::checked(media_type),
            Data::File {
                path: path.into(),
                owned: true,
            },
        )
    }

    /// A blob of another server, known by its link (what a client receives).
    #[cfg(feature = "client")]
    pub(crate) fn remote(href: String, media_type: String) -> Self {
        Self::new(media_type, Data::Remote { href })
    }

    fn fixed_media_type() -> &'static str {
        assert!(
            M::MEDIA_TYPE != "*/*",
            "a Blob of any media type needs one: use `from_bytes_as`"
        );
        M::MEDIA_TYPE
    }

    fn checked(media_type: &str) -> String {
        assert!(
            matches(M::MEDIA_TYPE, media_type),
            "media type '{media_type}' is not a '{}'",
            M::MEDIA_TYPE
        );
        media_type.to_owned()
    }

    /// Its media type.
    pub fn media_type(&self) -> &str {
        &self.inner.media_type
    }

    /// Its file, when it is one.
    pub fn path(&self) -> Option<&Path> {
        match &self.inner.data {
            Data::File { path, .. } => Some(path),
            Data::Bytes(_) | Data::Remote { .. } => None,
        }
    }

    /// Its bytes, when it is held in memory (see [`read`](Self::read) for any blob).
    pub fn as_bytes(&self) -> Option<&Bytes> {
        match &self.inner.data {
            Data::Bytes(bytes) => Some(bytes),
            Data::File { .. } | Data::Remote { .. } => None,
        }
    }

    /// Its link, when it is a blob of a server seen by a client (an action's output): download
    /// it with the client's `ThingClient::download`.
    pub fn href(&self) -> Option<&str> {
        match &self.inner.data {
            Data::Remote { href } => Some(href),
            Data::Bytes(_) | Data::File { .. } => None,
        }
    }

    /// Its size in bytes.
    pub fn len(&self) -> std::io::Result<u64> {
        match &self.inner.data {
            Data::Bytes(bytes) => Ok(bytes.len() as u64),
            Data::File { path, .. } => Ok(std::fs::metadata(path)?.len()),
            Data::Remote { href } => Err(remote(href)),
        }
    }

    /// Whether it has no bytes.
    pub fn is_empty(&self) -> std::io::Result<bool> {
        Ok(self.len()? == 0)
    }

    /// All its bytes (a file is read whole: mind its size).
    pub async fn read(&self) -> std::io::Result<Bytes> {
        match &self.inner.data {
            Data::Bytes(bytes) => Ok(bytes.clone()),
            Data::File { path, .. } => tokio::fs::read(path).await.map(Bytes::from),
            Data::Remote { href } => Err(remote(href)),
        }
    }

    /// The same data, seen as a blob of media type `N` (which must match its media type).
    pub fn cast<N: MediaType>(self) -> Result<Blob<N>, Self> {
        if matches(N::MEDIA_TYPE, &self.inner.media_type) {
            Ok(Blob {
                inner: self.inner,
                _media: PhantomData,
            })
        } else {
            Err(self)
        }
    }

    pub(super) fn erase(&self) -> Blob {
        Blob {
            inner: self.inner.clone(),
            _media: PhantomData,
        }
    }
}

impl<M: MediaType> Clone for Blob<M> {
    fn clone(&self) -> Self {
        Self {
            inner: self.inner.clone(),
            _media: PhantomData,
        }
    }
}

impl<M: MediaType> fmt::Debug for Blob<M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("Blob");
        d.field("media_type", &self.inner.media_type);
        match &self.inner.data {
            Data::Bytes(bytes) => d.field("bytes", &bytes.len()),
            Data::File { path, .. } => d.field("file", path),
            Data::Remote { href } => d.field("href", href),
        };
        d.finish()
    }
}

/// The error of reading a remote blob's bytes.
pub(super) fn remote(href: &str) -> std::io::Error {
    std::io::Error::other(format!(
        "the blob is on a server ({href}): download it with the client first"
    ))
}
