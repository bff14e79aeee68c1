//! A configuration applied: the server it describes, its MQTT binding, its limits, its tokens.

use super::{Config, LimitsConfig, MqttConfig, TokenConfig};
use crate::runtime::limits::Limits;
use crate::server::ThingServer;
#[cfg(feature = "mqtt")]
use crate::server::{Mqtt, MqttError};

impl Config {
    /// The tokens of the configuration and of its token file.
    pub fn all_tokens(&self) -> Result<Vec<TokenConfig>, String> {
        let mut tokens = self.tokens.clone();
        if let Some(file) = &self.token_file {
            let text = std::fs::read_to_string(file)
                .map_err(|e| format!("the token file {} cannot be read: {e}", file.display()))?;
            let parsed = crate::tokens::parse_token_file(&text)
                .map_err(|e| format!("the token file {}: {e}", file.display()))?;
            tokens.extend(
                parsed
                    .into_iter()
                    .map(|(scope, token, subject)| TokenConfig {
                        scope,
                        token,
                        subject,
                    }),
            );
        }
        Ok(tokens)
    }

    /// Apply its server settings (all but the Things, and what the command line may
    /// override: address, port, prefix, TLS and the settings directory) to `server`.
    pub(crate) fn apply(&self, mut server: ThingServer) -> Result<ThingServer, String> {
        if let Some(t) = self.retention_time {
            server = server.retention_time(std::time::Duration::from_secs_f64(t));
        }
        if let Some(n) = self.max_finished_invocations {
            server = server.max_finished_invocations(n);
        }
        if let Some(n) = self.device_threads {
            server = server.device_threads(n);
        }
        for token in self.all_tokens()? {
            server = match &token.subject {
                Some(subject) => server.named_token(token.scope, &token.token, subject),
                None => server.token(token.scope, &token.token),
            };
        }
        if let Some(id) = &self.server_id {
            server = server.server_id(id);
        }
        server = self.advertise_on(server)?;
        server = self.metrics_on(server)?;
        server = self.provenance_on(server)?;
        server = self.directory_on(server)?;
        server = self.property_history_on(server)?;
        if let Some(mqtt) = &self.mqtt {
            server = mqtt.apply(server)?;
        }
        for thing in &self.things {
            if let Some(id) = &thing.id {
                server = server.thing_id(&thing.name, id);
            }
        }
        Ok(server
            .cors_origins(self.cors_origins.iter().cloned())
            .allowed_hosts(self.allowed_hosts.iter().cloned())
            .limits(self.limits.apply(Limits::default())))
    }

    #[cfg(feature = "discovery")]
    fn advertise_on(&self, server: ThingServer) -> Result<ThingServer, String> {
        Ok(match self.advertise {
            Some(advertise) => server.advertise(advertise),
            None => server,
        })
    }

    #[cfg(feature = "metrics")]
    fn metrics_on(&self, server: ThingServer) -> Result<ThingServer, String> {
        Ok(match self.metrics {
            Some(on) => server.metrics(on),
            None => server,
        })
    }

    #[cfg(feature = "directory")]
    fn directory_on(&self, server: ThingServer) -> Result<ThingServer, String> {
        let Some(url) = &self.directory else {
            return Ok(server);
        };
        let ttl = std::time::Duration::from_secs_f64(self.directory_ttl.unwrap_or(300.0));
        Ok(server.register_into(url, ttl, self.directory_token.as_deref()))
    }

    #[cfg(not(feature = "directory"))]
    fn directory_on(&self, server: ThingServer) -> Result<ThingServer, String> {
        match self.directory {
            Some(_) => Err("`directory`: this program was built without directory registration (the `directory` feature of labthings)".into()),
            None => Ok(server),
        }
    }

    #[cfg(feature = "provenance")]
    fn provenance_on(&self, server: ThingServer) -> Result<ThingServer, String> {
        Ok(match self.provenance {
            Some(on) => server.provenance(on),
            None => server,
        })
    }

    #[cfg(not(feature = "provenance"))]
    fn provenance_on(&self, server: ThingServer) -> Result<ThingServer, String> {
        match self.provenance {
            Some(true) => Err("`provenance = true`: this program was built without provenance records (the `provenance` feature of labthings)".into()),
            _ => Ok(server),
        }
    }

    #[cfg(feature = "history")]
    fn property_history_on(&self, mut server: ThingServer) -> Result<ThingServer, String> {
        let limits = self.limits.apply(Limits::default());
        for (thing, properties) in &self.property_history {
            for (property, bounds) in properties {
                let samples = bounds.samples.unwrap_or(limits.property_history);
                let age = (bounds.age.map(std::time::Duration::from_secs_f64))
                    .unwrap_or(limits.property_history_age);
                server = server.property_history(thing, property, samples, age);
            }
        }
        Ok(server)
    }

    #[cfg(not(feature = "history"))]
    fn property_history_on(&self, server: ThingServer) -> Result<ThingServer, String> {
        match self.property_history.is_empty() {
            true => Ok(server),
            false => Err("`property_history`: this program was built without value histories (the `history` feature of labthings)".into()),
        }
    }

