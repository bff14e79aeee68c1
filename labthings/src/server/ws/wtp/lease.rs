//! The lease operations (an extension of the protocol): `takelease` (`seconds`),
//! `renewlease` (`lease`, optional `seconds`), `releaselease` (`lease`), `breaklease` (an
//! `admin`), `querylease`. A lease taken here is the one HTTP's `LabThings-Lease` carries:
//! requests present it as their `lease` member.

use serde::Serialize;

use super::Call;
use crate::interaction::{Granted, LeaseRequest, LeaseView};
use crate::problem::Problem;

/// `{"lease": {"id", "expires", "seconds"}}`
#[derive(Serialize)]
struct Leased {
    lease: Granted,
}

/// `{"lease": {"leased", "expires"}}`
#[derive(Serialize)]
struct Queried {
    lease: LeaseView,
}

/// `{"released": id}`
#[derive(Serialize)]
struct Released {
    released: Option<uuid::Uuid>,
}

fn asked(call: &Call<'_>) -> LeaseRequest {
    LeaseRequest {
        seconds: call.request.seconds,
    }
}

fn lease_id(call: &Call<'_>) -> Result<uuid::Uuid, Problem> {
    (call.request.lease).ok_or_else(|| Problem::bad_request("the request needs its 'lease'"))
}

pub(super) fn take(call: &Call<'_>) -> Result<(), Problem> {
    let caller = call.request.caller(call.connection.caller);
    let lease = call.thing().take_lease(caller, &asked(call))?;
    call.reply(Leased { lease });
    Ok(())
}

pub(super) fn renew(call: &Call<'_>) -> Result<(), Problem> {
    let caller = call.request.caller(call.connection.caller);
    let lease = (call.thing()).renew_lease(caller, lease_id(call)?, &asked(call))?;
    call.reply(Leased { lease });
    Ok(())
}

pub(super) fn release(call: &Call<'_>) -> Result<(), Problem> {
    let id = lease_id(call)?;
    let caller = call.request.caller(call.connection.caller);
    call.thing().release_lease(caller, id)?;
    call.reply(Released { released: Some(id) });
    Ok(())
}

pub(super) fn break_any(call: &Call<'_>) -> Result<(), Problem> {
    call.thing().break_lease(call.connection.caller)?;
    call.reply(Released { released: None });
    Ok(())
}

pub(super) fn query(call: &Call<'_>) -> Result<(), Problem> {
    call.reply(Queried {
        lease: call.thing().lease_view(),
    });
    Ok(())
}
