//! Redirects of the opening handshake, as values: which refusals are
//! redirects, and the request to send next. Following one (a new
//! connection) is the caller's business; the adapters' `connect` does it
//! when [`Config::max_redirects`](crate::Config::max_redirects) allows.

use super::HandshakeError;
use super::url::ClientRequest;

/// The statuses that redirect with a `Location` (RFC 9110 §15.4): 301,
/// 302, 303, 307 and 308. 300 (a choice) and 304/305 are not followed.
const REDIRECTS: [u16; 5] = [301, 302, 303, 307, 308];

impl HandshakeError {
    /// For a refusal that redirects — status 301, 302, 303, 307 or 308
    /// with exactly one `Location` — the status and the `Location` as
    /// sent (possibly relative: resolve it with
    /// [`ClientRequest::redirected`]).
    ///
    /// ```
    /// use rfc6455::Config;
    /// use rfc6455::handshake::{ClientHandshake, ClientRequest};
    ///
    /// let request = ClientRequest::new("ws://example.com/old")?;
    /// let mut hs = ClientHandshake::new(request.clone(), &Config::default())?;
    /// let err = hs
    ///     .receive_data(b"HTTP/1.1 308 Permanent Redirect\r\nLocation: /new\r\nContent-Length: 0\r\n\r\n")
    ///     .unwrap_err();
    /// assert_eq!(err.redirect(), Some((308, "/new")));
    /// let next = request.redirected("/new")?;
    /// assert_eq!((next.host(), next.path()), ("example.com", "/new"));
    /// # Ok::<(), rfc6455::handshake::HandshakeError>(())
    /// ```
    pub fn redirect(&self) -> Option<(u16, &str)> {
        let HandshakeError::UnexpectedStatus {
            status, headers, ..
        } = self
        else {
            return None;
        };
        if !REDIRECTS.contains(status) || headers.count("Location") != 1 {
            return None;
        }
        Some((*status, headers.get_str("Location")?))
    }
}

impl ClientRequest {
    /// The request to send after a redirect to `location`, a URI
    /// reference resolved against this request's URL (RFC 3986 §5.2):
    /// absolute (`ws`, `wss`, or `http`/`https`, which map to them),
    /// scheme-relative (`//host/path`), an absolute path or a relative
    /// one. A fragment is dropped.
    ///
    /// Subprotocols, extensions, the origin and headers carry over. When
    /// the target is another origin (scheme, host or port), the URL's
    /// credentials and any `Authorization` and `Cookie` headers are
    /// dropped, so that a server cannot collect another's secrets by
    /// redirecting.
    ///
    /// Fails with [`HandshakeError::InsecureRedirect`] for a redirect from
    /// `wss://` to `ws://`, and with [`HandshakeError::InvalidUrl`] when
    /// the result is not a usable URL.
    pub fn redirected(&self, location: &str) -> Result<ClientRequest, HandshakeError> {
        let location = location.split('#').next().unwrap_or_default();
        let url = if let Some((scheme, rest)) = location.split_once("://") {
            let scheme = match scheme.to_ascii_lowercase().as_str() {
                "ws" | "http" => "ws",
                "wss" | "https" => "wss",
                _ => {
                    return Err(HandshakeError::InvalidUrl {
                        reason: "redirect to a scheme other than ws, wss, http or https",
                    });
                }
            };
            format!("{scheme}://{rest}")
        } else if let Some(rest) = location.strip_prefix("//") {
            format!("{}://{rest}", self.scheme())
        } else {
            let path = match location.as_bytes().first() {
                Some(b'/') => location.to_string(),
                Some(b'?') => format!("{}{location}", self.path_only()),
                None => self.path.clone(),
                Some(_) => {
                    let base = self.path_only();
                    format!("{}{location}", &base[..=base.rfind('/').unwrap_or(0)])
                }
            };
            format!(
                "{}://{}{}",
                self.scheme(),
                self.authority(),
                remove_dot_segments(&path)
            )
        };
        let mut next = ClientRequest::new(&url)?;
        if self.secure && !next.secure {
            return Err(HandshakeError::InsecureRedirect {
                location: location.to_string(),
            });
        }
        let same_origin = next.secure == self.secure
            && next.port == self.port
            && next.host.eq_ignore_ascii_case(&self.host);
        if next.credentials.is_none() && same_origin {
            next.credentials = self.credentials.clone();
        }
        next.origin = self.origin.clone();
        next.subprotocols = self.subprotocols.clone();
        next.extensions = self.extensions.clone();
        next.headers = self
            .headers
            .iter()
            .filter(|(name, _)| {
                same_origin
                    || !(name.eq_ignore_ascii_case("Authorization")
                        || name.eq_ignore_ascii_case("Cookie"))
            })
            .cloned()
            .collect();
        Ok(next)
    }

    fn scheme(&self) -> &'static str {
        if self.secure { "wss" } else { "ws" }
    }

    /// Host (IPv6 in brackets) and the port, always explicit.
    fn authority(&self) -> String {
        if self.host.contains(':') {
            format!("[{}]:{}", self.host, self.port)
        } else {
            format!("{}:{}", self.host, self.port)
        }
    }

    /// The path without the query.
    fn path_only(&self) -> &str {
        self.path.split('?').next().unwrap_or("/")
    }
}

