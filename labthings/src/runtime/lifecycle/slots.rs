//! Connecting slots: each to the Things the configuration names, or to the only Thing of its
//! type; and the order in which the Things start, each after the Things its slots name.

use std::collections::HashMap;
use std::sync::Arc;

use super::StartError;
use crate::model::slot::{SlotCell, SlotKind};
use crate::runtime::hosted::DynThing;

/// The Things slots name in the configuration: `(thing, slot)` to Thing names.
pub(crate) type SlotNames = HashMap<(String, String), Vec<String>>;

/// How the Things' slots connect them.
pub(crate) struct Connected {
    /// The order in which the Things start: each after the Things its slots name.
    pub(crate) order: Vec<usize>,
    /// For each Thing, every other Thing its code may drive through its slots, directly or
    /// through theirs.
    pub(crate) reaches: Vec<Vec<usize>>,
}

/// Connect every slot, and say how the Things depend on each other. Nothing is connected
/// unless every slot can be.
pub(crate) fn connect(
    things: &[(String, Arc<dyn DynThing>)],
    names: &SlotNames,
) -> Result<Connected, StartError> {
    let server = Server {
        things,
        names,
        index: things
            .iter()
            .enumerate()
            .map(|(i, (name, _))| (name.as_str(), i))
            .collect(),
    };
    let mut problems = Vec::new();
    let mut connections = Vec::new();
    let mut depends: Vec<Vec<usize>> = vec![Vec::new(); things.len()];
    for (i, (_, thing)) in things.iter().enumerate() {
        for (slot, cell) in thing.slots() {
            if let Some(targets) = server.resolve(i, slot, cell, &mut problems) {
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
    let reaches = (0..depends.len()).map(|i| reached(&depends, i)).collect();
    Ok(Connected { order, reaches })
}

/// The Things `start` reaches through `depends`, itself excluded.
fn reached(depends: &[Vec<usize>], start: usize) -> Vec<usize> {
    let mut seen = vec![false; depends.len()];
    let mut stack = depends[start].clone();
    let mut out = Vec::new();
    while let Some(i) = stack.pop() {
        if i == start || std::mem::replace(&mut seen[i], true) {
            continue;
        }
        out.push(i);
        stack.extend(&depends[i]);
    }
    out.sort_unstable();
    out
}

/// The Things of a server, as slots see them.
struct Server<'a> {
    things: &'a [(String, Arc<dyn DynThing>)],
    names: &'a SlotNames,
    index: HashMap<&'a str, usize>,
}

impl Server<'_> {
    /// The Things slot `slot` of Thing `i` connects to, or `None` (with the problems noted)
    /// when it cannot be connected.
    fn resolve(
        &self,
        i: usize,
        slot: &str,
        cell: &dyn SlotCell,
        problems: &mut Vec<String>,
    ) -> Option<Vec<usize>> {
        let things = self.things;
        let name = &things[i].0;
        let at = format!("Thing '{name}', slot `{slot}`");
        let wanted = cell.target();
        let configured = self.names.get(&(name.clone(), slot.to_owned()));
        let targets: Vec<usize> = match configured {
            Some(named) => named
                .iter()
                .filter_map(|target| match self.index.get(target.as_str()) {
                    None => {
                        problems.push(format!(
                            "{at}: the configuration names '{target}', which is not a Thing of this server"
                        ));
                        None
                    }
                    Some(&j) if j == i => {
                        problems.push(format!(
                            "{at}: the configuration names '{target}', the Thing itself: {SELF}"
                        ));
                        None
                    }
                    Some(&j) if things[j].1.type_id() != wanted => {
                        problems.push(format!(
                            "{at}: the configuration names '{target}', a `{}`, but the slot holds a `{}`",
                            things[j].1.type_name(),
                            short(cell.target_name())
                        ));
                        None
                    }
                    Some(&j) => Some(j),
                })
                .collect(),
            None => (0..things.len())
                .filter(|&j| j != i && things[j].1.type_id() == wanted)
                .collect(),
        };
        match (cell.kind(), targets.len()) {
            (SlotKind::One, 0) if configured.is_none() && things[i].1.type_id() == wanted => {
                problems.push(format!(
                    "{at}: the only `{}` of this server is Thing '{name}' itself: {SELF}",
                    short(cell.target_name())
                ));
                None
            }
            (SlotKind::One, 0) if configured.is_none() => {
                problems.push(format!(
                    "{at}: no Thing of this server is a `{}`",
                    short(cell.target_name())
                ));
                None
            }
            (SlotKind::One | SlotKind::Optional, n) if n > 1 => {
                let candidates: Vec<String> = targets
                    .iter()
                    .map(|&j| format!("'{}'", things[j].0))
                    .collect();
                problems.push(format!(
                    "{at}: {n} could fill it ({}): name one in the configuration, `slots = {{ {slot} = \"...\" }}`",
                    candidates.join(", ")
                ));
                None
            }
            (SlotKind::One, 0) => None,
            _ => Some(targets),
        }
    }
}

/// Why a slot cannot hold its own Thing, and what to do instead.
const SELF: &str = "a slot holds another Thing; a Thing reaches its own properties and events through `self`, and runs its own loops as `#[task]` methods — remove the slot";

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
