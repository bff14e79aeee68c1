//! The table of a Thing type, built once from what `#[thing]` generated: schemas resolved,
//! validators compiled, names indexed.

use std::collections::HashMap;
use std::fmt;

use serde_json::Value;

use super::def::{
    ActionDef, EventDef, HookFn, ImplParts, PropertyDef, SlotDef, StreamDef, StructParts, TaskDef,
};
use crate::model::doc::Doc;
use crate::model::schema;
use crate::model::task::TASK_FAILED;
use crate::model::validate::Validator;
use crate::problem::Problem;

/// An event of a Thing type with its TD data schema.
#[derive(Debug)]
pub struct EventEntry<T: 'static> {
    /// What the macro generated.
    pub def: &'static EventDef<T>,
    /// The TD schema of its data.
    pub schema: Value,
}

/// A property with its data schema resolved and its validator compiled.
pub struct PropertyEntry<T: 'static> {
    /// The generated definition.
    pub def: &'static PropertyDef<T>,
    /// The TD data schema, constraints included.
    pub schema: Value,
    /// The schema values are validated against, constraints included.
    pub validation_schema: Value,
    pub(crate) validator: Validator,
}

impl<T> fmt::Debug for PropertyEntry<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PropertyEntry")
            .field("def", self.def)
            .finish_non_exhaustive()
    }
}

impl<T> fmt::Debug for ActionEntry<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ActionEntry")
            .field("def", self.def)
            .finish_non_exhaustive()
    }
}

/// An action with its schemas resolved and its input validator compiled.
pub struct ActionEntry<T: 'static> {
    /// The generated definition.
    pub def: &'static ActionDef<T>,
    /// The TD `input` data schema, if the action takes arguments.
    pub input: Option<Value>,
    /// The TD `output` data schema.
    pub output: Value,
    pub(crate) validator: Option<Validator>,
}

/// Which affordance a name refers to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Affordance {
    /// The property at this index of [`ThingTable::properties`].
    Property(usize),
    /// The action at this index of [`ThingTable::actions`].
    Action(usize),
    /// The event at this index of [`ThingTable::events`]; just past them, for a Thing with
    /// tasks, the event of their failures (`task_failed`).
    Event(usize),
    /// The stream at this index of [`ThingTable::streams`].
    Stream(usize),
}

/// Everything the runtime knows about a Thing type, built once from the generated tables.
pub struct ThingTable<T: 'static> {
    /// The Rust type's name.
    pub type_name: &'static str,
    /// Documentation of the Thing (title, description).
    pub doc: Doc,
    /// Properties in declaration order: fields first, then methods.
    pub properties: Vec<PropertyEntry<T>>,
    /// Actions in declaration order.
    pub actions: Vec<ActionEntry<T>>,
    /// Events in declaration order.
    pub events: Vec<EventEntry<T>>,
    /// MJPEG streams in declaration order.
    pub streams: &'static [StreamDef<T>],
    /// Slots in declaration order.
    pub slots: &'static [SlotDef<T>],
    /// The start hook.
    pub on_start: Option<HookFn<T>>,
    /// The stop hook.
    pub on_stop: Option<HookFn<T>>,
    /// The background tasks.
    pub tasks: &'static [TaskDef<T>],
    /// The events the framework adds past the Thing's own, in this order: `task_failed` for
    /// a Thing with tasks, `alarm` for one whose observable properties declare ranges.
    framework_events: Vec<&'static str>,
    names: HashMap<&'static str, Affordance>,
}

/// The events the framework adds to a Thing with these properties and tasks.
fn framework_events<T>(properties: &[PropertyEntry<T>], tasks: &[TaskDef<T>]) -> Vec<&'static str> {
    let judged = (properties.iter()).any(|p| p.def.observable && p.def.ranges.any());
    [
        (!tasks.is_empty()).then_some(TASK_FAILED),
        judged.then_some(crate::model::quality::ALARM),
    ]
    .into_iter()
    .flatten()
    .collect()
}

/// Why a Thing has a framework event, for the panic of an affordance called like it.
fn why(event: &str) -> &'static str {
    match event {
        TASK_FAILED => "has #[task]s, so 'task_failed' is the event of their failures",
        _ => {
            "has observable properties with warning or alarm ranges, so 'alarm' is the event of their changes of quality"
        }
    }
}

