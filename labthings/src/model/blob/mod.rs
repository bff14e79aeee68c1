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

#[cfg(feature = "provenance")]
mod digest;
mod link;
mod media;
mod registry;
mod value;

#[cfg(feature = "client")]
pub(crate) use link::as_client;
pub(crate) use link::checking;
pub use media::{Any, Jpeg, MediaType, OctetStream, Png, Text, Tiff, Zip, matches};
pub(crate) use registry::{Owner, Registry};
pub use value::Blob;

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Instant;
    use uuid::Uuid;

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
