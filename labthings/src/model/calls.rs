//! The actions that an invocation's code calls as Rust methods (on the Things of its slots, or
//! on its own Thing): recorded, with when each began and ended, for the invocation's
//! provenance. `#[thing]` opens a [`CallGuard`] at the top of every action method.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::SystemTime;

use crate::model::context::InvocationCore;
use crate::sync::Locked;

/// The calls recorded per invocation; later ones are counted, not kept.
pub(crate) const CALL_CAPACITY: usize = 256;

/// One action called by an invocation's code.
#[derive(Debug, Clone)]
pub(crate) struct Call {
    /// The address of the Thing called (which the server maps to the name it publishes).
    pub(crate) thing: usize,
    /// The Thing's Rust type.
    pub(crate) type_name: &'static str,
    pub(crate) action: &'static str,
    pub(crate) started: SystemTime,
    /// When the call returned (or its future was dropped); `None` while it runs.
    pub(crate) ended: Option<SystemTime>,
}

/// The calls an invocation made, and how to tell its own entry into its action from them.
#[derive(Debug, Default)]
pub(crate) struct Calls {
    /// The Thing and the action the invocation runs, once known.
    own: OnceLock<(usize, &'static str)>,
    /// Whether its own action was entered (every later entry is a call it made).
    entered: AtomicBool,
    kept: Mutex<Vec<Call>>,
    /// Calls made past [`CALL_CAPACITY`].
    dropped: std::sync::atomic::AtomicU64,
}

impl Calls {
    /// The invocation runs `action` of the Thing at `thing`.
    pub(crate) fn runs(&self, thing: usize, action: &'static str) {
        let _ = self.own.set((thing, action));
    }

    /// The calls made so far, and how many more were made past the capacity.
    pub(crate) fn made(&self) -> (Vec<Call>, u64) {
        let kept = self.kept.locked().clone();
        (kept, self.dropped.load(Ordering::Relaxed))
    }

    /// Record a call, unless it is the invocation entering its own action; its index.
    fn enter(&self, thing: usize, type_name: &'static str, action: &'static str) -> Option<usize> {
        if self.own.get() == Some(&(thing, action)) && !self.entered.swap(true, Ordering::AcqRel) {
            return None;
        }
        let mut kept = self.kept.locked();
        if kept.len() == CALL_CAPACITY {
            self.dropped.fetch_add(1, Ordering::Relaxed);
            return None;
        }
        kept.push(Call {
            thing,
            type_name,
            action,
            started: SystemTime::now(),
            ended: None,
        });
        Some(kept.len() - 1)
    }

    fn leave(&self, index: usize) {
        if let Some(call) = self.kept.locked().get_mut(index) {
            call.ended = Some(SystemTime::now());
        }
    }
}

/// An action method running inside an invocation: recorded as a call of that invocation from
/// its creation to its drop. Outside any invocation it records nothing.
#[derive(Debug)]
#[must_use]
pub struct CallGuard {
    open: Option<(Arc<InvocationCore>, usize)>,
}

impl CallGuard {
    /// `action` of `thing` (of type `T`) is entered. (Without the `provenance` feature,
    /// nothing is recorded.)
    pub fn enter<T: 'static>(thing: &T, action: &'static str) -> Self {
        if cfg!(not(feature = "provenance")) {
            return Self { open: None };
        }
        let address = std::ptr::from_ref(thing).cast::<()>() as usize;
        let open = crate::model::scope::current().and_then(|core| {
            let index = core
                .calls
                .enter(address, std::any::type_name::<T>(), action)?;
            Some((core, index))
        });
        Self { open }
    }
}

impl Drop for CallGuard {
    fn drop(&mut self) {
        if let Some((core, index)) = self.open.take() {
            core.calls.leave(index);
        }
    }
}

#[cfg(all(test, feature = "provenance"))]
mod tests {
    use super::*;

    struct Stage;

    #[tokio::test]
    async fn calls_inside_an_invocation_are_recorded_but_not_its_own_entry() {
        let core = InvocationCore::new(uuid::Uuid::new_v4());
        let (own, other) = (Stage, Stage);
        core.calls
            .runs(std::ptr::from_ref(&own).cast::<()>() as usize, "scan");
        let recorded = crate::model::scope::capture(core.clone(), async {
            let _scan = CallGuard::enter(&own, "scan");
            {
                let _move = CallGuard::enter(&other, "move_to");
            }
            let _again = CallGuard::enter(&own, "scan");
            core.calls.made()
        })
        .await;
        let (calls, dropped) = recorded;
        let names: Vec<_> = calls
            .iter()
            .map(|c| (c.action, c.ended.is_some()))
            .collect();
        assert_eq!(names, [("move_to", true), ("scan", false)]);
        assert_eq!(dropped, 0);
        assert!(CallGuard::enter(&other, "move_to").open.is_none());
    }
}
