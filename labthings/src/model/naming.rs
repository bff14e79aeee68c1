//! The naming rule of Things and affordances, in one place.
//!
//! Thing names and affordance names appear in URLs (`/{thing}/{name}`), so both are made of
//! ASCII letters, digits, `_` and `-`. The server checks Thing names when Things are added,
//! the configuration file when it is read, and the macros call [`check_affordance`] at compile
//! time (a `const` evaluation spanned on the name), so that the rule is written once.

/// Names that the server's own routes use at the top level.
pub(crate) const RESERVED_THING_NAMES: &[&str] = &[
    "things",
    "thing_descriptions",
    "action_invocations",
    "blob",
    "ws",
    ".well-known",
    "directory",
    "metrics",
    "docs",
];

/// Names that the server's own routes use under `/{thing}/`.
const RESERVED_AFFORDANCE_NAMES: &[&str] = &["ws", "lease"];

/// Whether `name` is made only of the characters allowed in a name.
const fn well_formed(name: &str) -> bool {
    let bytes = name.as_bytes();
    if bytes.is_empty() {
        return false;
    }
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if !(b.is_ascii_alphanumeric() || b == b'_' || b == b'-') {
            return false;
        }
        i += 1;
    }
    true
}

const fn eq(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}

const fn listed(name: &str, list: &[&str]) -> bool {
    let mut i = 0;
    while i < list.len() {
        if eq(name, list[i]) {
            return true;
        }
        i += 1;
    }
    false
}

/// Check the name of a property, action, event or stream.
pub const fn check_affordance(name: &str) -> Result<(), &'static str> {
    if !well_formed(name) {
        return Err(
            "an affordance name is made of ASCII letters, digits, `_` and `-`: it is part of URLs",
        );
    }
    if listed(name, RESERVED_AFFORDANCE_NAMES) {
        return Err(
            "an affordance cannot be called `ws` or `lease`: `/{thing}/ws` is the Thing's \
             WebSocket endpoint and `/{thing}/lease` where clients lease it",
        );
    }
    Ok(())
}

/// Check the name a Thing is published under.
pub(crate) fn check_thing(name: &str) -> Result<(), String> {
    if !well_formed(name) {
        return Err(format!(
            "'{name}' is not a valid Thing name: use ASCII letters, digits, '_' and '-'"
        ));
    }
    if listed(name, RESERVED_THING_NAMES) {
        return Err(format!(
            "the Thing name '{name}' is reserved for the server's own routes ({})",
            RESERVED_THING_NAMES.join(", ")
        ));
    }
    Ok(())
}

/// Whether `name` is one of `names` (usable in `const` evaluation).
pub(crate) const fn contains(names: &[&str], name: &str) -> bool {
    listed(name, names)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_letters_digits_underscores_and_dashes() {
        assert!(check_affordance("move_to-2").is_ok());
        assert!(check_affordance("a b").is_err());
        assert!(check_affordance("").is_err());
        assert!(check_affordance("é").is_err());
        assert!(check_affordance("ws").unwrap_err().contains("WebSocket"));
        assert!(check_thing("stage_left").is_ok());
        assert!(check_thing("things").unwrap_err().contains("reserved"));
        assert!(check_thing("a/b").unwrap_err().contains("not a valid"));
    }
}
