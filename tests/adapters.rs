//! The scenario suite (`tests/scenarios/`) against both adapters, in both
//! roles, over loopback TCP. Each scenario is written once; this file only
//! instantiates the matrix.

mod scenarios;

/// For one adapter: every peer scenario as client and as server, and the
/// handshake scenarios.
macro_rules! suite {
    ($adapter:ident, $subject:ty) => {
        mod $adapter {
            use crate::scenarios::{cases, run_client, run_server};

            crate::scenarios::peer_cases!(suite!(@peer $subject;));

            suite!(@fn $subject; handshake_timeouts, connect_timeout, rejected,
                accept_mistake_is_a_500, malformed,
                subprotocols, from_upgraded);
        }
    };
    (@peer $subject:ty; $($name:ident: $case:ident),* $(,)?) => {
        $(
            mod $name {
                use super::*;

                #[test]
                fn as_client() {
                    run_client::<$subject, _>(cases::$case::default());
                }

                #[test]
                fn as_server() {
                    run_server::<$subject, _>(cases::$case::default());
                }
            }
        )*
    };
    (@fn $subject:ty; $($name:ident),* $(,)?) => {
        $(
            #[test]
            fn $name() {
                cases::$name::<$subject>();
            }
        )*
    };
}

suite!(blocking, crate::scenarios::Blocking);
suite!(tokio, crate::scenarios::Tokio);
