//! The limits of WebSocket connections.

use crate::broker::MailboxLimits;

/// Limits of WebSocket connections.
#[derive(Debug, Clone, Copy)]
pub struct WsLimits {
    /// Largest message (and frame) accepted (default 1 MiB), enforced while reading: a
    /// larger one closes the connection with 1009 and a reason.
    pub max_message: usize,
    /// Requests of one connection that may call device code at the same time (default 16);
    /// further messages wait until one completes.
    pub max_in_flight: usize,
    /// Bytes of replies queued for a connection (default 4 MiB): past them, its messages
    /// are not read until the client has taken its replies.
    pub max_queued_replies: usize,
    /// Property changes queued per connection before they are coalesced.
    pub queue: usize,
    /// Action status events queued per connection before it is closed as too slow.
    pub max_events: usize,
}

impl Default for WsLimits {
    fn default() -> Self {
        let mailbox = MailboxLimits::default();
        Self {
            max_message: 1 << 20,
            max_in_flight: 16,
            max_queued_replies: 4 << 20,
            queue: mailbox.queue,
            max_events: mailbox.max_events,
        }
    }
}
