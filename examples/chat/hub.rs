//! Rooms, members and broadcast on one process; the [`Bus`] carries what
//! several processes share (messages, history, presence).
//!
//! Every message to clients is encoded once and framed once
//! ([`PreparedMessage`], compressed once too when it is long enough), then
//! queued to each member's [`Outbox`]: a bounded queue, so a member that
//! does not keep up costs at most its queue, never the room's speed.

use std::collections::{BTreeSet, HashMap, HashSet, VecDeque};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rfc6455::{Message, PreparedMessage};
use tokio::sync::{Notify, mpsc};

use super::bus::Bus;
use super::protocol::{HISTORY, Line, Reply};

/// A connection's number, unique in this process.
pub type MemberId = u64;

/// Messages shorter than this go out uncompressed: deflate would not make
/// them smaller.
const DEFLATE_FROM: usize = 128;

/// Where a member's messages wait for its socket.
pub struct Outbox {
    queue: mpsc::Sender<PreparedMessage>,
    kicked: AtomicBool,
    kick: Notify,
}

impl Outbox {
    /// An outbox holding at most `capacity` messages, and its receiving end.
    pub fn new(capacity: usize) -> (Arc<Outbox>, mpsc::Receiver<PreparedMessage>) {
        let (queue, receiver) = mpsc::channel(capacity);
        let outbox = Outbox {
            queue,
            kicked: AtomicBool::new(false),
            kick: Notify::new(),
        };
        (Arc::new(outbox), receiver)
    }

    /// Queues `message`. A member whose queue is full is too slow: it is
    /// told to go (see [`kicked`](Self::kicked)), and the message is not
    /// kept for it, so that memory stays bounded.
    pub fn push(&self, message: &PreparedMessage) {
        if self.queue.try_send(message.clone()).is_err()
            && !self.kicked.swap(true, Ordering::AcqRel)
        {
            self.kick.notify_one();
        }
    }

    /// Resolves once the queue overflowed.
    pub async fn kicked(&self) {
        self.kick.notified().await;
    }
}

/// How often at most a room's member list goes out.
pub const PRESENCE_EVERY: Duration = Duration::from_millis(50);

/// What [`Hub::soon`] does.
#[derive(Clone, Copy, Debug, Eq, Hash, PartialEq)]
pub enum Presence {
    /// Tell the room (every process) that its members changed.
    Announce,
    /// Send the room's list, as the bus knows it, to this process's members.
    Deliver,
}

/// One process's rooms.
pub struct Hub {
    /// Member lists waiting to go out.
    presence_due: Mutex<HashSet<(Presence, String)>>,
    rooms: Mutex<HashMap<String, Room>>,
    bus: Bus,
    next_id: AtomicU64,
    /// Compress each broadcast once, for members with no context takeover.
    deflate: bool,
}

#[derive(Default)]
struct Room {
    members: HashMap<MemberId, Seat>,
    /// Without Redis: the last messages, oldest first.
    history: VecDeque<Line>,
}

struct Seat {
    name: String,
    outbox: Arc<Outbox>,
}

impl Hub {
    /// A hub over `bus`; `deflate` when connections may agree on
    /// permessage-deflate.
    pub fn new(bus: Bus, deflate: bool) -> Hub {
        Hub {
            rooms: Mutex::default(),
            presence_due: Mutex::default(),
            bus,
            next_id: AtomicU64::new(1),
            deflate,
        }
    }

    /// The bus the hub shares with other processes.
    pub fn bus(&self) -> &Bus {
        &self.bus
    }

    /// A new member's number.
    pub fn next_id(&self) -> MemberId {
        self.next_id.fetch_add(1, Ordering::Relaxed)
    }

    /// Seats `id` in `room` as `name` (renames it if it was there), sends it
    /// the room's history, and tells the room.
    pub async fn join(
        self: &Arc<Self>,
        id: MemberId,
        outbox: &Arc<Outbox>,
        room: &str,
        name: &str,
    ) {
        let seat = Seat {
            name: name.to_owned(),
            outbox: Arc::clone(outbox),
        };
        self.lock()
            .entry(room.to_owned())
            .or_default()
            .members
            .insert(id, seat);
        self.bus.enter(room, id, name).await;
        let history = self.bus.history(self, room).await;
        outbox.push(&self.prepare(&Reply::history(room, &history)));
        self.soon(Presence::Announce, room);
    }

    /// Takes `id` out of `room` and tells the room.
    pub async fn leave(self: &Arc<Self>, id: MemberId, room: &str) {
        let seat = {
            let mut rooms = self.lock();
            let seat = rooms.get_mut(room).and_then(|r| r.members.remove(&id));
            if rooms.get(room).is_some_and(|r| r.members.is_empty()) {
                rooms.remove(room);
            }
            seat
        };
        if let Some(seat) = seat {
            self.bus.exit(room, id, &seat.name).await;
            self.soon(Presence::Announce, room);
        }
    }

