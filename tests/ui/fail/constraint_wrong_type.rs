use labthings::thing;

#[thing]
struct Camera {
    #[property(max_length = 64)]
    frames: i64,
    #[property(minimum = 0)]
    name: String,
}

fn main() {}
