//! Client leases over real HTTP and the Web Thing Protocol: one client takes a lease on a
//! Thing, and until it releases it (or an administrator breaks it, or it expires) other
//! clients' writes and invocations are refused with 423, while reads stay open; the holder's
//! own requests pass when they present the lease, which belongs to the token it was taken with.

mod support;

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use labthings::{Scope, Slot, ThingServer, thing};
use serde_json::{Value, json};
use support::ws::{Socket, next, send, wtp};

const VIEWER: &str = "viewer-token-0123456789";
const ALICE: &str = "alice-operator-token-0123";
const BOB: &str = "bob-operator-token-0123456";
const ADMIN: &str = "admin-token-0123456789abc";

/// A bench that counts its runs.
#[derive(Debug)]
#[thing]
pub struct Bench {
    /// A level.
    #[property(observable)]
    level: i64,
    /// How many times `fire` ran.
    runs: AtomicU64,
}

#[thing]
impl Bench {
    /// Count one run.
    #[action]
    fn fire(&self) {
        self.runs.fetch_add(1, Ordering::SeqCst);
    }
}

/// A Thing whose action drives the bench through a slot.
#[derive(Debug)]
#[thing]
pub struct Driver {
    /// The bench it drives.
    #[slot]
    bench: Slot<Bench>,
}

#[thing]
impl Driver {
    /// Set the bench's level to 9.
    #[action]
    fn drive(&self) {
        self.bench.get().level.set(9);
    }
}

struct Bed {
    addr: SocketAddr,
    bench: Arc<Bench>,
    http: reqwest::Client,
}

/// A status, the answer's JSON body and its `Location`, if any.
type Answer = (u16, Value, Option<String>);

impl Bed {
    async fn start() -> Self {
        let bench = Arc::new(Bench {
            level: 0.into(),
            runs: AtomicU64::new(0),
        });
        let server = ThingServer::new()
            .shared_thing("bench", bench.clone())
            .thing("driver", Driver { bench: Slot::new() })
            .token(Scope::Observe, VIEWER)
            .token(Scope::Operate, ALICE)
            .token(Scope::Operate, BOB)
            .token(Scope::Admin, ADMIN);
        let (addr, _) = support::start(server).await;
        Self {
            addr,
            bench,
            http: reqwest::Client::new(),
        }
    }