    /// Sends a room's member list (or, with Redis, announces the change
    /// to every process) once within [`PRESENCE_EVERY`], however many
    /// members joined or left meanwhile: one list per member per burst, not
    /// one per join, so that filling a room of N costs O(N), not O(N²).
    pub fn soon(self: &Arc<Self>, what: Presence, room: &str) {
        let key = (what, room.to_owned());
        if !self
            .presence_due
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(key.clone())
        {
            return;
        }
        let hub = Arc::clone(self);
        tokio::spawn(async move {
            tokio::time::sleep(PRESENCE_EVERY).await;
            hub.presence_due
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .remove(&key);
            let (what, room) = key;
            match what {
                Presence::Announce => hub.bus.presence_changed(&hub, &room).await,
                Presence::Deliver => hub.bus.deliver_presence(&hub, &room).await,
            }
        });
    }

    /// Whether `id` is in `room`, and under which name.
    pub fn name_in(&self, id: MemberId, room: &str) -> Option<String> {
        let rooms = self.lock();
        Some(rooms.get(room)?.members.get(&id)?.name.clone())
    }

    /// Says `text` in `room` as `from`: to every member on every process,
    /// once, in the order each sender said them. The error is the reason to
    /// give the sender.
    pub async fn say(&self, room: &str, from: &str, text: &str) -> Result<(), String> {
        let line = Line {
            room: room.to_owned(),
            from: from.to_owned(),
            text: text.to_owned(),
            ts: now_ms(),
        };
        self.bus.publish(self, line).await
    }

    /// Keeps `line` in its room's history, on a hub without Redis. A room
    /// forgets when its last member leaves.
    pub fn remember(&self, line: &Line) {
        if let Some(room) = self.lock().get_mut(&line.room) {
            if room.history.len() == HISTORY {
                room.history.pop_front();
            }
            room.history.push_back(line.clone());
        }
    }

    /// The history kept by [`remember`](Self::remember).
    pub fn local_history(&self, room: &str) -> Vec<Line> {
        self.lock()
            .get(room)
            .map_or_else(Vec::new, |r| r.history.iter().cloned().collect())
    }

    /// Hands a message said on any process to this process's members of its
    /// room: encoded, framed (and compressed) once for all of them.
    pub fn deliver(&self, line: &Line) {
        let message = self.prepare(&Reply::Message(line));
        self.each_member(&line.room, |outbox| outbox.push(&message));
    }

    /// Sends `members`, the room's member list, to this process's members of
    /// `room`.
    pub fn deliver_presence(&self, room: &str, members: &[String]) {
        let message = self.prepare(&Reply::Presence { room, members });
        self.each_member(room, |outbox| outbox.push(&message));
    }

    /// The names of this process's members of `room`, with the number each
    /// has here.
    pub fn local_names(&self, room: &str) -> Vec<(MemberId, String)> {
        self.lock().get(room).map_or_else(Vec::new, |r| {
            r.members
                .iter()
                .map(|(id, seat)| (*id, seat.name.clone()))
                .collect()
        })
    }

    /// Every room with a member on this process.
    pub fn local_rooms(&self) -> Vec<String> {
        self.lock().keys().cloned().collect()
    }

    /// A message for clients, framed once.
    pub fn prepare(&self, reply: &Reply<'_>) -> PreparedMessage {
        let json = reply.to_json();
        if self.deflate && json.len() >= DEFLATE_FROM {
            // The server window a client may ask for is 8 to 15 bits; with
            // 15, every member that agreed on no context takeover (the
            // chat's configuration) gets these bytes.
            PreparedMessage::deflated(Message::text(json), 6, 15)
        } else {
            PreparedMessage::new(Message::text(json))
        }
    }

    fn each_member(&self, room: &str, mut each: impl FnMut(&Outbox)) {
        // The lock is held only to queue: `push` never waits.
        if let Some(room) = self.lock().get(room) {
            for seat in room.members.values() {
                each(&seat.outbox);
            }
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Room>> {
        self.rooms.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Member lists are sorted and without repeats: two tabs of one person show
/// once.
pub fn member_list<'a>(names: impl IntoIterator<Item = &'a str>) -> Vec<String> {
    let names: BTreeSet<&str> = names.into_iter().collect();
    names.into_iter().map(str::to_owned).collect()
}

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_outbox_kicks_once_and_keeps_nothing_more() {
        let (outbox, mut receiver) = Outbox::new(2);
        let message = PreparedMessage::new(Message::text("x"));
        for _ in 0..5 {
            outbox.push(&message);
        }
        assert!(outbox.kicked.load(Ordering::Acquire));
        assert!(receiver.try_recv().is_ok());
        assert!(receiver.try_recv().is_ok());
        assert!(receiver.try_recv().is_err());
    }

    #[test]
    fn member_lists_are_sorted_and_unique() {
        assert_eq!(member_list(["bob", "alice", "bob"]), ["alice", "bob"]);
    }
}
