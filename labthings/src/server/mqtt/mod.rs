//! The W3C WoT MQTT binding: see [`Mqtt`].

mod binding;
mod connection;
mod publisher;
mod requests;
mod sender;

use std::path::Path;

use crate::model::td::mqtt::{MqttForms, Topics};

pub(crate) use binding::{Running, run};

/// The W3C WoT MQTT binding: the server publishes its Things through an MQTT broker, and
/// takes writes and invocations from it.
///
/// Topics, under a prefix (`labthings` by default), per Thing:
///
/// | topic | what | retained |
/// | --- | --- | --- |
/// | `{prefix}/{thing}/properties/{name}` | each change of an observable property | yes |
/// | `{prefix}/{thing}/properties/{name}/set` | a write request (the new value) | – |
/// | `{prefix}/{thing}/events/{name}` | each emission of an event | no |
/// | `{prefix}/{thing}/actions/{name}` | an invocation request (its input object) | – |
/// | `{prefix}/{thing}/actions/{name}/invocations/{id}` | each status of an invocation | no |
/// | `{prefix}/{thing}/errors` | a refused request without an MQTT 5 response topic; a value too large for the broker | no |
///
/// Payloads are JSON. A request is validated exactly as over HTTP; its answer (the
/// invocation's status, `null` for a write, or problem details) is published to the
/// request's MQTT 5 response topic with its correlation data, or, for a refusal without a
/// response topic, to the Thing's `errors` topic.
///
/// The TD carries the binding's forms (W3C WoT Binding Templates, MQTT: the `mqv` vocabulary,
/// `https://www.w3.org/2019/wot/mqtt#`): `href` is the broker (`mqtt://host:port`) followed by
/// the topic as its path, and the topic also in `mqv:topic` (what a consumer publishes to) or
/// `mqv:filter` (what it subscribes to). The binding recommends the broker alone in `href`;
/// node-wot reads the topic from the path: both find it. `readproperty` is offered only on
/// retained topics, as the binding asks.
///
/// A broker that is away holds up nothing: changes wait in a bounded queue where each
/// property keeps its latest value, and after a reconnection every current value is
/// republished. Events and invocation statuses queued during an outage may be lost (the
/// session starts clean). A value larger than the broker's maximum packet size (from its
/// ConnAck) is not sent, since the broker would drop the connection over it: problem details
/// (status 413) on the Thing's `errors` topic say what was left out, and the rest goes on.
///
/// On a graceful shutdown the binding goes after the HTTP requests: the requests it is
/// carrying out are answered (within the shutdown deadline; new ones get a 503), the last
/// changes are published, then it disconnects.
///
/// The server connects as an MQTT 5 client (Mosquitto 1.6 and later, EMQX, HiveMQ and the
/// cloud brokers speak it), over TCP or TLS with the root certificates given.
///
/// Who may publish requests is the broker's to decide (its ACLs): labthings tokens do not
/// apply to MQTT. [`Mqtt::accept_requests`]`(false)` only publishes.
///
/// Off unless given to [`ThingServer::mqtt`](crate::ThingServer::mqtt) (or the
/// configuration file's `[mqtt]` table).
#[derive(Clone)]
pub struct Mqtt {
    pub(crate) host: String,
    pub(crate) port: u16,
    pub(crate) tls: bool,
    pub(crate) client_id: Option<String>,
    pub(crate) credentials: Option<(String, String)>,
    pub(crate) prefix: String,
    pub(crate) qos: u8,
    #[cfg(feature = "tls")]
    pub(crate) roots: Vec<rustls_pki_types::CertificateDer<'static>>,
    pub(crate) requests: bool,
    pub(crate) queue: usize,
}

impl std::fmt::Debug for Mqtt {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mqtt")
            .field("broker", &self.broker_url())
            .field("client_id", &self.client_id)
            .field(
                "credentials",
                &self.credentials.as_ref().map(|(user, _)| user),
            )
            .field("prefix", &self.prefix)
            .field("qos", &self.qos)
            .field("requests", &self.requests)
            .finish_non_exhaustive()
    }
}

/// An invalid MQTT configuration.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct MqttError(String);

