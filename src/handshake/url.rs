//! What a client asks for: the WebSocket URL (RFC 6455 §3) and the optional
//! parts of its opening request.

use std::fmt;
use std::net::Ipv6Addr;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use super::HandshakeError;

/// The target and options of a client's opening handshake, built from a
/// `ws://` or `wss://` URL.
///
/// `wss://` only changes the default port (443) and [`is_secure`]: the TLS
/// session is the caller's business. Nothing is checked until the request
/// is given to [`ClientHandshake::new`](super::ClientHandshake::new), so
/// the builder methods never fail.
///
/// ```
/// use rfc6455::handshake::ClientRequest;
///
/// let req = ClientRequest::new("ws://example.com:8080/chat?x=1")?
///     .origin("http://example.com")
///     .subprotocol("stomp")
///     .extension("permessage-deflate; client_max_window_bits")
///     .header("Authorization", "Bearer 123");
/// assert_eq!(req.host(), "example.com");
/// assert_eq!(req.port(), 8080);
/// assert_eq!(req.path(), "/chat?x=1");
/// assert_eq!(req.host_header(), "example.com:8080");
/// # Ok::<(), rfc6455::handshake::HandshakeError>(())
/// ```
///
/// Credentials in the URL (`ws://user:pass@host/`) become an
/// `Authorization: Basic` header; the password never shows in `Debug`:
///
/// ```
/// use rfc6455::handshake::ClientRequest;
///
/// let req = ClientRequest::new("ws://alice:s%40cret@example.com/")?;
/// assert_eq!(req.host_header(), "example.com");
/// assert!(!format!("{req:?}").contains("cret"));
/// # Ok::<(), rfc6455::handshake::HandshakeError>(())
/// ```
///
/// [`is_secure`]: ClientRequest::is_secure
#[derive(Clone, PartialEq, Eq)]
pub struct ClientRequest {
    pub(crate) host: String,
    pub(crate) port: u16,
    pub(crate) secure: bool,
    pub(crate) path: String,
    pub(crate) origin: Option<String>,
    pub(crate) subprotocols: Vec<String>,
    pub(crate) extensions: Vec<String>,
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) credentials: Option<Credentials>,
}

/// A user name and password for HTTP Basic authentication (RFC 7617).
/// `Debug` shows the user, never the password.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct Credentials {
    user: String,
    password: String,
}

impl Credentials {
    /// RFC 7617 §2: "a user-id containing a colon character is invalid".
    pub(crate) fn check(&self) -> Result<(), HandshakeError> {
        if self.user.contains(':') {
            return Err(HandshakeError::InvalidHeader {
                name: "Authorization".into(),
            });
        }
        Ok(())
    }

    /// The `Authorization` header value: RFC 7617 §2, "the user-id and
    /// password [are] separated by a single colon" and base64-encoded.
    pub(crate) fn header_value(&self) -> String {
        format!(
            "Basic {}",
            STANDARD.encode(format!("{}:{}", self.user, self.password))
        )
    }
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("user", &self.user)
            .field("password", &"<redacted>")
            .finish()
    }
}

/// Headers whose values are secrets, hidden by `Debug`.
const SECRET_HEADERS: [&str; 3] = ["Authorization", "Proxy-Authorization", "Cookie"];

impl fmt::Debug for ClientRequest {
    /// Everything but secrets: the password of the URL's credentials and
    /// the values of `Authorization`, `Proxy-Authorization` and `Cookie`
    /// headers show as `<redacted>`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let headers: Vec<(&str, &str)> = self
            .headers
            .iter()
            .map(|(name, value)| {
                let secret = SECRET_HEADERS.iter().any(|s| name.eq_ignore_ascii_case(s));
                (name.as_str(), if secret { "<redacted>" } else { value })
            })
            .collect();
        f.debug_struct("ClientRequest")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("secure", &self.secure)
            .field("path", &self.path)
            .field("origin", &self.origin)
            .field("subprotocols", &self.subprotocols)
            .field("extensions", &self.extensions)
            .field("headers", &headers)
            .field("credentials", &self.credentials)
            .finish()
    }
}

