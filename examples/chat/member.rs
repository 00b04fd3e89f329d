//! One connection: reads requests, writes what its outbox holds, and ends
//! with the right close code.

use std::sync::Arc;
use std::time::{Duration, Instant};

use rfc6455::tokio::{Error, WebSocket};
use rfc6455::{CloseCode, Message, PreparedMessage};

use super::hub::{Hub, MemberId, Outbox};
use super::protocol::{MAX_ROOMS, Reply, Request};

/// How one member is treated.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// Requests per second a connection may send, on average...
    pub rate: f64,
    /// ...and in a burst.
    pub burst: f64,
    /// Messages an outbox holds; a member whose outbox fills is closed
    /// with 1013.
    pub queue: usize,
    /// How long a send may wait for the socket (the connection's output
    /// above its high-water mark) before the member is closed with 1013.
    pub slow_after: Duration,
}

/// How long a member being closed gets to take the close frame (and what
/// was queued before it) and to answer it.
const CLOSING: Duration = Duration::from_secs(5);

/// Why a connection ends.
enum End {
    /// The peer closed, or the connection failed: nothing more to say.
    Gone,
    /// Too slow a reader (1013), or a policy broken (1008).
    Close(CloseCode, &'static str),
}

/// Serves one upgraded connection until it ends.
pub async fn serve<S: Transport>(hub: Arc<Hub>, limits: Limits, socket: WebSocket<S>) {
    let id = hub.next_id();
    let (outbox, mut queue) = Outbox::new(limits.queue);
    let (mut reader, mut writer) = socket.split();
    let mut rooms = Vec::new();
    let end = {
        let reading = read(&hub, id, &outbox, limits, &mut reader, &mut rooms);
        let writing = async {
            while let Some(message) = queue.recv().await {
                if let Some(end) = send(&mut writer, &message, limits.slow_after).await {
                    return end;
                }
            }
            End::Gone
        };
        tokio::select! {
            end = reading => end,
            end = writing => end,
            () = outbox.kicked() => End::Close(CloseCode::TRY_AGAIN_LATER, "too slow"),
        }
    };
    for room in &rooms {
        hub.leave(id, room).await;
    }
    let End::Close(code, reason) = end else {
        return;
    };
    // What was queued before the end (the error that explains a 1008) goes
    // first, then the close, each as long as the socket takes it.
    if code == CloseCode::POLICY_VIOLATION {
        while let Ok(message) = queue.try_recv() {
            if send(&mut writer, &message, limits.slow_after)
                .await
                .is_some()
            {
                return;
            }
        }
    }
    let closing = async {
        writer.close(code, reason).await?;
        // The peer's close frame ends the closing handshake.
        loop {
            reader.read().await?;
        }
    };
    let _: Result<Result<(), Error>, _> = tokio::time::timeout(CLOSING, closing).await;
}

/// Writes one message, waiting at most `slow_after` for the socket.
async fn send(
    writer: &mut rfc6455::tokio::WriteHalf<impl Transport>,
    message: &PreparedMessage,
    slow_after: Duration,
) -> Option<End> {
    let sending = writer.write_with(|conn| conn.send_prepared(message));
    match tokio::time::timeout(slow_after, sending).await {
        Ok(Ok(())) => None,
        Ok(Err(_)) => Some(End::Gone),
        Err(_) => Some(End::Close(CloseCode::TRY_AGAIN_LATER, "too slow")),
    }
}

/// The stream under the socket.
pub trait Transport: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin {}
impl<T: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin> Transport for T {}

/// Reads requests until the connection ends or breaks a rule.
async fn read(
    hub: &Arc<Hub>,
    id: MemberId,
    outbox: &Arc<Outbox>,
    limits: Limits,
    reader: &mut rfc6455::tokio::ReadHalf<impl Transport>,
    rooms: &mut Vec<String>,
) -> End {
    let mut bucket = Bucket::new(limits.rate, limits.burst);
    let reply = |reason: &str| outbox.push(&hub.prepare(&Reply::Error { reason }));
    loop {
        let text = match reader.read().await {
            Ok(Message::Text(text)) => text,
            Ok(Message::Binary(_)) => {
                reply("chat.v1 speaks JSON in text messages");
                continue;
            }
            Err(_) => return End::Gone,
        };
        // Every message counts, good or bad: malformed ones cost the server
        // as much.
        if !bucket.take(Instant::now()) {
            reply("rate limit exceeded");
            return End::Close(CloseCode::POLICY_VIOLATION, "rate limit exceeded");
        }
        match Request::parse(&text) {
            Err(reason) => reply(&reason),
            Ok(Request::Join { room, name }) => {
                if !rooms.contains(&room) {
                    if rooms.len() == MAX_ROOMS {
                        reply(&format!("at most {MAX_ROOMS} rooms per connection"));
                        continue;
                    }
                    rooms.push(room.clone());
                }
                hub.join(id, outbox, &room, &name).await;
            }
            Ok(Request::Leave { room }) => {
                if let Some(at) = rooms.iter().position(|r| *r == room) {
                    rooms.swap_remove(at);
                    hub.leave(id, &room).await;
                } else {
                    reply(&format!("not in room {room:?}"));
                }
            }
            Ok(Request::Say { room, text }) => match hub.name_in(id, &room) {
                Some(from) => {
                    if let Err(reason) = hub.say(&room, &from, &text).await {
                        reply(&reason);
                    }
                }
                None => reply(&format!("join room {room:?} before saying anything in it")),
            },
        }
    }
}

/// A token bucket: `burst` requests at once, `rate` a second on average.
struct Bucket {
    rate: f64,
    burst: f64,
    tokens: f64,
    at: Instant,
}

impl Bucket {
    fn new(rate: f64, burst: f64) -> Bucket {
        Bucket {
            rate,
            burst,
            tokens: burst,
            at: Instant::now(),
        }
    }

    /// Takes a token if there is one.
    fn take(&mut self, now: Instant) -> bool {
        let elapsed = now.saturating_duration_since(self.at).as_secs_f64();
        self.tokens = (self.tokens + elapsed * self.rate).min(self.burst);
        self.at = now;
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bucket_allows_a_burst_then_the_rate() {
        let start = Instant::now();
        let mut bucket = Bucket::new(2.0, 3.0);
        bucket.at = start;
        assert!((0..3).all(|_| bucket.take(start)));
        assert!(!bucket.take(start));
        let later = start + Duration::from_millis(500);
        assert!(bucket.take(later));
        assert!(!bucket.take(later));
    }
}
