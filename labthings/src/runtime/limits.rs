//! The limits that keep a server responsive whatever its clients do.

use std::time::Duration;

/// Bounds on what clients can make the server hold or wait for. Every limit is answered with
/// a problem details object, or (for WebSocket messages) a close frame with a reason.
///
/// The defaults suit an instrument on a lab network; set them with
/// [`ThingServer::limits`](crate::ThingServer::limits) or the configuration file's `limits`
/// table (the same names).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest request body accepted (default 1 MiB); larger ones get 413.
    pub max_body: usize,
    /// Largest blob upload accepted (`POST /blob`, default 1 GiB); larger ones get 413.
    /// Uploads are written to disk as they arrive. A refused upload no larger than
    /// `max_body` is read to its end first, so that a client still sending reads the 413;
    /// a client sending more should send `Expect: 100-continue` and wait for the answer.
    pub max_blob: u64,
    /// Time to receive a request's headers (default 10 s); the connection is closed after.
    pub header_timeout: Duration,
    /// Time to receive a request's body once its headers arrived (default 30 s); 408 after.
    /// An upload (`POST /blob`), which may be large, has this long for each part of it
    /// instead: it may take as long as it keeps sending.
    pub body_timeout: Duration,
    /// Time for a TLS handshake (default 10 s).
    pub tls_handshake_timeout: Duration,
    /// WebSocket connections open at once, server-wide (default 1024); further upgrades
    /// get 503.
    pub max_websockets: usize,
    /// Invocations pending or running at once, server-wide (default 1024); further ones get
    /// 503 with `Retry-After`.
    pub max_running_invocations: usize,
    /// Invocations pending or running at once for one action of one Thing (default 256).
    pub max_running_per_action: usize,
    /// Invocations of `exclusive = "queue"` actions waiting for one Thing (default 64; 0:
    /// a queued action is refused like a rejecting one while the Thing is held); further
    /// ones get 503. Waiting invocations count among those pending.
    pub max_queued_per_thing: usize,
    /// The longest a client lease may last from its last use (default 1 hour, at most a
    /// year; `POST /{thing}/lease` asks for 1 s up to this).
    pub max_lease: Duration,
    /// How many Thing Descriptions other servers may register into this server's directory
    /// (default 1000; `PUT {prefix}/directory/things/{id}`).
    pub max_registrations: usize,
    /// The most bytes (as JSON) of all the TDs registered into the directory together
    /// (default 64 MiB).
    pub max_registered_bytes: usize,
    /// The longest a registration lasts without being renewed (default 24 hours; a
    /// registration's `ttl` asks for less, none gets this).
    pub max_registration_ttl: Duration,
    /// How long a new invocation waits for a place when one of those bounds is reached
    /// (default 200 ms; 0: none): a burst of requests is slowed down, and refused with 503
    /// only when no place frees up in that time.
    pub admission_wait: Duration,
    /// Invocations listed by one `GET /action_invocations` (or `GET /{thing}/{action}`)
    /// when the request does not say (default 100); `?limit=` may ask for up to
    /// [`max_page`](Self::max_page).
    pub page: usize,
    /// The most invocations one listing returns (default 1000).
    pub max_page: usize,
    /// How long a graceful shutdown waits for connections to finish (default 10 s); then the
    /// server stops regardless.
    pub shutdown_deadline: Duration,
    /// Server-Sent Events streams open at once, server-wide (default 1024); further ones get
    /// 503.
    pub max_event_streams: usize,
    /// Notifications (property changes, events) each Thing keeps so that clients can resume
    /// after a dropped connection (default 1024; 0: none).
    pub history: usize,
    /// Bytes of JSON each Thing's history keeps at most (default 4 MiB).
    pub history_bytes: usize,
    /// How long a notification stays in its Thing's history (default 10 minutes).
    pub history_age: Duration,
    /// How long `GET …/{stream}/frame` waits for a stream's first frame (default 5 s): a
    /// camera may produce frames only while someone watches. Then 503 with `Retry-After`.
    pub frame_wait: Duration,
    /// Samples kept in the value history of each observable numeric or boolean property
    /// (default 10,000: 160 KB at most per property; 0: none), with the `history` feature.
    /// [`ThingServer::property_history`](crate::ThingServer::property_history) sets it for
    /// one property.
    pub property_history: usize,
    /// How long a sample stays in a property's value history (default 24 hours).
    pub property_history_age: Duration,
}

impl Limits {
    /// The bounds of each Thing's history.
    pub(crate) fn history(&self) -> crate::broker::HistoryLimits {
        crate::broker::HistoryLimits {
            entries: self.history,
            bytes: self.history_bytes,
            age: self.history_age,
        }
    }
}

impl Limits {
    /// The longest lease a client may take: `max_lease`, at most a year (clocks add that
    /// without overflowing).
    pub(crate) fn lease_bound(&self) -> Duration {
        self.max_lease.min(Duration::from_secs(365 * 24 * 3600))
    }

    /// The longest registration in the directory: `max_registration_ttl`, at most a year.
    pub(crate) fn registration_bound(&self) -> Duration {
        self.max_registration_ttl
            .min(Duration::from_secs(365 * 24 * 3600))
    }
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_body: 1 << 20,
            max_blob: 1 << 30,
            header_timeout: Duration::from_secs(10),
            body_timeout: Duration::from_secs(30),
            tls_handshake_timeout: Duration::from_secs(10),
            max_websockets: 1024,
            max_running_invocations: 1024,
            max_running_per_action: 256,
            max_queued_per_thing: 64,
            max_lease: Duration::from_secs(3600),
            max_registrations: 1000,
            max_registered_bytes: 64 << 20,
            max_registration_ttl: Duration::from_secs(24 * 3600),
            admission_wait: Duration::from_millis(200),
            page: 100,
            max_page: 1000,
            shutdown_deadline: Duration::from_secs(10),
            max_event_streams: 1024,
            history: 1024,
            history_bytes: 4 << 20,
            history_age: Duration::from_secs(600),
            frame_wait: Duration::from_secs(5),
            property_history: 10_000,
            property_history_age: Duration::from_secs(24 * 3600),
        }
    }
}
