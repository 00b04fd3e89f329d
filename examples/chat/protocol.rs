//! The wire protocol, `chat.v1`: one JSON object per text message.
//!
//! Client to server:
//!
//! ```text
//! {"type":"join","room":R,"name":N}    join room R as N (again: rename)
//! {"type":"leave","room":R}
//! {"type":"say","room":R,"text":T}     to every member of R, sender included
//! ```
//!
//! Server to client:
//!
//! ```text
//! {"type":"message","room":R,"from":N,"text":T,"ts":MS}   MS: ms since the Unix epoch
//! {"type":"presence","room":R,"members":[N,...]}          on every change, sorted
//! {"type":"history","room":R,"messages":[message,...]}    the last 50, after a join
//! {"type":"error","reason":"..."}
//! ```
//!
//! Rooms are 1 to 64 bytes, names 1 to 32, texts 1 to 4,096 (counted after
//! JSON decoding), none with control characters. A connection is in at most
//! [`MAX_ROOMS`] rooms. A message that breaks a rule gets an `error` and
//! changes nothing; only going over the rate limit ends the connection
//! (close 1008, after the `error`).

use serde::{Deserialize, Serialize};

/// The subprotocol the page offers and the server chooses.
pub const SUBPROTOCOL: &str = "chat.v1";
/// The longest room name, in bytes.
pub const MAX_ROOM: usize = 64;
/// The longest member name, in bytes.
pub const MAX_NAME: usize = 32;
/// The longest text, in bytes.
pub const MAX_TEXT: usize = 4096;
/// The most rooms one connection may be in.
pub const MAX_ROOMS: usize = 16;
/// How many messages a room remembers for those who join.
pub const HISTORY: usize = 50;
/// The largest WebSocket message the server takes: a text of
/// [`MAX_TEXT`] bytes, every one escaped as `\u00XX`, and the rest of the
/// object. Larger messages are refused by the connection with 1009.
pub const MAX_FRAME: usize = 6 * MAX_TEXT + 1024;

/// A message from a client.
#[derive(Debug, Deserialize, PartialEq)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum Request {
    Join { room: String, name: String },
    Leave { room: String },
    Say { room: String, text: String },
}

impl Request {
    /// Parses and checks one text message; the error is the reason to send
    /// back.
    pub fn parse(text: &str) -> Result<Request, String> {
        let request: Request =
            serde_json::from_str(text).map_err(|e| format!("malformed message: {e}"))?;
        match &request {
            Request::Join { room, name } => {
                check("room", room, MAX_ROOM)?;
                check("name", name, MAX_NAME)?;
            }
            Request::Leave { room } => check("room", room, MAX_ROOM)?,
            Request::Say { room, text } => {
                check("room", room, MAX_ROOM)?;
                // Line breaks are fine in a text; other control characters
                // are not.
                if text.is_empty() || text.len() > MAX_TEXT {
                    return Err(format!("text must be 1 to {MAX_TEXT} bytes"));
                }
                if text
                    .chars()
                    .any(|c| c.is_control() && c != '\n' && c != '\t')
                {
                    return Err("text must not hold control characters".into());
                }
            }
        }
        Ok(request)
    }
}

fn check(what: &str, value: &str, max: usize) -> Result<(), String> {
    if value.is_empty() || value.len() > max || value.chars().any(char::is_control) {
        return Err(format!(
            "{what} must be 1 to {max} bytes without control characters"
        ));
    }
    Ok(())
}

/// One chat message, as it is said, stored in a room's history and carried
/// between processes.
#[derive(Clone, Debug, Deserialize, PartialEq, Serialize)]
pub struct Line {
    pub room: String,
    pub from: String,
    pub text: String,
    /// Milliseconds since the Unix epoch, on the server that took it.
    pub ts: u64,
}

/// A message to a client.
#[derive(Debug, Serialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum Reply<'a> {
    Message(&'a Line),
    Presence {
        room: &'a str,
        members: &'a [String],
    },
    History {
        room: &'a str,
        messages: Vec<Reply<'a>>,
    },
    Error {
        reason: &'a str,
    },
}

impl Reply<'_> {
    /// The JSON text.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("replies are plain data")
    }

    /// The history message for `lines`, oldest first.
    pub fn history<'a>(room: &'a str, lines: &'a [Line]) -> Reply<'a> {
        Reply::History {
            room,
            messages: lines.iter().map(Reply::Message).collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_parse_and_are_checked() {
        assert_eq!(
            Request::parse(r#"{"type":"say","room":"lobby","text":"hi"}"#),
            Ok(Request::Say {
                room: "lobby".into(),
                text: "hi".into()
            })
        );
        for bad in [
            "",
            "{",
            "[]",
            r#"{"type":"shout","room":"a"}"#,
            r#"{"type":"join","room":"a"}"#,
            r#"{"type":"join","room":"","name":"n"}"#,
            r#"{"type":"join","room":"a","name":"a\u0007b"}"#,
            r#"{"type":"say","room":"a","text":""}"#,
        ] {
            assert!(Request::parse(bad).is_err(), "{bad:?} was taken");
        }
        let long = format!(
            r#"{{"type":"say","room":"a","text":"{}"}}"#,
            "x".repeat(MAX_TEXT + 1)
        );
        assert!(Request::parse(&long).is_err());
        let name = "n".repeat(MAX_NAME + 1);
        let join = format!(r#"{{"type":"join","room":"a","name":"{name}"}}"#);
        assert!(Request::parse(&join).is_err());
    }

    #[test]
    fn replies_have_the_documented_shape() {
        let line = Line {
            room: "r".into(),
            from: "a".into(),
            text: "t".into(),
            ts: 5,
        };
        assert_eq!(
            Reply::Message(&line).to_json(),
            r#"{"type":"message","room":"r","from":"a","text":"t","ts":5}"#
        );
        assert_eq!(
            Reply::history("r", std::slice::from_ref(&line)).to_json(),
            r#"{"type":"history","room":"r","messages":[{"type":"message","room":"r","from":"a","text":"t","ts":5}]}"#
        );
        assert_eq!(
            Reply::Presence {
                room: "r",
                members: &["a".into(), "b".into()]
            }
            .to_json(),
            r#"{"type":"presence","room":"r","members":["a","b"]}"#
        );
    }
}
