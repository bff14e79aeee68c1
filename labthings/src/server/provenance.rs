//! The builder's switch of provenance records.

use super::ThingServer;

impl ThingServer {
    /// Whether each invocation keeps a provenance record, served at
    /// `GET /action_invocations/{id}/provenance` (default: yes). The record's snapshot of
    /// every Thing's stored values is taken as each invocation starts: its cost is in
    /// BENCHMARKS.md.
    #[cfg_attr(docsrs, doc(cfg(feature = "provenance")))]
    pub fn provenance(mut self, on: bool) -> Self {
        self.provenance = on;
        self
    }
}
