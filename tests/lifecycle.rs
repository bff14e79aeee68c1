//! Start and stop hooks in slot order, a failing start that stops what had started, and
//! settings files with mistakes that are used as far as they are valid and kept aside.

mod support;

use std::sync::{Arc, Mutex};

use labthings::{Slot, thing};

/// What the hooks did, in order.
type Journal = Arc<Mutex<Vec<String>>>;

fn note(journal: &Journal, entry: String) {
    journal.lock().unwrap().push(entry);
}

/// A power supply: started first, stopped last.
#[thing]
#[derive(Debug)]
pub struct Power {
    journal: Journal,
}

#[thing]
impl Power {
    /// Switch on.
    #[on_start]
    async fn on(&self) {
        note(&self.journal, "start power".into());
    }

    /// Switch off.
    #[on_stop]
    async fn off(&self) {
        note(&self.journal, "stop power".into());
    }
}

/// A motor driven by the power supply.
#[thing]
#[derive(Debug)]
pub struct Motor {
    #[slot]
    power: Slot<Power>,
    journal: Journal,
}

#[thing]
impl Motor {
    /// Energise the motor (a synchronous hook).
    #[on_start]
    fn energise(&self) {
        note(&self.journal, "start motor".into());
    }

    /// Release the motor.
    #[on_stop]
    fn release(&self) {
        note(&self.journal, "stop motor".into());
    }
}

/// A controller that needs the motor, and may not find its hardware.
#[thing]
#[derive(Debug)]
pub struct Controller {
    #[slot]
    motor: Slot<Motor>,
    journal: Journal,
    present: bool,
}

#[thing]
impl Controller {
    /// Open the serial port.
    #[on_start]
    async fn open(&self) -> Result<(), String> {
        if !self.present {
            return Err("no controller answers on /dev/ttyUSB0".into());
        }
        note(&self.journal, "start controller".into());
        Ok(())
    }

    /// Close the serial port.
    #[on_stop]
    async fn close(&self) {
        note(&self.journal, "stop controller".into());
    }
}

/// The Things declared in an order their slots reverse: the controller needs the motor,
/// which needs the power.
fn server(journal: &Journal, present: bool) -> labthings::ThingServer {
    labthings::ThingServer::new()
        .thing(
            "controller",
            Controller {
                motor: Slot::new(),
                journal: journal.clone(),
                present,
            },
        )
        .thing(
            "motor",
            Motor {
                power: Slot::new(),
                journal: journal.clone(),
            },
        )
        .thing(
            "power",
            Power {
                journal: journal.clone(),
            },
        )
}

