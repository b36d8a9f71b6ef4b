//! simple-peer-native: WebRTC peers for Node.js. Rust owns the connection (webrtc 0.21 on a
//! shared tokio runtime); index.js wraps `NativePeer` in simple-peer's Duplex API.

mod channel;
mod config;
mod events;
mod logging;
mod media;
mod media_file;
mod mux;
mod network;
mod peer;
mod runtime;
mod signal;
mod stats;

pub use config::{ChannelOptions, IceServerOptions, PeerOptions};
pub use events::JsEvent;
pub use peer::NativePeer;

/// The fuzz target's entry point (fuzz/fuzz_targets/signal.rs); not part of the JS API.
/// Every parser of bytes we do not control: signalling from the remote, datagrams on the
/// shared UDP port, media files.
#[doc(hidden)]
pub fn fuzz_untrusted_input(data: &[u8]) {
    signal::parse_untrusted(data);
    let _ = mux::stun_recipient_ufrag(data);
    let _ = media_file::parse(data, 30.0);
}

#[napi_derive::module_init]
fn init() {
    logging::init();
}
