//! Blobs: binary data that actions return and accept — images, archives, files.
//!
//! An action returns a [`Blob`] (bytes, or a file on disk, with a media type); the
//! invocation's `output` is then a link to it, as LabThings-FastAPI's clients expect:
//!
//! ```json
//! {"href": "http://127.0.0.1:5000/blob/5a3c…", "media_type": "image/jpeg", "rel": "output",
//!  "description": "The output of this action is not JSON: download it from `href`."}
//! ```
//!
//! `GET {prefix}/blob/{id}` downloads it with its `Content-Type` and `Content-Length`; a
//! file-backed blob is streamed from disk (never read whole into memory) and answers range
//! requests. `GET /action_invocations/{id}/output` downloads it too. A blob lives as long as
//! its invocation is kept (the retention time), then it is deleted, its file included when
//! the blob owns it ([`Blob::from_temporary_file`]).
//!
//! A client uploads bytes with `POST {prefix}/blob` (any `Content-Type`, at most
//! [`Limits::max_blob`](crate::Limits::max_blob) bytes, 413 over it) and gets the same kind
//! of link, which it passes as an action's `Blob` argument (`{"href": …}`); an uploaded blob
//! that no invocation takes is deleted after the retention time.
//!
//! The type parameter says the media type in the TD: `Blob<Jpeg>` is a JPEG image,
//! `Blob` (`Blob<Any>`) any media type. Implement [`MediaType`] for a type of your own to
//! name another.

use std::collections::HashMap;
use std::fmt;
use std::marker::PhantomData;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};
use std::time::Instant;

use axum::body::Bytes;
use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::de::Error as _;
use serde::ser::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use uuid::Uuid;

/// A media type, named at compile time: the `M` of [`Blob<M>`].
pub trait MediaType: Send + Sync + 'static {
    /// The media type, e.g. `image/jpeg`; `*/*` for any.
    const MEDIA_TYPE: &'static str;
}