/// RFC 3986 §5.2.4, on the path part (the query is left as it is).
fn remove_dot_segments(target: &str) -> String {
    let (path, query) = match target.find('?') {
        Some(i) => target.split_at(i),
        None => (target, ""),
    };
    let mut out: Vec<&str> = Vec::new();
    let segments: Vec<&str> = path.split('/').skip(1).collect();
    for (i, segment) in segments.iter().enumerate() {
        let last = i + 1 == segments.len();
        match *segment {
            "." | ".." => {
                if *segment == ".." {
                    out.pop();
                }
                if last {
                    out.push(""); // "/a/.." is "/", "/a/b/." is "/a/b/"
                }
            }
            s => out.push(s),
        }
    }
    format!("/{}{query}", out.join("/"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Config;
    use crate::handshake::ClientHandshake;

    fn refusal(head: &str) -> HandshakeError {
        let request = ClientRequest::new("ws://h/").unwrap();
        let mut hs = ClientHandshake::new(request, &Config::default()).unwrap();
        hs.receive_data(head.as_bytes()).unwrap_err()
    }

    #[test]
    fn which_refusals_redirect() {
        for status in REDIRECTS {
            let head =
                format!("HTTP/1.1 {status} X\r\nLocation: ws://b/\r\nContent-Length: 0\r\n\r\n");
            assert_eq!(refusal(&head).redirect(), Some((status, "ws://b/")));
        }
        for head in [
            "HTTP/1.1 300 X\r\nLocation: ws://b/\r\nContent-Length: 0\r\n\r\n",
            "HTTP/1.1 304 X\r\nLocation: ws://b/\r\nContent-Length: 0\r\n\r\n",
            "HTTP/1.1 302 X\r\nContent-Length: 0\r\n\r\n",
            "HTTP/1.1 302 X\r\nLocation: ws://b/\r\nLocation: ws://c/\r\nContent-Length: 0\r\n\r\n",
            "HTTP/1.1 404 X\r\nLocation: ws://b/\r\nContent-Length: 0\r\n\r\n",
        ] {
            assert_eq!(refusal(head).redirect(), None, "{head:?}");
        }
        assert_eq!(HandshakeError::MissingAccept.redirect(), None);
    }

    fn resolve(base: &str, location: &str) -> Result<String, HandshakeError> {
        let next = ClientRequest::new(base)?.redirected(location)?;
        Ok(format!(
            "{}://{}{}",
            next.scheme(),
            next.host_header(),
            next.path()
        ))
    }

    #[test]
    fn resolves_references() {
        let base = "ws://a.example:8080/x/y/z?q=1";
        for (location, expected) in [
            ("ws://b.example/p", "ws://b.example/p"),
            ("wss://b.example/p", "wss://b.example/p"),
            ("http://b.example:81/p?x", "ws://b.example:81/p?x"),
            ("HTTPS://b.example/p", "wss://b.example/p"),
            ("//b.example/p", "ws://b.example/p"),
            ("/p?r=2", "ws://a.example:8080/p?r=2"),
            ("w", "ws://a.example:8080/x/y/w"),
            ("../w", "ws://a.example:8080/x/w"),
            ("./", "ws://a.example:8080/x/y/"),
            ("../../../../w", "ws://a.example:8080/w"),
            ("?r", "ws://a.example:8080/x/y/z?r"),
            ("/p#frag", "ws://a.example:8080/p"),
            ("", "ws://a.example:8080/x/y/z?q=1"),
        ] {
            assert_eq!(
                resolve(base, location).as_deref(),
                Ok(expected),
                "{location:?}"
            );
        }
        assert_eq!(
            resolve("ws://[::1]:9/a", "/b").as_deref(),
            Ok("ws://[::1]:9/b")
        );
        assert!(matches!(
            resolve(base, "ftp://b/"),
            Err(HandshakeError::InvalidUrl { .. })
        ));
        assert!(matches!(
            resolve(base, "/a b"),
            Err(HandshakeError::InvalidUrl { .. })
        ));
    }

    #[test]
    fn refuses_a_downgrade() {
        for location in ["ws://b/", "http://b/"] {
            assert_eq!(
                resolve("wss://a/", location),
                Err(HandshakeError::InsecureRedirect {
                    location: location.into()
                })
            );
        }
        assert_eq!(resolve("ws://a/", "wss://b/").as_deref(), Ok("wss://b/"));
        assert_eq!(resolve("wss://a/", "/b").as_deref(), Ok("wss://a/b"));
    }

    #[test]
    fn secrets_stay_with_their_origin() {
        let base = ClientRequest::new("ws://u:p@a:80/")
            .unwrap()
            .subprotocol("chat")
            .header("Cookie", "c=1")
            .header("authorization", "Bearer t")
            .header("X-Trace", "7");
        let same = base.redirected("/other").unwrap();
        assert_eq!(same.credentials, base.credentials);
        assert_eq!(same.headers, base.headers);
        assert_eq!(same.subprotocols, ["chat"]);

        for other in ["ws://b/", "ws://a:81/", "wss://a/"] {
            let next = base.redirected(other).unwrap();
            assert_eq!(next.credentials, None, "{other}");
            assert_eq!(next.headers, [("X-Trace".to_string(), "7".to_string())]);
            assert_eq!(next.subprotocols, ["chat"]);
        }
        // Credentials in the Location itself are used.
        let next = base.redirected("ws://v:q@b/").unwrap();
        assert_eq!(next.authorization().as_deref(), Some("Basic djpx"));
    }
}
