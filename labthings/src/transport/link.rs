//! An open connection to a device: a serial port, a TCP stream, or a replayed transcript.

use std::collections::VecDeque;
use std::io;

use futures_util::FutureExt;
use serial2_tokio::{CharSize, SerialPort, StopBits};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use super::endpoint::{Endpoint, Parity, SerialSettings};
use super::transcript::Transcript;

/// An open connection.
pub(super) enum Link {
    Serial(SerialPort),
    Tcp(TcpStream),
    Replay(Replayer),
}

/// A transcript played back: each command written queues its recorded reply.
pub(super) struct Replayer {
    transcript: Transcript,
    pending: VecDeque<u8>,
}

impl Link {
    /// Open `endpoint`.
    pub(super) async fn open(endpoint: &Endpoint) -> io::Result<Self> {
        match endpoint {
            Endpoint::Serial { path, settings } => {
                let settings = *settings;
                let port = SerialPort::open(path, move |mut s: serial2_tokio::Settings| {
                    configure(&mut s, &settings)?;
                    Ok(s)
                })?;
                Ok(Self::Serial(port))
            }
            Endpoint::Tcp { address } => {
                let stream = TcpStream::connect(address).await?;
                stream.set_nodelay(true)?;
                Ok(Self::Tcp(stream))
            }
            Endpoint::Replay { transcript } => {
                let transcript = Transcript::load(transcript)
                    .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e.to_string()))?;
                Ok(Self::Replay(Replayer {
                    transcript,
                    pending: VecDeque::new(),
                }))
            }
        }
    }

    /// Discard what the device sent that nobody asked for.
    pub(super) fn discard_input(&mut self) {
        let mut scratch = [0u8; 256];
        match self {
            Self::Serial(port) => {
                let _ = port.discard_input_buffer();
                while let Some(Ok(n)) = port.read(&mut scratch).now_or_never() {
                    if n == 0 {
                        break;
                    }
                }
            }
            Self::Tcp(stream) => {
                while let Ok(n) = stream.try_read(&mut scratch) {
                    if n == 0 {
                        break;
                    }
                }
            }
            Self::Replay(replayer) => replayer.pending.clear(),
        }
    }

    /// Write `bytes` (a command with its terminator). A replayed device answers `command`
    /// from its transcript, or fails with `NotFound` when it has no reply to it.
    pub(super) async fn write(&mut self, bytes: &[u8], command: &str) -> io::Result<()> {
        match self {
            Self::Serial(port) => port.write_all(bytes).await,
            Self::Tcp(stream) => stream.write_all(bytes).await,
            Self::Replay(replayer) => {
                let reply = replayer.transcript.reply(command).ok_or_else(|| {
                    io::Error::new(io::ErrorKind::NotFound, "not in the transcript")
                })?;
                for line in reply {
                    replayer.pending.extend(line.as_bytes());
                    replayer.pending.extend(b"\r\n");
                }
                Ok(())
            }
        }
    }

    /// Read what is there (waiting for something); `0` is the end of the stream.
    pub(super) async fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Self::Serial(port) => port.read(buf).await,
            Self::Tcp(stream) => stream.read(buf).await,
            Self::Replay(replayer) => {
                if replayer.pending.is_empty() {
                    // A recorded silence: nothing more comes.
                    std::future::pending::<()>().await;
                }
                let n = buf.len().min(replayer.pending.len());
                for (slot, byte) in buf.iter_mut().zip(replayer.pending.drain(..n)) {
                    *slot = byte;
                }
                Ok(n)
            }
        }
    }
}

fn configure(s: &mut serial2_tokio::Settings, settings: &SerialSettings) -> io::Result<()> {
    s.set_raw();
    s.set_baud_rate(settings.baud)?;
    s.set_char_size(match settings.data_bits {
        5 => CharSize::Bits5,
        6 => CharSize::Bits6,
        7 => CharSize::Bits7,
        _ => CharSize::Bits8,
    });
    s.set_stop_bits(if settings.stop_bits == 2 {
        StopBits::Two
    } else {
        StopBits::One
    });
    s.set_parity(match settings.parity {
        Parity::None => serial2_tokio::Parity::None,
        Parity::Odd => serial2_tokio::Parity::Odd,
        Parity::Even => serial2_tokio::Parity::Even,
    });
    s.set_flow_control(serial2_tokio::FlowControl::None);
    Ok(())
}
