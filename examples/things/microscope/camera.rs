//! A simulated camera that looks through the stage: its image is sharpest at one focus height.

use std::f64::consts::TAU;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use labthings::blob::Jpeg;
use labthings::{ActionContext, Blob, Cancelled, MjpegStream, Slot, TaskContext, thing};

use super::stage::Stage;

/// Width and height of the preview.
pub const PREVIEW: (u16, u16) = (640, 480);
/// The sensor's temperature in °C at an exposure of `exposure_ms`: 20 °C, and 3 °C more per
/// 100 ms of exposure (the simulated sensor's heating).
pub fn sensor_temperature(exposure_ms: f64) -> f64 {
    20.0 + 0.03 * exposure_ms
}

/// Width and height of a capture.
pub const FULL: (u16, u16) = (1280, 960);
/// Frames per second of the preview while someone watches it.
pub const FRAME_RATE: u32 = 30;

/// A simulated camera.
///
/// It looks at the sample on the stage; the image is sharpest when the stage's z is at the
/// camera's focus height.
#[thing]
pub struct Camera {
    /// The stage under the camera.
    #[slot]
    pub stage: Slot<Stage>,
    /// The exposure time.
    #[property(setting, observable, minimum = 0.01, maximum = 1000.0, unit = "ms")]
    pub exposure_ms: f64,
    /// The temperature of the sensor, which warms with longer exposures: fine from 15 to
    /// 35 °C, an alarm below 5 or above 45.
    #[property(observable, read_only, unit = "°C", warning = 15.0..=35.0, alarm = 5.0..=45.0)]
    pub sensor_temperature: f64,
    /// The live picture, 640×480 at 30 frames per second while someone watches.
    #[stream]
    pub preview: MjpegStream,
    focus: i64,
    /// Whether the preview producer runs (between the start and stop hooks).
    producing: Arc<AtomicBool>,
}

/// What [`Camera::analyse`] found in an image.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize, schemars::JsonSchema)]
pub struct ImageStats {
    /// Its size in bytes.
    pub bytes: u64,
    /// Its width in pixels.
    pub width: u16,
    /// Its height in pixels.
    pub height: u16,
    /// The mean of its pixels, from 0 (black) to 255 (white).
    pub mean_brightness: f64,
}

#[thing]
impl Camera {
    /// How sharp the image is: 1 in focus, falling off with the distance from focus.
    #[property]
    fn sharpness(&self) -> f64 {
        self.sharpness_at(self.stage.get().position.get().z)
    }

    /// Take a full-size (1280×960) picture. Its Exif `UserComment` names the invocation and
    /// the path of its provenance record.
    #[action]
    fn capture(&self, ctx: &ActionContext) -> Result<Blob<Jpeg>, String> {
        let position = self.stage.get().position.get();
        let comment = serde_json::json!({
            "invocation": ctx.id(),
            "provenance": ctx.provenance_path(),
            "position": position,
        });
        let exif = super::exif::user_comment(&comment.to_string())?;
        let defocus = position.z - self.focus;
        let jpeg = render_with(FULL, position.x, position.y, defocus, Some(&exif))?;
        Ok(Blob::from_bytes(jpeg))
    }

    /// The latest preview frame, as a blob (rendered now if nobody watches the preview).
    #[action]
    fn grab_frame(&self) -> Result<Blob<Jpeg>, String> {
        match self.preview.grab_frame() {
            Some(frame) if self.preview.viewers() > 0 => Ok(Blob::from_bytes(frame.jpeg)),
            _ => {
                let p = self.stage.get().position.get();
                Ok(Blob::from_bytes(render(
                    PREVIEW,
                    p.x,
                    p.y,
                    p.z - self.focus,
                )?))
            }
        }
    }

    /// The size and mean brightness of an uploaded JPEG image.
    #[action]
    async fn analyse(&self, image: Blob<Jpeg>) -> Result<ImageStats, String> {
        let bytes = image.read().await.map_err(|e| e.to_string())?;
        let mut decoder = jpeg_decoder::Decoder::new(&bytes[..]);
        let pixels = decoder
            .decode()
            .map_err(|e| format!("the image is not a JPEG: {e}"))?;
        let info = decoder.info().ok_or("the image has no size")?;
        let sum: u64 = pixels.iter().map(|&p| u64::from(p)).sum();
        Ok(ImageStats {
            bytes: bytes.len() as u64,
            width: info.width,
            height: info.height,
            mean_brightness: sum as f64 / pixels.len().max(1) as f64,
        })
    }

