//! What the examples share: the configuration they run the Autobahn
//! testsuite with, and the command line of the integration examples.

use std::net::SocketAddr;

use rfc6455::Config;

/// Limits large enough for the Autobahn testsuite (up to 16 MiB messages),
/// with permessage-deflate (`DeflateConfig::default()`) when `deflate` is
/// set; the examples refuse `--deflate` when built without the feature.
pub fn testsuite_config(deflate: bool) -> Config {
    let config = Config::default()
        .max_message_size(64 << 20)
        .max_frame_size(64 << 20);
    #[cfg(feature = "deflate")]
    let config = if deflate {
        config.deflate(rfc6455::deflate::DeflateConfig::default())
    } else {
        config
    };
    #[cfg(not(feature = "deflate"))]
    assert!(!deflate, "checked by the example's argument parsing");
    config
}

/// `--addr HOST:PORT [--deflate]`, the command line of `axum_echo` and
/// `hyper_echo`.
#[allow(dead_code)] // echo_server and autobahn_client parse more flags
pub fn addr_and_deflate() -> Result<(SocketAddr, bool), String> {
    let (mut addr, mut deflate) = (None, false);
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        match flag.as_str() {
            "--deflate" if cfg!(feature = "deflate") => deflate = true,
            "--deflate" => return Err("--deflate needs the `deflate` feature".into()),
            "--addr" => {
                let value = args.next().ok_or("--addr needs a value")?;
                addr = Some(value.parse().map_err(|e| format!("--addr: {e}"))?);
            }
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    Ok((addr.ok_or("--addr is required")?, deflate))
}
