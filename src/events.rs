//! Everything that crosses from Rust into JS. Every peer owns one threadsafe function, and
//! every native event (replies to requests included) travels through it as one tagged
//! union, which napi turns into the discriminated union `NativeEvent` of binding.d.ts: JS
//! dispatches on the generated `type`s, so the two languages cannot disagree on a name.

use std::sync::{Arc, Mutex};

use napi::bindgen_prelude::{Buffer, Int16Array, Uint32Array};
use napi::threadsafe_function::{ThreadsafeFunction, ThreadsafeFunctionCallMode};
use napi::Status;
use napi_derive::napi;

use crate::error::NativeError;
use crate::sync::lock;

/// A session description in the shape simple-peer signals it.
#[napi(object, object_from_js = false)]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionDescription {
    /// `offer`, `answer`, `pranswer` or `rollback`.
    #[napi(js_name = "type")]
    pub kind: String,
    pub sdp: String,
}

/// A local ICE candidate in the shape simple-peer signals it.
#[napi(object, object_from_js = false)]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IceCandidate {
    pub candidate: String,
    #[napi(js_name = "sdpMLineIndex")]
    pub sdp_m_line_index: u32,
    pub sdp_mid: String,
}

/// The addresses of the candidate pair ICE selected, as JS sets them on the peer.
#[napi(object, object_from_js = false)]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CandidatePair {
    pub local_address: String,
    pub local_port: u32,
    pub remote_address: String,
    pub remote_port: u32,
}

/// What one audio or video section of a remote description says the remote sends: JS
/// announces remote tracks from these while applying the description, as browsers do,
/// rather than when a track's first packet arrives.
#[napi(object, object_from_js = false, use_nullable = true)]
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct RemoteMedia {
    pub mid: String,
    pub kind: String,
    /// The remote sends on this section (port not 0, direction sendrecv or sendonly).
    pub sending: bool,
    /// The sender's track id (msid), when the remote gives one.
    pub track_id: Option<String>,
    pub stream_ids: Vec<String>,
    /// The SSRCs the remote declared, which name the track its packets belong to.
    pub ssrcs: Vec<u32>,
    /// The first codec offered, lowercased (`vp8`, `opus`, ...).
    pub codec: String,
}

/// A remote track, as its first packet describes it.
#[napi(object, object_from_js = false)]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoteTrackInfo {
    pub track_id: String,
    pub stream_ids: Vec<String>,
    pub kind: String,
    pub codec: String,
    /// The SSRC of the first packet: the remote description's a=ssrc lines tell which
    /// announced track it belongs to.
    pub ssrc: u32,
}

/// A reassembled frame: the depacketized payloads of one RTP timestamp.
#[napi(object, object_from_js = false)]
pub struct MediaFrame {
    pub data: Buffer,
    pub timestamp: u32,
    pub keyframe: bool,
}

/// Decoded audio, in the shape of wrtc's `RTCAudioSink` data.
#[napi(object, object_from_js = false)]
pub struct PcmFrame {
    /// Interleaved 16-bit samples.
    pub samples: Int16Array,
    pub sample_rate: u32,
    pub channel_count: u32,
    /// Samples per channel.
    pub number_of_frames: u32,
}

/// A decoded picture in packed I420, as wrtc's `RTCVideoSink` gives it.
#[napi(object, object_from_js = false)]
pub struct VideoFrameData {
    pub width: u32,
    pub height: u32,
    /// The Y plane, then U and V at half width and height, rows unpadded.
    pub data: Buffer,
}

/// A local track whose transceiver has no m-line yet.
#[napi(object, object_from_js = false)]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingTrack {
    pub kind: String,
    pub track_id: String,
}

/// What a request answers with; each request has one kind of answer.
#[napi(
    discriminant = "kind",
    discriminant_case = "camelCase",
    object_from_js = false
)]
pub enum ReplyValue {
    /// The request did what it asked (adding a candidate or track, a flush, …).
    Done,
    /// A remote candidate that no stack here can use (mDNS, or no address): skipped, as
    /// browsers skip it, with a warning from JS.
    IgnoredCandidate,
    /// createOffer, createAnswer and localDescription: the description as the remote
    /// should see it.
    Description {
        description: Option<SessionDescription>,
        /// Its ICE username fragment, which names this peer in the remote's checks.
        ice_ufrag: Option<String>,
    },
    /// setRemoteDescription: the description applied, and what its media sections send.
    RemoteDescription {
        description: Option<SessionDescription>,
        ice_ufrag: Option<String>,
        media: Vec<RemoteMedia>,
    },
    SelectedPair {
        pair: Option<CandidatePair>,
    },
    /// getStats: W3C-shaped stats objects, whose members vary by type.
    Stats {
        reports: Vec<serde_json::Value>,
    },
    MissingTransceivers {
        tracks: Vec<PendingTrack>,
    },
}

