//! Opening handshake (being written).
