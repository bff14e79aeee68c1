//! Starting and stopping the Things of a server: slots connected, settings loaded, start hooks
//! run in slot order (and undone in reverse on failure), stop hooks run in reverse.

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use super::device::Device;
use super::hosted::DynThing;
use crate::slot::SlotKind;

/// Why a server could not start: every problem, one per line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct StartError {
    /// The problems, each naming the Thing (and the slot) at fault.
    pub problems: Vec<String>,
}

impl fmt::Display for StartError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.problems.join("\n"))
    }
}

/// The Things slots name in the configuration: `(thing, slot)` to Thing names.
pub(crate) type SlotNames = HashMap<(String, String), Vec<String>>;

/// Connect every slot, and return the order in which the Things start: each after the
/// Things its slots name. Nothing is connected unless every slot can be.
pub(crate) fn connect_slots(
    things: &[(String, Arc<dyn DynThing>)],
    names: &SlotNames,
) -> Result<Vec<usize>, StartError> {
    let index: HashMap<&str, usize> = things
        .iter()
        .enumerate()
        .map(|(i, (name, _))| (name.as_str(), i))
        .collect();
    let mut problems = Vec::new();
    let mut connections = Vec::new();
    let mut depends: Vec<Vec<usize>> = vec![Vec::new(); things.len()];
    for (i, (name, thing)) in things.iter().enumerate() {
        for (slot, cell) in thing.slots() {
            let at = format!("Thing '{name}', slot `{slot}`");
            let wanted = cell.target();
            let targets: Vec<usize> = match names.get(&(name.clone(), slot.to_owned())) {
                Some(named) => {
                    let mut found = Vec::new();
                    for target in named {
                        match index.get(target.as_str()) {
                            None => problems.push(format!(
                                "{at}: the configuration names '{target}', which is not a Thing of this server"
                            )),
                            Some(&j) if things[j].1.type_id() != wanted => problems.push(format!(
                                "{at}: the configuration names '{target}', a `{}`, but the slot holds a `{}`",
                                things[j].1.type_name(),
                                short(cell.target_name())
                            )),
                            Some(&j) => found.push(j),
                        }
                    }
                    found
                }
                None => (0..things.len())
                    .filter(|&j| j != i && things[j].1.type_id() == wanted)
                    .collect(),
            };
            let configured = names.contains_key(&(name.clone(), slot.to_owned()));
            let candidates = || {
                targets
                    .iter()
                    .map(|&j| format!("'{}'", things[j].0))
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            let ok = match (cell.kind(), targets.len()) {
                (SlotKind::One, 0) if !configured => {
                    problems.push(format!(
                        "{at}: no Thing of this server is a `{}`",
                        short(cell.target_name())
                    ));
                    false
                }
                (SlotKind::One | SlotKind::Optional, n) if n > 1 => {
                    problems.push(format!(
                        "{at}: {} could fill it ({}): name one in the configuration, `slots = {{ {slot} = \"...\" }}`",
                        n,
                        candidates()
                    ));
                    false
                }
                (SlotKind::One, 0) => false,
                _ => true,
            };
            if ok {
                depends[i].extend(&targets);
                connections.push((cell, targets));
            }
        }
    }
    let order = match start_order(&depends) {
        Ok(order) => order,
        Err(cycle) => {
            let names: Vec<&str> = cycle.iter().map(|&i| things[i].0.as_str()).collect();
            problems.push(format!(
                "the slots of {} form a cycle ({}): no Thing of it could start first",
                names.join(", "),
                names.join(" → ")
            ));
            Vec::new()
        }
    };
    if !problems.is_empty() {
        return Err(StartError { problems });
    }
    for (cell, targets) in connections {
        let things = targets
            .into_iter()
            .map(|j| (things[j].0.clone(), things[j].1.as_any()))
            .collect();
        cell.connect(things);
    }
    Ok(order)
}

/// `labthings::examples::Stage` → `Stage`.
fn short(type_name: &str) -> &str {
    type_name.rsplit("::").next().unwrap_or(type_name)
}

/// A topological order of `depends` (each node after those it depends on, otherwise in
/// declaration order), or a cycle.
fn start_order(depends: &[Vec<usize>]) -> Result<Vec<usize>, Vec<usize>> {
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        New,
        Visiting,
        Done,
    }
    fn visit(
        node: usize,
        depends: &[Vec<usize>],
        marks: &mut [Mark],
        path: &mut Vec<usize>,
        order: &mut Vec<usize>,
    ) -> Result<(), Vec<usize>> {
        match marks[node] {
            Mark::Done => return Ok(()),
            Mark::Visiting => {
                let start = path.iter().position(|&n| n == node).unwrap_or(0);
                let mut cycle = path[start..].to_vec();
                cycle.push(node);
                return Err(cycle);
            }
            Mark::New => {}
        }
        marks[node] = Mark::Visiting;
        path.push(node);
        for &next in &depends[node] {
            visit(next, depends, marks, path, order)?;
        }
        path.pop();
        marks[node] = Mark::Done;
        order.push(node);
        Ok(())
    }
    let mut marks = vec![Mark::New; depends.len()];
    let mut order = Vec::new();
    for node in 0..depends.len() {
        visit(node, depends, &mut marks, &mut Vec::new(), &mut order)?;
    }
    Ok(order)
}

/// Run the start hooks in `order`. If one fails, the Things already started are stopped in
/// reverse order, and the error names the Thing that failed.
pub(crate) async fn start(
    things: &[(String, Arc<dyn DynThing>)],
    order: &[usize],
    device: &Device,
    stop_deadline: Duration,
) -> Result<(), StartError> {
    let mut started = Vec::new();
    for &i in order {
        let (name, thing) = &things[i];
        if let Some(hook) = thing.on_start() {
            if let Err(problem) = device.run(hook).await {
                tracing::error!(thing = %name, "the start hook failed: {}", problem.detail);
                stop(things, &started, device, stop_deadline).await;
                return Err(StartError {
                    problems: vec![format!(
                        "Thing '{name}' could not start: {}",
                        problem.detail
                    )],
                });
            }
            tracing::info!(thing = %name, "started");
        }
        started.push(i);
    }
    Ok(())
}

/// Run the stop hooks of `started` in reverse order, each for at most `deadline`.
pub(crate) async fn stop(
    things: &[(String, Arc<dyn DynThing>)],
    started: &[usize],
    device: &Device,
    deadline: Duration,
) {
    for &i in started.iter().rev() {
        let (name, thing) = &things[i];
        let Some(hook) = thing.on_stop() else {
            continue;
        };
        match tokio::time::timeout(deadline, device.run(hook)).await {
            Ok(Ok(())) => tracing::info!(thing = %name, "stopped"),
            Ok(Err(problem)) => {
                tracing::error!(thing = %name, "the stop hook failed: {}", problem.detail)
            }
            Err(_) => {
                tracing::error!(thing = %name, "the stop hook did not finish within {deadline:?}")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn things_start_after_the_ones_their_slots_name() {
        // 0 needs 2, 2 needs 1.
        assert_eq!(start_order(&[vec![2], vec![], vec![1]]), Ok(vec![1, 2, 0]));
        assert_eq!(start_order(&[vec![], vec![]]), Ok(vec![0, 1]));
        let cycle = start_order(&[vec![1], vec![2], vec![0]]).unwrap_err();
        assert_eq!(cycle, vec![0, 1, 2, 0]);
    }
}
