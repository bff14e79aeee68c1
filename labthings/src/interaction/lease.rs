//! Client leases through the interface: take, renew, release or break the lease of a Thing,
//! and the check that every write and invocation makes (reads and observations stay open).

use std::time::Duration;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{Caller, Scope, ThingRef};
use crate::problem::{Problem, refusals};
use crate::runtime::lease::{Lease, LeaseSlot};

/// What a client asks a lease for: how long it lasts from its last use (its own duration
/// when a renewal does not say).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct LeaseRequest {
    pub(crate) seconds: Option<f64>,
}

/// A lease as its holder gets it: `{"id", "expires", "seconds"}`.
#[derive(Debug, Serialize)]
pub(crate) struct Granted {
    /// What the holder sends with its requests (`LabThings-Lease: {id}`).
    pub(crate) id: Uuid,
    /// When it ends unless used or renewed before (RFC 3339).
    pub(crate) expires: String,
    /// How long it lasts from its last use.
    pub(crate) seconds: f64,
}

impl From<Lease> for Granted {
    fn from(lease: Lease) -> Self {
        Self {
            id: lease.id,
            expires: lease.expiry(),
            seconds: lease.duration.as_secs_f64(),
        }
    }
}

/// What anyone may see of a Thing's lease: whether one is held, and until when; never its
/// id.
#[derive(Debug, Serialize)]
pub(crate) struct LeaseView {
    pub(crate) leased: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) expires: Option<String>,
}

impl<'t> ThingRef<'t> {
    fn lease_slot(&self) -> &'t LeaseSlot {
        &self.exposed().lease
    }

    /// The duration a client asks for, within the server's bound.
    fn lease_duration(&self, seconds: f64) -> Result<Duration, Problem> {
        let max = self.things().max_lease;
        let asked = Duration::try_from_secs_f64(seconds).ok();
        match asked {
            Some(duration) if seconds >= 1.0 && duration <= max => Ok(duration),
            _ => Err(refusals::lease_seconds(seconds, max.as_secs_f64())),
        }
    }

    /// Take a lease on the Thing for `caller`.
    pub(crate) fn take_lease(
        &self,
        caller: Caller,
        request: &LeaseRequest,
    ) -> Result<Granted, Problem> {
        caller.needs(Scope::Operate, "taking a lease")?;
        let seconds = request
            .seconds
            .ok_or_else(|| Problem::invalid("a lease needs its `seconds`", Vec::new()))?;
        let duration = self.lease_duration(seconds)?;
        let slot = self.lease_slot();
        slot.take(self.name(), caller.client(), duration)
            .map(Granted::from)
    }

    /// Renew `caller`'s lease `id`, for the duration it asks (or the lease's own).
    pub(crate) fn renew_lease(
        &self,
        caller: Caller,
        id: Uuid,
        request: &LeaseRequest,
    ) -> Result<Granted, Problem> {
        caller.needs(Scope::Operate, "renewing a lease")?;
        let duration = request
            .seconds
            .map(|s| self.lease_duration(s))
            .transpose()?;
        let slot = self.lease_slot();
        slot.renew(self.name(), id, caller.client(), duration)
            .map(Granted::from)
    }

    /// Release lease `id`: its holder's, or anyone's for an administrator.
    pub(crate) fn release_lease(&self, caller: Caller, id: Uuid) -> Result<(), Problem> {
        caller.needs(Scope::Operate, "releasing a lease")?;
        let breaking = caller.may_break_leases();
        (self.lease_slot()).release(self.name(), id, caller.client(), breaking)
    }

    /// Break whatever lease is held on the Thing (an administrator's `admin` scope).
    pub(crate) fn break_lease(&self, caller: Caller) -> Result<(), Problem> {
        caller.needs(Scope::Admin, "breaking another client's lease")?;
        let slot = self.lease_slot();
        let lease = slot
            .current()
            .ok_or_else(|| refusals::no_lease_held(self.name()))?;
        slot.release(self.name(), lease.id, None, true)
    }

    /// Whether a lease is held, and until when.
    pub(crate) fn lease_view(&self) -> LeaseView {
        let current = self.lease_slot().current();
        LeaseView {
            leased: current.is_some(),
            expires: current.map(|l| l.expiry()),
        }
    }

    /// `Ok` when `caller` may change the Thing (write, invoke): neither it nor any Thing
    /// its slots drive is leased by another client (423 otherwise); and a lease the caller
    /// presents is held on one of them (409 otherwise: it expired, or was released or
    /// broken). Using a lease starts its time again.
    pub(crate) fn admits(&self, caller: Caller) -> Result<(), Problem> {
        self.leases_admit(caller, true)
    }

    /// As [`admits`](Self::admits), for a dry run: no lease is used.
    pub(crate) fn would_admit(&self, caller: Caller) -> Result<(), Problem> {
        self.leases_admit(caller, false)
    }

    fn leases_admit(&self, caller: Caller, using: bool) -> Result<(), Problem> {
        let (things, presented) = (self.things(), caller.lease());
        let driven = self.exposed().reaches.iter().map(|&i| things.at(i));
        let mut found = presented.is_none();
        for thing in std::iter::once(*self).chain(driven) {
            let slot = thing.lease_slot();
            found |= slot.admit(thing.name(), presented, caller.client(), using)?;
        }
        match (found, presented) {
            (false, Some(id)) => Err(refusals::lease_not_held(self.name(), &id)),
            _ => Ok(()),
        }
    }
}