/// A URL (or URI reference) as it may be shown: the user information of
/// an absolute one (`ws://user:password@host/`) replaced by `<redacted>`.
pub(crate) fn redacted(url: &str) -> String {
    if let Some((scheme, rest)) = url.split_once("://") {
        let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
        if let Some(at) = rest[..end].rfind('@') {
            return format!("{scheme}://<redacted>@{}", &rest[at + 1..]);
        }
    }
    url.to_string()
}

fn invalid(reason: &'static str) -> HandshakeError {
    HandshakeError::InvalidUrl { reason }
}

impl ClientRequest {
    /// Parses a `ws://` or `wss://` URL (RFC 6455 §3): host name, IPv4
    /// address or bracketed IPv6 address, optional port, then path and
    /// query (the path defaults to `/`).
    ///
    /// User information (`user:password@host`, percent-encoded) is not
    /// part of a WebSocket URI (RFC 6455 §3) and is never sent as such: it
    /// becomes the request's Basic credentials, as with
    /// [`basic_auth`](Self::basic_auth).
    ///
    /// Refused with [`HandshakeError::InvalidUrl`]: other schemes,
    /// fragments (`#...`), ports outside 1–65535, user information that
    /// does not decode to UTF-8 or whose user name holds a colon, and
    /// spaces, control or non-ASCII characters anywhere (percent-encode
    /// them). IPv6 zone identifiers are not supported.
    pub fn new(url: &str) -> Result<Self, HandshakeError> {
        let (scheme, rest) = url.split_once("://").ok_or_else(|| invalid("no scheme"))?;
        let secure = if scheme.eq_ignore_ascii_case("ws") {
            false
        } else if scheme.eq_ignore_ascii_case("wss") {
            true
        } else {
            return Err(invalid("scheme is not ws or wss"));
        };
        // RFC 6455 §3: "Fragment identifiers are meaningless in the context
        // of WebSocket URIs and MUST NOT be used on these URIs."
        if rest.contains('#') {
            return Err(invalid("fragment identifiers are not allowed"));
        }
        let split = rest.find(['/', '?']).unwrap_or(rest.len());
        let (authority, path) = rest.split_at(split);
        let (credentials, authority) = match authority.split_once('@') {
            Some((userinfo, host)) => (Some(parse_userinfo(userinfo)?), host),
            None => (None, authority),
        };
        let (host, port) = if let Some(bracketed) = authority.strip_prefix('[') {
            let close = bracketed
                .find(']')
                .ok_or_else(|| invalid("unclosed IPv6 bracket"))?;
            // Keep the brackets: `from_parts` then knows it must be IPv6.
            authority.split_at(close + 2)
        } else {
            let colon = authority.find(':').unwrap_or(authority.len());
            authority.split_at(colon)
        };
        // RFC 6455 §3: "The port component is OPTIONAL; the default for
        // "ws" is port 80, while the default for "wss" is port 443."
        let default_port = if secure { 443 } else { 80 };
        let port = match port {
            "" | ":" => default_port,
            p => parse_port(p.strip_prefix(':').ok_or_else(|| invalid("bad port"))?)?,
        };
        let mut request = ClientRequest::from_parts(host, port, path)?;
        request.secure = secure;
        request.credentials = credentials;
        Ok(request)
    }

