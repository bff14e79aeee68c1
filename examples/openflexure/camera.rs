//! A simulated camera with the affordances of `labthings-picamera2` 0.0.2 the OpenFlexure
//! clients use: two MJPEG streams, `capture_jpeg`, `grab_jpeg`, and the v3 server's `capture`.
//! It looks through the Sangaboard stage: the image is sharpest at one height.

#![allow(unreachable_pub)]

use std::time::Duration;

use labthings::blob::Jpeg;
use labthings::{Blob, MjpegStream, Problem, Slot, TaskContext, thing};

use super::microscope::camera::{render, sharpness};
use super::stage::Sangaboard;

/// The main stream's size.
pub const MAIN: (u16, u16) = (820, 616);
/// The low-resolution stream's size.
pub const LORES: (u16, u16) = (320, 240);
/// A full-resolution capture's size.
pub const FULL: (u16, u16) = (1640, 1232);
/// Frames per second while someone watches a stream.
const FRAME_RATE: u32 = 20;

/// A simulated Raspberry Pi camera over the OpenFlexure stage.
#[thing]
pub struct Camera {
    /// The stage under the camera.
    #[slot]
    pub stage: Slot<Sangaboard>,
    /// The size of the main stream.
    #[property(read_only)]
    pub stream_resolution: (u16, u16),
    /// Whether anybody watches a stream.
    #[property(observable, read_only)]
    pub stream_active: bool,
    /// The main stream (820×616).
    #[stream]
    pub mjpeg_stream: MjpegStream,
    /// The low-resolution stream (320×240).
    #[stream]
    pub lores_mjpeg_stream: MjpegStream,
    focus: i64,
}

impl Camera {
    /// In focus at stage height `focus`.
    pub fn new(focus: i64) -> Self {
        Self {
            stage: Slot::new(),
            stream_resolution: MAIN.into(),
            stream_active: false.into(),
            mjpeg_stream: MjpegStream::new(),
            lores_mjpeg_stream: MjpegStream::new(),
            focus,
        }
    }

    /// How sharp the image is at stage height `z`: 1 in focus.
    pub fn sharpness_at(&self, z: i64) -> f64 {
        sharpness(z - self.focus)
    }

    /// The focus height.
    pub fn focus(&self) -> i64 {
        self.focus
    }

    fn picture(&self, size: (u16, u16)) -> Result<Blob<Jpeg>, Problem> {
        let p = self.stage.get().position.get();
        let jpeg = render(size, p.x, p.y, p.z - self.focus).map_err(Problem::internal)?;
        Ok(Blob::from_bytes(jpeg))
    }
}

#[thing]
impl Camera {
    /// How sharp the image is now: 1 in focus.
    #[property]
    fn sharpness(&self) -> f64 {
        self.sharpness_at(self.stage.get().position.get().z)
    }

    /// Take a picture, as the OpenFlexure v3 server does (JPEG only).
    #[action]
    fn capture(
        &self,
        capture_mode: Option<String>,
        image_format: Option<String>,
        retain_image: Option<bool>,
    ) -> Result<Blob<Jpeg>, Problem> {
        let _ = retain_image;
        if capture_mode.as_deref().is_some_and(|m| m != "standard") {
            return Err(Problem::invalid("`capture_mode` is \"standard\"", vec![]));
        }
        if image_format.as_deref().is_some_and(|f| f != "jpeg") {
            return Err(Problem::invalid("`image_format` is \"jpeg\"", vec![]));
        }
        self.picture(FULL)
    }

    /// A JPEG at `resolution`: `lores`, `main` (the default) or `full`.
    #[action]
    fn capture_jpeg(&self, resolution: Option<String>) -> Result<Blob<Jpeg>, Problem> {
        match resolution.as_deref().unwrap_or("main") {
            "lores" => self.picture(LORES),
            "main" => self.picture(MAIN),
            "full" => self.picture(FULL),
            other => Err(Problem::invalid(
                format!("`resolution` is \"lores\", \"main\" or \"full\", not {other:?}"),
                vec![],
            )),
        }
    }

    /// The latest frame of a stream (`main`, the default, or `lores`).
    #[action]
    fn grab_jpeg(&self, stream_name: Option<String>) -> Result<Blob<Jpeg>, Problem> {
        let (stream, size) = match stream_name.as_deref().unwrap_or("main") {
            "main" => (&self.mjpeg_stream, MAIN),
            "lores" => (&self.lores_mjpeg_stream, LORES),
            other => {
                return Err(Problem::invalid(
                    format!("`stream_name` is \"main\" or \"lores\", not {other:?}"),
                    vec![],
                ));
            }
        };
        match stream.grab_frame() {
            Some(frame) if stream.viewers() > 0 => Ok(Blob::from_bytes(frame.jpeg)),
            _ => self.picture(size),
        }
    }

    /// Render frames for both streams while someone watches one.
    #[task]
    async fn stream(&self, ctx: &TaskContext) -> Result<(), labthings::Cancelled> {
        let mut tick = tokio::time::interval(Duration::from_secs(1) / FRAME_RATE);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
        loop {
            let watched = self.mjpeg_stream.viewers() + self.lores_mjpeg_stream.viewers() > 0;
            self.stream_active.set_if_changed(watched);
            if !watched {
                tokio::select! {
                    () = self.mjpeg_stream.watched() => {}
                    () = self.lores_mjpeg_stream.watched() => {}
                    () = ctx.cancelled() => return Err(labthings::Cancelled),
                }
                continue;
            }
            tokio::select! {
                _ = tick.tick() => {}
                () = ctx.cancelled() => return Err(labthings::Cancelled),
            }
            for (stream, size) in [
                (&self.mjpeg_stream, MAIN),
                (&self.lores_mjpeg_stream, LORES),
            ] {
                if stream.viewers() == 0 {
                    continue;
                }
                let p = self.stage.get().position.get();
                match render(size, p.x, p.y, p.z - self.focus) {
                    Ok(jpeg) => {
                        let _ = stream.push(jpeg);
                    }
                    Err(error) => tracing::error!("a frame failed: {error}"),
                }
            }
        }
    }
}
