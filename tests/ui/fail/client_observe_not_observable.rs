use labthings::{client::ClientError, thing};

#[thing]
pub struct Sensor {
    /// A label nobody observes.
    #[property]
    label: String,
}

async fn watch(sensor: &SensorClient) -> Result<(), ClientError> {
    let _labels = sensor.label().observe().await?;
    Ok(())
}

fn main() {}