impl MqttError {
    #[cfg(feature = "cli")]
    pub(crate) fn new(message: String) -> Self {
        Self(message)
    }
}

impl Mqtt {
    /// Publish through the broker at `broker`: `mqtt://host[:port]` (port 1883 by default)
    /// or `mqtts://host[:port]` (TLS, port 8883).
    pub fn new(broker: &str) -> Result<Self, MqttError> {
        let (tls, rest) = if let Some(rest) = broker.strip_prefix("mqtts://") {
            (true, rest)
        } else if let Some(rest) = broker.strip_prefix("mqtt://") {
            (false, rest)
        } else {
            return Err(MqttError(format!(
                "the broker '{broker}' must be an `mqtt://host[:port]` or `mqtts://host[:port]` URL"
            )));
        };
        let authority = rest.trim_end_matches('/');
        if authority.is_empty() || authority.contains('/') || authority.contains('@') {
            return Err(MqttError(format!(
                "the broker '{broker}' must be `mqtt://host[:port]`, without a path or credentials (give those with `credentials_file`)"
            )));
        }
        if tls && !cfg!(feature = "tls") {
            return Err(MqttError(format!(
                "the broker '{broker}' is `mqtts://`, and this program was built without TLS (the `tls` feature of labthings)"
            )));
        }
        let default = if tls { 8883 } else { 1883 };
        // `host`, `host:port`, `[v6]` or `[v6]:port`.
        let (host, port) = if let Some(rest) = authority.strip_prefix('[') {
            let (host, after) = rest
                .split_once(']')
                .ok_or_else(|| MqttError(format!("the broker '{broker}' has an unclosed `[`")))?;
            match after.strip_prefix(':') {
                Some(port) => (host, Some(port)),
                None if after.is_empty() => (host, None),
                None => {
                    return Err(MqttError(format!(
                        "the broker '{broker}' is not `mqtt://[address]:port`"
                    )));
                }
            }
        } else {
            match authority.split_once(':') {
                Some((host, port)) => (host, Some(port)),
                None => (authority, None),
            }
        };
        let port = match port {
            None => default,
            Some(port) => port.parse::<u16>().map_err(|_| {
                MqttError(format!(
                    "the broker '{broker}' has an invalid port '{port}'"
                ))
            })?,
        };
        if host.is_empty() || (!authority.starts_with('[') && host.contains([':', '[', ']'])) {
            return Err(MqttError(format!(
                "the broker '{broker}' has no valid host (an IPv6 address goes in brackets)"
            )));
        }
        Ok(Self {
            host: host.to_owned(),
            port,
            tls,
            client_id: None,
            credentials: None,
            prefix: "labthings".into(),
            qos: 1,
            #[cfg(feature = "tls")]
            roots: Vec::new(),
            requests: true,
            queue: 16_384,
        })
    }

    /// The client identifier (default `labthings-{server id}-{process id}`): unique among the broker's
    /// clients.
    pub fn client_id(mut self, id: impl Into<String>) -> Self {
        self.client_id = Some(id.into());
        self
    }

    /// Log in with `username` and `password`.
    pub fn credentials(mut self, username: impl Into<String>, password: impl Into<String>) -> Self {
        self.credentials = Some((username.into(), password.into()));
        self
    }

