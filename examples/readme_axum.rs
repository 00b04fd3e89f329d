use axum::{Router, response::Response, routing::get};
use rfc6455::{Config, axum::WebSocketUpgrade, deflate::DeflateConfig};

async fn echo(ws: WebSocketUpgrade) -> Response {
    let config = Config::default().deflate(DeflateConfig::default());
    ws.config(config).on_upgrade(|mut socket| async move {
        while let Ok(message) = socket.read().await {
            let _ = socket.send(message).await;
        }
    })
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:3000").await?;
    axum::serve(listener, Router::new().route("/", get(echo))).await
}
