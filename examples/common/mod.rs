//! What the examples share: the configuration they run the Autobahn
//! testsuite with.

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