    /// Builds a `ws://` request from its parts. `host` is a name, an IPv4
    /// address or an IPv6 address (bracketed or not); `path` is the
    /// request-target, query included (empty means `/`).
    ///
    /// The `Host` header carries `:port` unless `port` is 80. For `wss`
    /// targets use [`new`](Self::new) with a `wss://` URL, whose default
    /// port is 443.
    ///
    /// ```
    /// use rfc6455::handshake::ClientRequest;
    ///
    /// let req = ClientRequest::from_parts("::1", 9001, "/")?;
    /// assert_eq!(req.host_header(), "[::1]:9001");
    /// # Ok::<(), rfc6455::handshake::HandshakeError>(())
    /// ```
    pub fn from_parts(host: &str, port: u16, path: &str) -> Result<Self, HandshakeError> {
        let unbracketed = host.strip_prefix('[').and_then(|h| h.strip_suffix(']'));
        let host = unbracketed.unwrap_or(host);
        if host.is_empty() {
            return Err(invalid("empty host"));
        }
        if unbracketed.is_some() || host.contains(':') {
            if host.parse::<Ipv6Addr>().is_err() {
                return Err(invalid("bad IPv6 address"));
            }
        } else if !host.bytes().all(is_reg_name_byte) {
            return Err(invalid("bad character in host"));
        }
        if port == 0 {
            return Err(invalid("port 0"));
        }
        // RFC 6455 §3: the resource name is the path ("/" if empty) and
        // the query.
        let path = match path {
            "" => "/".to_string(),
            p if p.starts_with('?') => format!("/{p}"),
            p if p.starts_with('/') => p.to_string(),
            _ => return Err(invalid("path does not start with '/'")),
        };
        if !path.bytes().all(|b| b.is_ascii_graphic() && b != b'#') {
            return Err(invalid("bad character in path"));
        }
        Ok(ClientRequest {
            host: host.to_string(),
            port,
            secure: false,
            path,
            origin: None,
            subprotocols: Vec::new(),
            extensions: Vec::new(),
            headers: Vec::new(),
            credentials: None,
        })
    }

    /// Sends HTTP Basic credentials (RFC 7617) in an `Authorization`
    /// header. An `Authorization` header added with
    /// [`header`](Self::header) takes precedence. The user name may not
    /// contain a colon (checked by the handshake).
    #[must_use]
    pub fn basic_auth(mut self, user: impl Into<String>, password: impl Into<String>) -> Self {
        self.credentials = Some(Credentials {
            user: user.into(),
            password: password.into(),
        });
        self
    }

    /// The `Authorization` value the handshake sends: the caller's own
    /// header if there is one, else the Basic credentials if any.
    pub(crate) fn authorization(&self) -> Option<String> {
        if self
            .headers
            .iter()
            .any(|(name, _)| name.eq_ignore_ascii_case("Authorization"))
        {
            return None; // written with the other headers
        }
        self.credentials.as_ref().map(Credentials::header_value)
    }

    /// Sets the `Origin` header (RFC 6454), which browsers send and servers
    /// may check.
    #[must_use]
    pub fn origin(mut self, origin: impl Into<String>) -> Self {
        self.origin = Some(origin.into());
        self
    }

    /// Offers a subprotocol; call once per protocol, in order of
    /// preference. Each must be a token and offered once.
    #[must_use]
    pub fn subprotocol(mut self, protocol: impl Into<String>) -> Self {
        self.subprotocols.push(protocol.into());
        self
    }

    /// Offers an extension, written as in the header:
    /// `permessage-deflate; client_max_window_bits`.
    ///
    /// Offering is not using: an extension the server accepts must be
    /// implemented by the connection, or its frames will be refused.
    #[must_use]
    pub fn extension(mut self, offer: impl Into<String>) -> Self {
        self.extensions.push(offer.into());
        self
    }

    /// Adds a header (authentication, cookies...). It must not be one the
    /// handshake writes itself (`Host`, `Upgrade`, `Connection`, `Origin`
    /// and the `Sec-WebSocket-*` headers), and must not contain control
    /// characters.
    #[must_use]
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// The host to connect to and to name in TLS, without IPv6 brackets.
    pub fn host(&self) -> &str {
        &self.host
    }

    /// The port to connect to.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Whether the URL was `wss://`.
    pub fn is_secure(&self) -> bool {
        self.secure
    }

    /// The request-target: path and query.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// The `Host` header value: IPv6 addresses in brackets, and `:port`
    /// only when the port is not the scheme's default.
    pub fn host_header(&self) -> String {
        let default_port = if self.secure { 443 } else { 80 };
        let mut value = if self.host.contains(':') {
            format!("[{}]", self.host)
        } else {
            self.host.clone()
        };
        // RFC 6455 §4.1: the |Host| value "contains /host/ plus optionally
        // ":" followed by /port/ (when not using the default port)".
        if self.port != default_port {
            value.push(':');
            value.push_str(&self.port.to_string());
        }
        value
    }
}