    /// A request by the holder of `token`, presenting `lease` if given.
    async fn send(
        &self,
        method: &str,
        path: &str,
        body: Option<Value>,
        token: &str,
        lease: Option<&str>,
    ) -> Answer {
        let url = format!("http://{}{path}", self.addr);
        let mut request = (self.http)
            .request(method.parse().unwrap(), url)
            .bearer_auth(token);
        if let Some(body) = body {
            request = request.json(&body);
        }
        if let Some(lease) = lease {
            request = request.header("LabThings-Lease", lease);
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        let location = (response.headers().get("location")).map(|l| l.to_str().unwrap().to_owned());
        let body = response.json().await.unwrap_or(Value::Null);
        (status, body, location)
    }

    /// Take a lease for `token`: its id.
    async fn take(&self, token: &str, seconds: f64) -> String {
        let body = Some(json!({ "seconds": seconds }));
        let (status, lease, location) = self.send("POST", "/bench/lease", body, token, None).await;
        assert_eq!(status, 201, "{lease}");
        let id = lease["id"].as_str().expect("an id").to_owned();
        assert_eq!(location, Some(format!("/bench/lease/{id}")));
        assert_eq!(lease["seconds"], seconds, "{lease}");
        id
    }

    /// The status of a write of the level by `token` with `lease`.
    async fn write(&self, token: &str, lease: Option<&str>) -> (u16, Value) {
        let (status, body, _) =
            (self.send("PUT", "/bench/level", Some(json!(5)), token, lease)).await;
        (status, body)
    }

    /// The status of an invocation of `fire` by `token` with `lease`.
    async fn invoke(&self, token: &str, lease: Option<&str>) -> (u16, Value) {
        let (status, body, _) = self.send("POST", "/bench/fire", None, token, lease).await;
        (status, body)
    }

    async fn wtp_socket(&self, token: &str) -> Socket {
        support::ws::connect_wtp_as(self.addr, "bench", token).await
    }

    /// How many invocations the server has created (a refused one creates none).
    async fn invocations(&self) -> usize {
        let (_, list, _) = (self.send("GET", "/action_invocations", None, VIEWER, None)).await;
        list.as_array().expect("a listing").len()
    }
}

/// The 423 of a Thing leased by another client.
fn assert_leased(answer: &(u16, Value)) {
    let (status, problem) = answer;
    assert_eq!(*status, 423, "{problem}");
    let detail = problem["detail"].as_str().unwrap();
    assert!(
        detail.starts_with("'bench' is leased by another client until 20"),
        "{detail}"
    );
}

#[tokio::test]
async fn a_lease_holds_off_other_clients_until_released_or_broken() {
    let bed = Bed::start().await;
    let id = bed.take(ALICE, 60.0).await;
    let alice = Some(id.as_str());

    // Others: refused writes and invocations, open reads; nothing ran.
    assert_leased(&bed.write(BOB, None).await);
    assert_leased(&bed.invoke(BOB, None).await);
    // The id alone is not the lease: it belongs to the token it was taken with.
    assert_leased(&bed.write(BOB, alice).await);
    let (status, level, _) = bed.send("GET", "/bench/level", None, BOB, None).await;
    assert_eq!((status, level), (200, json!(0)));
    let (_, seen, _) = bed.send("GET", "/bench/lease", None, VIEWER, None).await;
    assert_eq!(seen["leased"], true, "{seen}");
    assert!(
        seen["expires"].is_string() && seen.get("id").is_none(),
        "{seen}"
    );
    // A second lease waits for the first.
    let (status, _, _) = (bed.send(
        "POST",
        "/bench/lease",
        Some(json!({"seconds": 5})),
        BOB,
        None,
    ))
    .await;
    assert_eq!(status, 423);
    // The holder without its lease is refused too; with it, passes.
    assert_leased(&bed.write(ALICE, None).await);
    assert_eq!(bed.write(ALICE, alice).await.0, 201);
    assert_eq!(bed.invoke(ALICE, alice).await.0, 201);
    assert_eq!((bed.bench.level.get(), bed.invocations().await), (5, 1));

    // Renewed for longer, by its holder only.
    let renewal = Some(json!({"seconds": 120}));
    let path = format!("/bench/lease/{id}");
    let (status, renewed, _) = bed.send("PUT", &path, renewal.clone(), ALICE, None).await;
    assert_eq!(
        (status, &renewed["seconds"], &renewed["id"]),
        (200, &json!(120.0), &json!(id))
    );
    assert_eq!(bed.send("PUT", &path, renewal, BOB, None).await.0, 404);
    assert_eq!(bed.send("DELETE", &path, None, BOB, None).await.0, 404);

    // Breaking needs `admin`.
    for token in [VIEWER, BOB] {
        let (status, problem, _) = bed.send("DELETE", "/bench/lease", None, token, None).await;
        assert_eq!(status, 403, "{problem}");
    }
    assert_eq!(
        bed.send("DELETE", "/bench/lease", None, ADMIN, None)
            .await
            .0,
        204
    );
    assert_eq!(bed.write(BOB, None).await.0, 201);
    assert_eq!(
        bed.send("DELETE", "/bench/lease", None, ADMIN, None)
            .await
            .0,
        404
    );
    // A broken lease is gone for its holder too.
    assert_eq!(bed.send("DELETE", &path, None, ALICE, None).await.0, 404);

    // Released by its holder.
    let id = bed.take(BOB, 60.0).await;
    assert_leased(&bed.invoke(ALICE, None).await);
    let path = format!("/bench/lease/{id}");
    assert_eq!(bed.send("DELETE", &path, None, BOB, None).await.0, 204);
    assert_eq!(bed.invoke(ALICE, None).await.0, 201);
    let (_, seen, _) = bed.send("GET", "/bench/lease", None, VIEWER, None).await;
    assert_eq!(seen, json!({"leased": false}));
}

#[tokio::test]
async fn an_idle_lease_expires_and_bad_requests_are_refused() {
    let bed = Bed::start().await;
    // A lease of one second, left idle: whatever the machine's load, once that second has
    // passed it is gone (no event marks an expiry: the clock does). That it holds others off
    // while it lasts, the other tests show with longer leases.
    let id = bed.take(ALICE, 1.0).await;
    tokio::time::sleep(Duration::from_millis(1_200)).await;
    assert_eq!(bed.write(BOB, None).await.0, 201);
    let path = format!("/bench/lease/{id}");
    assert_eq!(bed.send("PUT", &path, None, ALICE, None).await.0, 404);

    for body in [
        json!({"seconds": 0.5}),
        json!({"seconds": 3601}),
        json!({"seconds": "60"}),
        json!({"for": 60}),
        json!({}),
    ] {
        let (status, problem, _) =
            (bed.send("POST", "/bench/lease", Some(body.clone()), ALICE, None)).await;
        assert_eq!(status, 422, "{body}: {problem}");
    }
    let (status, problem, _) = bed
        .send(
            "POST",
            "/bench/lease",
            Some(json!({"seconds": 9})),
            VIEWER,
            None,
        )
        .await;
    assert_eq!(status, 403, "{problem}");
    let detail = problem["detail"].as_str().unwrap();
    assert!(detail.contains("taking a lease"), "{problem}");
    let (status, problem) = bed.write(ALICE, Some("not-a-lease")).await;
    assert_eq!(status, 400, "{problem}");
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .contains("LabThings-Lease"),
        "{problem}"
    );
    // A dry run is refused as the request is, and does not take the lease.
    let id = bed.take(ALICE, 60.0).await;
    let (status, dry, _) =
        (bed.send("PUT", "/bench/level?dryRun=true", Some(json!(3)), BOB, None)).await;
    let real = bed.write(BOB, None).await;
    assert_eq!((status, &dry["detail"]), (real.0, &real.1["detail"]));
    let (status, dry, _) = (bed.send(
        "PUT",
        "/bench/level?dryRun=true",
        Some(json!(3)),
        ALICE,
        Some(&id),
    ))
    .await;
    assert_eq!((status, &dry["dryRun"]), (200, &json!(true)), "{dry}");
    assert_eq!(bed.bench.level.get(), 5);
}

