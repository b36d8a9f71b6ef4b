//! The single channel from Rust to JS: every peer owns one threadsafe function, and every
//! native event (replies to requests included) travels through it as a plain object.

use std::sync::{Arc, Mutex};

use napi::bindgen_prelude::{Buffer, Uint32Array};
use napi::threadsafe_function::{ThreadsafeFunction, ThreadsafeFunctionCallMode};
use napi::Status;
use napi_derive::napi;
use serde_json::{json, Value};

use crate::media::{Frame, RemoteTrackInfo};
use crate::runtime::lock;

/// What JS receives. `type` says which of the other fields are set.
#[napi(object)]
pub struct JsEvent {
    #[napi(js_name = "type")]
    pub kind: String,
    /// Request id, on `reply`.
    pub id: Option<u32>,
    /// Error code (`ERR_*`), on `reply` and `error`.
    pub code: Option<String>,
    pub message: Option<String>,
    /// JSON payload: reply values, candidates, states.
    pub value: Option<Value>,
    /// On `rtp` and `frame`: the packet or frame.
    pub data: Option<Buffer>,
    /// On `messages`: the buffers holding the messages' bodies (see `channel::Batch`).
    pub pieces: Option<Vec<Buffer>>,
    /// On `messages`: per message, `length * 2 + (is_text ? 1 : 0)`.
    pub sizes: Option<Uint32Array>,
}

/// Events as Rust produces them; converted to `JsEvent` on Node's thread.
#[derive(Debug)]
pub enum Event {
    Reply {
        id: u32,
        result: Result<Value, NativeError>,
    },
    /// A local ICE candidate in simple-peer's `{candidate, sdpMLineIndex, sdpMid}` shape.
    Candidate(Value),
    IceGatheringState(String),
    IceConnectionState(String),
    ConnectionState(String),
    SignalingState(String),
    /// `pair`: the selected candidate pair's addresses (see `channel::SelectedPair`), or null.
    ChannelOpen {
        label: String,
        pair: Value,
    },
    ChannelClose,
    Messages {
        pieces: Vec<Vec<u8>>,
        sizes: Vec<u32>,
    },
    /// The send queue fell to the low-water mark after `send` reported it full.
    Writable,
    Error(NativeError),
    /// A remote track's first packet arrived.
    Track(RemoteTrackInfo),
    /// One RTP packet of remote track `id`.
    Rtp {
        id: u32,
        packet: Vec<u8>,
    },
    /// A frame reassembled from remote track `id`'s packets.
    Frame {
        id: u32,
        frame: Frame,
    },
    TrackEnded {
        id: u32,
    },
    /// The last event of a peer: nothing follows it.
    Closed,
}

/// An error with one of simple-peer's codes, or `ERR_INTERNAL` for a caught panic.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NativeError {
    pub code: &'static str,
    pub message: String,
}

impl NativeError {
    pub fn new(code: &'static str, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
        }
    }
}

impl Event {
    fn into_js(self) -> JsEvent {
        let mut js = JsEvent {
            kind: String::new(),
            id: None,
            code: None,
            message: None,
            value: None,
            data: None,
            pieces: None,
            sizes: None,
        };
        let kind = match self {
            Event::Reply { id, result } => {
                js.id = Some(id);
                match result {
                    Ok(value) => js.value = Some(value),
                    Err(error) => {
                        js.code = Some(error.code.to_owned());
                        js.message = Some(error.message);
                    }
                }
                "reply"
            }
            Event::Candidate(candidate) => {
                js.value = Some(candidate);
                "candidate"
            }
            Event::IceGatheringState(state) => {
                js.value = Some(state.into());
                "iceGatheringState"
            }
            Event::IceConnectionState(state) => {
                js.value = Some(state.into());
                "iceConnectionState"
            }
            Event::ConnectionState(state) => {
                js.value = Some(state.into());
                "connectionState"
            }
            Event::SignalingState(state) => {
                js.value = Some(state.into());
                "signalingState"
            }
            Event::ChannelOpen { label, pair } => {
                js.value = Some(json!({ "label": label, "pair": pair }));
                "channelOpen"
            }
            Event::ChannelClose => "channelClose",
            Event::Messages { pieces, sizes } => {
                js.pieces = Some(pieces.into_iter().map(Buffer::from).collect());
                js.sizes = Some(sizes.into());
                "messages"
            }
            Event::Writable => "writable",
            Event::Error(error) => {
                js.code = Some(error.code.to_owned());
                js.message = Some(error.message);
                "error"
            }
            Event::Track(track) => {
                js.id = Some(track.id);
                js.value = Some(json!({
                    "trackId": track.track_id,
                    "streamIds": track.stream_ids,
                    "kind": track.kind,
                    "codec": track.codec,
                    "ssrc": track.ssrc,
                }));
                "track"
            }
            Event::Rtp { id, packet } => {
                js.id = Some(id);
                js.data = Some(packet.into());
                "rtp"
            }
            Event::Frame { id, frame } => {
                js.id = Some(id);
                js.data = Some(frame.data.into());
                js.value =
                    Some(json!({ "timestamp": frame.timestamp, "keyframe": frame.keyframe }));
                "frame"
            }
            Event::TrackEnded { id } => {
                js.id = Some(id);
                "trackEnded"
            }
            Event::Closed => "closed",
        };
        js.kind = kind.to_owned();
        js
    }
}

/// The threadsafe function is strong (ref'd) so Node stays alive while a peer may still
/// emit; closing the sink releases it, after which the peer no longer holds the loop open.
pub type EventFunction = ThreadsafeFunction<Event, (), JsEvent, Status, false>;

#[derive(Clone)]
pub struct EventSink {
    function: Arc<Mutex<Option<EventFunction>>>,
}

impl EventSink {
    pub fn new(function: EventFunction) -> Self {
        Self {
            function: Arc::new(Mutex::new(Some(function))),
        }
    }

    /// Queues an event for JS. Returns false once the sink is closed.
    pub fn emit(&self, event: Event) -> bool {
        let guard = lock(&self.function);
        match guard.as_ref() {
            Some(function) => {
                function.call(event, ThreadsafeFunctionCallMode::NonBlocking) == Status::Ok
            }
            None => false,
        }
    }

    /// Sends the final event and releases the threadsafe function.
    pub fn close(&self) {
        let function = lock(&self.function).take();
        if let Some(function) = function {
            function.call(Event::Closed, ThreadsafeFunctionCallMode::NonBlocking);
        }
    }

    /// The conversion run on Node's thread for each queued event.
    pub fn to_js(event: Event) -> napi::Result<JsEvent> {
        Ok(event.into_js())
    }
}
