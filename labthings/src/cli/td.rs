//! `PROGRAM td`: the Thing Descriptions, without creating any Thing.

use std::process::ExitCode;

use serde_json::Value;

use super::App;
use super::args::{CommonArgs, TdArgs};
use crate::model::td::TdOptions;

impl App {
    pub(super) fn print_td(mut self, common: &CommonArgs, args: &TdArgs) -> ExitCode {
        let config = match common.config.as_deref().map(|f| self.load(f)).transpose() {
            Ok(config) => config,
            Err(e) => return self.fail(format_args!("invalid configuration: {e}")),
        };
        let prefix = common
            .prefix
            .clone()
            .or_else(|| config.as_ref().and_then(|c| c.prefix.clone()))
            .unwrap_or_default();
        let file = common.config.as_deref().zip(config.as_ref());
        let things = match self.registrations(file, false) {
            Ok(things) => things,
            Err(e) => return self.fail(e),
        };
        let bearer = config
            .as_ref()
            .is_some_and(|c| !c.tokens.is_empty() || c.token_file.is_some());
        // The ids the server would give.
        let server_id = config
            .as_ref()
            .and_then(|c| c.server_id.clone())
            .unwrap_or_else(crate::server::default_server_id);
        let id_of = |name: &str| {
            let given = config
                .as_ref()
                .and_then(|c| c.things.iter().find(|t| t.name == name))
                .and_then(|t| t.id.clone());
            given.unwrap_or_else(|| crate::server::thing_urn(&server_id, name))
        };
        let options = |name: &str| {
            let o = TdOptions::new(&prefix, name).with_id(id_of(name));
            let o = match &args.base {
                Some(base) => o.with_base(base.clone()),
                None => o,
            };
            if bearer { o.with_bearer_security() } else { o }
        };
        let out = match &args.name {
            Some(name) => match things.iter().find(|t| &t.name == name) {
                Some(t) => (t.td)(&options(name)),
                None => {
                    let names: Vec<&str> = things.iter().map(|t| t.name.as_str()).collect();
                    return self.fail(format_args!(
                        "no Thing is called '{name}'; the Things are: {}",
                        names.join(", ")
                    ));
                }
            },
            None => Value::Object(
                things
                    .iter()
                    .map(|t| (t.name.clone(), (t.td)(&options(&t.name))))
                    .collect(),
            ),
        };
        println!(
            "{}",
            serde_json::to_string_pretty(&out).expect("a TD is JSON")
        );
        ExitCode::SUCCESS
    }
}
