//! What both adapters' `connect` shares, without I/O: the options
//! ([`ConnectOptions`]), the route to the server (directly, or through an
//! HTTP proxy's tunnel), and TLS (`tls.rs`). An adapter resolves and
//! dials the route's address, runs the tunnel's exchange and the TLS
//! handshake over its own stream type, then the WebSocket handshake.

use std::fmt;

#[cfg(feature = "rustls")]
use std::sync::Arc;

mod proxy;
#[cfg(feature = "rustls")]
mod tls;

pub(crate) use self::proxy::Tunnel;
pub use self::proxy::{Proxy, ProxyError};
#[cfg(all(feature = "rustls", feature = "std"))]
pub(crate) use self::tls::rustls_error;
#[cfg(feature = "rustls")]
pub(crate) use self::tls::{TlsTarget, tls_error};

use crate::Config;
use crate::adapter::Error;
use crate::handshake::{ClientRequest, HandshakeError};

/// How `connect_with_options` reaches the server: through an HTTP proxy,
/// with a TLS configuration of your own. The default connects directly,
/// with the default roots for `wss://`, and reads no environment variable.
///
/// ```
/// use rfc6455::blocking::{ConnectOptions, Proxy};
///
/// let options = ConnectOptions::new().proxy(Proxy::new("http://127.0.0.1:3128")?);
/// # let _ = options;
/// # Ok::<(), rfc6455::blocking::ProxyError>(())
/// ```
#[derive(Clone, Default)]
pub struct ConnectOptions {
    pub(crate) proxy: Option<Proxy>,
    pub(crate) proxy_from_env: bool,
    #[cfg(feature = "rustls")]
    pub(crate) tls: Option<Arc<rustls::ClientConfig>>,
}

impl fmt::Debug for ConnectOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut s = f.debug_struct("ConnectOptions");
        s.field("proxy", &self.proxy)
            .field("proxy_from_env", &self.proxy_from_env);
        #[cfg(feature = "rustls")]
        s.field("tls", &self.tls.as_ref().map(|_| "<rustls::ClientConfig>"));
        s.finish()
    }
}

impl ConnectOptions {
    /// Direct connections, default TLS roots.
    pub fn new() -> Self {
        Self::default()
    }

    /// Connects through this HTTP proxy, which opens a tunnel with
    /// `CONNECT` (for `wss://`, TLS then runs inside it, end to end with
    /// the server). Opening the tunnel counts against
    /// [`Config::handshake_timeout`]. A refusal is
    /// [`ProxyError::Refused`], with the proxy's status.
    #[must_use]
    pub fn proxy(mut self, proxy: Proxy) -> Self {
        self.proxy = Some(proxy);
        self
    }

    /// When no [`proxy`](Self::proxy) is set, takes one from the
    /// environment at each connection, as [`Proxy::from_env`] describes
    /// (`HTTPS_PROXY`, `HTTP_PROXY`, `ALL_PROXY`, `NO_PROXY`). Off unless
    /// asked for.
    #[must_use]
    pub fn proxy_from_env(mut self, enabled: bool) -> Self {
        self.proxy_from_env = enabled;
        self
    }

    /// The rustls configuration for `wss://`: your own roots (a private
    /// CA), client certificates, protocol versions... Without it,
    /// `connect` trusts the roots of the `rustls-webpki-roots` and
    /// `rustls-native-roots` features.
    ///
    /// ```no_run
    /// use std::sync::Arc;
    /// use rfc6455::blocking::ConnectOptions;
    /// use rustls::pki_types::{CertificateDer, pem::PemObject};
    ///
    /// let mut roots = rustls::RootCertStore::empty();
    /// for cert in CertificateDer::pem_file_iter("ca.pem")? {
    ///     roots.add(cert?)?;
    /// }
    /// let tls = rustls::ClientConfig::builder()
    ///     .with_root_certificates(roots)
    ///     .with_no_client_auth();
    /// let options = ConnectOptions::new().tls_config(Arc::new(tls));
    /// # let _ = options;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[cfg(feature = "rustls")]
    #[must_use]
    pub fn tls_config(mut self, config: Arc<rustls::ClientConfig>) -> Self {
        self.tls = Some(config);
        self
    }
}

