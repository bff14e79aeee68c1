//! A type's name does not decide what it is: a user type called `Result` is a value, a user
//! type called `ActionContext` is an argument when written by its path, an alias of `Result`
//! fails the call on `Err`, and types that reach the macro through `macro_rules!` (invisible
//! groups) or in parentheses are seen through. (The typed client names outputs from their
//! tokens and cannot see through `Fallible<T>`: this impl block opts out of it.)

use labthings::{thing, ActionContext, TdOptions, Thing};

mod lab {
    /// A measurement result: an ordinary value that happens to be called `Result`.
    #[derive(serde::Serialize, serde::Deserialize, schemars::JsonSchema)]
    pub struct Result {
        pub value: f64,
    }

    /// A user type called `ActionContext`, passed as an argument.
    #[derive(serde::Serialize, serde::Deserialize, schemars::JsonSchema)]
    pub struct ActionContext {
        pub operator: String,
    }
}

/// `anyhow::Result<T>` and its kind: a `Result` under another name.
type Fallible<T> = std::result::Result<T, String>;

#[thing]
struct Meter {
    #[property]
    offset: f64,
    #[property(name = "a-b")]
    dashed: i64,
    #[property(name = "a_b")]
    underscored: i64,
}

macro_rules! measuring_actions {
    ($context:ty, $returned:ty) => {
        #[thing(no_client)]
        impl Meter {
            #[action]
            fn measure(&self, who: lab::ActionContext) -> lab::Result {
                let _ = who.operator;
                lab::Result { value: self.offset.get() }
            }

            #[action]
            fn checked(&self, ctx: &$context, fail: bool) -> $returned {
                let _ = ctx.is_cancelled();
                if fail { Err("refused".into()) } else { Ok(1) }
            }

            #[action]
            #[allow(unused_parens)]
            fn owned(&self, ctx: $context) -> (i64) {
                let _ = ctx;
                2
            }

            #[property]
            fn reading(&self) -> Fallible<f64> {
                Ok(self.offset.get())
            }
        }
    };
}

measuring_actions!(ActionContext, Fallible<i64>);

fn main() {
    let td = Meter::thing_description(&TdOptions::new("", "meter"));
    // `lab::Result` is the output itself, not a `Result` whose `Ok` is the output.
    assert_eq!(td["actions"]["measure"]["output"]["properties"]["value"]["type"], "number");
    // `lab::ActionContext` is an argument; the real context is not.
    assert_eq!(td["actions"]["measure"]["input"]["required"][0], "who");
    assert_eq!(td["actions"]["checked"]["input"]["required"], serde_json::json!(["fail"]));
    assert!(td["actions"]["owned"].get("input").is_none());
    assert_eq!(td["actions"]["checked"]["output"]["type"], "integer");
    assert_eq!(td["properties"]["reading"]["type"], "number");
    assert!(td["properties"]["a-b"].is_object() && td["properties"]["a_b"].is_object());
}
