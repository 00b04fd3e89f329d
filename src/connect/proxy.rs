//! HTTP `CONNECT` tunnels through a proxy (RFC 9110 §9.3.6), without I/O:
//! the proxy's address and credentials, the request that opens a tunnel,
//! and the check of the proxy's answer. The adapters move the bytes.

use std::fmt;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use crate::Config;
use crate::handshake::head::HeadReader;
use crate::handshake::response::parse_response;
use crate::handshake::{ClientRequest, HandshakeError, Headers};

/// Why a tunnel through an HTTP proxy could not be opened.
///
/// ```
/// use rfc6455::blocking::{Proxy, ProxyError};
///
/// assert!(matches!(Proxy::new("socks5://127.0.0.1:1080"), Err(ProxyError::InvalidUrl { .. })));
/// ```
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ProxyError {
    /// The proxy URL cannot be used: it must be `http://[user:password@]host[:port][/]`.
    #[error("invalid proxy URL: {reason}")]
    InvalidUrl {
        /// What is wrong with it.
        reason: &'static str,
    },
    /// The proxy answered the `CONNECT` with a status other than 2xx:
    /// 407 (credentials missing or refused), 403 (the target is not
    /// allowed), 502 or 504 (the proxy could not reach the target), ...
    #[error("the proxy refused the tunnel with status {status}")]
    Refused {
        /// The proxy's status code.
        status: u16,
        /// The proxy's response headers (`Proxy-Authenticate`, ...).
        headers: Headers,
    },
    /// The proxy's answer is not a valid HTTP/1.1 response head, or is
    /// longer than [`Config::max_handshake_size`].
    #[error("the proxy's response is not valid HTTP")]
    MalformedResponse(#[source] HandshakeError),
    /// The proxy closed the connection before its response was complete.
    #[error("the proxy closed the connection before answering")]
    Closed,
    /// The proxy sent bytes after its 2xx response, before the client used
    /// the tunnel: neither a WebSocket nor a TLS server speaks first.
    #[error("the proxy sent data after its response, before the tunnel was used")]
    UnexpectedData,
}

fn invalid(reason: &'static str) -> ProxyError {
    ProxyError::InvalidUrl { reason }
}

/// An HTTP proxy that opens tunnels with `CONNECT`, for `ws://` and
/// `wss://` alike (with `wss://`, TLS runs inside the tunnel, end to end
/// with the server). Give it to
/// [`ConnectOptions::proxy`](super::ConnectOptions::proxy).
///
/// ```
/// use rfc6455::blocking::Proxy;
///
/// let proxy = Proxy::new("http://proxy.example:3128")?.basic_auth("alice", "secret");
/// assert_eq!((proxy.host(), proxy.port()), ("proxy.example", 3128));
/// // Credentials may also come in the URL, percent-encoded.
/// let proxy = Proxy::new("http://alice:s%40cret@[::1]:8080/")?;
/// assert_eq!((proxy.host(), proxy.port()), ("::1", 8080));
/// # Ok::<(), rfc6455::blocking::ProxyError>(())
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct Proxy {
    host: String,
    port: u16,
    /// `user:password`, base64-encoded (RFC 7617 §2).
    credentials: Option<String>,
}

impl fmt::Debug for Proxy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Proxy")
            .field("host", &self.host)
            .field("port", &self.port)
            .field(
                "credentials",
                &self.credentials.as_ref().map(|_| "<hidden>"),
            )
            .finish()
    }
}