macro_rules! media_types {
    ($($(#[$doc:meta])* $name:ident = $value:literal;)*) => {$(
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub struct $name;
        impl MediaType for $name {
            const MEDIA_TYPE: &'static str = $value;
        }
    )*};
}

media_types! {
    /// Any media type (`*/*`): the blob says which.
    Any = "*/*";
    /// `image/jpeg`
    Jpeg = "image/jpeg";
    /// `image/png`
    Png = "image/png";
    /// `image/tiff`
    Tiff = "image/tiff";
    /// `application/zip`
    Zip = "application/zip";
    /// `application/octet-stream`
    OctetStream = "application/octet-stream";
    /// `text/plain`
    Text = "text/plain";
}

/// Binary data with a media type: bytes in memory, or a file on disk. Cheap to clone.
pub struct Blob<M: MediaType = Any> {
    inner: Arc<Inner>,
    _media: PhantomData<fn() -> M>,
}

struct Inner {
    media_type: String,
    data: Data,
}

enum Data {
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
    fn new(media_type: String, data: Data) -> Self {
        Self {
            inner: Arc::new(Inner { media_type, data }),
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

    fn erase(&self) -> Blob {
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

/// Whether `media_type` is an instance of `pattern` (`*/*`, `image/*`, `image/jpeg`),
/// ignoring parameters and case.
pub fn matches(pattern: &str, media_type: &str) -> bool {
    let essence = |t: &str| {
        t.split(';')
            .next()
            .unwrap_or_default()
            .trim()
            .to_ascii_lowercase()
    };
    let (pattern, media_type) = (essence(pattern), essence(media_type));
    let Some((kind, _)) = media_type.split_once('/') else {
        return false;
    };
    match pattern.split_once('/') {
        Some(("*", "*")) => true,
        Some((p, "*")) => p == kind,
        _ => pattern == media_type,
    }
}

/// The description every blob link carries.
const DESCRIPTION: &str = "The output of this action is not JSON: download it from `href`.";

/// The JSON of a blob link.
#[derive(Serialize, Deserialize)]
struct Link {
    href: String,
    media_type: Option<String>,
    #[serde(default, skip_deserializing)]
    rel: &'static str,
    #[serde(default, skip_deserializing)]
    description: &'static str,
}

impl<M: MediaType> Serialize for Blob<M> {
    /// A blob is serialised inside an invocation (as its output): it is registered with the
    /// server, and its link written.
    ///
    /// A remote blob (a client's) is written as its link, to pass it to another action.
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        if let Data::Remote { href } = &self.inner.data {
            return Link {
                href: href.clone(),
                media_type: Some(self.inner.media_type.clone()),
                rel: "output",
                description: DESCRIPTION,
            }
            .serialize(serializer);
        }
        let (Some(registry), Some(owner)) = (current_registry(), registry_owner()) else {
            return Err(S::Error::custom(
                "a Blob is only serialised as the output of an action",
            ));
        };
        let id = registry.register(self.erase(), Owner::Invocation(owner));
        Link {
            href: registry.path(id),
            media_type: Some(self.inner.media_type.clone()),
            rel: "output",
            description: DESCRIPTION,
        }
        .serialize(serializer)
    }
}

impl<'de, M: MediaType> Deserialize<'de> for Blob<M> {
    /// A blob argument is the link of an uploaded blob, or of another invocation's output.
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let link = Link::deserialize(deserializer)?;
        if CLIENT.with(std::cell::Cell::get) {
            // A client reading an action's output: a link to the server's blob.
            let media_type = link.media_type.unwrap_or_else(|| M::MEDIA_TYPE.to_owned());
            if !matches(M::MEDIA_TYPE, &media_type) {
                return Err(D::Error::custom(format!(
                    "the blob is '{media_type}', not '{}'",
                    M::MEDIA_TYPE
                )));
            }
            return Ok(Self::new(media_type, Data::Remote { href: link.href }));
        }
        let id = link
            .href
            .rsplit_once("blob/")
            .and_then(|(_, id)| Uuid::parse_str(id.trim_end_matches('/')).ok())
            .ok_or_else(|| {
                D::Error::custom(format!(
                    "'{}' is not the link of a blob: upload the data with POST /blob first, and pass the link it answers",
                    link.href
                ))
            })?;
        if CHECKING.with(std::cell::Cell::get) {
            // Only the link's form is checked now; the blob is looked up when the action runs.
            return Ok(Self::new(
                M::MEDIA_TYPE.to_owned(),
                Data::Bytes(Bytes::new()),
            ));
        }
        let registry = current_registry()
            .ok_or_else(|| D::Error::custom("a Blob is only read as an action's argument"))?;
        let blob = registry.get(id).ok_or_else(|| {
            D::Error::custom(format!(
                "blob '{id}' was not found: it expired, or was never uploaded"
            ))
        })?;
        // It lives at least as long as the invocation that takes it.
        registry.adopt(id, registry_owner());
        if !matches(M::MEDIA_TYPE, blob.media_type()) {
            return Err(D::Error::custom(format!(
                "blob '{id}' is '{}', not '{}'",
                blob.media_type(),
                M::MEDIA_TYPE
            )));
        }
        Ok(Self {
            inner: blob.inner,
            _media: PhantomData,
        })
    }
}

impl<M: MediaType> JsonSchema for Blob<M> {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Blob".into()
    }

    fn inline_schema() -> bool {
        true
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        let media_type = if M::MEDIA_TYPE == "*/*" {
            json_schema!({"type": "string", "description": "The blob's media type."})
        } else {
            json_schema!({"type": "string", "const": M::MEDIA_TYPE})
        };
        json_schema!({
            "type": "object",
            "description": format!(
                "Binary data ({}), as a link: download it from `href` ({} for an upload)",
                M::MEDIA_TYPE,
                "`POST /blob`"
            ),
            "properties": {
                "href": {"type": "string", "format": "uri-reference"},
                "media_type": media_type,
                "rel": {"type": "string"},
                "description": {"type": "string"}
            },
            "required": ["href"]
        })
    }
}

// ---- the registry ------------------------------------------------------------------------

/// Who keeps a blob downloadable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Owner {
    /// An invocation (its output, or an argument): as long as it is retained.
    Invocation(Uuid),
    /// An upload that no invocation took yet: until this time.
    Upload(Instant),
}

/// The downloadable blobs of a server.
#[derive(Debug)]
pub(crate) struct Registry {
    /// The API prefix, for links.
    pub(crate) prefix: String,
    blobs: RwLock<HashMap<Uuid, (Blob, Vec<Owner>)>>,
}

impl Registry {
    pub(crate) fn new(prefix: String) -> Arc<Self> {
        Arc::new(Self {
            prefix,
            blobs: RwLock::new(HashMap::new()),
        })
    }

    /// The path of blob `id`: `{prefix}/blob/{id}`.
    pub(crate) fn path(&self, id: Uuid) -> String {
        format!("{}/blob/{id}", self.prefix)
    }

    /// Make `blob` downloadable for `owner`; returns its id.
    pub(crate) fn register(&self, blob: Blob, owner: Owner) -> Uuid {
        let id = Uuid::new_v4();
        self.write().insert(id, (blob, vec![owner]));
        id
    }

    /// Keep blob `id` for invocation `owner` too.
    fn adopt(&self, id: Uuid, owner: Option<Uuid>) {
        if let (Some(owner), Some((_, owners))) = (owner, self.write().get_mut(&id)) {
            owners.push(Owner::Invocation(owner));
        }
    }

    pub(crate) fn get(&self, id: Uuid) -> Option<Blob> {
        let blobs = self.blobs.read().unwrap_or_else(|e| e.into_inner());
        blobs.get(&id).map(|(blob, _)| blob.clone())
    }

    /// Forget what invocation `id` kept, and uploads past `now`: their data goes with the
    /// last clone (a file the blob owns is then deleted).
    pub(crate) fn release(&self, invocations: &[Uuid], now: Instant) {
        let mut blobs = self.write();
        blobs.retain(|_, (_, owners)| {
            owners.retain(|owner| match owner {
                Owner::Invocation(id) => !invocations.contains(id),
                Owner::Upload(until) => *until > now,
            });
            !owners.is_empty()
        });
    }

    /// Forget every blob (the server stops): their owned files are deleted.
    pub(crate) fn clear(&self) {
        let blobs = std::mem::take(&mut *self.write());
        drop(blobs);
    }

    /// Number of blobs kept.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.blobs.read().unwrap_or_else(|e| e.into_inner()).len()
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, HashMap<Uuid, (Blob, Vec<Owner>)>> {
        self.blobs.write().unwrap_or_else(|e| e.into_inner())
    }
}

thread_local! {
    /// Set while an input is only checked (before its invocation exists).
    static CHECKING: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
    /// Set while a client reads what a server sent: blobs are links to the server's.
    static CLIENT: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Run `f` reading values as a client: a `Blob` is a link to a server's blob, kept as is.
/// Every other reading of a blob (action arguments, property writes, settings) goes through
/// the server's registry and fails closed.
#[cfg(feature = "client")]
pub(crate) fn as_client<R>(f: impl FnOnce() -> R) -> R {
    struct Reset(bool);
    impl Drop for Reset {
        fn drop(&mut self) {
            CLIENT.with(|c| c.set(self.0));
        }
    }
    let _reset = Reset(CLIENT.with(|c| c.replace(true)));
    f()
}

/// Run `f` checking inputs only: a `Blob` argument is accepted if it is a well-formed link,
/// without looking the blob up.
pub(crate) fn checking<R>(f: impl FnOnce() -> R) -> R {
    struct Reset(bool);
    impl Drop for Reset {
        fn drop(&mut self) {
            CHECKING.with(|c| c.set(self.0));
        }
    }
    let _reset = Reset(CHECKING.with(|c| c.replace(true)));
    f()
}

/// The error of reading a remote blob's bytes.
fn remote(href: &str) -> std::io::Error {
    std::io::Error::other(format!(
        "the blob is on a server ({href}): download it with the client first"
    ))
}

/// The registry of the server whose invocation runs here.
fn current_registry() -> Option<Arc<Registry>> {
    crate::logs::current()?.blobs.get().cloned()
}

/// The invocation that runs here.
fn registry_owner() -> Option<Uuid> {
    crate::logs::current().map(|core| core.id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_link_is_a_remote_blob_only_for_a_client() {
        let link =
            serde_json::json!({"href": "https://elsewhere/blob/x", "media_type": "image/jpeg"});
        // On the server, outside an invocation (a property write, a settings file): refused.
        let error = serde_json::from_value::<Blob>(link.clone()).unwrap_err();
        assert!(
            error.to_string().contains("not the link of a blob"),
            "{error}"
        );
        #[cfg(feature = "client")]
        {
            let blob: Blob = as_client(|| serde_json::from_value(link.clone())).unwrap();
            assert_eq!(blob.href(), Some("https://elsewhere/blob/x"));
            assert_eq!(serde_json::to_value(&blob).unwrap()["href"], link["href"]);
        }
    }

    #[test]
    fn media_types_match_with_wildcards() {
        assert!(matches("*/*", "image/jpeg"));
        assert!(matches("image/*", "Image/PNG; q=1"));
        assert!(matches("image/jpeg", "image/jpeg; charset=x"));
        assert!(!matches("image/jpeg", "image/png"));
        assert!(!matches("image/*", "text/plain"));
        assert!(!matches("*/*", "nonsense"));
    }

    #[test]
    fn an_owned_file_goes_with_the_last_clone() {
        let dir = std::env::temp_dir().join(format!("labthings-blob-{}", Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("data.bin");
        std::fs::write(&path, b"12345").unwrap();
        let blob: Blob<OctetStream> = Blob::from_temporary_file(&path, "application/octet-stream");
        let clone = blob.clone();
        assert_eq!(blob.len().unwrap(), 5);
        drop(blob);
        assert!(path.exists());
        drop(clone);
        assert!(!path.exists());
        let kept: Blob = Blob::from_file(&dir, "inode/directory");
        drop(kept);
        assert!(dir.exists(), "a file the blob does not own stays");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn uploads_expire_and_invocations_release_theirs() {
        let registry = Registry::new(String::new());
        let now = Instant::now();
        let later = now + std::time::Duration::from_secs(60);
        let invocation = Uuid::new_v4();
        let upload = registry.register(Blob::<Text>::from_bytes("a").erase(), Owner::Upload(later));
        let output = registry.register(
            Blob::<Text>::from_bytes("b").erase(),
            Owner::Invocation(invocation),
        );
        registry.release(&[], now);
        assert_eq!(registry.len(), 2);
        registry.release(&[invocation], now);
        assert!(registry.get(output).is_none() && registry.get(upload).is_some());
        registry.release(&[], later);
        assert_eq!(registry.len(), 0);
    }
}
