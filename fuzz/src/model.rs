//! What the send methods must return, predicted from the API contract.

use rfc6455::frame::MAX_CONTROL_PAYLOAD;
use rfc6455::{CloseCode, CloseFrame, Message, MessageKind, SendError, State};

/// The sending side of a connection as its documentation describes it: the
/// fragmented message in progress, if any.
#[derive(Debug, Default)]
pub struct SendModel {
    /// The kind and the bytes so far of a message sent in fragments.
    open: Option<(MessageKind, Vec<u8>)>,
}

impl SendModel {
    /// The kind of the fragmented message in progress.
    pub fn open_kind(&self) -> Option<MessageKind> {
        self.open.as_ref().map(|(kind, _)| *kind)
    }

    /// What `send`, `send_text` or `send_binary` must return.
    pub fn predict_message(&self, state: State) -> Result<(), SendError> {
        if state != State::Open {
            Err(SendError::Closed)
        } else if self.open.is_some() {
            Err(SendError::MessageInProgress)
        } else {
            Ok(())
        }
    }

    /// What `send_fragment(kind, payload, fin)` must return: a fragment of
    /// another kind than the open message is refused, and the fragments of
    /// a text message must be a prefix of UTF-8 (all of it when `fin`).
    pub fn predict_fragment(
        &self,
        state: State,
        kind: MessageKind,
        payload: &[u8],
        fin: bool,
    ) -> Result<(), SendError> {
        if state != State::Open {
            return Err(SendError::Closed);
        }
        let so_far = match &self.open {
            Some((open, _)) if *open != kind => return Err(SendError::MessageInProgress),
            Some((_, so_far)) => &so_far[..],
            None => &[],
        };
        if kind == MessageKind::Binary {
            return Ok(());
        }
        let text = [so_far, payload].concat();
        match std::str::from_utf8(&text) {
            Ok(_) => Ok(()),
            // A prefix cut inside a code point, and more is to come.
            Err(e) if e.error_len().is_none() && !fin => Ok(()),
            Err(_) => Err(SendError::InvalidUtf8),
        }
    }

    /// Records a fragment that was sent; returns the message it completes.
    pub fn fragment_sent(
        &mut self,
        kind: MessageKind,
        payload: &[u8],
        fin: bool,
    ) -> Option<Message> {
        let (_, data) = self.open.get_or_insert_with(|| (kind, Vec::new()));
        data.extend_from_slice(payload);
        if !fin {
            return None;
        }
        let (kind, data) = self.open.take()?;
        Some(match kind {
            MessageKind::Text => Message::text(String::from_utf8(data).expect("checked UTF-8")),
            MessageKind::Binary => Message::binary(data),
        })
    }

    /// What `send_ping` or `send_pong` must return. Unlike data, they may
    /// be sent while waiting for the peer's close frame.
    pub fn predict_control(state: State, payload: &[u8]) -> Result<(), SendError> {
        if state == State::Closed {
            Err(SendError::Closed)
        } else if payload.len() > MAX_CONTROL_PAYLOAD {
            Err(SendError::ControlPayloadTooLong(payload.len()))
        } else {
            Ok(())
        }
    }

    /// What `send_close(code, reason)` must return, with its errors in the
    /// order the method checks them.
    pub fn predict_close(state: State, code: CloseCode, reason: &str) -> Result<(), SendError> {
        // 1005 stands for "no code": allowed, but then without a reason.
        let code_ok = if code == CloseCode::NO_STATUS {
            reason.is_empty()
        } else {
            code.is_valid_on_wire()
        };
        if state != State::Open {
            Err(SendError::Closed)
        } else if !code_ok {
            Err(SendError::InvalidCloseCode(code.into()))
        } else if reason.len() > CloseFrame::MAX_REASON_LEN {
            Err(SendError::ControlPayloadTooLong(2 + reason.len()))
        } else {
            Ok(())
        }
    }
}

/// The body of a close frame, as a conforming sender writes it.
pub fn close_body(code: CloseCode, reason: &str) -> Vec<u8> {
    if code == CloseCode::NO_STATUS {
        return Vec::new();
    }
    let mut body = u16::from(code).to_be_bytes().to_vec();
    body.extend_from_slice(reason.as_bytes());
    body
}
