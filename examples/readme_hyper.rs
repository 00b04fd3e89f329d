use hyper::{server::conn::http1, service::service_fn};
use hyper_util::rt::TokioIo;
use rfc6455::{Config, hyper::WebSocket, hyper::upgrade};

async fn echo(mut ws: WebSocket) {
    while let Ok(message) = ws.read().await {
        let _ = ws.send(message).await;
    }
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:3000").await?;
    loop {
        let (tcp, _) = listener.accept().await?;
        let svc = service_fn(|req| upgrade(req, Config::default(), Default::default(), echo));
        let http = http1::Builder::new().serve_connection(TokioIo::new(tcp), svc);
        tokio::spawn(http.with_upgrades());
    }
}
