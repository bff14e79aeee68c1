//! Client leases: one client's exclusive hold on the writes and invocations of a Thing, for
//! a time it renews (Tango's device lock, SiLA 2's lock controller).
//!
//! A lease lasts its `seconds` from its last use: each request made with it, and each
//! renewal, starts that time again, so an idle lease expires. Leases live in memory only: a
//! server restart ends them all. Expiry is read when a lease is looked at; no timer runs.

use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime};

use uuid::Uuid;

use crate::problem::{Problem, refusals};
use crate::sync::Locked;

/// Who holds a lease, as far as the server can tell clients apart: the bearer token it
/// was taken with (its place among the server's tokens), `None` when the server has no
/// tokens (then whoever presents the lease's id holds it).
pub(crate) type Holder = Option<usize>;

/// A lease on a Thing, as its holder sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Lease {
    /// What the holder sends with its requests.
    pub(crate) id: Uuid,
    /// How long it lasts from its last use.
    pub(crate) duration: Duration,
    /// When it ends if not used or renewed before.
    pub(crate) expires: SystemTime,
}

impl Lease {
    /// When it expires, as its holder and the refusals say it (RFC 3339, to the second).
    pub(crate) fn expiry(&self) -> String {
        expiry(self.expires)
    }
}

/// An expiry time, as leases say it.
fn expiry(at: SystemTime) -> String {
    humantime::format_rfc3339_seconds(at).to_string()
}

/// A held lease.
struct Held {
    lease: Lease,
    holder: Holder,
    deadline: Instant,
}

impl Held {
    /// Its time starts again.
    fn touch(&mut self) {
        self.deadline = Instant::now() + self.lease.duration;
        self.lease.expires = SystemTime::now() + self.lease.duration;
    }
}

/// The lease of one Thing, if one is held.
#[derive(Default)]
pub(crate) struct LeaseSlot {
    held: Mutex<Option<Held>>,
}

impl std::fmt::Debug for LeaseSlot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LeaseSlot")
            .field("held", &self.current().is_some())
            .finish()
    }
}

impl LeaseSlot {
    /// The held lease, once an expired one is dropped.
    fn live(&self) -> std::sync::MutexGuard<'_, Option<Held>> {
        let mut held = self.held.locked();
        if held.as_ref().is_some_and(|h| h.deadline <= Instant::now()) {
            *held = None;
        }
        held
    }

    /// The lease held on the Thing, if any.
    pub(crate) fn current(&self) -> Option<Lease> {
        self.live().as_ref().map(|h| h.lease)
    }

    /// Take a lease on `thing` for `duration`, for `holder`; refused (423) while another is
    /// held, whoever holds it.
    pub(crate) fn take(
        &self,
        thing: &str,
        holder: Holder,
        duration: Duration,
    ) -> Result<Lease, Problem> {
        let mut held = self.live();
        if let Some(h) = held.as_ref() {
            return Err(refusals::leased(thing, &h.lease.expiry()));
        }
        let lease = Lease {
            id: Uuid::new_v4(),
            duration,
            expires: SystemTime::now() + duration,
        };
        let deadline = Instant::now() + duration;
        *held = Some(Held {
            lease,
            holder,
            deadline,
        });
        Ok(lease)
    }

    /// Renew lease `id` of `holder` from now, for `duration` (or its own).
    pub(crate) fn renew(
        &self,
        thing: &str,
        id: Uuid,
        holder: Holder,
        duration: Option<Duration>,
    ) -> Result<Lease, Problem> {
        let mut held = self.live();
        match held.as_mut() {
            Some(h) if h.lease.id == id && h.holder == holder => {
                h.lease.duration = duration.unwrap_or(h.lease.duration);
                h.touch();
                Ok(h.lease)
            }
            _ => Err(refusals::no_lease(thing, &id)),
        }
    }

    /// Release lease `id` of `holder`; with `breaking`, whoever holds it (an administrator).
    pub(crate) fn release(
        &self,
        thing: &str,
        id: Uuid,
        holder: Holder,
        breaking: bool,
    ) -> Result<(), Problem> {
        let mut held = self.live();
        match held.as_ref() {
            Some(h) if h.lease.id == id && (breaking || h.holder == holder) => {
                *held = None;
                Ok(())
            }
            _ => Err(refusals::no_lease(thing, &id)),
        }
    }

    /// Whether a request that changes the Thing `thing` (or a Thing that drives it through
    /// a slot), made by `holder` with lease `presented` (if any), may go on: `Ok(false)`
    /// when no lease is held, `Ok(true)` when it is the holder's own (whose time then starts
    /// again if `using`), otherwise 423, naming when the lease expires.
    pub(crate) fn admit(
        &self,
        thing: &str,
        presented: Option<Uuid>,
        holder: Holder,
        using: bool,
    ) -> Result<bool, Problem> {
        let mut held = self.live();
        match held.as_mut() {
            None => Ok(false),
            Some(h) if Some(h.lease.id) == presented && h.holder == holder => {
                if using {
                    h.touch();
                }
                Ok(true)
            }
            Some(h) => Err(refusals::leased(thing, &h.lease.expiry())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINUTE: Duration = Duration::from_secs(60);

    #[test]
    fn one_lease_at_a_time_and_only_its_holder_passes() {
        let slot = LeaseSlot::default();
        let lease = slot.take("stage", Some(0), MINUTE).unwrap();
        assert_eq!(slot.take("stage", Some(1), MINUTE).unwrap_err().status, 423);
        assert_eq!(slot.admit("stage", Some(lease.id), Some(0), true), Ok(true));
        // The id alone is not enough when tokens tell clients apart.
        let refused = |id, holder| slot.admit("stage", id, holder, true).unwrap_err().status;
        assert_eq!(refused(Some(lease.id), Some(1)), 423);
        assert_eq!(refused(None, Some(0)), 423);
        let other = Uuid::new_v4();
        assert_eq!(
            slot.release("stage", other, Some(0), false)
                .unwrap_err()
                .status,
            404
        );
        assert_eq!(
            slot.release("stage", lease.id, Some(1), false)
                .unwrap_err()
                .status,
            404
        );
        slot.release("stage", lease.id, Some(1), true).unwrap();
        assert_eq!(slot.admit("stage", None, Some(1), true), Ok(false));
    }

    #[test]
    fn an_idle_lease_expires() {
        let slot = LeaseSlot::default();
        let lease = slot.take("stage", None, Duration::ZERO).unwrap();
        assert_eq!(slot.current(), None);
        assert_eq!(slot.admit("stage", None, None, true), Ok(false));
        assert_eq!(
            slot.renew("stage", lease.id, None, Some(MINUTE))
                .unwrap_err()
                .status,
            404
        );
    }
}