    /// Log in with the user name on the first line of `path` and the password on the
    /// second, so that neither is in the configuration.
    pub fn credentials_file(self, path: impl AsRef<Path>) -> Result<Self, MqttError> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|e| {
            MqttError(format!(
                "the MQTT credentials file {} cannot be read: {e}",
                path.display()
            ))
        })?;
        let mut lines = text.lines();
        match (lines.next(), lines.next()) {
            (Some(user), Some(password)) if !user.trim().is_empty() => {
                Ok(self.credentials(user.trim(), password.trim_end_matches('\r')))
            }
            _ => Err(MqttError(format!(
                "the MQTT credentials file {} must hold the user name on its first line and the password on its second",
                path.display()
            ))),
        }
    }

    /// The first level(s) of every topic (default `labthings`): no wildcards (`+`, `#`),
    /// no leading or trailing `/`.
    pub fn prefix(mut self, prefix: &str) -> Result<Self, MqttError> {
        // Levels of letters, digits, `_`, `-` and `.`: valid in topics and in URL paths alike
        // (the TD's `href`s carry the topics), and never the broker's own `$` topics.
        let level_ok = |level: &str| {
            !level.is_empty()
                && level
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
        };
        if !prefix.split('/').all(level_ok) {
            return Err(MqttError(format!(
                "the MQTT topic prefix '{prefix}' must be levels of letters, digits, `_`, `-` and `.` separated by `/`, e.g. `lab/room-2`"
            )));
        }
        self.prefix = prefix.to_owned();
        Ok(self)
    }

    /// The quality of service of what is published and subscribed: 0, 1 (default) or 2.
    pub fn qos(mut self, qos: u8) -> Result<Self, MqttError> {
        if qos > 2 {
            return Err(MqttError(format!("the MQTT QoS is 0, 1 or 2, not {qos}")));
        }
        self.qos = qos;
        Ok(self)
    }

    /// Trust the certificates of `pem` for an `mqtts://` broker (a lab's certificate
    /// authority, or the broker's own certificate): no others are trusted.
    #[cfg(feature = "tls")]
    #[cfg_attr(docsrs, doc(cfg(feature = "tls")))]
    pub fn root_certificate_pem(mut self, pem: &[u8]) -> Result<Self, MqttError> {
        let certs = crate::pem::certificates(pem)
            .map_err(|e| MqttError(format!("the root certificate: {e}")))?;
        self.roots.extend(certs);
        Ok(self)
    }

    /// Whether to take writes and invocations from the broker (default `true`); `false`
    /// only publishes.
    pub fn accept_requests(mut self, accept: bool) -> Self {
        self.requests = accept;
        self
    }

    /// How many property changes wait for the broker before they are coalesced (default
    /// 16,384): a broker that is away or slow never holds up device code, and the latest
    /// value of each property is always published.
    pub fn queue(mut self, changes: usize) -> Self {
        self.queue = changes.max(1);
        self
    }

    /// The broker's URL, as the TD gives it.
    pub fn broker_url(&self) -> String {
        let scheme = if self.tls { "mqtts" } else { "mqtt" };
        if self.host.contains(':') {
            format!("{scheme}://[{}]:{}", self.host, self.port)
        } else {
            format!("{scheme}://{}:{}", self.host, self.port)
        }
    }

    /// The TD forms of this binding, for one Thing.
    pub(crate) fn forms(&self, thing: &str) -> MqttForms {
        MqttForms {
            broker: self.broker_url(),
            topics: Topics::new(&self.prefix, thing),
            qos: self.qos,
            requests: self.requests,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn broker_urls_are_checked() {
        let m = Mqtt::new("mqtt://127.0.0.1").unwrap();
        assert_eq!((m.host.as_str(), m.port, m.tls), ("127.0.0.1", 1883, false));
        let m = Mqtt::new("mqtts://broker.lab:9000/").unwrap();
        assert_eq!((m.host.as_str(), m.port, m.tls), ("broker.lab", 9000, true));
        assert_eq!(m.broker_url(), "mqtts://broker.lab:9000");
        let m = Mqtt::new("mqtt://[::1]:1884").unwrap();
        assert_eq!((m.host.as_str(), m.port), ("::1", 1884));
        assert_eq!(m.broker_url(), "mqtt://[::1]:1884");
        assert_eq!(Mqtt::new("mqtt://[::1]").unwrap().port, 1883);
        for bad in [
            "http://x",
            "mqtt://",
            "mqtt://x/y",
            "mqtt://u:p@x",
            "mqtt://x:99999",
            "mqtt://::1",
            "mqtt://[::1",
        ] {
            assert!(Mqtt::new(bad).is_err(), "{bad}");
        }
        let m = Mqtt::new("mqtt://x").unwrap();
        assert!(m.clone().prefix("a/+").is_err());
        assert!(m.clone().prefix("/a").is_err());
        assert!(m.clone().prefix("a//b").is_err());
        assert!(m.clone().prefix("$SYS").is_err());
        assert!(m.clone().prefix("a b").is_err());
        assert!(m.clone().prefix("lab/room-2").is_ok());
        assert!(m.qos(3).is_err());
    }
}
