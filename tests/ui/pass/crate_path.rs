//! `#[thing(crate = "…")]`: a crate that re-exports labthings under another path.

mod lab {
    pub use labthings as runtime;
}

use lab::runtime::{thing, TdOptions, Thing};

/// A lamp.
#[thing(crate = "lab::runtime")]
struct Lamp {
    /// Whether it is on.
    #[property(observable)]
    on: bool,
}

#[thing(crate = "lab::runtime")]
impl Lamp {
    /// Switch it.
    #[action]
    fn toggle(&self) -> bool {
        self.on.update(|on| {
            *on = !*on;
            *on
        })
    }
}

fn main() {
    let td = Lamp::thing_description(&TdOptions::new("", "lamp"));
    assert_eq!(td["title"], "A lamp.");
    assert_eq!(td["actions"]["toggle"]["output"]["type"], "boolean");
}
