#![no_main]
//! Untrusted input: signalling from a remote (or a hostile signalling server), datagrams on
//! the shared UDP port, media files.

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    simple_peer_native::fuzz_untrusted_input(data);
});