/// What JS receives, as `{ type: 'reply', … }`, `{ type: 'candidate', … }`, and so on.
#[napi(
    discriminant = "type",
    discriminant_case = "camelCase",
    object_from_js = false
)]
pub enum NativeEvent {
    /// Request `id` succeeded.
    Reply {
        id: u32,
        value: ReplyValue,
    },
    /// Request `id` failed with one of simple-peer's codes.
    Failed {
        id: u32,
        code: String,
        message: String,
    },
    Candidate {
        candidate: IceCandidate,
    },
    IceGatheringState {
        state: String,
    },
    IceConnectionState {
        state: String,
    },
    ConnectionState {
        state: String,
    },
    SignalingState {
        state: String,
    },
    /// `pair`: the selected candidate pair, looked up natively before the event so that
    /// 'connect' can follow at once (see `channel::SelectedPair`).
    ChannelOpen {
        label: String,
        pair: Option<CandidatePair>,
    },
    ChannelClose,
    /// Received messages: `pieces` hold their bodies back to back (see `channel::Batch`),
    /// `sizes` per message `length * 2 + (is_text ? 1 : 0)`.
    Messages {
        pieces: Vec<Buffer>,
        sizes: Uint32Array,
    },
    /// The send queue fell to the low-water mark after `send` reported it full.
    Writable,
    /// The peer failed: it closes.
    Error {
        code: String,
        message: String,
    },
    /// Remote track `id`'s first packet arrived.
    Track {
        id: u32,
        track: RemoteTrackInfo,
    },
    /// One RTP packet of remote track `id`.
    Rtp {
        id: u32,
        packet: Buffer,
    },
    /// A frame reassembled from remote track `id`'s packets.
    Frame {
        id: u32,
        frame: MediaFrame,
    },
    /// Remote audio track `id`'s frame decoded, while JS asks for it (`decodeMedia`).
    Pcm {
        id: u32,
        frame: PcmFrame,
        /// Decoded frames dropped so far because JS had not taken the ones before.
        dropped: u32,
    },
    /// Remote video track `id`'s frame decoded, while JS asks for it (`decodeMedia`).
    VideoFrame {
        id: u32,
        frame: VideoFrameData,
        dropped: u32,
    },
    TrackEnded {
        id: u32,
    },
    /// The last event of a peer: nothing follows it.
    Closed,
}

impl NativeEvent {
    /// The answer to request `id`.
    pub fn reply(id: u32, result: Result<ReplyValue, NativeError>) -> Self {
        match result {
            Ok(value) => NativeEvent::Reply { id, value },
            Err(error) => NativeEvent::Failed {
                id,
                code: error.code.to_owned(),
                message: error.message,
            },
        }
    }

    pub fn error(error: NativeError) -> Self {
        NativeEvent::Error {
            code: error.code.to_owned(),
            message: error.message,
        }
    }
}

/// The threadsafe function is strong (ref'd) so Node stays alive while a peer may still
/// emit; closing the sink releases it, after which the peer no longer holds the loop open.
pub type EventFunction = ThreadsafeFunction<NativeEvent, (), NativeEvent, Status, false>;

enum Target {
    Js(EventFunction),
    /// Unit tests read what a peer emitted from here.
    #[cfg(test)]
    Recorder(Arc<Mutex<Vec<NativeEvent>>>),
}

impl Target {
    fn deliver(&self, event: NativeEvent) -> bool {
        match self {
            Target::Js(function) => {
                function.call(event, ThreadsafeFunctionCallMode::NonBlocking) == Status::Ok
            }
            #[cfg(test)]
            Target::Recorder(events) => {
                lock(events).push(event);
                true
            }
        }
    }
}

#[derive(Clone)]
pub struct EventSink {
    target: Arc<Mutex<Option<Target>>>,
}

impl EventSink {
    pub fn new(function: EventFunction) -> Self {
        Self {
            target: Arc::new(Mutex::new(Some(Target::Js(function)))),
        }
    }

    /// Queues an event for JS. Returns false once the sink is closed.
    pub fn emit(&self, event: NativeEvent) -> bool {
        let target = lock(&self.target);
        target.as_ref().is_some_and(|target| target.deliver(event))
    }

    /// Sends the final event and releases the threadsafe function.
    pub fn close(&self) {
        let target = lock(&self.target).take();
        if let Some(target) = target {
            target.deliver(NativeEvent::Closed);
        }
    }

    /// A sink that keeps what it is sent, for unit tests.
    #[cfg(test)]
    pub fn recorder() -> (Self, Arc<Mutex<Vec<NativeEvent>>>) {
        let events = Arc::default();
        let target = Target::Recorder(Arc::clone(&events));
        let sink = Self {
            target: Arc::new(Mutex::new(Some(target))),
        };
        (sink, events)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_result_becomes_a_reply_or_a_coded_failure() {
        let done = NativeEvent::reply(3, Ok(ReplyValue::Done));
        assert!(matches!(
            done,
            NativeEvent::Reply {
                id: 3,
                value: ReplyValue::Done
            }
        ));
        let failed = NativeEvent::reply(4, Err(NativeError::new("ERR_DESTROYED", "closed")));
        let NativeEvent::Failed { id, code, message } = failed else {
            panic!("a failure must be a Failed event");
        };
        assert_eq!(
            (id, code.as_str(), message.as_str()),
            (4, "ERR_DESTROYED", "closed")
        );
    }

    #[test]
    fn peer_errors_keep_their_code() {
        let NativeEvent::Error { code, message } =
            NativeEvent::error(NativeError::new("ERR_DATA_CHANNEL", "refused"))
        else {
            panic!("an error must be an Error event");
        };
        assert_eq!(
            (code.as_str(), message.as_str()),
            ("ERR_DATA_CHANNEL", "refused")
        );
    }

    #[test]
    fn closed_is_the_last_event_and_comes_once() {
        let (sink, events) = EventSink::recorder();
        assert!(sink.emit(NativeEvent::Writable));
        sink.close();
        sink.close();
        assert!(!sink.clone().emit(NativeEvent::ChannelClose));
        let events = lock(&events);
        assert!(matches!(
            events[..],
            [NativeEvent::Writable, NativeEvent::Closed]
        ));
    }
}
