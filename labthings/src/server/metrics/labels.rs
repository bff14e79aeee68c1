//! The labels of the metrics: each value comes from a bounded set (the Things and their
//! affordances, the HTTP methods and statuses), so that no request can grow them.

use std::sync::Arc;

use prometheus_client::encoding::{EncodeLabelSet, EncodeLabelValue, LabelValueEncoder};

/// The name of a Thing of the server, or empty.
#[derive(Clone, Debug, Default, Hash, PartialEq, Eq)]
pub(crate) struct Name(pub(crate) Arc<str>);

impl EncodeLabelValue for Name {
    fn encode(&self, encoder: &mut LabelValueEncoder<'_>) -> Result<(), std::fmt::Error> {
        std::fmt::Write::write_str(encoder, &self.0)
    }
}

/// What an HTTP request addressed: the Thing and the affordance its path names (empty when
/// it names none, as `/action_invocations/…` does), and its method.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(crate) struct Route {
    pub(crate) thing: Name,
    pub(crate) affordance: &'static str,
    pub(crate) method: &'static str,
}

/// A [`Route`] and the status it was answered with.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(crate) struct Answered {
    pub(crate) thing: Name,
    pub(crate) affordance: &'static str,
    pub(crate) method: &'static str,
    pub(crate) status: u16,
}

/// An action of a Thing.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(crate) struct Action {
    pub(crate) thing: Name,
    pub(crate) action: &'static str,
}

/// An action of a Thing, and how an invocation of it ended.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(crate) struct Ended {
    pub(crate) thing: Name,
    pub(crate) action: &'static str,
    pub(crate) status: &'static str,
}

/// A Thing, and whether something done for it succeeded.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(crate) struct Outcome {
    pub(crate) thing: Name,
    pub(crate) outcome: &'static str,
}

/// Which way an MQTT message went.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(crate) struct Direction {
    pub(crate) direction: &'static str,
}