/// A Web Thing Protocol request's reply.
async fn ask(socket: &mut Socket, operation: &str, extra: Value) -> Value {
    send(socket, wtp(operation, extra)).await;
    next(socket).await
}

#[tokio::test]
async fn the_web_thing_protocol_takes_presents_and_releases_leases() {
    let bed = Bed::start().await;
    let mut alice = bed.wtp_socket(ALICE).await;
    let mut bob = bed.wtp_socket(BOB).await;
    let taken = ask(&mut alice, "takelease", json!({"seconds": 60})).await;
    let id = taken["lease"]["id"].as_str().expect("a lease").to_owned();
    assert_eq!(taken["lease"]["seconds"], 60.0, "{taken}");

    // Bob: the HTTP refusal, status and detail; his socket stays open.
    let over_http = bed.write(BOB, None).await;
    let refused = ask(
        &mut bob,
        "writeproperty",
        json!({"name": "level", "value": 2}),
    )
    .await;
    assert_eq!(refused["error"]["status"], 423, "{refused}");
    assert_eq!(
        refused["error"]["detail"], over_http.1["detail"],
        "{refused}"
    );
    let refused = ask(&mut bob, "invokeaction", json!({"name": "fire"})).await;
    assert_eq!(refused["error"]["status"], 423, "{refused}");
    let read = ask(&mut bob, "readproperty", json!({"name": "level"})).await;
    assert_eq!(read["value"], 0, "{read}");
    let seen = ask(&mut bob, "querylease", json!({})).await;
    assert_eq!(seen["lease"]["leased"], true, "{seen}");
    let refused = ask(&mut bob, "breaklease", json!({})).await;
    assert_eq!(refused["error"]["status"], 403, "{refused}");

    // Alice presents it; over HTTP, the same lease works.
    let wrote = ask(
        &mut alice,
        "writeproperty",
        json!({"name": "level", "value": 2, "lease": id}),
    )
    .await;
    assert!(wrote.get("error").is_none(), "{wrote}");
    let fired = ask(
        &mut alice,
        "invokeaction",
        json!({"name": "fire", "lease": id}),
    )
    .await;
    assert!(fired.get("error").is_none(), "{fired}");
    assert_eq!(bed.invoke(ALICE, Some(&id)).await.0, 201);
    let renewed = ask(
        &mut alice,
        "renewlease",
        json!({"lease": id, "seconds": 30}),
    )
    .await;
    assert_eq!(renewed["lease"]["seconds"], 30.0, "{renewed}");
    let released = ask(&mut alice, "releaselease", json!({"lease": id})).await;
    assert_eq!(released["released"], json!(id), "{released}");
    let wrote = ask(
        &mut bob,
        "writeproperty",
        json!({"name": "level", "value": 4}),
    )
    .await;
    assert!(wrote.get("error").is_none(), "{wrote}");
    assert_eq!((bed.bench.level.get(), bed.invocations().await), (4, 2));

    // An administrator breaks another's lease.
    let mut admin = bed.wtp_socket(ADMIN).await;
    ask(&mut bob, "takelease", json!({"seconds": 60})).await;
    let broken = ask(&mut admin, "breaklease", json!({})).await;
    assert!(broken.get("error").is_none(), "{broken}");
    assert_eq!(bed.write(ALICE, None).await.0, 201);
}