impl Proxy {
    /// Parses `http://[user[:password]@]host[:port][/]`: a host name, an
    /// IPv4 address or a bracketed IPv6 address; the port defaults to 80.
    /// User and password are percent-decoded and sent with Basic
    /// authentication. `https://` proxies (TLS to the proxy itself) are
    /// not supported.
    pub fn new(url: &str) -> Result<Proxy, ProxyError> {
        let (scheme, rest) = url.split_once("://").ok_or_else(|| invalid("no scheme"))?;
        if !scheme.eq_ignore_ascii_case("http") {
            return Err(invalid("scheme is not http"));
        }
        let authority_end = rest.find('/').unwrap_or(rest.len());
        let (authority, path) = rest.split_at(authority_end);
        if !matches!(path, "" | "/") {
            return Err(invalid("a proxy URL has no path"));
        }
        let (userinfo, hostport) = match authority.rsplit_once('@') {
            Some((userinfo, hostport)) => (Some(userinfo), hostport),
            None => (None, authority),
        };
        // The host and port follow the same rules as a WebSocket URL's,
        // whose default port is HTTP's.
        let target = ClientRequest::new(&format!("ws://{hostport}/"))
            .map_err(|_| invalid("bad host or port"))?;
        let mut proxy = Proxy {
            host: target.host().to_string(),
            port: target.port(),
            credentials: None,
        };
        if let Some(userinfo) = userinfo {
            let (user, password) = userinfo.split_once(':').unwrap_or((userinfo, ""));
            proxy = proxy.basic_auth(&percent_decode(user)?, &percent_decode(password)?);
        }
        Ok(proxy)
    }

    /// Sends `Proxy-Authorization: Basic` with these credentials (RFC 7617).
    /// They travel in clear text to the proxy.
    #[must_use]
    pub fn basic_auth(mut self, user: &str, password: &str) -> Self {
        self.credentials = Some(STANDARD.encode(format!("{user}:{password}")));
        self
    }

    /// The proxy's host, without IPv6 brackets.
    pub fn host(&self) -> &str {
        &self.host
    }

    /// The proxy's port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The proxy the environment names for `request`, if any: for `wss://`
    /// `HTTPS_PROXY` (or `https_proxy`), for `ws://` `HTTP_PROXY` (or
    /// `http_proxy`), else `ALL_PROXY` (or `all_proxy`); none when the
    /// request's host matches `NO_PROXY` (or `no_proxy`): `*`, or a
    /// comma-separated list of host names (matching the name and its
    /// subdomains, with or without a leading `.`) and IP addresses.
    ///
    /// Nothing reads the environment unless asked: call this, or
    /// [`ConnectOptions::proxy_from_env`](super::ConnectOptions::proxy_from_env).
    pub fn from_env(request: &ClientRequest) -> Result<Option<Proxy>, ProxyError> {
        from_vars(request, |name| std::env::var(name).ok())
    }
}

/// [`Proxy::from_env`] with the variables from `var`.
pub(crate) fn from_vars(
    request: &ClientRequest,
    var: impl Fn(&str) -> Option<String>,
) -> Result<Option<Proxy>, ProxyError> {
    let get = |name: &str| {
        var(name)
            .or_else(|| var(&name.to_ascii_lowercase()))
            .filter(|v| !v.trim().is_empty())
    };
    if let Some(no_proxy) = get("NO_PROXY")
        && bypasses(&no_proxy, request.host())
    {
        return Ok(None);
    }
    let scheme_var = if request.is_secure() {
        "HTTPS_PROXY"
    } else {
        "HTTP_PROXY"
    };
    match get(scheme_var).or_else(|| get("ALL_PROXY")) {
        Some(url) => Proxy::new(url.trim()).map(Some),
        None => Ok(None),
    }
}

/// Whether `host` matches a `NO_PROXY` list.
fn bypasses(no_proxy: &str, host: &str) -> bool {
    no_proxy.split(',').map(str::trim).any(|entry| {
        let entry = entry.trim_start_matches('.');
        // `[::1]:8080`, `[::1]`, `host:8080`: the port is ignored.
        let entry = match entry.strip_prefix('[') {
            Some(bracketed) => bracketed.split_once(']').map_or(bracketed, |(ip, _)| ip),
            None if entry.matches(':').count() == 1 => {
                entry.split_once(':').map_or(entry, |(name, _)| name)
            }
            None => entry,
        };
        if entry == "*" {
            return true;
        }
        if entry.is_empty() {
            return false;
        }
        host.eq_ignore_ascii_case(entry)
            || (host.len() > entry.len()
                && host.as_bytes()[host.len() - entry.len() - 1] == b'.'
                && host[host.len() - entry.len()..].eq_ignore_ascii_case(entry))
    })
}

