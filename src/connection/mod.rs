//! TEMPORARY STUB — being replaced by the real state machine.
use crate::{Config, Role};
use bytes::BytesMut;

/// A WebSocket connection (stub).
pub struct Connection {
    role: Role,
    config: Config,
    input: BytesMut,
    output: BytesMut,
    subprotocol: Option<String>,
}

impl Connection {
    /// New connection.
    pub fn new(role: Role, config: Config) -> Self {
        Connection { role, config, input: BytesMut::new(), output: BytesMut::new(), subprotocol: None }
    }
    /// Feed bytes.
    pub fn receive_data(&mut self, data: &[u8]) {
        self.input.extend_from_slice(data);
    }
    /// Output.
    pub fn pending_output(&self) -> &[u8] {
        &self.output
    }
    /// Consume output.
    pub fn consume_output(&mut self, n: usize) {
        let _ = self.output.split_to(n);
    }
    /// Subprotocol.
    pub fn subprotocol(&self) -> Option<&str> {
        self.subprotocol.as_deref()
    }
    /// Role.
    pub fn role(&self) -> Role { self.role }
    /// Config.
    pub fn config(&self) -> &Config { &self.config }
    pub(crate) fn queue_raw_output(&mut self, bytes: &[u8]) {
        self.output.extend_from_slice(bytes);
    }
    pub(crate) fn set_subprotocol(&mut self, p: Option<String>) {
        self.subprotocol = p;
    }
}
