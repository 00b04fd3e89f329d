//! What processes share: each room's messages, its history and its member
//! list. [`Bus::Local`] keeps them in this process; [`Bus::Redis`] shares
//! them with every process on the same Redis server.
//!
//! With Redis:
//! - a message is appended to the room's history (a list trimmed to the
//!   last [`HISTORY`]) and published on the room's channel in one
//!   transaction; every process, the sender's included, delivers it to its
//!   members when it comes back from the channel. Redis orders a channel's
//!   messages, so every member sees one order, and each message once;
//! - presence is a sorted set per room whose scores are expiry times: each
//!   process renews its members' entries every third of the TTL, and drops
//!   expired ones, so the members of a process that died leave the list
//!   within the TTL plus a third. A change is announced on the room's
//!   channel, and each process then sends the list to its members;
//! - every process listens to every room (one pattern subscription): the
//!   simple choice, right until traffic outgrows one process's network.

use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;
use redis::aio::{MultiplexedConnection, PubSub};
use serde::{Deserialize, Serialize};

use super::hub::{Hub, MemberId, Presence, member_list, now_ms};
use super::protocol::{HISTORY, Line};

/// Where shared state lives.
pub enum Bus {
    /// In this process only.
    Local,
    /// On a Redis server, shared with the other processes using it.
    Redis(Box<RedisBus>),
}

/// A [`Bus`] on Redis.
pub struct RedisBus {
    client: redis::Client,
    commands: MultiplexedConnection,
    /// Tells this process's presence entries from the others'.
    process: String,
    ttl: Duration,
}

/// What goes over a room's channel.
#[derive(Debug, Deserialize, Serialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
enum Notice {
    Message { line: Line },
    Presence,
}

const CHANNEL: &str = "chat:room:";

fn channel(room: &str) -> String {
    format!("{CHANNEL}{room}")
}

fn history_key(room: &str) -> String {
    format!("chat:history:{room}")
}

fn presence_key(room: &str) -> String {
    format!("chat:presence:{room}")
}

/// How long a room's history outlives its last message.
const HISTORY_TTL_SECS: u64 = 24 * 3600;

impl Bus {
    /// Connects to the Redis server at `url` (`redis://HOST:PORT`), with
    /// presence entries lasting `ttl`; also returns the subscription to
    /// hand to [`listen`], already listening so that nothing said after
    /// this returns is missed.
    pub async fn redis(url: &str, ttl: Duration) -> redis::RedisResult<(Bus, PubSub)> {
        let client = redis::Client::open(url)?;
        let commands = client.get_multiplexed_async_connection().await?;
        let pubsub = subscribe(&client).await?;
        let started = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        let bus = RedisBus {
            client,
            commands,
            process: format!("{:x}-{started:x}", std::process::id()),
            ttl,
        };
        Ok((Bus::Redis(Box::new(bus)), pubsub))
    }

    /// `id` entered `room` as `name`.
    pub async fn enter(&self, room: &str, id: MemberId, name: &str) {
        if let Bus::Redis(redis) = self {
            let mut cmd = redis::cmd("ZADD");
            cmd.arg(presence_key(room))
                .arg(redis.expiry())
                .arg(redis.entry(id, name));
            redis.run(cmd).await;
        }
    }

    /// `id`, known as `name`, left `room`.
    pub async fn exit(&self, room: &str, id: MemberId, name: &str) {
        if let Bus::Redis(redis) = self {
            let mut cmd = redis::cmd("ZREM");
            cmd.arg(presence_key(room)).arg(redis.entry(id, name));
            redis.run(cmd).await;
        }
    }

    /// The last messages of `room`, oldest first.
    pub async fn history(&self, hub: &Hub, room: &str) -> Vec<Line> {
        match self {
            Bus::Local => hub.local_history(room),
            Bus::Redis(redis) => {
                let mut cmd = redis::cmd("LRANGE");
                cmd.arg(history_key(room)).arg(0).arg(-1);
                let lines: Vec<String> = redis.query(cmd).await.unwrap_or_default();
                lines
                    .iter()
                    .filter_map(|json| serde_json::from_str(json).ok())
                    .collect()
            }
        }
    }

    /// Says `line` to its room, on every process. An error means nobody got
    /// it.
    pub async fn publish(&self, hub: &Hub, line: Line) -> Result<(), String> {
        match self {
            Bus::Local => {
                hub.remember(&line);
                hub.deliver(&line);
                Ok(())
            }
            Bus::Redis(redis) => {
                let key = history_key(&line.room);
                let room = channel(&line.room);
                let stored = serde_json::to_string(&line).expect("plain data");
                let notice = serde_json::to_string(&Notice::Message { line }).expect("plain data");
                let mut pipe = redis::pipe();
                pipe.atomic()
                    .cmd("RPUSH")
                    .arg(&key)
                    .arg(stored)
                    .ignore()
                    .cmd("LTRIM")
                    .arg(&key)
                    .arg(-(HISTORY as i64))
                    .arg(-1)
                    .ignore()
                    .cmd("EXPIRE")
                    .arg(&key)
                    .arg(HISTORY_TTL_SECS)
                    .ignore()
                    .cmd("PUBLISH")
                    .arg(room)
                    .arg(notice)
                    .ignore();
                let mut commands = redis.commands.clone();
                pipe.query_async::<()>(&mut commands).await.map_err(|e| {
                    eprintln!("chat: redis: {e}");
                    "the message could not be sent; try again".to_owned()
                })
            }
        }
    }

