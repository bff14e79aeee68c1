use labthings::thing;

#[thing]
struct Stage {
    #[property(name = "x position")]
    x: f64,
    #[property]
    ws: f64,
}

fn main() {}
