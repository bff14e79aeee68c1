//! Turning panics in device code into problem details.

use std::any::Any;

use crate::problem::Problem;

/// The message of a panic payload.
pub(crate) fn message(payload: &(dyn Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "unknown panic payload".to_owned()
    }
}

/// A 500 problem for a panic in device code.
pub(crate) fn problem(payload: &(dyn Any + Send)) -> Problem {
    Problem::internal(format!("device code panicked: {}", message(payload)))
}

pub(crate) fn problem_from_join(error: tokio::task::JoinError) -> Problem {
    match error.try_into_panic() {
        Ok(payload) => problem(&*payload),
        Err(error) => Problem::internal(format!("device code was cancelled: {error}")),
    }
}