    /// Tells every member of `room`, on every process, who is in it now.
    pub async fn presence_changed(&self, hub: &Hub, room: &str) {
        match self {
            Bus::Local => {
                let names = hub.local_names(room);
                let members = member_list(names.iter().map(|(_, name)| name.as_str()));
                hub.deliver_presence(room, &members);
            }
            Bus::Redis(redis) => redis.announce(room).await,
        }
    }

    /// Sends the room's member list, as this bus knows it, to this
    /// process's members of `room`.
    pub async fn deliver_presence(&self, hub: &Hub, room: &str) {
        match self {
            Bus::Local => self.presence_changed(hub, room).await,
            Bus::Redis(redis) => hub.deliver_presence(room, &redis.members(room).await),
        }
    }

    /// Before the process ends: its members leave every room's list now,
    /// rather than when their entries expire.
    pub async fn shutdown(&self, hub: &Hub) {
        if let Bus::Redis(redis) = self {
            for room in hub.local_rooms() {
                for (id, name) in hub.local_names(&room) {
                    self.exit(&room, id, &name).await;
                }
                redis.announce(&room).await;
            }
        }
    }
}

impl RedisBus {
    fn entry(&self, id: MemberId, name: &str) -> String {
        // Names hold no control characters (protocol.rs), so the line break
        // cannot be part of one.
        format!("{}/{id}\n{name}", self.process)
    }

    fn expiry(&self) -> u64 {
        now_ms() + self.ttl.as_millis() as u64
    }

    async fn announce(&self, room: &str) {
        let notice = serde_json::to_string(&Notice::Presence).expect("plain data");
        let mut cmd = redis::cmd("PUBLISH");
        cmd.arg(channel(room)).arg(notice);
        self.run(cmd).await;
    }

    /// The room's member list, from the live entries of every process.
    async fn members(&self, room: &str) -> Vec<String> {
        let mut cmd = redis::cmd("ZRANGEBYSCORE");
        cmd.arg(presence_key(room)).arg(now_ms()).arg("+inf");
        let entries: Vec<String> = self.query(cmd).await.unwrap_or_default();
        member_list(
            entries
                .iter()
                .filter_map(|entry| entry.split_once('\n').map(|(_, name)| name)),
        )
    }

    async fn run(&self, cmd: redis::Cmd) {
        let _: Option<()> = self.query(cmd).await;
    }

    async fn query<T: redis::FromRedisValue>(&self, cmd: redis::Cmd) -> Option<T> {
        let mut commands = self.commands.clone();
        match cmd.query_async(&mut commands).await {
            Ok(value) => Some(value),
            Err(e) => {
                eprintln!("chat: redis: {e}");
                None
            }
        }
    }
}

async fn subscribe(client: &redis::Client) -> redis::RedisResult<PubSub> {
    let mut pubsub = client.get_async_pubsub().await?;
    pubsub.psubscribe(format!("{CHANNEL}*")).await?;
    Ok(pubsub)
}

/// Delivers what comes over the rooms' channels to this process's members,
/// and renews this process's presence entries; runs as long as the process,
/// reconnecting to Redis when the connection drops.
pub async fn listen(hub: Arc<Hub>, mut pubsub: PubSub) {
    let Bus::Redis(redis) = hub.bus() else {
        return;
    };
    tokio::spawn(renew(Arc::clone(&hub)));
    loop {
        {
            let mut messages = pubsub.on_message();
            while let Some(message) = messages.next().await {
                let Some(room) = message.get_channel_name().strip_prefix(CHANNEL) else {
                    continue;
                };
                let Ok(payload) = message.get_payload::<String>() else {
                    continue;
                };
                match serde_json::from_str::<Notice>(&payload) {
                    Ok(Notice::Message { line }) if line.room == room => hub.deliver(&line),
                    Ok(Notice::Presence) if !hub.local_names(room).is_empty() => {
                        hub.soon(Presence::Deliver, room);
                    }
                    Ok(_) => {}
                    Err(e) => eprintln!("chat: a notice on {room:?} was not understood: {e}"),
                }
            }
        }
        eprintln!("chat: the redis subscription ended; reconnecting");
        pubsub = loop {
            tokio::time::sleep(Duration::from_secs(1)).await;
            match subscribe(&redis.client).await {
                Ok(pubsub) => break pubsub,
                Err(e) => eprintln!("chat: redis: {e}"),
            }
        };
    }
}

/// Every third of the TTL: renews this process's entries and drops the
/// expired ones (a process that died), announcing a change when it drops
/// any.
async fn renew(hub: Arc<Hub>) {
    let Bus::Redis(redis) = hub.bus() else {
        return;
    };
    let mut tick = tokio::time::interval(redis.ttl / 3);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        for room in hub.local_rooms() {
            let key = presence_key(&room);
            let mut pipe = redis::pipe();
            for (id, name) in hub.local_names(&room) {
                pipe.cmd("ZADD")
                    .arg(&key)
                    .arg(redis.expiry())
                    .arg(redis.entry(id, &name))
                    .ignore();
            }
            pipe.cmd("ZREMRANGEBYSCORE")
                .arg(&key)
                .arg("-inf")
                .arg(format!("({}", now_ms()));
            let mut commands = redis.commands.clone();
            match pipe.query_async::<(u64,)>(&mut commands).await {
                Ok((0,)) => {}
                Ok(_) => redis.announce(&room).await,
                Err(e) => eprintln!("chat: redis: {e}"),
            }
        }
    }
}
