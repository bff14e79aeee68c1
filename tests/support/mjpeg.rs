//! An MJPEG (`multipart/x-mixed-replace`) client for the tests: a real HTTP request read part
//! by part.

use super::ws::LIMIT;

/// One part of the stream.
#[derive(Debug, Clone)]
pub(crate) struct Part {
    /// The frame's number (`X-Frame`).
    pub(crate) number: u64,
    pub(crate) jpeg: Vec<u8>,
}

/// An open stream.
pub(crate) struct Stream {
    response: reqwest::Response,
    buffer: Vec<u8>,
}

impl Stream {
    pub(crate) async fn open(url: &str) -> Self {
        let response = reqwest::get(url).await.unwrap();
        assert_eq!(response.status(), 200, "{url}");
        assert_eq!(
            response.headers()["content-type"],
            "multipart/x-mixed-replace; boundary=frame"
        );
        Self {
            response,
            buffer: Vec::new(),
        }
    }

    /// The next part; `None` when the stream ended.
    pub(crate) async fn next(&mut self) -> Option<Part> {
        loop {
            if let Some(part) = self.parse() {
                return Some(part);
            }
            let chunk = tokio::time::timeout(LIMIT, self.response.chunk())
                .await
                .expect("a part within the time limit")
                .ok()??;
            self.buffer.extend_from_slice(&chunk);
        }
    }

    fn parse(&mut self) -> Option<Part> {
        let end = self.buffer.windows(4).position(|w| w == b"\r\n\r\n")?;
        let head = String::from_utf8_lossy(&self.buffer[..end]).into_owned();
        assert!(head.starts_with("--frame\r\n"), "{head:?}");
        let header = |name: &str| -> Option<u64> {
            head.lines()
                .find_map(|l| l.strip_prefix(name))
                .and_then(|v| v.trim().parse().ok())
        };
        let length = header("Content-Length:").expect("a length") as usize;
        let number = header("X-Frame:").expect("a frame number");
        let start = end + 4;
        if self.buffer.len() < start + length + 2 {
            return None;
        }
        let jpeg = self.buffer[start..start + length].to_vec();
        assert_eq!(&self.buffer[start + length..start + length + 2], b"\r\n");
        self.buffer.drain(..start + length + 2);
        Some(Part { number, jpeg })
    }
}
