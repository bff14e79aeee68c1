//! W3C WoT Discovery: from a host name to every TD (`/.well-known/wot`, a Thing Description
//! Directory), and the server found on the network over DNS-SD (mDNS).

// Without `interop`, the helpers of the DNS-SD test go unused.
#![cfg_attr(not(feature = "interop"), allow(dead_code, unused_imports))]

#[path = "../examples/things/counter.rs"]
#[allow(dead_code)]
mod counter;
#[path = "../examples/things/microscope/mod.rs"]
#[allow(unused_imports)]
mod microscope;
mod support;

use std::time::Duration;

use serde_json::Value;

async fn get(url: &str, token: Option<&str>) -> reqwest::Response {
    let mut request = reqwest::Client::new().get(url);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    request.send().await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_well_known_url_leads_to_every_td() {
    const TOKEN: &str = "discovery-token-0123456789";
    let settings = tempfile::tempdir().unwrap();
    let server = labthings::ThingServer::new()
        .settings_dir(settings.path())
        .prefix("/api")
        .token(labthings::Scope::Observe, TOKEN)
        .thing("counter", counter::Counter::new())
        .thing("stage", microscope::Stage::new());
    let (addr, _shutdown) = support::start(server).await;
    let origin = format!("http://{addr}");

    // The introduction needs no token: it is the directory's TD, at the root.
    let response = get(&format!("{origin}/.well-known/wot"), None).await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "application/td+json");
    let directory: Value = response.json().await.unwrap();
    support::td::assert_valid("the directory", &directory);
    assert_eq!(directory["@type"], "ThingDirectory");
    assert_eq!(directory["security"], "bearer");
    let href = directory["properties"]["things"]["forms"][0]["href"]
        .as_str()
        .unwrap();
    let listing = href.trim_end_matches("{?offset,limit,title,type,affordance}");
    assert_eq!(listing, "/api/directory/things");
    let listing = format!("{origin}{listing}");

    // The listing is guarded like the TDs themselves.
    assert_eq!(get(&listing, None).await.status(), 401);
    let response = get(&listing, Some(TOKEN)).await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "application/ld+json");
    let tds: Vec<Value> = response.json().await.unwrap();
    let ids: Vec<&str> = tds.iter().map(|td| td["id"].as_str().unwrap()).collect();
    assert_eq!(ids.len(), 2);
    assert!(ids.windows(2).all(|w| w[0] < w[1]), "sorted by id: {ids:?}");
    for td in &tds {
        support::td::assert_valid("a listed TD", td);
    }

    // Paged: a `next` link until the end.
    let response = get(&format!("{listing}?limit=1"), Some(TOKEN)).await;
    let next = response.headers()["link"].to_str().unwrap().to_owned();
    let first: Vec<Value> = response.json().await.unwrap();
    assert_eq!(first, tds[..1]);
    let next = next
        .strip_prefix('<')
        .and_then(|n| n.split_once(">; rel=\"next\""))
        .unwrap()
        .0;
    let response = get(&format!("{origin}{next}"), Some(TOKEN)).await;
    assert!(response.headers().get("link").is_none());
    let second: Vec<Value> = response.json().await.unwrap();
    assert_eq!(second, tds[1..]);
    // A bad page is a problem.
    let response = get(&format!("{listing}?limit=0"), Some(TOKEN)).await;
    assert_eq!(response.status(), 400);
    assert_eq!(
        response.headers()["content-type"],
        "application/problem+json"
    );
}

/// Whether a network interface other than loopback is up and takes multicast.
fn multicast_interface() -> bool {
    let Ok(dir) = std::fs::read_dir("/sys/class/net") else {
        return false;
    };
    dir.flatten().any(|entry| {
        let flags = std::fs::read_to_string(entry.path().join("flags")).unwrap_or_default();
        let flags = u32::from_str_radix(flags.trim().trim_start_matches("0x"), 16).unwrap_or(0);
        let (up, loopback, multicast) = (flags & 0x1 != 0, flags & 0x8 != 0, flags & 0x1000 != 0);
        up && !loopback && multicast
    })
}

#[cfg(feature = "interop")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_server_is_found_over_dns_sd() {
    if !multicast_interface() {
        support::needs::missing(
            "the DNS-SD test",
            "a network interface other than loopback that takes multicast",
        );
    }
    let id = format!("discovery-test-{}", std::process::id());
    let server = labthings::ThingServer::new()
        .server_id(&id)
        .advertise(true)
        .thing("counter", counter::Counter::new());
    let listener = tokio::net::TcpListener::bind("0.0.0.0:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let shutdown = server.shutdown_handle();
    tokio::spawn(std::future::IntoFuture::into_future(server.serve(listener)));

    let browser = mdns_sd::ServiceDaemon::new().unwrap();
    let found = browser.browse("_wot._tcp.local.").unwrap();
    let resolved = tokio::time::timeout(Duration::from_secs(20), async {
        loop {
            match found.recv_async().await.unwrap() {
                mdns_sd::ServiceEvent::ServiceResolved(info)
                    if info.get_fullname().starts_with(&id) =>
                {
                    return info;
                }
                _ => {}
            }
        }
    })
    .await
    .expect("the advertisement is found within 20 s");
    assert_eq!(resolved.get_port(), port);
    assert_eq!(
        resolved.get_property_val_str("td"),
        Some("/.well-known/wot")
    );
    assert_eq!(resolved.get_property_val_str("type"), Some("Directory"));
    assert_eq!(resolved.get_property_val_str("scheme"), Some("http"));
    // The TD path leads to the directory, from an address the advertisement gives.
    let ip = resolved
        .get_addresses_v4()
        .into_iter()
        .next()
        .expect("an IPv4 address");
    let url = format!("http://{ip}:{port}/.well-known/wot");
    let directory: Value = get(&url, None).await.json().await.unwrap();
    assert_eq!(directory["@type"], "ThingDirectory");
    shutdown.shutdown();
    let _ = browser.shutdown();
}