/// The affordances by name, and the framework's events `extra` past the Thing's `own`
/// events.
///
/// # Panics
/// If two have the same name: the macros reject that at compile time, except for an
/// affordance called like a framework event, which only this sees.
fn names(
    type_name: &str,
    all: impl Iterator<Item = (&'static str, Affordance)>,
    own: usize,
    extra: &[&'static str],
) -> HashMap<&'static str, Affordance> {
    let mut names = HashMap::new();
    for (name, affordance) in all {
        let previous = names.insert(name, affordance);
        assert!(
            previous.is_none(),
            "two affordances of {type_name} are called '{name}'"
        );
    }
    for (i, &event) in extra.iter().enumerate() {
        let previous = names.insert(event, Affordance::Event(own + i));
        assert!(
            previous.is_none(),
            "{type_name} {}: give the affordance called so another name",
            why(event)
        );
    }
    names
}

impl<T: 'static> ThingTable<T> {
    /// Build the table from the generated parts.
    ///
    /// # Panics
    /// If a generated schema cannot be compiled into a validator (a bug in a `JsonSchema`
    /// implementation).
    pub fn build(parts: StructParts<T>, methods: ImplParts<T>) -> Self {
        let type_name = parts.type_name;
        let properties: Vec<_> = parts
            .properties
            .iter()
            .chain(methods.properties)
            .map(|def| {
                let mut td = schema::td_schema(def.schema);
                if def.state {
                    crate::model::state::name_states(&mut td);
                }
                let mut validation = schema::validation_schema(def.schema);
                for value in [&mut td, &mut validation] {
                    if let Value::Object(map) = value {
                        def.constraints.apply(map);
                    }
                }
                let validator = Validator::new(&validation, def.name);
                PropertyEntry {
                    def,
                    schema: td,
                    validation_schema: validation,
                    validator,
                }
            })
            .collect();
        let actions: Vec<_> = methods
            .actions
            .iter()
            .map(|def| {
                let with_args = |mut schema: Value| {
                    def.args.iter().for_each(|arg| arg.apply(&mut schema));
                    schema
                };
                ActionEntry {
                    def,
                    input: def.input.map(|f| with_args(schema::td_schema(f))),
                    output: schema::td_schema(def.output),
                    validator: def.input.map(|f| {
                        Validator::new(&with_args(schema::validation_schema(f)), def.name)
                    }),
                }
            })
            .collect();
        let events: Vec<_> = parts
            .events
            .iter()
            .map(|def| EventEntry {
                def,
                schema: schema::td_schema(def.schema),
            })
            .collect();
        let all = (properties.iter().enumerate())
            .map(|(i, p)| (p.def.name, Affordance::Property(i)))
            .chain((actions.iter().enumerate()).map(|(i, a)| (a.def.name, Affordance::Action(i))))
            .chain((events.iter().enumerate()).map(|(i, e)| (e.def.name, Affordance::Event(i))))
            .chain(
                (parts.streams.iter().enumerate()).map(|(i, s)| (s.name, Affordance::Stream(i))),
            );
        // The framework's events come after the Thing's own.
        let framework_events = framework_events(&properties, methods.tasks);
        let names = names(type_name, all, events.len(), &framework_events);
        Self {
            type_name,
            doc: parts.doc,
            properties,
            actions,
            events,
            streams: parts.streams,
            slots: parts.slots,
            on_start: methods.on_start,
            on_stop: methods.on_stop,
            tasks: methods.tasks,
            framework_events,
            names,
        }
    }

    /// The events the framework adds past the Thing's own (numbered from
    /// `events.len()`): `task_failed` for a Thing with tasks, `alarm` for one whose observable
    /// properties declare ranges.
    pub fn framework_events(&self) -> &[&'static str] {
        &self.framework_events
    }

    /// Look up an affordance by the name a client gave.
    pub fn lookup(&self, name: &str) -> Option<Affordance> {
        self.names.get(name).copied()
    }

    /// The property called `name`.
    pub fn property(&self, name: &str) -> Option<(usize, &PropertyEntry<T>)> {
        match self.lookup(name)? {
            Affordance::Property(i) => Some((i, &self.properties[i])),
            Affordance::Action(_) | Affordance::Event(_) | Affordance::Stream(_) => None,
        }
    }

    /// The action called `name`.
    pub fn action(&self, name: &str) -> Option<(usize, &ActionEntry<T>)> {
        match self.lookup(name)? {
            Affordance::Action(i) => Some((i, &self.actions[i])),
            Affordance::Property(_) | Affordance::Event(_) | Affordance::Stream(_) => None,
        }
    }
}

impl<T> PropertyEntry<T> {
    /// Check a value a client wants to write: its type and constraints.
    pub fn validate(&self, value: &Value) -> Result<(), Problem> {
        self.validator.check_value(value)
    }
}

impl<T> ActionEntry<T> {
    /// Check and normalise an invocation's input: `null`, an absent body or `{}` for actions
    /// without arguments; an object with exactly the declared arguments otherwise.
    pub fn validate_input(&self, input: Value) -> Result<Value, Problem> {
        match &self.validator {
            None => match &input {
                Value::Null => Ok(Value::Null),
                Value::Object(map) if map.is_empty() => Ok(Value::Null),
                Value::Object(map) => {
                    let errors = map
                        .keys()
                        .map(|k| crate::problem::FieldError {
                            field: k.clone(),
                            detail: format!("unexpected argument '{k}'"),
                        })
                        .collect();
                    Err(Problem::invalid(
                        format!(
                            "action '{}' takes no arguments, got {}",
                            self.def.name,
                            quoted_keys(map)
                        ),
                        errors,
                    ))
                }
                other => Err(Problem::invalid(
                    format!(
                        "action '{}' takes no arguments: send no body, null or {{}}, not {}",
                        self.def.name,
                        crate::model::validate::json_kind(other)
                    ),
                    Vec::new(),
                )),
            },
            Some(validator) => {
                let input = if input.is_null() {
                    Value::Object(Default::default())
                } else {
                    input
                };
                validator.check_arguments(&input)?;
                // What the schema accepts, the argument types must too (a value the schema
                // cannot express, such as an integer past the range of its type).
                (self.def.check_input)(&input)?;
                Ok(input)
            }
        }
    }
}

fn quoted_keys(map: &serde_json::Map<String, Value>) -> String {
    map.keys()
        .map(|k| format!("'{k}'"))
        .collect::<Vec<_>>()
        .join(", ")
}

impl<T> fmt::Debug for ThingTable<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ThingTable")
            .field("type_name", &self.type_name)
            .field(
                "properties",
                &self
                    .properties
                    .iter()
                    .map(|p| p.def.name)
                    .collect::<Vec<_>>(),
            )
            .field(
                "actions",
                &self.actions.iter().map(|a| a.def.name).collect::<Vec<_>>(),
            )
            .finish()
    }
}
