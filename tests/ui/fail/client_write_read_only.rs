use labthings::{client::ClientError, thing};

#[thing]
pub struct Sensor {
    /// Counted by the hardware.
    #[property(observable, read_only)]
    count: i64,
}

#[thing]
impl Sensor {
    /// Read from the hardware on every request; no setter.
    #[property]
    fn temperature(&self) -> f64 {
        21.5
    }
}

async fn drive(sensor: &SensorClient) -> Result<(), ClientError> {
    sensor.count().write(3).await?;
    sensor.temperature().write(20.0).await?;
    Ok(())
}

fn main() {}
