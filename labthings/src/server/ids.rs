//! The TD `id`s of a server's Things.

/// The TD `id` of Thing `name` of server `server_id`.
pub(crate) fn thing_urn(server_id: &str, name: &str) -> String {
    format!("urn:labthings:{server_id}:{name}")
}

/// The machine's host name, as it may stand in a URN: other characters become `-`.
pub(crate) fn default_server_id() -> String {
    let host = gethostname::gethostname().to_string_lossy().into_owned();
    let id: String = host
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_') {
                c
            } else {
                '-'
            }
        })
        .collect();
    if id.is_empty() {
        "localhost".to_owned()
    } else {
        id
    }
}
