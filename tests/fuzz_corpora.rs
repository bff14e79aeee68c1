//! The fuzz targets' saved corpora (`fuzz/corpus/`) and the inputs of crashes found and fixed
//! (`fuzz/regressions/`), replayed through the same harness as the fuzzers
//! (`fuzz/harness.rs`): every input that ever found a bug stays a test.

#[path = "../examples/things/counter.rs"]
#[allow(dead_code)]
mod counter;
#[path = "../fuzz/harness.rs"]
#[allow(dead_code, unreachable_pub)]
mod harness;
#[path = "../examples/things/microscope/mod.rs"]
mod microscope;

#[path = "../labthings-macros/src/expand/mod.rs"]
#[allow(dead_code)]
mod expand;
#[path = "../labthings-macros/src/internals/mod.rs"]
#[allow(dead_code)]
mod internals;
#[path = "../labthings-macros/src/pipeline.rs"]
#[allow(dead_code)]
mod pipeline;

/// Run every saved input of `target` through `run`, on a thread with a large stack: the
/// corpora hold deeply nested token trees, which the parsers recurse into, and frames of
/// unoptimised builds are several times those of the optimised fuzz targets; returns how
/// many inputs there were.
fn replay(target: &'static str, run: fn(&[u8])) -> usize {
    std::thread::Builder::new()
        .stack_size(64 << 20)
        .spawn(move || replay_here(target, run))
        .unwrap()
        .join()
        .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
}

fn replay_here(target: &str, run: fn(&[u8])) -> usize {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz");
    let mut count = 0;
    for dir in ["corpus", "regressions"] {
        let Ok(entries) = std::fs::read_dir(root.join(dir).join(target)) else {
            continue;
        };
        let mut files: Vec<_> = entries.map(|e| e.unwrap().path()).collect();
        files.sort();
        for file in files {
            let data = std::fs::read(&file).unwrap();
            let result = std::panic::catch_unwind(|| run(&data));
            assert!(result.is_ok(), "{} fails again", file.display());
            count += 1;
        }
    }
    assert!(count > 0, "no saved inputs for {target}");
    count
}

#[test]
fn ws_message_corpus() {
    replay("ws_message", harness::ws_message);
}

#[test]
fn values_corpus() {
    replay("values", harness::values);
}

#[test]
fn config_corpus() {
    replay("config", harness::config);
}

#[test]
fn settings_corpus() {
    replay("settings", harness::settings);
}

#[test]
fn macro_attr_corpus() {
    replay("macro_attr", harness::macro_attr);
}
