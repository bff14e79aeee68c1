//! Who asked for an invocation, as far as the server knows: the token presented and the
//! client's address.

use std::net::SocketAddr;

/// Who asked for an invocation.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Requester {
    /// The server's token number presented (`None`: no token, when the server has none, or
    /// over MQTT, whose broker decides who may publish).
    pub(crate) token: Option<usize>,
    /// The client's address (`None`: over MQTT, or a router served without it).
    pub(crate) address: Option<SocketAddr>,
}
