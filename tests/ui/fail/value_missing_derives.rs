use labthings::thing;

#[derive(serde::Serialize, serde::Deserialize)]
struct Pose {
    x: f64,
}

struct Frame;

#[thing]
struct Camera {
    #[property]
    pose: Pose,
}

#[thing]
impl Camera {
    #[action]
    fn grab(&self) -> Frame {
        Frame
    }
}

fn main() {}