/// Why a TLS handshake failed: the `kind` of [`Error::Tls`], whose
/// `source` is the cause (a `rustls::Error` when rustls refused).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum TlsFailure {
    /// The server's certificate does not verify: not signed by a trusted
    /// root (a private CA not given in the `ClientConfig`, a self-signed
    /// certificate), expired or not yet valid, revoked, or badly encoded.
    BadCertificate,
    /// The certificate is valid, but not for the URL's host (its names and
    /// IP addresses do not include it).
    WrongHostName,
    /// The peer's bytes are not TLS: a plaintext server on the port of a
    /// `wss://` URL (it answered the ClientHello in HTTP), or, on a TLS
    /// server, a plaintext client.
    NotTls,
    /// The peer ended the handshake with a TLS alert: it refused our
    /// certificate, or has no protocol version or cipher suite in common.
    AlertReceived,
    /// Another TLS failure; see the source.
    Other,
}

impl fmt::Display for TlsFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TlsFailure::BadCertificate => "the server's certificate does not verify",
            TlsFailure::WrongHostName => "the server's certificate is not valid for the host name",
            TlsFailure::NotTls => "the peer does not speak TLS",
            TlsFailure::AlertReceived => "the peer refused the handshake with an alert",
            TlsFailure::Other => "the TLS handshake failed",
        })
    }
}

/// Without the `rustls` feature there is no TLS target to reach.
#[cfg(not(feature = "rustls"))]
pub(crate) enum TlsTarget {}

/// Where and how a client connects.
pub(crate) struct Route {
    /// The host and port to dial: the proxy's, or the server's.
    pub(crate) host: String,
    pub(crate) port: u16,
    /// The tunnel to open first, through a proxy.
    pub(crate) tunnel: Option<Tunnel>,
    /// For `wss://`: the TLS handshake to run (inside the tunnel, if any).
    pub(crate) tls: Option<TlsTarget>,
}

impl Route {
    /// Plans the connection. Fails before any I/O for `wss://` without
    /// TLS support, a bad proxy setting, or a host TLS cannot name.
    pub(crate) fn new(
        request: &ClientRequest,
        config: &Config,
        options: &ConnectOptions,
    ) -> Result<Route, Error> {
        let tls = if request.is_secure() {
            Some(tls_target(request, options)?)
        } else {
            None
        };
        let proxy = match &options.proxy {
            Some(proxy) => Some(proxy.clone()),
            None if options.proxy_from_env => Proxy::from_env(request)?,
            None => None,
        };
        Ok(match proxy {
            Some(proxy) => Route {
                host: proxy.host().to_string(),
                port: proxy.port(),
                tunnel: Some(Tunnel::new(&proxy, request, config)),
                tls,
            },
            None => Route {
                host: request.host().to_string(),
                port: request.port(),
                tunnel: None,
                tls,
            },
        })
    }
}

#[cfg(feature = "rustls")]
fn tls_target(request: &ClientRequest, options: &ConnectOptions) -> Result<TlsTarget, Error> {
    TlsTarget::new(request.host(), options)
}

#[cfg(not(feature = "rustls"))]
fn tls_target(_: &ClientRequest, _: &ConnectOptions) -> Result<TlsTarget, Error> {
    Err(Error::TlsUnavailable(
        "wss:// needs TLS: enable the `rustls` feature of rfc6455",
    ))
}

/// Following redirects, each on a new connection, as far as
/// [`Config::max_redirects`] allows.
pub(crate) struct Redirects {
    /// Every URL tried so far.
    chain: Vec<String>,
    max: usize,
}

impl Redirects {
    pub(crate) fn new(request: &ClientRequest, config: &Config) -> Redirects {
        Redirects {
            chain: vec![url_of(request)],
            max: config.max_redirects,
        }
    }

    /// After a failed attempt with `request`: the request to try next when
    /// `error` is a redirect to follow, else the error to return (the
    /// redirect itself when none may be followed,
    /// [`HandshakeError::TooManyRedirects`] past the limit).
    pub(crate) fn follow(
        &mut self,
        request: &ClientRequest,
        error: Error,
    ) -> Result<ClientRequest, Error> {
        let location = match &error {
            Error::Handshake(e) if self.max > 0 => match e.redirect() {
                Some((_, location)) => location.to_string(),
                None => return Err(error),
            },
            _ => return Err(error),
        };
        let next = request.redirected(&location)?;
        self.chain.push(url_of(&next));
        if self.chain.len() > self.max + 1 {
            return Err(Error::Handshake(HandshakeError::TooManyRedirects {
                chain: std::mem::take(&mut self.chain),
            }));
        }
        Ok(next)
    }
}

/// A request's URL, for messages.
fn url_of(request: &ClientRequest) -> String {
    let scheme = if request.is_secure() { "wss" } else { "ws" };
    format!("{scheme}://{}{}", request.host_header(), request.path())
}