/// `user[:password]`, percent-decoded (RFC 3986 §3.2.1).
fn parse_userinfo(userinfo: &str) -> Result<Credentials, HandshakeError> {
    if !userinfo.bytes().all(|b| is_reg_name_byte(b) || b == b':') {
        return Err(invalid("bad character in user information"));
    }
    let (user, password) = userinfo.split_once(':').unwrap_or((userinfo, ""));
    let credentials = Credentials {
        user: percent_decode(user)?,
        password: percent_decode(password)?,
    };
    credentials
        .check()
        .map_err(|_| invalid("colon in the user name"))?;
    Ok(credentials)
}

/// Decodes the `%XX` escapes (RFC 3986 §2.1) of a URL's user information;
/// the result must be UTF-8 (RFC 7617 §2.1). The one decoder for the
/// WebSocket URL and the proxy URL; the error is the reason, for the
/// caller's error type.
pub(crate) fn decode_userinfo(text: &str) -> Result<String, &'static str> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        if b == b'%' {
            let hex = bytes
                .get(i + 1..i + 3)
                .and_then(|h| std::str::from_utf8(h).ok())
                .and_then(|h| u8::from_str_radix(h, 16).ok())
                .ok_or("bad percent-encoding in user information")?;
            out.push(hex);
            i += 3;
        } else {
            out.push(b);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| "user information is not UTF-8")
}

fn percent_decode(text: &str) -> Result<String, HandshakeError> {
    decode_userinfo(text).map_err(invalid)
}

fn parse_port(digits: &str) -> Result<u16, HandshakeError> {
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(invalid("bad port"));
    }
    digits.parse().map_err(|_| invalid("port out of range"))
}

