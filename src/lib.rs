//! simple-peer-native: WebRTC peers for Node.js. Rust owns the connection (webrtc 0.21 on a
//! shared tokio runtime); index.js wraps `NativePeer` in simple-peer's Duplex API, through
//! lib/native.js. Everything Rust tells JS is one `NativeEvent` (events.rs).
//!
//! Leaves first: error, sync, executor, udp, stun, candidate and memory use nothing of ours; the
//! modules above them (events, config, signal, network, mux, runtime, channel, media, stats)
//! use only what is below them, and peer.rs ties them together.

mod audio_source;
mod candidate;
mod channel;
mod config;
mod error;
mod events;
mod executor;
mod h264;
mod keyframe_requests;
mod logging;
mod media;
mod media_file;
mod memory;
mod mux;
mod network;
mod pcm;
mod peer;
mod runtime;
mod signal;
mod stats;
mod stun;
mod sync;
mod udp;
mod video_source;

pub use config::{ChannelOptions, IceServerOptions, PeerOptions};
pub use events::NativeEvent;
pub use peer::NativePeer;

/// The fuzz target's entry point (fuzz/fuzz_targets/untrusted_input.rs); not part of the
/// JS API. Every parser of bytes we do not control: signalling from the remote, datagrams
/// on the shared UDP port, media files.
#[doc(hidden)]
pub fn fuzz_untrusted_input(data: &[u8]) {
    signal::parse_untrusted(data);
    if let Some(message) = stun::StunMessage::parse(data) {
        let _ = (message.is_binding_request(), message.recipient_ufrag());
    }
    let text = String::from_utf8_lossy(data);
    let line = candidate::CandidateLine::parse(&text);
    let _ = (line.udp_address(), line.kind(), line.is_unusable());
    let _ = media_file::parse(data, 30.0);
}

#[napi_derive::module_init]
fn init() {
    logging::init();
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::{BTreeMap, BTreeSet};

    /// Each module of src/ and the modules it names as `crate::<module>`.
    fn module_graph() -> BTreeMap<String, BTreeSet<String>> {
        let src = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let mut graph = BTreeMap::new();
        for entry in std::fs::read_dir(src).unwrap() {
            let path = entry.unwrap().path();
            let module = path.file_stem().unwrap().to_string_lossy().into_owned();
            let text = std::fs::read_to_string(&path).unwrap();
            let uses = text
                .split("crate::")
                .skip(1)
                .map(|rest| {
                    rest.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                        .next()
                        .unwrap_or_default()
                        .to_owned()
                })
                .filter(|used| *used != module)
                .collect();
            graph.insert(module, uses);
        }
        graph
    }

    #[test]
    fn modules_use_each_other_without_a_cycle() {
        let graph = module_graph();
        assert!(graph.contains_key("peer") && graph["peer"].contains("events"));
        // Depth-first, with the path so far: a module met again on its own path is a cycle.
        fn visit(
            module: &str,
            graph: &BTreeMap<String, BTreeSet<String>>,
            path: &mut Vec<String>,
            done: &mut BTreeSet<String>,
        ) {
            if let Some(start) = path.iter().position(|seen| seen == module) {
                panic!("import cycle: {} -> {module}", path[start..].join(" -> "));
            }
            if !done.insert(module.to_owned()) {
                return;
            }
            path.push(module.to_owned());
            for used in graph.get(module).into_iter().flatten() {
                visit(used, graph, path, done);
            }
            path.pop();
        }
        let mut done = BTreeSet::new();
        for module in graph.keys() {
            visit(module, &graph, &mut Vec::new(), &mut done);
        }
    }

    #[test]
    fn leaves_use_nothing_of_ours() {
        let graph = module_graph();
        for leaf in [
            "error",
            "sync",
            "executor",
            "udp",
            "stun",
            "candidate",
            "memory",
        ] {
            assert_eq!(graph[leaf], BTreeSet::new(), "{leaf}");
        }
    }

    #[test]
    fn untrusted_input_of_every_kind_is_read_without_panicking() {
        let check = stun::tests::binding_request(b"abcd:wxyz");
        for input in [
            &b""[..],
            &check,
            &check[..21],
            b"candidate:1 1 udp 1 10.0.0.1 9 typ host",
            b"DKIF\x00\x00",
            b"OggS",
            &[0, 0, 0, 1, 0x65, 0xff],
            br#"{"type":"offer","sdp":"v=0\r\nm="}"#,
        ] {
            fuzz_untrusted_input(input);
        }
    }
}
