//! `#[thing]` on a struct: its property, event, stream and slot fields.

use syn::{Attribute, Field, ItemStruct};

use super::{
    EventOpts, FieldEvent, FieldProperty, FieldSlot, PropertyOpts, ThingOpts, ThingStruct, single,
    take_attrs, unraw,
};
use crate::internals::doc::doc_expr;
use crate::internals::error::Errors;

/// The helper attributes of one field.
struct Annotations {
    properties: Vec<Attribute>,
    slot: Option<Attribute>,
    event: Option<Attribute>,
    stream: Option<Attribute>,
}

impl Annotations {
    /// Strip the helper attributes from `field`, reporting repeats.
    fn take(errors: &Errors, field: &mut Field) -> Self {
        Self {
            properties: take_attrs(&mut field.attrs, "property"),
            slot: single(errors, take_attrs(&mut field.attrs, "slot")),
            event: single(errors, take_attrs(&mut field.attrs, "event")),
            stream: single(errors, take_attrs(&mut field.attrs, "stream")),
        }
    }

    fn is_empty(&self) -> bool {
        self.properties.is_empty()
            && self.slot.is_none()
            && self.event.is_none()
            && self.stream.is_none()
    }
}

/// The affordances found in a struct's fields.
#[derive(Default)]
struct Affordances {
    properties: Vec<FieldProperty>,
    slots: Vec<FieldSlot>,
    events: Vec<FieldEvent>,
    streams: Vec<FieldEvent>,
}

impl ThingStruct {
    pub(crate) fn from_syn(errors: &Errors, mut item: ItemStruct, opts: ThingOpts) -> Self {
        if !matches!(item.fields, syn::Fields::Named(_)) {
            errors.spanned(
                &item.ident,
                "`#[thing]` needs a struct with named fields\n= help: properties are named after their fields",
            );
        }
        if !item.generics.params.is_empty() {
            errors.spanned(&item.generics, "a `#[thing]` struct cannot be generic");
        }
        let mut found = Affordances::default();
        for (i, field) in item.fields.iter_mut().enumerate() {
            found.add_field(errors, i, field);
        }
        Self {
            doc: doc_expr(&item.attrs),
            item,
            opts,
            properties: found.properties,
            slots: found.slots,
            events: found.events,
            streams: found.streams,
        }
    }
}

impl Affordances {
    /// Read field `i`, stripping its helper attributes.
    fn add_field(&mut self, errors: &Errors, i: usize, field: &mut Field) {
        let found = Annotations::take(errors, field);
        if let Some(ident) = field.ident.as_ref().filter(|ident| *ident == "_")
            && !found.is_empty()
        {
            errors.spanned(
                ident,
                "an affordance needs a field with a name: `_` cannot be read, written or emitted",
            );
            return;
        }
        let (event, is_stream) = match (found.event, found.stream) {
            (Some(event), Some(stream)) => {
                errors.spanned(
                    &stream,
                    "a field cannot be both an `#[event]` and a `#[stream]`",
                );
                (Some(event), false)
            }
            (Some(event), None) => (Some(event), false),
            (None, Some(stream)) => (Some(stream), true),
            (None, None) => (None, false),
        };
        if let Some(event) = event {
            let other = found.properties.first().or(found.slot.as_ref());
            self.add_event(errors, field, &event, is_stream, other);
        } else if let Some(slot) = found.slot {
            self.add_slot(errors, field, &slot, found.properties.first());
        } else if let Some(attr) = single(errors, found.properties) {
            self.add_property(errors, i, field, &attr);
        }
    }

    fn add_event(
        &mut self,
        errors: &Errors,
        field: &Field,
        event: &Attribute,
        is_stream: bool,
        other: Option<&Attribute>,
    ) {
        let kind = if is_stream {
            "a `#[stream]`"
        } else {
            "an `#[event]`"
        };
        if let Some(other) = other {
            errors.spanned(
                other,
                format_args!("a field cannot be both {kind} and a `#[property]` or `#[slot]`"),
            );
        }
        let opts = EventOpts::parse(errors, event);
        let Some(ident) = field.ident.clone() else {
            return;
        };
        let (name, name_span) = match &opts.name {
            Some(n) => (n.value.value(), n.value.span()),
            None => (unraw(&ident), ident.span()),
        };
        let found = FieldEvent {
            name,
            name_span,
            doc: doc_expr(&field.attrs),
            ty: field.ty.clone(),
            ident,
            opts,
        };
        if is_stream {
            self.streams.push(found);
        } else {
            self.events.push(found);
        }
    }

    fn add_slot(
        &mut self,
        errors: &Errors,
        field: &Field,
        slot: &Attribute,
        property: Option<&Attribute>,
    ) {
        if let Some(p) = property {
            errors.spanned(p, "a field cannot be both a `#[property]` and a `#[slot]`");
        }
        if !matches!(slot.meta, syn::Meta::Path(_)) {
            errors.spanned(
                slot,
                "`#[slot]` takes no options: the slot is named after its field",
            );
        }
        if let Some(ident) = field.ident.clone() {
            self.slots.push(FieldSlot {
                name: unraw(&ident),
                ident,
                ty: field.ty.clone(),
            });
        }
    }

    fn add_property(&mut self, errors: &Errors, i: usize, field: &Field, attr: &Attribute) {
        let opts = PropertyOpts::parse(errors, attr);
        let Some(ident) = field.ident.clone() else {
            return;
        };
        let (name, name_span) = match &opts.name {
            Some(n) => (n.value.value(), n.value.span()),
            None => (unraw(&ident), ident.span()),
        };
        self.properties.push(FieldProperty {
            field: i,
            ident,
            ty: field.ty.clone(),
            name,
            name_span,
            doc: doc_expr(&field.attrs),
            opts,
        });
    }
}