/// An I/O error from the stream a handshake runs over: with TLS, a
/// rustls refusal becomes [`Error::Tls`].
pub(crate) fn io_error(error: std::io::Error) -> Error {
    #[cfg(feature = "rustls")]
    return tls_error(error);
    #[cfg(not(feature = "rustls"))]
    Error::Io(error)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes() {
        let config = Config::default();
        let request = ClientRequest::new("ws://example.com:9/x").unwrap();
        let route = Route::new(&request, &config, &ConnectOptions::new()).unwrap();
        assert_eq!((route.host.as_str(), route.port), ("example.com", 9));
        assert!(route.tunnel.is_none() && route.tls.is_none());

        let options = ConnectOptions::new().proxy(Proxy::new("http://[::1]:3128").unwrap());
        let route = Route::new(&request, &config, &options).unwrap();
        assert_eq!((route.host.as_str(), route.port), ("::1", 3128));
        let tunnel = route.tunnel.unwrap();
        assert!(
            tunnel
                .pending_output()
                .starts_with(b"CONNECT example.com:9 HTTP/1.1\r\n")
        );
    }

    #[test]
    fn redirects() {
        let redirect = |location: &str| {
            let mut headers = crate::handshake::Headers::new();
            headers.push("Location", location);
            Error::Handshake(HandshakeError::UnexpectedStatus {
                status: 302,
                headers,
                body: Vec::new(),
            })
        };
        let first = ClientRequest::new("ws://a.example/x").unwrap();

        // None followed by default: the redirect is the error.
        let mut none = Redirects::new(&first, &Config::default());
        assert_eq!(
            none.follow(&first, redirect("/y")).unwrap_err().to_string(),
            redirect("/y").to_string()
        );

        let config = Config::default().max_redirects(2);
        let mut two = Redirects::new(&first, &config);
        let second = two.follow(&first, redirect("/y")).unwrap();
        assert_eq!((second.host(), second.path()), ("a.example", "/y"));
        let third = two
            .follow(&second, redirect("ws://b.example:8080/z"))
            .unwrap();
        assert_eq!(third.host_header(), "b.example:8080");
        match two.follow(&third, redirect("/again")) {
            Err(Error::Handshake(HandshakeError::TooManyRedirects { chain })) => assert_eq!(
                chain,
                [
                    "ws://a.example/x",
                    "ws://a.example/y",
                    "ws://b.example:8080/z",
                    "ws://b.example:8080/again"
                ]
            ),
            other => panic!("{:?}", other.map(|r| r.path().to_string())),
        }
        // Other errors pass through.
        let mut two = Redirects::new(&first, &config);
        assert!(matches!(
            two.follow(&first, Error::AbnormalClose),
            Err(Error::AbnormalClose)
        ));
        // wss -> ws is refused.
        let secure = ClientRequest::new("wss://a.example/").unwrap();
        let mut two = Redirects::new(&secure, &config);
        assert!(matches!(
            two.follow(&secure, redirect("ws://a.example/")),
            Err(Error::Handshake(HandshakeError::InsecureRedirect { .. }))
        ));
    }

    #[cfg(not(feature = "rustls"))]
    #[test]
    fn wss_names_the_feature() {
        let request = ClientRequest::new("wss://example.com/").unwrap();
        match Route::new(&request, &Config::default(), &ConnectOptions::new()) {
            Err(Error::TlsUnavailable(reason)) => assert!(reason.contains("`rustls` feature")),
            _ => panic!("wss:// without TLS"),
        }
    }

    #[cfg(feature = "rustls")]
    #[test]
    fn wss_routes_name_the_server() {
        use rustls::pki_types::ServerName;
        let tls = rustls::ClientConfig::builder_with_provider(tls::provider())
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates(rustls::RootCertStore::empty())
            .with_no_client_auth();
        let options = ConnectOptions::new()
            .tls_config(Arc::new(tls))
            .proxy(Proxy::new("http://127.0.0.1:1").unwrap());
        let request = ClientRequest::new("wss://[::1]:9443/").unwrap();
        let route = Route::new(&request, &Config::default(), &options).unwrap();
        assert!(matches!(
            route.tls.map(|t| t.name),
            Some(ServerName::IpAddress(_))
        ));
        assert!(
            route
                .tunnel
                .unwrap()
                .pending_output()
                .starts_with(b"CONNECT [::1]:9443 ")
        );
    }
}