#[tokio::test]
async fn a_lease_holds_the_things_that_drive_it_too() {
    let bed = Bed::start().await;
    let id = bed.take(ALICE, 60.0).await;
    // Bob cannot move the bench through another Thing's slot.
    let (status, problem, _) = bed.send("POST", "/driver/drive", None, BOB, None).await;
    assert_eq!(status, 423, "{problem}");
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .starts_with("'bench' is leased"),
        "{problem}"
    );
    // Alice can, with her lease.
    let (status, _, _) = bed
        .send("POST", "/driver/drive", None, ALICE, Some(&id))
        .await;
    assert_eq!(status, 201);
    // A lease that is no longer held is refused, not silently ignored.
    assert_eq!(
        bed.send("DELETE", &format!("/bench/lease/{id}"), None, ALICE, None)
            .await
            .0,
        204
    );
    let (status, problem) = bed.write(ALICE, Some(&id)).await;
    assert_eq!(status, 409, "{problem}");
    assert!(
        problem["detail"].as_str().unwrap().contains("is not held"),
        "{problem}"
    );
    assert_eq!(bed.write(ALICE, None).await.0, 201);
}

#[tokio::test]
async fn the_td_says_how_to_lease() {
    let bed = Bed::start().await;
    let (_, td, _) = bed.send("GET", "/bench/", None, VIEWER, None).await;
    assert_eq!(td["lt:lease"]["href"], "lease", "{td}");
    assert_eq!(td["lt:lease"]["header"], "LabThings-Lease", "{td}");
    let context = td["@context"].as_array().unwrap();
    assert!(context.iter().any(|c| c["lt"] == labthings::td::LT_CONTEXT));
}
