use labthings::thing;

/// A `Result` under another name: the server sees through it, the typed client cannot.
type Fallible<T> = std::result::Result<T, String>;

#[thing]
struct Meter {
    #[property]
    offset: f64,
}

#[thing]
impl Meter {
    #[property]
    fn reading(&self) -> Fallible<f64> {
        Ok(self.offset.get())
    }
}

fn main() {}
