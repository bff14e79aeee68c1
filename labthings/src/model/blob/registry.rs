//! The downloadable blobs of a server, and who keeps each.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::Instant;

use uuid::Uuid;

use super::value::Blob;
use crate::sync::Shared;

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
    pub(super) fn adopt(&self, id: Uuid, owner: Uuid) {
        if let Some((_, owners)) = self.write().get_mut(&id) {
            owners.push(Owner::Invocation(owner));
        }
    }

    /// The blob a link's `href` names (a path, or a URL ending in one), if it is kept.
    pub(crate) fn find(&self, href: &str) -> Option<(Uuid, Blob)> {
        let (_, id) = href.rsplit_once("/blob/")?;
        let id = Uuid::parse_str(id).ok()?;
        Some((id, self.get(id)?))
    }

    pub(crate) fn get(&self, id: Uuid) -> Option<Blob> {
        let blobs = self.blobs.reading();
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
        self.blobs.reading().len()
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, HashMap<Uuid, (Blob, Vec<Owner>)>> {
        self.blobs.writing()
    }
}
