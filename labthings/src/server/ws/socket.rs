//! Driving one WebSocket: a reader that parses and answers requests, and a writer that owns
//! the socket's sending half.
//!
//! The socket is split (as axum's documentation shows) and both halves are driven at the same
//! time, by one task: reading goes on while a write waits for a slow client, and writing goes
//! on while a request waits for device code. A request that calls device code (reading or
//! writing a property) runs concurrently with the others, up to
//! [`WsLimits::max_in_flight`](super::WsLimits::max_in_flight) per socket, so a slow getter
//! delays neither notifications nor other requests.

use std::sync::Arc;

use axum::extract::ws::{Message, WebSocket};
use futures_util::stream::{FuturesUnordered, SplitSink, SplitStream};
use futures_util::{SinkExt, StreamExt};

use super::connection::{Connection, Dispatch};
use super::messages::close;
use crate::broker::Delivery;

/// Serve one upgraded connection until either side closes it or the server shuts down.
pub(crate) async fn run(connection: Arc<Connection>, socket: WebSocket) {
    let (sink, stream) = socket.split();
    let mut sink = sink;
    let kill = connection.state.open.kill.clone();
    let ended = tokio::select! {
        () = write(&connection, &mut sink) => None,
        ended = read(&connection, stream) => Some(ended),
        // Past the shutdown deadline, a connection that could not be closed is dropped.
        () = kill.cancelled() => None,
    };
    match ended {
        Some(ReadEnd::TooLarge) => {
            let reason = "a message was larger than the server's limit";
            send_close(&mut sink, close(1009, reason)).await;
        }
        Some(ReadEnd::Broken(code, reason)) => send_close(&mut sink, close(code, reason)).await,
        Some(ReadEnd::Closed) | None => {}
    }
    connection.unsubscribe_all();
}

/// Why reading ended.
enum ReadEnd {
    /// The client closed the connection, or it broke.
    Closed,
    /// The client sent a frame or message over the size limit.
    TooLarge,
    /// The client broke the protocol (1002) or sent text that is not UTF-8 (1007).
    Broken(u16, &'static str),
}

/// Read and handle messages until the client closes the connection.
async fn read(connection: &Arc<Connection>, mut stream: SplitStream<WebSocket>) -> ReadEnd {
    let mut in_flight = FuturesUnordered::new();
    let max_in_flight = connection.state.ws.max_in_flight.max(1);
    let max_replies = connection.state.ws.max_queued_replies.max(1);
    let mailbox = &connection.mailbox;
    loop {
        // A client that does not take its replies is not read from until it does: the
        // replies it makes the server hold stay bounded.
        let replies_taken = mailbox.message_bytes() < max_replies;
        tokio::select! {
            () = mailbox.messages_below(max_replies), if !replies_taken => {}
            message = stream.next(), if in_flight.len() < max_in_flight && replies_taken => match message {
                Some(Ok(message)) => {
                    match connection.dispatch(message) {
                        Dispatch::Done => {}
                        Dispatch::Later(future) => in_flight.push(future),
                        Dispatch::Close => return ReadEnd::Closed,
                    }
                    // A client that floods the socket shares the thread with the others.
                    tokio::task::coop::consume_budget().await;
                }
                Some(Err(error)) => return read_error(&error),
                None => return ReadEnd::Closed,
            },
            Some(()) = in_flight.next(), if !in_flight.is_empty() => {}
        }
    }
}

/// Why a read failed, from tungstenite's error (the tests pin its wording down).
fn read_error(error: &axum::Error) -> ReadEnd {
    let error = error.to_string();
    if error.starts_with("Space limit exceeded") {
        ReadEnd::TooLarge
    } else if error.starts_with("UTF-8 encoding error") {
        ReadEnd::Broken(1007, "a text message was not valid UTF-8")
    } else if error.starts_with("WebSocket protocol error") {
        ReadEnd::Broken(1002, "the client broke the WebSocket protocol")
    } else {
        ReadEnd::Closed
    }
}

/// Send what the mailbox holds until the server shuts down, the client cannot be written to,
/// or it fell behind on events.
async fn write(connection: &Connection, sink: &mut SplitSink<WebSocket, Message>) {
    let shutdown = connection.state.shutdown().clone();
    let going_away = || close(1001, "the server is shutting down");
    let mailbox = &connection.mailbox;
    let mut batch = Vec::new();
    loop {
        tokio::select! {
            biased;
            () = shutdown.cancelled() => return send_close(sink, going_away()).await,
            open = mailbox.recv_many(&mut batch) => {
                if !open {
                    let reason = "the client read too slowly: its queue of events and replies overflowed";
                    return send_close(sink, close(1008, reason)).await;
                }
                // A client that reads slowly does not hold the shutdown up.
                tokio::select! {
                    biased;
                    () = shutdown.cancelled() => return send_close(sink, going_away()).await,
                    delivered = deliver(connection, sink, &mut batch) => {
                        if delivered.is_err() {
                            return;
                        }
                    }
                }
            }
        }
    }
}

/// Send a close frame, giving up after a second (a client that does not read).
async fn send_close(sink: &mut SplitSink<WebSocket, Message>, frame: Message) {
    let _ = tokio::time::timeout(std::time::Duration::from_secs(1), sink.send(frame)).await;
}

/// Deliveries formatted at a time (under the lock of the subscriptions).
const CHUNK: usize = 256;

async fn deliver(
    connection: &Connection,
    sink: &mut SplitSink<WebSocket, Message>,
    batch: &mut Vec<Delivery>,
) -> Result<(), axum::Error> {
    let mut pending = batch.drain(..);
    loop {
        let texts = connection.render(pending.by_ref().take(CHUNK));
        if texts.is_empty() && pending.len() == 0 {
            break;
        }
        for text in texts {
            sink.feed(Message::text(text)).await?;
        }
    }
    drop(pending);
    sink.flush().await
}
