#![no_main]
//! Signalling input as a remote (or a hostile signalling server) can send it.

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    simple_peer_native::fuzz_signalling_input(data);
});
