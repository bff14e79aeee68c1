//! The typed client has the Thing's own types, `Result`s unwrapped by the type system's
//! verdict, and only the operations the Thing allows.

use labthings::client::{ClientError, EventStream, Invocation, PropertyStream};
use labthings::{ActionContext, Event, thing};

mod error {
    /// An error of this crate: a `Result` alias with one parameter.
    pub type Result<T> = std::result::Result<T, String>;
}

#[thing]
pub struct Stage {
    /// Where it is.
    #[property(observable, read_only)]
    position: [i64; 3],
    /// How fast it moves.
    #[property(observable)]
    speed: f64,
    /// The calibration, written once.
    #[property(write_only)]
    calibration: Vec<f64>,
    /// Emitted on arrival.
    #[event]
    arrived: Event<[i64; 3]>,
}

#[thing]
impl Stage {
    /// Move by `dx`.
    #[action]
    async fn move_by(&self, dx: i64, ctx: &ActionContext) -> error::Result<[i64; 3]> {
        let _ = (dx, ctx);
        Ok(self.position.get())
    }

    /// Home it.
    #[action]
    fn home(&self) {}

    /// The temperature.
    #[property]
    fn temperature(&self) -> Result<f64, String> {
        Ok(20.0)
    }

    /// The label.
    #[property]
    fn label(&self) -> String {
        String::new()
    }

    /// Set the label.
    #[property(setter)]
    fn set_label(&self, label: String) {
        let _ = label;
    }
}

#[allow(dead_code)]
async fn drive(stage: &StageClient) -> Result<(), ClientError> {
    let _: [i64; 3] = stage.position().read().await?;
    let _: PropertyStream<[i64; 3]> = stage.position().observe().await?;
    stage.speed().write(2.5).await?;
    let _: f64 = stage.speed().read().await?;
    stage.calibration().write(vec![1.0]).await?;
    let _: [i64; 3] = stage.move_by(5).await?;
    let _: Invocation<[i64; 3]> = stage.move_by(5).start().await?;
    let () = stage.home().await?;
    let _: f64 = stage.temperature().read().await?;
    stage.label().write("x".to_owned()).await?;
    let _: String = stage.label().read().await?;
    let _: EventStream<[i64; 3]> = stage.arrived().subscribe().await?;
    Ok(())
}

fn main() {}
