use labthings::{thing, ActionContext, TaskContext, Thing, TdOptions};

/// A stage.
#[thing(title = "Stage")]
struct Stage {
    /// Position.
    #[property(observable, minimum = -10.5, maximum = 10.5)]
    position: f64,
    #[property(write_only)]
    secret: String,
    #[property(min_length = 1, max_length = 3)]
    axes: Vec<String>,
    #[property(pattern = "^[a-z]+$")]
    name: Option<String>,
    handle: u32,
}

#[thing]
impl Stage {
    /// A synchronous loop that checks for cancellation itself.
    #[task]
    fn watch(&self, ctx: &TaskContext) {
        while !ctx.is_cancelled() {
            std::thread::yield_now();
        }
    }

    /// An async loop without its context (it is dropped at shutdown).
    #[task]
    async fn idle(&self) -> Result<(), String> {
        Ok(())
    }

    /// One that owns its context.
    #[task]
    async fn owned(&self, ctx: TaskContext) {
        ctx.cancelled().await;
    }

    #[property]
    async fn moving(&self) -> bool {
        false
    }

    #[property]
    fn speed(&self) -> Result<f64, std::io::Error> {
        Ok(1.0)
    }

    #[property(setter)]
    fn set_speed(&self, value: f64) -> Result<(), std::io::Error> {
        let _ = value;
        Ok(())
    }

    #[property(setter, name = "target")]
    async fn aim(&self, value: f64) {
        let _ = value;
    }

    #[action(safe, idempotent)]
    fn status(&self) -> String {
        String::new()
    }

    #[action]
    async fn move_to(&self, ctx: &ActionContext, x: f64, wait: Option<bool>) -> Result<f64, std::io::Error> {
        let _ = (ctx, wait, self.handle);
        Ok(x)
    }

    #[action]
    fn owned_context(&self, ctx: ActionContext) {
        let _ = ctx;
    }

    fn helper(&self) {}
}

#[tokio::main]
async fn main() {
    let stage = Stage {
        position: 0.0.into(),
        secret: String::new().into(),
        axes: Vec::new().into(),
        name: None.into(),
        handle: 0,
    };
    let mut changes = stage.position.subscribe();
    stage.position.set(1.0);
    assert_eq!(changes.changed().await, Some(1.0));
    stage.helper();
    let td = Stage::thing_description(&TdOptions::new("", "stage"));
    assert_eq!(td["title"], "Stage");
    assert_eq!(td["properties"]["target"]["writeOnly"], true);
    assert_eq!(td["properties"]["moving"]["readOnly"], true);
}