    /// Start the preview: frames at 30 per second while someone watches.
    #[on_start]
    async fn start_preview(&self) {
        self.producing.store(true, Ordering::SeqCst);
        let (stage, stream, running, focus) = (
            self.stage.shared(),
            self.preview.clone(),
            self.producing.clone(),
            self.focus,
        );
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_secs(1) / FRAME_RATE);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
            while running.load(Ordering::SeqCst) {
                tokio::select! {
                    () = stream.watched() => {}
                    () = tokio::time::sleep(Duration::from_millis(200)) => continue,
                }
                tick.tick().await;
                let p = stage.position.get();
                match render(PREVIEW, p.x, p.y, p.z - focus) {
                    Ok(jpeg) => {
                        let _ = stream.push(jpeg);
                    }
                    Err(error) => tracing::error!("a preview frame failed: {error}"),
                }
            }
        });
    }

    /// Follow the exposure: the sensor settles at its temperature for the exposure time
    /// within a tenth of a second.
    #[task]
    async fn thermal(&self, ctx: &TaskContext) -> Result<(), Cancelled> {
        loop {
            let settled = sensor_temperature(self.exposure_ms.get());
            if self.sensor_temperature.get() != settled {
                self.sensor_temperature.set(settled);
            }
            ctx.sleep(Duration::from_millis(100)).await?;
        }
    }

    /// Stop the preview.
    #[on_stop]
    fn stop_preview(&self) {
        self.producing.store(false, Ordering::SeqCst);
    }
}

/// Construction arguments of a [`Camera`].
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CameraArgs {
    /// The z at which the image is sharpest.
    pub focus: i64,
}

impl Default for CameraArgs {
    fn default() -> Self {
        Self { focus: 1_234 }
    }
}

impl Camera {
    /// A camera in focus at `args.focus`.
    pub fn new(args: CameraArgs) -> Self {
        Self {
            stage: Slot::new(),
            exposure_ms: 10.0.into(),
            sensor_temperature: sensor_temperature(10.0).into(),
            preview: MjpegStream::new(),
            focus: args.focus,
            producing: Arc::new(AtomicBool::new(false)),
        }
    }

    /// The sharpness of the image at height `z`.
    pub fn sharpness_at(&self, z: i64) -> f64 {
        sharpness(z - self.focus)
    }

    /// The focus height.
    pub fn focus(&self) -> i64 {
        self.focus
    }
}

/// The sharpness of an image `defocus` steps out of focus: 1 in focus, falling off with the
/// distance.
pub fn sharpness(defocus: i64) -> f64 {
    let defocus = defocus as f64 / 200.0;
    1.0 / (1.0 + defocus * defocus)
}

/// A grey JPEG of the sample seen at stage position `x`, `y`, `defocus` steps out of focus:
/// two crossed gratings (periods of 64 and 12 pixels) that move with the stage, blurred by
/// defocus — a Gaussian blur of a grating lowers its contrast by `exp(-(σk)²/2)`, the fine
/// one first, so the picture is exact and costs two multiplications a pixel.
pub fn render(size: (u16, u16), x: i64, y: i64, defocus: i64) -> Result<Vec<u8>, String> {
    render_with(size, x, y, defocus, None)
}

/// As [`render`], with an Exif segment (APP1 data, from [`super::exif`]).
pub fn render_with(
    (width, height): (u16, u16),
    x: i64,
    y: i64,
    defocus: i64,
    exif: Option<&[u8]>,
) -> Result<Vec<u8>, String> {
    let sigma = defocus.unsigned_abs() as f64 / 40.0;
    let gratings = [(64.0, 70.0), (12.0, 45.0)].map(|(period, amplitude): (f64, f64)| {
        let k = TAU / period;
        let amplitude = amplitude * (-(sigma * k).powi(2) / 2.0).exp();
        let wave = |n: usize, offset: i64| -> Vec<f64> {
            (0..n)
                .map(|i| (k * (i as f64 + offset as f64)).sin())
                .collect()
        };
        (amplitude, wave(width.into(), x), wave(height.into(), y))
    });
    let mut pixels = Vec::with_capacity(usize::from(width) * usize::from(height));
    for row in 0..usize::from(height) {
        let across: Vec<(f64, f64)> = gratings
            .iter()
            .map(|(amplitude, _, ys)| (*amplitude, ys[row]))
            .collect();
        for column in 0..usize::from(width) {
            let mut value = 128.0;
            for ((amplitude, y_wave), (_, xs, _)) in across.iter().zip(&gratings) {
                value += amplitude * y_wave * xs[column];
            }
            pixels.push(value.clamp(0.0, 255.0) as u8);
        }
    }
    let mut jpeg = Vec::new();
    let mut encoder = jpeg_encoder::Encoder::new(&mut jpeg, 80);
    if let Some(exif) = exif {
        encoder
            .add_app_segment(1, exif)
            .map_err(|e| e.to_string())?;
    }
    (encoder.encode(&pixels, width, height, jpeg_encoder::ColorType::Luma))
        .map_err(|e| e.to_string())?;
    Ok(jpeg)
}
