//! TLS for `wss://`, with rustls: the default client configuration, the
//! server name the URL gives, and what a failed TLS handshake is called.
//! Both adapters use these; they only move the bytes.

use std::io;
use std::net::IpAddr;
use std::sync::{Arc, OnceLock};

use rustls::crypto::CryptoProvider;
use rustls::pki_types::{DnsName, ServerName};
use rustls::{ClientConfig, RootCertStore};

use super::{ConnectOptions, TlsFailure};
use crate::adapter::Error;

/// What a `wss://` connection needs: the configuration and the name the
/// server's certificate must carry.
pub(crate) struct TlsTarget {
    pub(crate) config: Arc<ClientConfig>,
    pub(crate) name: ServerName<'static>,
}

impl TlsTarget {
    pub(crate) fn new(host: &str, options: &ConnectOptions) -> Result<TlsTarget, Error> {
        let config = match &options.tls {
            Some(config) => Arc::clone(config),
            None => default_config()?,
        };
        Ok(TlsTarget {
            config,
            name: server_name(host)?,
        })
    }
}

/// The name sent in SNI and checked against the certificate: the URL's
/// host, as an IP address when it is one (RFC 6066 §3: "Literal IPv4 and
/// IPv6 addresses are not permitted in "HostName""; rustls then sends no
/// SNI and checks the certificate's IP address entries).
pub(crate) fn server_name(host: &str) -> Result<ServerName<'static>, Error> {
    if let Ok(ip) = host.parse::<IpAddr>() {
        return Ok(ServerName::IpAddress(ip.into()));
    }
    DnsName::try_from(host.to_string())
        .map(ServerName::DnsName)
        .map_err(|_| Error::TlsUnavailable("the URL's host is not a valid DNS name for TLS"))
}

/// The crypto provider: the process default if the application installed
/// one, else aws-lc-rs's.
pub(crate) fn provider() -> Arc<CryptoProvider> {
    CryptoProvider::get_default()
        .cloned()
        .unwrap_or_else(|| Arc::new(rustls::crypto::aws_lc_rs::default_provider()))
}

/// The configuration `connect` uses without
/// [`ConnectOptions::tls_config`]: the roots the features bring, built
/// once per process.
fn default_config() -> Result<Arc<ClientConfig>, Error> {
    static CONFIG: OnceLock<Result<Arc<ClientConfig>, &'static str>> = OnceLock::new();
    CONFIG
        .get_or_init(|| {
            #[allow(unused_mut)]
            let mut roots = RootCertStore::empty();
            #[cfg(feature = "rustls-webpki-roots")]
            roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
            #[cfg(feature = "rustls-native-roots")]
            for cert in rustls_native_certs::load_native_certs().certs {
                // A certificate rustls cannot use is skipped, as browsers do.
                let _ = roots.add(cert);
            }
            if roots.is_empty() {
                return Err(if cfg!(feature = "rustls-native-roots") {
                    "the platform's certificate store holds no usable root certificate"
                } else {
                    "no root certificates: enable the `rustls-webpki-roots` or \
                     `rustls-native-roots` feature of rfc6455, or pass a rustls::ClientConfig \
                     with ConnectOptions::tls_config"
                });
            }
            let config = ClientConfig::builder_with_provider(provider())
                .with_safe_default_protocol_versions()
                .map_err(|_| "the crypto provider supports no safe TLS version")?
                .with_root_certificates(roots)
                .with_no_client_auth();
            Ok(Arc::new(config))
        })
        .clone()
        .map_err(Error::TlsUnavailable)
}

/// An I/O error from a TLS stream: [`Error::Tls`] when rustls refused
/// something (the rustls error is the source), else [`Error::Io`].
pub(crate) fn tls_error(error: io::Error) -> Error {
    let kind = match error
        .get_ref()
        .and_then(|inner| inner.downcast_ref::<rustls::Error>())
    {
        Some(e) => failure(e),
        None => return Error::Io(error),
    };
    // `get_ref` found an inner error, so there is one to take.
    let source = error
        .into_inner()
        .unwrap_or_else(|| Box::new(io::Error::other("TLS failure")));
    Error::Tls { kind, source }
}

/// A rustls error, by what the user should look at.
pub(crate) fn failure(error: &rustls::Error) -> TlsFailure {
    use rustls::{CertificateError, Error as E, InvalidMessage};
    match error {
        E::InvalidCertificate(
            CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
        ) => TlsFailure::WrongHostName,
        E::InvalidCertificate(_) | E::NoCertificatesPresented | E::InvalidCertRevocationList(_) => {
            TlsFailure::BadCertificate
        }
        // The first bytes are not a TLS record: no TLS content type, no
        // TLS version, or a length no record has.
        E::InvalidMessage(
            InvalidMessage::InvalidContentType
            | InvalidMessage::UnknownProtocolVersion
            | InvalidMessage::MessageTooLarge,
        ) => TlsFailure::NotTls,
        E::AlertReceived(_) => TlsFailure::AlertReceived,
        _ => TlsFailure::Other,
    }
}

/// A rustls error raised outside I/O (a configuration refused by
/// `ClientConnection::new`).
#[cfg(feature = "std")]
pub(crate) fn rustls_error(error: rustls::Error) -> Error {
    Error::Tls {
        kind: failure(&error),
        source: Box::new(error),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_names() {
        assert!(matches!(
            server_name("127.0.0.1"),
            Ok(ServerName::IpAddress(_))
        ));
        assert!(matches!(server_name("::1"), Ok(ServerName::IpAddress(_))));
        match server_name("Example.COM") {
            Ok(ServerName::DnsName(name)) => assert_eq!(name.as_ref(), "Example.COM"),
            other => panic!("{other:?}"),
        }
        assert!(server_name("a_b!").is_err());
    }

    #[test]
    fn failures_by_cause() {
        use rustls::{AlertDescription, CertificateError, InvalidMessage};
        let io = |e: rustls::Error| tls_error(io::Error::new(io::ErrorKind::InvalidData, e));
        let kind = |e| match io(e) {
            Error::Tls { kind, source } => {
                assert!(source.is::<rustls::Error>());
                kind
            }
            other => panic!("{other:?}"),
        };
        assert_eq!(
            kind(rustls::Error::InvalidCertificate(
                CertificateError::UnknownIssuer
            )),
            TlsFailure::BadCertificate
        );
        assert_eq!(
            kind(rustls::Error::InvalidCertificate(
                CertificateError::NotValidForName
            )),
            TlsFailure::WrongHostName
        );
        assert_eq!(
            kind(rustls::Error::InvalidMessage(
                InvalidMessage::InvalidContentType
            )),
            TlsFailure::NotTls
        );
        assert_eq!(
            kind(rustls::Error::AlertReceived(AlertDescription::UnknownCA)),
            TlsFailure::AlertReceived
        );
        assert_eq!(kind(rustls::Error::DecryptError), TlsFailure::Other);
        assert!(matches!(
            tls_error(io::ErrorKind::ConnectionReset.into()),
            Error::Io(_)
        ));
    }
}
