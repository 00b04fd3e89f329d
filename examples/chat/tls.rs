//! The chat over TLS (`--tls-cert FILE --tls-key FILE`), with HTTP/2 as
//! well as HTTP/1.1 (`--http2`): ALPN `h2` and `http/1.1`, each connection
//! served by hyper in the protocol it negotiated. On HTTP/2 extended CONNECT
//! is on (RFC 8441), so a browser that loaded the page over HTTP/2 opens its
//! WebSocket on a stream of the same connection; the extractor of `/ws` is
//! the same for both.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use axum::Router;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use hyper_util::service::TowerToHyperService;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;

/// WebSockets opened over HTTP/2 since the start, shown at
/// `/http2-websockets` so that a test can tell which way a browser came.
pub static HTTP2_WEBSOCKETS: AtomicU64 = AtomicU64::new(0);

/// Counts a WebSocket request that came as an HTTP/2 extended CONNECT.
pub fn count(version: axum::http::Version) {
    if version == axum::http::Version::HTTP_2 {
        HTTP2_WEBSOCKETS.fetch_add(1, Ordering::Relaxed);
    }
}

/// The number of WebSockets opened over HTTP/2.
pub fn http2_websockets() -> u64 {
    HTTP2_WEBSOCKETS.load(Ordering::Relaxed)
}

/// The TLS configuration from PEM files: the certificate chain and its key.
pub fn acceptor(cert: &Path, key: &Path, http2: bool) -> Result<TlsAcceptor, String> {
    let chain = CertificateDer::pem_file_iter(cert)
        .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
        .map_err(|e| format!("{}: {e}", cert.display()))?;
    let key = PrivateKeyDer::from_pem_file(key).map_err(|e| format!("{}: {e}", key.display()))?;
    let mut config = rustls::ServerConfig::builder()
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .map_err(|e| e.to_string())?;
    config.alpn_protocols = if http2 {
        vec![b"h2".to_vec(), b"http/1.1".to_vec()]
    } else {
        vec![b"http/1.1".to_vec()]
    };
    Ok(TlsAcceptor::from(Arc::new(config)))
}

/// Serves `router` on `listener` over TLS until `shutdown` resolves.
pub async fn serve(
    listener: TcpListener,
    acceptor: TlsAcceptor,
    router: Router,
    shutdown: impl std::future::Future<Output = ()>,
) {
    tokio::pin!(shutdown);
    loop {
        let tcp = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((tcp, _)) => tcp,
                Err(_) => continue,
            },
            () = &mut shutdown => return,
        };
        let _ = tcp.set_nodelay(true);
        let acceptor = acceptor.clone();
        let service = TowerToHyperService::new(router.clone());
        tokio::spawn(async move {
            let Ok(tls) = acceptor.accept(tcp).await else {
                return;
            };
            let mut builder = auto::Builder::new(TokioExecutor::new());
            // RFC 8441 §3: SETTINGS_ENABLE_CONNECT_PROTOCOL = 1.
            builder.http2().enable_connect_protocol();
            let _ = builder
                .serve_connection_with_upgrades(TokioIo::new(tls), service)
                .await;
        });
    }
}
