//! The HTTP/1.1 Upgrade handshake (RFC 6455 §4), written out by hand: the
//! load client's request, and the server side for libraries that leave the
//! handshake to an HTTP server (fastwebsockets without hyper).

use std::io;

use base64::Engine;
use sha1::{Digest, Sha1};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// The RFC's sample nonce; servers do not care that it repeats.
pub const CLIENT_KEY: &str = "dGhlIHNhbXBsZSBub25jZQ==";

/// The client's opening request.
pub fn client_request(host: &str) -> String {
    format!(
        "GET / HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: {CLIENT_KEY}\r\nSec-WebSocket-Version: 13\r\n\r\n"
    )
}

/// `Sec-WebSocket-Accept` for a key (RFC 6455 §4.2.2).
pub fn accept_key(key: &str) -> String {
    let mut sha = Sha1::new();
    sha.update(key.as_bytes());
    sha.update(b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11");
    base64::engine::general_purpose::STANDARD.encode(sha.finalize())
}

/// Reads an HTTP head (up to and including the blank line) into `buf`;
/// returns its length. Bytes past it stay at the end of `buf`.
pub async fn read_head(stream: &mut TcpStream, buf: &mut Vec<u8>) -> io::Result<usize> {
    let mut chunk = [0u8; 2048];
    loop {
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            return Ok(end + 4);
        }
        if buf.len() > 16 << 10 {
            return Err(io::Error::new(io::ErrorKind::InvalidData, "head too long"));
        }
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        buf.extend_from_slice(&chunk[..n]);
    }
}

/// The server side: reads the request, answers 101. Returns the bytes read
/// past the request (the start of the WebSocket traffic).
pub async fn server_accept(stream: &mut TcpStream) -> io::Result<Vec<u8>> {
    let mut buf = Vec::with_capacity(1024);
    let head = read_head(stream, &mut buf).await?;
    let mut headers = [httparse::EMPTY_HEADER; 32];
    let mut req = httparse::Request::new(&mut headers);
    let bad = |what: &str| io::Error::new(io::ErrorKind::InvalidData, what.to_owned());
    req.parse(&buf[..head]).map_err(|_| bad("bad request"))?;
    let key = req
        .headers
        .iter()
        .find(|h| h.name.eq_ignore_ascii_case("sec-websocket-key"))
        .ok_or_else(|| bad("no key"))?;
    let key = std::str::from_utf8(key.value).map_err(|_| bad("bad key"))?;
    let response = format!(
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Accept: {}\r\n\r\n",
        accept_key(key.trim())
    );
    stream.write_all(response.as_bytes()).await?;
    Ok(buf.split_off(head))
}

/// The client side over a connected stream: sends the request, checks the
/// 101. Returns bytes read past the response.
pub async fn client_connect(stream: &mut TcpStream, host: &str) -> io::Result<Vec<u8>> {
    stream.write_all(client_request(host).as_bytes()).await?;
    let mut buf = Vec::with_capacity(512);
    let head = read_head(stream, &mut buf).await?;
    if !buf.starts_with(b"HTTP/1.1 101") {
        let line = String::from_utf8_lossy(&buf[..head.min(80)]).into_owned();
        return Err(io::Error::other(format!("handshake refused: {line}")));
    }
    let expected = accept_key(CLIENT_KEY);
    let text = String::from_utf8_lossy(&buf[..head]).to_ascii_lowercase();
    if !text.contains(&expected.to_ascii_lowercase()) {
        return Err(io::Error::other("bad Sec-WebSocket-Accept"));
    }
    Ok(buf.split_off(head))
}

#[cfg(test)]
mod tests {
    #[test]
    fn rfc_sample_accept_key() {
        assert_eq!(
            super::accept_key(super::CLIENT_KEY),
            "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
        );
    }
}
