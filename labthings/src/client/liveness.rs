//! Keepalive for the client's WebSockets: a socket on which nothing has arrived for a while
//! is sent a ping; one still silent a while after that is dead. A lost network (a laptop off
//! the lab's Wi-Fi, a server switched off) leaves a half-open TCP connection that would
//! otherwise wait for TCP itself to give up, which takes minutes to hours. Silence is counted
//! in bytes, not messages: a large message arriving slowly keeps its connection alive.

use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::time::Instant;

use futures_util::{Stream, StreamExt};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// When bytes last arrived on a connection.
#[derive(Debug)]
pub(crate) struct Heard {
    since: Instant,
    /// Microseconds after `since`.
    last: AtomicU64,
}

impl Heard {
    pub(crate) fn new() -> Arc<Self> {
        Arc::new(Self {
            since: Instant::now(),
            last: AtomicU64::new(0),
        })
    }

    fn touch(&self) {
        let micros = u64::try_from(self.since.elapsed().as_micros()).unwrap_or(u64::MAX);
        self.last.store(micros, Ordering::Relaxed);
    }

    /// How long ago bytes last arrived (or the connection was made).
    fn silence(&self) -> Duration {
        let last = self.since + Duration::from_micros(self.last.load(Ordering::Relaxed));
        last.elapsed()
    }
}

/// A connection that notes in [`Heard`] when bytes arrive.
pub(crate) struct Watched<S> {
    inner: S,
    heard: Arc<Heard>,
}

impl<S> Watched<S> {
    pub(crate) fn new(inner: S, heard: Arc<Heard>) -> Self {
        Self { inner, heard }
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for Watched<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.inner).poll_read(cx, buf);
        if matches!(polled, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            self.heard.touch();
        }
        polled
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Watched<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }
}

/// The state of one socket's keepalive.
pub(crate) struct Liveness {
    every: Option<Duration>,
    heard: Arc<Heard>,
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
    /// Ping after `every` without a byte (as `heard` tells) and give up after `every` more;
    /// `None` waits forever.
    pub(crate) fn new(every: Option<Duration>, heard: Arc<Heard>) -> Self {
        Self {
            every,
            heard,
            pinged: false,
        }
    }

    /// Wait for the next frame of `stream`. Any byte (of a pong, or of anything else) shows
    /// that the server is there.
    pub(crate) async fn next<S: Stream + Unpin>(&mut self, stream: &mut S) -> Next<S::Item> {
        let Some(every) = self.every else {
            return Next::Frame(stream.next().await);
        };
        loop {
            match tokio::time::timeout(every, stream.next()).await {
                Ok(frame) => {
                    self.pinged = false;
                    return Next::Frame(frame);
                }
                // Part of a message came meanwhile: alive.
                Err(_) if self.heard.silence() < every => self.pinged = false,
                Err(_) if self.pinged => {
                    return Next::Dead(format!(
                        "the server answered nothing, not even a ping, for {:.1} s",
                        2.0 * every.as_secs_f64()
                    ));
                }
                Err(_) => {
                    self.pinged = true;
                    return Next::Ping;
                }
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
        let mut liveness = Liveness::new(Some(Duration::from_secs(10)), Heard::new());
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
        let mut forever = Liveness::new(None, Heard::new());
        assert!(matches!(forever.next(&mut frames).await, Next::Frame(None)));
    }

    #[tokio::test(start_paused = true)]
    async fn bytes_of_a_message_still_arriving_keep_it_alive() {
        let (_tx, rx) = tokio::sync::mpsc::unbounded_channel::<u8>();
        let mut frames = tokio_stream_like(rx);
        let heard = Heard::new();
        let trickle = heard.clone();
        // A large message arriving slowly: a few bytes every 5 s for 60 s.
        tokio::spawn(async move {
            for _ in 0..12 {
                tokio::time::sleep(Duration::from_secs(5)).await;
                trickle.touch();
            }
        });
        let start = Instant::now();
        let mut liveness = Liveness::new(Some(Duration::from_secs(10)), heard);
        assert!(matches!(liveness.next(&mut frames).await, Next::Ping));
        assert!(
            start.elapsed() >= Duration::from_secs(60),
            "{:?}",
            start.elapsed()
        );
    }

    fn tokio_stream_like(
        mut rx: tokio::sync::mpsc::UnboundedReceiver<u8>,
    ) -> impl Stream<Item = u8> + Unpin {
        Box::pin(futures_util::stream::poll_fn(move |cx| rx.poll_recv(cx)))
    }
}
