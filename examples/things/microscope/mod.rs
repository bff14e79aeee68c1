//! A simulated microscope: a stage, a camera that looks through it, and an autofocus routine
//! that drives both — the Things of the `microscope` example, shared with the tests.

#![allow(unreachable_pub, dead_code)]

pub mod autofocus;
pub mod camera;
pub mod exif;
pub mod stage;

pub use autofocus::Autofocus;
pub use camera::Camera;
pub use stage::Stage;
