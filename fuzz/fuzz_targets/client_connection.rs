#![no_main]

use libfuzzer_sys::fuzz_target;
use rfc6455::Role;

fuzz_target!(|data: &[u8]| rfc6455_fuzz::connection::run(Role::Client, data));
