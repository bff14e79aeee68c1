use labthings::thing;

/// A camera.
#[thing]
pub struct Camera {
    /// A `#[stream]` must be a `labthings::MjpegStream`.
    #[stream]
    preview: Vec<u8>,
}

fn main() {}