/// Characters of a URI reg-name or IPv4 address (RFC 3986 §3.2.2:
/// unreserved, percent-encoded and sub-delims).
fn is_reg_name_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"-._~%!$&'()*+,;=".contains(&b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_not_shown() {
        let request = ClientRequest::new("ws://alice:hunter2@h/")
            .unwrap()
            .header("authorization", "Bearer tok3n")
            .header("Cookie", "sid=c00kie")
            .header("X-Trace", "visible");
        let shown = format!("{request:?}");
        for secret in ["hunter2", "tok3n", "c00kie"] {
            assert!(!shown.contains(secret), "{shown}");
        }
        assert!(
            shown.contains("alice") && shown.contains("visible"),
            "{shown}"
        );
        assert_eq!(redacted("ws://a:b@h:1/p@q"), "ws://<redacted>@h:1/p@q");
        assert_eq!(redacted("wss://token@h/"), "wss://<redacted>@h/");
        assert_eq!(redacted("ws://h/p@q"), "ws://h/p@q");
        assert_eq!(redacted("/relative@x"), "/relative@x");
    }

    fn parts(url: &str) -> (String, u16, bool, String, String) {
        let r = ClientRequest::new(url).unwrap();
        (
            r.host().into(),
            r.port(),
            r.is_secure(),
            r.path().into(),
            r.host_header(),
        )
    }

    #[test]
    fn parses_urls() {
        assert_eq!(
            parts("ws://example.com/chat"),
            (
                "example.com".into(),
                80,
                false,
                "/chat".into(),
                "example.com".into()
            )
        );
        assert_eq!(
            parts("WSS://Example.com"),
            (
                "Example.com".into(),
                443,
                true,
                "/".into(),
                "Example.com".into()
            )
        );
        assert_eq!(
            parts("ws://example.com:8080/a/b?x=1&y=%20"),
            (
                "example.com".into(),
                8080,
                false,
                "/a/b?x=1&y=%20".into(),
                "example.com:8080".into()
            )
        );
        assert_eq!(
            parts("ws://example.com?x"),
            (
                "example.com".into(),
                80,
                false,
                "/?x".into(),
                "example.com".into()
            )
        );
        assert_eq!(parts("ws://h:/").1, 80);
        assert_eq!(parts("wss://h:80/").4, "h:80");
        assert_eq!(parts("ws://h:443/").4, "h:443");
        assert_eq!(parts("ws://127.0.0.1:9001").4, "127.0.0.1:9001");
    }

    #[test]
    fn parses_ipv6() {
        assert_eq!(
            parts("ws://[::1]:9001/x"),
            ("::1".into(), 9001, false, "/x".into(), "[::1]:9001".into())
        );
        assert_eq!(parts("wss://[2001:db8::7]/").4, "[2001:db8::7]");
        assert!(ClientRequest::new("ws://[::1/").is_err());
        assert!(ClientRequest::new("ws://[nothex]/").is_err());
        assert!(ClientRequest::new("ws://[::1]x/").is_err());
    }

    #[test]
    fn refuses_bad_urls() {
        for url in [
            "http://example.com/",
            "example.com",
            "ws:/example.com",
            "ws://example.com/#frag",
            "ws://a@b@example.com/",
            "ws://us%3Aer:p@example.com/",
            "ws://user:%zz@example.com/",
            "ws://user:%ff@example.com/",
            "ws://us[er@example.com/",
            "ws://:80/",
            "ws://exa mple.com/",
            "ws://example.com:0/",
            "ws://example.com:65536/",
            "ws://example.com:-1/",
            "ws://example.com:8a/",
            "ws://example.com/a b",
            "ws://example.com/é",
            "ws://example.com/\r\n",
            "ws://ex/ample\0.com",
        ] {
            assert!(
                matches!(
                    ClientRequest::new(url),
                    Err(HandshakeError::InvalidUrl { .. })
                ),
                "{url:?}"
            );
        }
    }

    #[test]
    fn from_parts() {
        let r = ClientRequest::from_parts("[::1]", 80, "").unwrap();
        assert_eq!(
            (r.host(), r.path(), r.host_header().as_str()),
            ("::1", "/", "[::1]")
        );
        let r = ClientRequest::from_parts("example.com", 443, "/x").unwrap();
        assert_eq!(r.host_header(), "example.com:443");
        assert!(ClientRequest::from_parts("a", 80, "x").is_err());
        assert!(ClientRequest::from_parts("", 80, "/").is_err());
        assert!(ClientRequest::from_parts("a/b", 80, "/").is_err());
    }

    #[test]
    fn builder_collects() {
        let r = ClientRequest::new("ws://a/")
            .unwrap()
            .origin("o")
            .subprotocol("p1")
            .subprotocol("p2")
            .extension("e")
            .header("X", "y");
        assert_eq!(r.origin.as_deref(), Some("o"));
        assert_eq!(r.subprotocols, ["p1", "p2"]);
        assert_eq!(r.extensions, ["e"]);
        assert_eq!(r.headers, [("X".to_string(), "y".to_string())]);
    }

    #[test]
    fn user_information_becomes_basic_credentials() {
        let r = ClientRequest::new("ws://al%20ice:p%40ss:word@example.com:8080/x").unwrap();
        assert_eq!(r.host_header(), "example.com:8080");
        assert_eq!(r.path(), "/x");
        // base64("al ice:p@ss:word")
        assert_eq!(
            r.authorization().as_deref(),
            Some("Basic YWwgaWNlOnBAc3M6d29yZA==")
        );
        let debug = format!("{r:?}");
        assert!(
            debug.contains("al ice") && !debug.contains("p@ss"),
            "{debug}"
        );

        let r = ClientRequest::new("ws://bob@example.com/").unwrap();
        assert_eq!(r.authorization().as_deref(), Some("Basic Ym9iOg=="));

        // The caller's own header wins.
        let r = r.header("authorization", "Bearer t");
        assert_eq!(r.authorization(), None);
        assert_eq!(ClientRequest::new("ws://h/").unwrap().authorization(), None);
    }
}
