//! Running Things, whatever the protocol: their invocations, device code's own runtime,
//! start and stop, settings, and the captured logs of actions.

pub(crate) mod device;
pub(crate) mod hosted;
pub(crate) mod invocations;
pub(crate) mod lease;
pub(crate) mod lifecycle;
pub(crate) mod limits;
pub(crate) mod line;
pub(crate) mod logs;
pub(crate) mod observer;
pub(crate) mod settings;
