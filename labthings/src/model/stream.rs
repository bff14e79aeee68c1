//! MJPEG streams: a camera's live picture, to any number of viewers.
//!
//! A `#[thing]` struct declares a stream as a field `#[stream] preview: MjpegStream`; device
//! code pushes JPEG frames with [`MjpegStream::push`]. The server serves it at
//! `/{thing}/{name}` as `multipart/x-mixed-replace; boundary=frame` (what browsers show in an
//! `<img>`), a viewer page at `/{thing}/{name}/viewer`, and the latest frame as a JPEG at
//! `/{thing}/{name}/frame`.
//!
//! Every viewer gets the latest frame: the stream keeps one frame, shared by every viewer,
//! and a viewer that reads slowly skips frames. So a slow viewer never slows the producer or
//! the other viewers, and memory stays bounded whatever the number of viewers. Streams end
//! when the server shuts down.

use std::fmt;
use std::sync::Arc;
use std::time::SystemTime;

use bytes::Bytes;
use tokio::sync::watch;

/// One JPEG frame of a stream.
#[derive(Debug, Clone)]
pub struct Frame {
    /// Its number: 1 for the first frame pushed, then one more for each.
    pub number: u64,
    /// When it was pushed.
    pub at: SystemTime,
    /// The JPEG image.
    pub jpeg: Bytes,
}

/// A frame that is not a JPEG image (it does not start with `FF D8` and end with `FF D9`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("a frame must be a JPEG image: it starts with FF D8 and ends with FF D9")]
pub struct NotJpeg;

/// A live stream of JPEG frames: a field marked `#[stream]`.
#[derive(Clone)]
pub struct MjpegStream {
    frames: Arc<watch::Sender<Option<Frame>>>,
    /// Told when a viewer arrives.
    joined: Arc<tokio::sync::Notify>,
}

impl MjpegStream {
    /// A stream without frames yet.
    pub fn new() -> Self {
        Self {
            frames: Arc::new(watch::Sender::new(None)),
            joined: Arc::new(tokio::sync::Notify::new()),
        }
    }

    /// Publish a frame: it replaces the previous one for every viewer. Never waits.
    pub fn push(&self, jpeg: impl Into<Bytes>) -> Result<(), NotJpeg> {
        let jpeg = jpeg.into();
        if !(jpeg.starts_with(&[0xFF, 0xD8]) && jpeg.ends_with(&[0xFF, 0xD9])) {
            return Err(NotJpeg);
        }
        self.frames.send_modify(|frame| {
            let number = frame.as_ref().map_or(1, |f| f.number + 1);
            *frame = Some(Frame {
                number,
                at: SystemTime::now(),
                jpeg,
            });
        });
        Ok(())
    }

    /// The latest frame, if any was pushed.
    pub fn grab_frame(&self) -> Option<Frame> {
        self.frames.borrow().clone()
    }

    /// The next frame pushed from now on.
    pub async fn next_frame(&self) -> Frame {
        let mut frames = self.frames.subscribe();
        frames.mark_unchanged();
        loop {
            // The sender lives as long as `self`: `changed` cannot fail here.
            let _ = frames.changed().await;
            if let Some(frame) = frames.borrow_and_update().clone() {
                return frame;
            }
        }
    }

    /// The number of viewers watching now (a producer may pause while there are none).
    pub fn viewers(&self) -> usize {
        self.frames.receiver_count()
    }

    /// Completes once someone watches (immediately if someone does).
    pub async fn watched(&self) {
        loop {
            let joined = self.joined.notified();
            if self.viewers() > 0 {
                return;
            }
            joined.await;
        }
    }

    /// A viewer's end: the frames as they come, the latest first.
    pub(crate) fn subscribe(&self) -> watch::Receiver<Option<Frame>> {
        let mut frames = self.frames.subscribe();
        frames.mark_changed();
        self.joined.notify_waiters();
        frames
    }
}

impl Default for MjpegStream {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for MjpegStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MjpegStream")
            .field("viewers", &self.viewers())
            .field(
                "frames",
                &self.frames.borrow().as_ref().map_or(0, |f| f.number),
            )
            .finish()
    }
}

/// What a `#[stream]` field is: an [`MjpegStream`]. Macro plumbing.
#[doc(hidden)]
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a stream",
    label = "a `#[stream]` field is a `labthings::MjpegStream`",
    note = "declare the field as `labthings::MjpegStream`"
)]
pub trait StreamField: Send + Sync {
    /// The stream.
    fn stream(&self) -> &MjpegStream;
}

impl StreamField for MjpegStream {
    fn stream(&self) -> &MjpegStream {
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const JPEG: &[u8] = &[0xFF, 0xD8, 1, 2, 3, 0xFF, 0xD9];

    #[test]
    fn only_jpeg_frames_are_pushed() {
        let stream = MjpegStream::new();
        assert_eq!(stream.push(&b"not a jpeg"[..]), Err(NotJpeg));
        assert!(stream.grab_frame().is_none());
        stream.push(JPEG).unwrap();
        stream.push(JPEG).unwrap();
        assert_eq!(stream.grab_frame().unwrap().number, 2);
    }

    #[tokio::test]
    async fn next_frame_waits_for_a_new_one() {
        let stream = MjpegStream::new();
        stream.push(JPEG).unwrap();
        let waiting = {
            let stream = stream.clone();
            tokio::spawn(async move { stream.next_frame().await.number })
        };
        tokio::task::yield_now().await;
        stream.push(JPEG).unwrap();
        assert_eq!(waiting.await.unwrap(), 2);
    }
}
