//! The configuration's parsing and its errors.

use super::*;
use serde_json::json;

#[test]
fn a_full_configuration_parses() {
    let c = Config::from_value(json!({
        "things": {"a": "Counter", "b": {"type": "Counter", "args": {"start": 3}}},
        "prefix": "/api", "cors_origins": ["http://dash.lab"], "retention_time": 1.5,
        "max_finished_invocations": 10, "host": "127.0.0.1", "port": 0
    }))
    .unwrap();
    assert_eq!(c.things.len(), 2);
    assert_eq!(c.things[1].args, json!({"start": 3}));
    assert_eq!(c.prefix.as_deref(), Some("/api"));
    assert_eq!((c.cors_origins.len(), c.port), (1, Some(0)));
}

#[test]
fn mistakes_name_the_key() {
    let cases = [
        (
            json!({"things": {"a": "T"}, "prot": 1}),
            "prot",
            "not a known key",
        ),
        (
            json!({"things": {"a": {"args": {}}}}),
            "things.a",
            "missing field `type`",
        ),
        (
            json!({"things": {"a": {"type": "T", "arg": 1}}}),
            "things.a.arg",
            "not a known key",
        ),
        (
            json!({"things": {"a b": "T"}}),
            "things",
            "not a valid Thing name",
        ),
        (json!({"things": {"a": 3}}), "things.a", "a Thing type name"),
        (json!({"things": {"a": "T"}, "port": 70000}), "port", "u16"),
        (
            json!({"things": {"a": "T"}, "prefix": "api/"}),
            "prefix",
            "leading slash",
        ),
        (json!({"things": {}}), "things", "at least one"),
    ];
    assert_each_names_its_key(cases);
}

#[test]
fn limits_and_security_mistakes_name_the_key() {
    let cases = [
        (
            json!({"things": {"a": "T"}, "tokens": [{"scope": "operate", "token": "short"}]}),
            "tokens[0].token",
            "at least 16",
        ),
        (
            json!({"things": {"a": "T"}, "tokens": [{"scope": "root", "token": "x"}]}),
            "tokens[0].scope",
            "unknown variant",
        ),
        (
            json!({"things": {"a": "T"}, "tokens": [
                {"scope": "operate", "token": "a-long-random-string-0123", "subject": " "}
            ]}),
            "tokens[0].subject",
            "1 to 200 characters",
        ),
        (
            json!({"things": {"a": "T"}, "limits": {"max_bdy": 1}}),
            "limits.max_bdy",
            "not a known key",
        ),
        (
            json!({"things": {"a": "T"}, "cors_origins": ["*"]}),
            "cors_origins",
            "any web page",
        ),
        (
            json!({"things": {"a": "T"}, "cors_origins": ["http://dash.lab/"]}),
            "cors_origins",
            "without a path",
        ),
        (
            json!({"things": {"a": "T"}, "retention_time": 1e300}),
            "retention_time",
            "a year",
        ),
        (
            json!({"things": {"a": "T"}, "limits": {"body_timeout": 0}}),
            "limits.body_timeout",
            "above 0",
        ),
        (
            json!({"things": {"a": "T"}, "limits": {"page": 500, "max_page": 100}}),
            "limits.page",
            "between 1 and `max_page` (100)",
        ),
        (
            json!({"things": {"a": "T"}, "limits": {"max_websockets": 0}}),
            "limits.max_websockets",
            "at least 1",
        ),
    ];
    assert_each_names_its_key(cases);
}

/// Each configuration is refused, naming the key and the problem.
fn assert_each_names_its_key<const N: usize>(cases: [(serde_json::Value, &str, &str); N]) {
    for (value, key, problem) in cases {
        let (k, p) = Config::from_value(value.clone()).unwrap_err();
        assert_eq!(k, key, "{value}: {p}");
        assert!(p.contains(problem), "{value}: {p}");
    }
}

#[test]
fn files_name_themselves_in_errors() {
    let dir = std::env::temp_dir().join(format!("labthings-config-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let toml_file = dir.join("lab.toml");
    std::fs::write(
        &toml_file,
        "port = 5001\n[things.c]\ntype = \"Counter\"\nargs = { start = 2 }\n",
    )
    .unwrap();
    let c = Config::load(&toml_file).unwrap();
    assert_eq!(
        (c.port, c.things[0].args.clone()),
        (Some(5001), json!({"start": 2}))
    );
    let bad = dir.join("bad.json");
    std::fs::write(&bad, "{\"things\": 3}").unwrap();
    let e = Config::load(&bad).unwrap_err();
    assert_eq!(e.key, "things");
    assert!(e.to_string().starts_with(&bad.display().to_string()), "{e}");
    let bad = dir.join("bad.toml");
    std::fs::write(&bad, "[things.c]\ntype = 3\n").unwrap();
    let e = Config::load(&bad).unwrap_err();
    assert_eq!(e.key, "things.c.type", "{e}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
#[cfg(feature = "metrics")]
fn metrics_can_be_turned_off() {
    use crate::server::ThingServer;
    let config =
        |metrics| Config::from_value(json!({"things": {"a": "Counter"}, "metrics": metrics}));
    let off = config(false).unwrap().apply(ThingServer::new()).unwrap();
    assert!(off.metrics.is_none());
    let on = config(true).unwrap().apply(ThingServer::new()).unwrap();
    assert!(on.metrics.is_some());
}

#[test]
#[cfg(feature = "history")]
fn property_histories_are_bounded_one_by_one_and_unset_fields_take_the_limits() {
    use crate::server::ThingServer;
    use std::time::Duration;
    let config = Config::from_value(json!({
        "things": {"thermo": "Thermo"},
        "limits": {"property_history": 500, "property_history_age": 60},
        "property_history": {"thermo": {"temperature": {"samples": 86400}, "target": {"age": 1.5}}}
    }))
    .unwrap();
    let server = config.apply(ThingServer::new()).unwrap();
    let bounds: Vec<(&str, &str, usize, Duration)> = (server.property_history.iter())
        .map(|(t, p, l)| (t.as_str(), p.as_str(), l.samples, l.age))
        .collect();
    assert_eq!(
        bounds,
        [
            ("thermo", "target", 500, Duration::from_secs_f64(1.5)),
            ("thermo", "temperature", 86400, Duration::from_secs(60)),
        ]
    );
    assert_eq!(server.limits.property_history, 500);
    let wrong = Config::from_value(json!({
        "things": {"thermo": "Thermo"},
        "property_history": {"thermo": {"temperature": {"entries": 5}}}
    }));
    let (key, problem) = wrong.unwrap_err();
    assert_eq!(key, "property_history.thermo.temperature.entries");
    assert!(problem.contains("expected `samples` or `age`"), "{problem}");
}
