use labthings::thing;

#[thing]
struct Lamp {
    #[property(observeable)]
    on: bool,
}

#[thing]
impl Lamp {
    #[action]
    fn blink(&self, #[arg(minimun = 1)] times: u32) {
        let _ = times;
    }
}

fn main() {}