    #[cfg(not(feature = "metrics"))]
    fn metrics_on(&self, server: ThingServer) -> Result<ThingServer, String> {
        match self.metrics {
            Some(true) => Err("`metrics = true`: this program was built without metrics (the `metrics` feature of labthings)".into()),
            _ => Ok(server),
        }
    }

    #[cfg(not(feature = "discovery"))]
    fn advertise_on(&self, server: ThingServer) -> Result<ThingServer, String> {
        match self.advertise {
            Some(true) => Err("`advertise = true`: this program was built without DNS-SD (the `discovery` feature of labthings)".into()),
            _ => Ok(server),
        }
    }
}

impl MqttConfig {
    /// Publish through the broker this table configures.
    #[cfg(feature = "mqtt")]
    fn apply(&self, server: ThingServer) -> Result<ThingServer, String> {
        let mqtt = self
            .to_mqtt()
            .map_err(|e| format!("the `mqtt` table is invalid: {e}"))?;
        Ok(server.mqtt(mqtt))
    }

    #[cfg(not(feature = "mqtt"))]
    fn apply(&self, _: ThingServer) -> Result<ThingServer, String> {
        Err("the `mqtt` table: this program was built without MQTT (the `mqtt` feature of labthings)".into())
    }

    /// The binding this table configures (reading the files it names).
    #[cfg(feature = "mqtt")]
    #[cfg_attr(docsrs, doc(cfg(feature = "mqtt")))]
    pub fn to_mqtt(&self) -> Result<Mqtt, MqttError> {
        let mut mqtt = Mqtt::new(&self.broker)?;
        if let Some(id) = &self.client_id {
            mqtt = mqtt.client_id(id);
        }
        if let Some(file) = &self.credentials_file {
            mqtt = mqtt.credentials_file(file)?;
        }
        if let Some(prefix) = &self.prefix {
            mqtt = mqtt.prefix(prefix)?;
        }
        if let Some(qos) = self.qos {
            mqtt = mqtt.qos(qos)?;
        }
        if let Some(file) = &self.ca_file {
            mqtt = Self::roots(mqtt, file)?;
        }
        if let Some(accept) = self.accept_requests {
            mqtt = mqtt.accept_requests(accept);
        }
        if let Some(queue) = self.queue {
            mqtt = mqtt.queue(queue);
        }
        Ok(mqtt)
    }
}

#[cfg(feature = "mqtt")]
impl MqttConfig {
    /// Trust the root certificates of `file`.
    #[cfg(feature = "tls")]
    fn roots(mqtt: Mqtt, file: &std::path::Path) -> Result<Mqtt, MqttError> {
        let pem = std::fs::read(file).map_err(|e| {
            MqttError::new(format!(
                "the CA file {} cannot be read: {e}",
                file.display()
            ))
        })?;
        mqtt.root_certificate_pem(&pem)
    }

    #[cfg(not(feature = "tls"))]
    fn roots(_: Mqtt, _: &std::path::Path) -> Result<Mqtt, MqttError> {
        Err(MqttError::new(
            "`ca_file`: this program was built without TLS (the `tls` feature of labthings)".into(),
        ))
    }
}

impl LimitsConfig {
    /// `limits` with the fields this sets.
    pub fn apply(&self, mut limits: Limits) -> Limits {
        let time = std::time::Duration::from_secs_f64;
        macro_rules! set {
            ($($field:ident),*) => { $(if let Some(v) = self.$field { limits.$field = v; })* };
        }
        macro_rules! set_time {
            ($($field:ident),*) => { $(if let Some(v) = self.$field { limits.$field = time(v); })* };
        }
        set!(
            max_body,
            max_blob,
            max_websockets,
            max_running_invocations,
            max_running_per_action,
            max_queued_per_thing,
            page,
            max_page,
            max_event_streams,
            history,
            history_bytes,
            property_history,
            max_registrations,
            max_registered_bytes
        );
        set_time!(
            header_timeout,
            body_timeout,
            tls_handshake_timeout,
            admission_wait,
            max_lease,
            max_registration_ttl,
            shutdown_deadline,
            history_age,
            frame_wait,
            property_history_age
        );
        limits
    }

    /// Check the fields that bound each other: `(key, problem)`.
    pub(super) fn check(&self) -> Result<(), (String, String)> {
        let limits = self.apply(Limits::default());
        if limits.page == 0 || limits.page > limits.max_page {
            return Err((
                "limits.page".to_owned(),
                format!(
                    "must be between 1 and `max_page` ({}), not {}",
                    limits.max_page, limits.page
                ),
            ));
        }
        let positive = [
            ("max_body", limits.max_body),
            ("max_websockets", limits.max_websockets),
            ("max_running_invocations", limits.max_running_invocations),
            ("max_running_per_action", limits.max_running_per_action),
            ("max_event_streams", limits.max_event_streams),
        ];
        for (key, value) in positive {
            if value == 0 {
                return Err((
                    format!("limits.{key}"),
                    "must be at least 1: 0 would refuse everything".to_owned(),
                ));
            }
        }
        if limits.max_lease < std::time::Duration::from_secs(1) {
            return Err((
                "limits.max_lease".to_owned(),
                "must be at least 1 second: a lease lasts from 1 s to `max_lease`".to_owned(),
            ));
        }
        Ok(())
    }
}