/// Decodes a proxy URL's user information, as the WebSocket URL's is.
fn percent_decode(text: &str) -> Result<String, ProxyError> {
    crate::handshake::url::decode_userinfo(text).map_err(invalid)
}

/// Opening a tunnel: the `CONNECT` request, then the proxy's answer.
pub(crate) struct Tunnel {
    output: Vec<u8>,
    reader: HeadReader,
    failed: Option<ProxyError>,
}

impl fmt::Debug for Tunnel {
    /// The `CONNECT` request shows as its length: it may carry the
    /// proxy's credentials.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Tunnel")
            .field("output_len", &self.output.len())
            .field("reader", &self.reader)
            .field("failed", &self.failed)
            .finish()
    }
}

impl Tunnel {
    /// Queues the `CONNECT` request for the request's host and port.
    pub(crate) fn new(proxy: &Proxy, request: &ClientRequest, config: &Config) -> Tunnel {
        let host = request.host();
        let authority = if host.contains(':') {
            format!("[{host}]:{}", request.port())
        } else {
            format!("{host}:{}", request.port())
        };
        // RFC 9110 §9.3.6: "A client sending a CONNECT request MUST send
        // the authority form of request-target"; RFC 9112 §3.2: "A client
        // MUST send a Host header field in all HTTP/1.1 request messages."
        let mut output = format!("CONNECT {authority} HTTP/1.1\r\nHost: {authority}\r\n");
        if let Some(credentials) = &proxy.credentials {
            output.push_str(&format!("Proxy-Authorization: Basic {credentials}\r\n"));
        }
        output.push_str("\r\n");
        Tunnel {
            output: output.into_bytes(),
            reader: HeadReader::new(config.max_handshake_size, config.max_handshake_headers),
            failed: None,
        }
    }

    pub(crate) fn pending_output(&self) -> &[u8] {
        &self.output
    }

    pub(crate) fn consume_output(&mut self, n: usize) {
        self.output.drain(..n.min(self.output.len()));
    }

    /// Feeds the proxy's bytes: `Ok(Some(()))` once the tunnel is open.
    pub(crate) fn receive_data(&mut self, data: &[u8]) -> Result<Option<()>, ProxyError> {
        if let Some(e) = &self.failed {
            return Err(e.clone());
        }
        let result = self.check(data);
        if let Err(e) = &result {
            self.failed = Some(e.clone());
        }
        result
    }

    fn check(&mut self, data: &[u8]) -> Result<Option<()>, ProxyError> {
        let Some(head) = self
            .reader
            .feed(data)
            .map_err(ProxyError::MalformedResponse)?
        else {
            return Ok(None);
        };
        // HTTP/1.0 proxies answer CONNECT too: both versions are taken.
        let response = parse_response(&head.bytes, head.header_lines)
            .map_err(ProxyError::MalformedResponse)?;
        let (status, headers) = (response.status, response.headers);
        // RFC 9110 §9.3.6: "Any 2xx (Successful) response indicates that
        // the sender (and all inbound proxies) will switch to tunnel mode
        // immediately after the response header section"; "A client MUST
        // ignore any Content-Length or Transfer-Encoding header fields
        // received in a successful response to CONNECT." Any other status
        // refuses the tunnel; its body is not read.
        if !(200..300).contains(&status) {
            return Err(ProxyError::Refused { status, headers });
        }
        if !head.leftover.is_empty() {
            return Err(ProxyError::UnexpectedData);
        }
        Ok(Some(()))
    }

