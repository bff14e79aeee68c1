//! The server as an agent of every invocation: the framework's version, the server's id, and
//! the program that runs it, named by the SHA-256 of its executable (read once).

use serde_json::Value;
use sha2::{Digest, Sha256};
use tokio::sync::OnceCell;

use super::document::{Attributes, attributes, qualified};

/// The running executable's file name and the SHA-256 of its bytes, once read.
static EXECUTABLE: OnceCell<Option<(String, String)>> = OnceCell::const_new();

/// The agent `lt:server`.
pub(super) async fn agent(server_id: &str) -> Attributes {
    let mut agent = attributes([
        ("prov:type", qualified("prov:SoftwareAgent")),
        ("lt:serverId", server_id.into()),
        ("lt:framework", "labthings".into()),
        ("lt:frameworkVersion", env!("CARGO_PKG_VERSION").into()),
    ]);
    if let Some((name, digest)) = EXECUTABLE.get_or_init(executable).await {
        agent.insert("lt:executable".into(), Value::from(name.as_str()));
        agent.insert("lt:executableSha256".into(), Value::from(digest.as_str()));
    }
    agent
}

/// The executable's name and digest (`None` if it cannot be read).
async fn executable() -> Option<(String, String)> {
    let read = tokio::task::spawn_blocking(|| {
        let path = std::env::current_exe().ok()?;
        let bytes = std::fs::read(&path).ok()?;
        let name = path.file_name()?.to_string_lossy().into_owned();
        Some((name, format!("{:x}", Sha256::digest(&bytes))))
    });
    read.await.ok().flatten()
}
