//! Keepalive for the client's WebSockets: a socket that has been silent for a while is sent a
//! ping; one still silent a while after that is dead. A lost network (a laptop off the lab's
//! Wi-Fi, a server switched off) leaves a half-open TCP connection that would otherwise wait
//! for TCP itself to give up, which takes minutes to hours.

use std::time::Duration;

use futures_util::{Stream, StreamExt};

/// The state of one socket's keepalive.
pub(crate) struct Liveness {
    every: Option<Duration>,
    pinged: bool,
}

/// What came of waiting for a socket's next frame.
pub(crate) enum Next<T> {
    /// A frame, or the end of the stream.
    Frame(Option<T>),
    /// Nothing came for a while: send a ping, then wait again.
    Ping,
    /// Nothing came after a ping either: the connection is dead, for this reason.
    Dead(String),
}

impl Liveness {
    /// Ping after `every` of silence and give up after `every` more; `None` waits forever.
    pub(crate) fn new(every: Option<Duration>) -> Self {
        Self {
            every,
            pinged: false,
        }
    }

    /// Wait for the next frame of `stream`. Any frame (a pong, or anything else) shows that
    /// the server is there.
    pub(crate) async fn next<S: Stream + Unpin>(&mut self, stream: &mut S) -> Next<S::Item> {
        let Some(every) = self.every else {
            return Next::Frame(stream.next().await);
        };
        match tokio::time::timeout(every, stream.next()).await {
            Ok(frame) => {
                self.pinged = false;
                Next::Frame(frame)
            }
            Err(_) if self.pinged => Next::Dead(format!(
                "the server answered nothing, not even a ping, for {:.1} s",
                2.0 * every.as_secs_f64()
            )),
            Err(_) => {
                self.pinged = true;
                Next::Ping
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn silence_pings_then_gives_up_and_any_frame_resets_it() {
        let (tx, rx) = tokio::sync::mpsc::unbounded_channel::<u8>();
        let mut frames = tokio_stream_like(rx);
        let mut liveness = Liveness::new(Some(Duration::from_secs(10)));
        assert!(matches!(liveness.next(&mut frames).await, Next::Ping));
        tx.send(1).unwrap();
        assert!(matches!(
            liveness.next(&mut frames).await,
            Next::Frame(Some(1))
        ));
        // The answer reset it: silence pings again before it gives up.
        assert!(matches!(liveness.next(&mut frames).await, Next::Ping));
        match liveness.next(&mut frames).await {
            Next::Dead(reason) => assert!(reason.contains("20.0 s"), "{reason}"),
            _ => panic!("a silent connection is dead after a ping"),
        }
        drop(tx);
        let mut forever = Liveness::new(None);
        assert!(matches!(forever.next(&mut frames).await, Next::Frame(None)));
    }

    fn tokio_stream_like(
        mut rx: tokio::sync::mpsc::UnboundedReceiver<u8>,
    ) -> impl Stream<Item = u8> + Unpin {
        Box::pin(futures_util::stream::poll_fn(move |cx| rx.poll_recv(cx)))
    }
}
