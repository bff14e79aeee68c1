use labthings::thing;

#[thing]
struct Camera {
    #[property(read_only, write_only)]
    secret: String,
}

fn main() {}
