//! A Server-Sent Events client for the tests: a real HTTP request read chunk by chunk.

use std::collections::VecDeque;

use super::ws::LIMIT;

/// One SSE message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Message {
    pub(crate) event: Option<String>,
    pub(crate) id: Option<String>,
    pub(crate) data: String,
}

/// An open event stream.
pub(crate) struct Stream {
    response: reqwest::Response,
    buffer: String,
    ready: VecDeque<Message>,
}

impl Stream {
    /// `GET url` with `Accept: text/event-stream` (and `Last-Event-ID` when given).
    pub(crate) async fn open(url: &str, last_event_id: Option<&str>) -> Self {
        let mut request = reqwest::Client::new()
            .get(url)
            .header("accept", "text/event-stream");
        if let Some(id) = last_event_id {
            request = request.header("last-event-id", id);
        }
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), 200, "{url}");
        assert_eq!(
            response.headers()["content-type"],
            "text/event-stream",
            "{url}"
        );
        Self {
            response,
            buffer: String::new(),
            ready: VecDeque::new(),
        }
    }

    /// The next message (comments skipped); `None` when the stream ended.
    pub(crate) async fn next(&mut self) -> Option<Message> {
        loop {
            if let Some(message) = self.ready.pop_front() {
                return Some(message);
            }
            let chunk = tokio::time::timeout(LIMIT, self.response.chunk())
                .await
                .expect("a message within the time limit")
                .expect("the stream is readable")?;
            self.buffer.push_str(std::str::from_utf8(&chunk).unwrap());
            while let Some(end) = self.buffer.find("\n\n") {
                let block: String = self.buffer.drain(..end + 2).collect();
                if let Some(message) = parse(&block) {
                    self.ready.push_back(message);
                }
            }
        }
    }
}

fn parse(block: &str) -> Option<Message> {
    let mut message = Message {
        event: None,
        id: None,
        data: String::new(),
    };
    let mut any = false;
    for line in block.lines() {
        let (field, value) = line.split_once(':').unwrap_or((line, ""));
        let value = value.strip_prefix(' ').unwrap_or(value);
        match field {
            "event" => message.event = Some(value.to_owned()),
            "id" => message.id = Some(value.to_owned()),
            "data" => {
                if any {
                    message.data.push('\n');
                }
                message.data.push_str(value);
                any = true;
            }
            _ => {}
        }
    }
    any.then_some(message)
}
