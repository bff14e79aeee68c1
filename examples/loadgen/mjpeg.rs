//! MJPEG load: one 30 fps stream of 640×480 JPEG frames to many viewers, labthings (an
//! `#[stream]` field) against a bare axum multipart stream fed by a `tokio::sync::watch`
//! channel, both pushing the same frames.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use axum::body::Bytes;

/// Frames pushed per second by both servers.
pub(crate) const FRAME_RATE: u32 = 30;

/// A textured 640×480 grey JPEG, about as large as a camera's.
pub(crate) fn frame() -> Bytes {
    let (width, height) = (640u16, 480u16);
    let mut seed = 0x2545_f491_u32;
    let mut pixels = Vec::with_capacity(usize::from(width) * usize::from(height));
    for y in 0..height {
        for x in 0..width {
            seed ^= seed << 13;
            seed ^= seed >> 17;
            seed ^= seed << 5;
            let wave = ((f64::from(x) / 9.0).sin() * (f64::from(y) / 7.0).cos() * 60.0) as i32;
            pixels.push((128 + wave + (seed % 24) as i32 - 12).clamp(0, 255) as u8);
        }
    }
    let mut jpeg = Vec::new();
    jpeg_encoder::Encoder::new(&mut jpeg, 80)
        .encode(&pixels, width, height, jpeg_encoder::ColorType::Luma)
        .unwrap();
    Bytes::from(jpeg)
}

/// What the viewers of one run received.
pub(crate) struct Viewing {
    /// Frames per second each viewer received, sorted.
    pub(crate) fps: Vec<f64>,
    /// Server CPU time per frame pushed, in milliseconds.
    pub(crate) cpu_ms_per_frame: f64,
}

/// `viewers` viewers of `path` for `time`; `cpu` reads the server's CPU time.
pub(crate) async fn view(
    addr: SocketAddr,
    path: &str,
    viewers: usize,
    time: Duration,
    cpu: impl Fn() -> Duration,
) -> Viewing {
    let url = format!("http://{addr}{path}");
    let mut responses = Vec::new();
    for _ in 0..viewers {
        let response = reqwest::get(&url).await.unwrap();
        assert!(response.status().is_success(), "{url}");
        responses.push(response);
    }
    let cpu_before = cpu();
    let start = Instant::now();
    let readers: Vec<_> = responses
        .into_iter()
        .map(|mut response| {
            tokio::spawn(async move {
                let mut frames = 0u64;
                let mut scanned = Vec::new();
                while start.elapsed() < time {
                    let Ok(Ok(Some(chunk))) =
                        tokio::time::timeout(Duration::from_secs(2), response.chunk()).await
                    else {
                        break;
                    };
                    // Count part headers; keep a few bytes in case one spans two chunks.
                    scanned.extend_from_slice(&chunk);
                    frames += scanned.windows(9).filter(|w| *w == b"--frame\r\n").count() as u64;
                    let keep = scanned.len().saturating_sub(8);
                    scanned.drain(..keep);
                }
                frames as f64 / start.elapsed().as_secs_f64()
            })
        })
        .collect();
    let mut fps = Vec::new();
    for reader in readers {
        fps.push(reader.await.unwrap());
    }
    let elapsed = start.elapsed();
    let cpu_used = cpu().saturating_sub(cpu_before);
    fps.sort_by(f64::total_cmp);
    let pushed = elapsed.as_secs_f64() * f64::from(FRAME_RATE);
    Viewing {
        fps,
        cpu_ms_per_frame: cpu_used.as_secs_f64() * 1000.0 / pushed,
    }
}
