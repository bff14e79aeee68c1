//! The parse phase of the macros, without `proc_macro`: [`ast`] builds a typed model from syn
//! (stripping the helper attributes and parsing their options with [`attr`]), [`check`]
//! applies the rules across options and items, [`error`] collects every mistake, [`doc`]
//! reads doc comments, [`ctx`] holds what code generation needs of the user's crate.

pub(crate) mod ast;
pub(crate) mod attr;
pub(crate) mod check;
pub(crate) mod ctx;
pub(crate) mod doc;
pub(crate) mod error;