#[tokio::test]
async fn hooks_run_in_slot_order_and_stop_in_reverse() {
    let journal = Journal::default();
    let started = server(&journal, true).start().await.unwrap();
    assert_eq!(
        *journal.lock().unwrap(),
        ["start power", "start motor", "start controller"]
    );
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let serving = tokio::spawn(std::future::IntoFuture::into_future(
        started.serve(listener).with_graceful_shutdown(async move {
            let _ = stopped.await;
        }),
    ));
    let td: serde_json::Value = reqwest::get(format!("http://{addr}/controller/"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        td["title"],
        "A controller that needs the motor, and may not find its hardware."
    );
    assert_eq!(
        journal.lock().unwrap().len(),
        3,
        "nothing stopped while serving"
    );
    stop.send(()).unwrap();
    serving.await.unwrap().unwrap();
    assert_eq!(
        journal.lock().unwrap()[3..],
        ["stop controller", "stop motor", "stop power"]
    );
}

#[tokio::test]
async fn a_failing_start_stops_what_had_started_in_reverse() {
    let journal = Journal::default();
    let error = server(&journal, false).start().await.unwrap_err();
    assert_eq!(
        error.problems,
        ["Thing 'controller' could not start: no controller answers on /dev/ttyUSB0"]
    );
    assert_eq!(
        *journal.lock().unwrap(),
        ["start power", "start motor", "stop motor", "stop power"]
    );
}

/// A dial whose position and label are settings.
#[thing]
#[derive(Debug)]
pub struct Dial {
    /// Where the dial points.
    #[property(setting, minimum = 0, maximum = 10)]
    pub level: i64,
    /// What the dial is for.
    #[property(setting)]
    pub label: String,
}

fn new_dial() -> Dial {
    Dial {
        level: 5.into(),
        label: "unnamed".to_owned().into(),
    }
}

#[tokio::test]
async fn a_settings_file_with_mistakes_is_used_where_valid_and_kept_aside() {
    support::logs::capture();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("dial.json");
    let original = "{\"level\": 99, \"label\": \"gain\", \"colour\": \"red\"}\n";
    std::fs::write(&file, original).unwrap();

    let dial = Arc::new(new_dial());
    let started = labthings::ThingServer::new()
        .settings_dir(dir.path())
        .shared_thing("dial", dial.clone())
        .start()
        .await
        .unwrap();
    assert_eq!(dial.label.get(), "gain", "the valid key was used");
    assert_eq!(dial.level.get(), 5, "the invalid value was not");
    let shown = file.display().to_string();
    assert!(support::logs::logged(&[&shown, "level", "not valid"]));
    assert!(support::logs::logged(&[&shown, "colour", "not a setting"]));
    let bad = dir.path().join("dial.json.bad");
    assert_eq!(std::fs::read_to_string(&bad).unwrap(), original);

    // Serving and stopping without a change does not rewrite the file.
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let serving = tokio::spawn(std::future::IntoFuture::into_future(
        started.serve(listener).with_graceful_shutdown(async move {
            let _ = stopped.await;
        }),
    ));
    stop.send(()).unwrap();
    serving.await.unwrap().unwrap();
    assert_eq!(std::fs::read_to_string(&file).unwrap(), original);

    // A change from Rust code is saved (at shutdown at the latest); the copy stays.
    let dial = Arc::new(new_dial());
    let started = labthings::ThingServer::new()
        .settings_dir(dir.path())
        .shared_thing("dial", dial.clone())
        .start()
        .await
        .unwrap();
    dial.level.set(7);
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let serving = tokio::spawn(std::future::IntoFuture::into_future(
        started.serve(listener).with_graceful_shutdown(async move {
            let _ = stopped.await;
        }),
    ));
    stop.send(()).unwrap();
    serving.await.unwrap().unwrap();
    let saved: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    assert_eq!(saved, serde_json::json!({"level": 7, "label": "gain"}));
    assert_eq!(std::fs::read_to_string(&bad).unwrap(), original);
}

#[tokio::test]
async fn a_settings_file_that_is_not_json_leaves_the_defaults() {
    support::logs::capture();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("dial.json");
    std::fs::write(&file, "{\"level\": 3, \"lab").unwrap();
    let dial = Arc::new(new_dial());
    let _started = labthings::ThingServer::new()
        .settings_dir(dir.path())
        .shared_thing("dial", dial.clone())
        .start()
        .await
        .unwrap();
    assert_eq!(
        (dial.level.get(), dial.label.get().as_str()),
        (5, "unnamed")
    );
    assert!(support::logs::logged(&[
        &file.display().to_string(),
        "not valid JSON"
    ]));
    assert_eq!(
        std::fs::read_to_string(dir.path().join("dial.json.bad")).unwrap(),
        "{\"level\": 3, \"lab"
    );
    assert_eq!(
        std::fs::read_to_string(&file).unwrap(),
        "{\"level\": 3, \"lab"
    );
}

/// Its own type under another name, which the macro cannot see through (`Slot<Selfish>` is a
/// compile error).
type Me = Selfish;

/// A Thing that (by mistake) holds a slot to its own type.
#[thing]
#[derive(Debug)]
pub struct Selfish {
    /// Meant to reach its own properties.
    #[slot]
    this: Slot<Me>,
}

#[tokio::test]
async fn a_slot_to_the_thing_itself_is_named_as_such() {
    let alone = labthings::ThingServer::new().thing("me", Selfish { this: Slot::new() });
    let error = alone.start().await.unwrap_err();
    assert_eq!(error.problems.len(), 1, "{error}");
    let problem = &error.problems[0];
    assert!(
        problem.contains(
            "Thing 'me', slot `this`: the only `Selfish` of this server is Thing 'me' itself"
        ),
        "{problem}"
    );
    assert!(
        problem.contains("through `self`") && problem.contains("remove the slot"),
        "{problem}"
    );
    // Named in the configuration, it is the same mistake.
    let named = labthings::ThingServer::new()
        .thing("me", Selfish { this: Slot::new() })
        .slot("me", "this", ["me"]);
    let error = named.start().await.unwrap_err();
    assert!(
        error.problems[0].contains("the configuration names 'me', the Thing itself"),
        "{error}"
    );
}