    /// The proxy closed the connection.
    pub(crate) fn receive_eof(&mut self) -> ProxyError {
        self.failed.clone().unwrap_or(ProxyError::Closed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(url: &str) -> ClientRequest {
        ClientRequest::new(url).unwrap()
    }

    #[test]
    fn parses_proxy_urls() {
        let p = Proxy::new("http://127.0.0.1:3128").unwrap();
        assert_eq!((p.host(), p.port()), ("127.0.0.1", 3128));
        assert_eq!(p.credentials, None);
        let p = Proxy::new("HTTP://proxy/").unwrap();
        assert_eq!((p.host(), p.port()), ("proxy", 80));
        let p = Proxy::new("http://u%3Ax:p%40ss@[::1]:8080").unwrap();
        assert_eq!((p.host(), p.port()), ("::1", 8080));
        // RFC 7617 §2: base64 of user-id ":" password.
        assert_eq!(
            p.credentials.as_deref(),
            Some(STANDARD.encode("u:x:p@ss").as_str())
        );
        let p = Proxy::new("http://alice@h:1").unwrap();
        assert_eq!(
            p.credentials.as_deref(),
            Some(STANDARD.encode("alice:").as_str())
        );
        for bad in [
            "https://h:1",
            "socks5://h:1",
            "h:1",
            "http://h:1/path",
            "http://h:0",
            "http://:1",
            "http://u%zz@h:1",
            "http://u%ff@h:1",
        ] {
            assert!(
                matches!(Proxy::new(bad), Err(ProxyError::InvalidUrl { .. })),
                "{bad}"
            );
        }
    }

    #[test]
    fn debug_hides_credentials() {
        let p = Proxy::new("http://alice:secret@h:1").unwrap();
        let shown = format!("{p:?}");
        assert!(
            shown.contains("<hidden>") && !shown.contains("secret"),
            "{shown}"
        );
        assert!(!shown.contains(&STANDARD.encode("alice:secret")));
    }

    #[test]
    fn connect_request_bytes() {
        let config = Config::default();
        let proxy = Proxy::new("http://h:1")
            .unwrap()
            .basic_auth("Aladdin", "open sesame");
        let t = Tunnel::new(&proxy, &request("wss://example.com/chat"), &config);
        assert_eq!(
            t.pending_output(),
            b"CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\
              Proxy-Authorization: Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==\r\n\r\n"
        );
        let t = Tunnel::new(
            &Proxy::new("http://h:1").unwrap(),
            &request("ws://[::1]/"),
            &config,
        );
        assert_eq!(
            t.pending_output(),
            b"CONNECT [::1]:80 HTTP/1.1\r\nHost: [::1]:80\r\n\r\n"
        );
    }

    fn answer(pieces: &[&[u8]]) -> Result<Option<()>, ProxyError> {
        let proxy = Proxy::new("http://h:1").unwrap();
        let mut t = Tunnel::new(&proxy, &request("ws://a:1/"), &Config::default());
        let mut last = Ok(None);
        for piece in pieces {
            last = t.receive_data(piece);
        }
        last
    }

    #[test]
    fn a_2xx_opens_the_tunnel() {
        assert_eq!(
            answer(&[b"HTTP/1.1 200 Connection established\r\n\r\n"]),
            Ok(Some(()))
        );
        // Split anywhere, and Content-Length ignored (RFC 9110 §9.3.6).
        assert_eq!(
            answer(&[b"HTTP/1.0 200 OK\r\nContent-Len", b"gth: 12\r\n\r", b"\n"]),
            Ok(Some(()))
        );
        assert_eq!(answer(&[b"HTTP/1.1 200 OK\r\n"]), Ok(None));
    }

    #[test]
    fn other_statuses_refuse_it() {
        for status in [407u16, 403, 502, 301, 101] {
            let head = format!(
                "HTTP/1.1 {status} No\r\nProxy-Authenticate: Basic realm=\"x\"\r\n\r\nbody"
            );
            match answer(&[head.as_bytes()]) {
                Err(ProxyError::Refused { status: s, headers }) => {
                    assert_eq!(s, status);
                    assert_eq!(
                        headers.get_str("proxy-authenticate"),
                        Some("Basic realm=\"x\"")
                    );
                }
                other => panic!("{status}: {other:?}"),
            }
        }
    }

    #[test]
    fn bad_answers_fail() {
        assert!(matches!(
            answer(&[b"SSH-2.0-OpenSSH\r\n\r\n"]),
            Err(ProxyError::MalformedResponse(_))
        ));
        assert!(matches!(
            answer(&[&[0x15, 0x03, 0x03]]),
            Err(ProxyError::MalformedResponse(HandshakeError::TlsRecord))
        ));
        assert!(matches!(
            answer(&[&[b'a'; 20_000]]),
            Err(ProxyError::MalformedResponse(
                HandshakeError::HeadTooLarge { .. }
            ))
        ));
        assert_eq!(
            answer(&[b"HTTP/1.1 200 OK\r\n\r\nHTTP/1.1 101"]),
            Err(ProxyError::UnexpectedData)
        );
        // Sticky.
        let proxy = Proxy::new("http://h:1").unwrap();
        let mut t = Tunnel::new(&proxy, &request("ws://a:1/"), &Config::default());
        assert!(t.receive_data(b"HTTP/1.1 407 No\r\n\r\n").is_err());
        assert!(matches!(
            t.receive_eof(),
            ProxyError::Refused { status: 407, .. }
        ));
        let mut t = Tunnel::new(&proxy, &request("ws://a:1/"), &Config::default());
        assert_eq!(t.receive_eof(), ProxyError::Closed);
    }

    #[test]
    fn environment() {
        let vars = |pairs: &'static [(&'static str, &'static str)]| {
            move |name: &str| {
                pairs
                    .iter()
                    .find(|(n, _)| *n == name)
                    .map(|(_, v)| v.to_string())
            }
        };
        let env = vars(&[
            ("HTTP_PROXY", "http://plain:1"),
            ("https_proxy", "http://secure:2"),
            (
                "NO_PROXY",
                "localhost:8080, .internal.example,10.0.0.1,[::1]:9,::2",
            ),
        ]);
        let host = |url: &str| from_vars(&request(url), env).unwrap().map(|p| p.host);
        assert_eq!(host("ws://a.example/").as_deref(), Some("plain"));
        assert_eq!(host("wss://a.example/").as_deref(), Some("secure"));
        for bypassed in [
            "ws://localhost/",
            "ws://LOCALHOST:9/",
            "ws://internal.example/",
            "wss://db.internal.example/",
            "ws://10.0.0.1/",
            "ws://[::1]/",
            "ws://[::2]/",
        ] {
            assert_eq!(host(bypassed), None, "{bypassed}");
        }
        assert_eq!(host("ws://notinternal.example/").as_deref(), Some("plain"));
        assert_eq!(host("ws://localhost.evil/").as_deref(), Some("plain"));

        let all = vars(&[("ALL_PROXY", "http://all:3")]);
        assert_eq!(
            from_vars(&request("wss://x/"), all)
                .unwrap()
                .map(|p| p.port),
            Some(3)
        );
        let star = vars(&[("ALL_PROXY", "http://all:3"), ("no_proxy", "*")]);
        assert_eq!(from_vars(&request("wss://x/"), star).unwrap(), None);
        assert_eq!(from_vars(&request("ws://x/"), vars(&[])).unwrap(), None);
        let bad = vars(&[("HTTP_PROXY", "socks5://x:1")]);
        assert!(from_vars(&request("ws://x/"), bad).is_err());
    }
}
