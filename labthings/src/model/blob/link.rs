//! A blob on the wire: a link. Serialised as an action's output, it is registered with the
//! server whose invocation runs; deserialised as an argument, it is looked up there (or, for a
//! client, kept as the link it is).

use std::marker::PhantomData;
use std::sync::Arc;

use bytes::Bytes;
use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::de::Error as _;
use serde::ser::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use uuid::Uuid;

use super::media::{MediaType, matches};
use super::registry::{Owner, Registry};
use super::value::{Blob, Data};
use crate::model::context::InvocationCore;

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
        let Some((registry, invocation)) = current_registry() else {
            return Err(S::Error::custom(
                "a Blob is only serialised as the output of an action",
            ));
        };
        let id = registry.register(self.erase(), Owner::Invocation(invocation.id));
        invocation
            .links_blobs
            .store(true, std::sync::atomic::Ordering::Relaxed);
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
        let (registry, invocation) = current_registry()
            .ok_or_else(|| D::Error::custom("a Blob is only read as an action's argument"))?;
        let blob = registry.get(id).ok_or_else(|| {
            D::Error::custom(format!(
                "blob '{id}' was not found: it expired, or was never uploaded"
            ))
        })?;
        // It lives at least as long as the invocation that takes it.
        registry.adopt(id, invocation.id);
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

/// The registry of the server whose invocation runs here, and that invocation.
fn current_registry() -> Option<(Arc<Registry>, Arc<InvocationCore>)> {
    let invocation = crate::model::scope::current()?;
    Some((invocation.blobs.get()?.clone(), invocation))
}
