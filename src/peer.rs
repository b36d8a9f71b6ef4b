//! `NativePeer`: one RTCPeerConnection and its data channel, owned by a task on the shared
//! runtime. JS calls return at once; results and events come back through the peer's
//! event sink. Requests run one at a time in the order JS made them, as in a browser.

use std::collections::HashMap;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Mutex, OnceLock, Weak};
use std::time::Duration;
use std::time::Instant;

use bytes::{Bytes, BytesMut};
use futures::FutureExt;
use napi::bindgen_prelude::{BufferSlice, Function};
use napi_derive::napi;
use rtc::peer_connection::configuration::RTCOfferOptions;
use rtc::rtp_transceiver::rtp_sender::RtpCodecKind;
use rtc::rtp_transceiver::{RTCRtpTransceiverDirection, RTCRtpTransceiverInit};
use serde_json::{json, Value};
use tokio::sync::mpsc;
use webrtc::data_channel::DataChannel;
use webrtc::media_stream::track_remote::TrackRemote;
use webrtc::peer_connection::{
    register_default_interceptors, MediaEngine, PeerConnection, PeerConnectionBuilder,
    PeerConnectionEventHandler, RTCIceCandidate, RTCIceConnectionState, RTCIceGatheringState,
    RTCPeerConnectionIceEvent, RTCPeerConnectionState, RTCSignalingState, Registry, StatsSelector,
};

use crate::channel::{self, ChannelShared, Outgoing};
use crate::config::PeerOptions;
use crate::events::{Event, EventSink, JsEvent, NativeError};
use crate::media::{self, LocalSender, MediaWrite, TrackSpec};
use crate::network::{CandidateRewriter, NetworkPlan};
use crate::runtime::{self, lock, PeerRuntime};
use crate::signal;
use crate::stats;

/// State shared by the JS handle, the peer task, the channel task and webrtc's callbacks.
struct PeerShared {
    events: EventSink,
    runtime: Arc<PeerRuntime>,
    channel: Arc<ChannelShared>,
    /// The mid candidates are signalled with (browsers need the real one, not "").
    candidate_mid: Mutex<String>,
    /// NAT 1:1 and shared-port presentation of our host candidates.
    rewriter: OnceLock<CandidateRewriter>,
    /// Local tracks added to this peer, by the sender id JS chose.
    senders: Mutex<HashMap<u32, LocalSender>>,
    /// Remote tracks, by the id their events carry.
    remote_tracks: Mutex<HashMap<u32, Arc<dyn TrackRemote>>>,
    next_remote_track: AtomicU32,
    /// The connection, for the channel tasks' look-ups; weak, since it holds us through
    /// its handler.
    connection: OnceLock<Weak<dyn PeerConnection>>,
}

impl PeerShared {
    fn rewriter(&self) -> &CandidateRewriter {
        static IDENTITY: OnceLock<CandidateRewriter> = OnceLock::new();
        self.rewriter
            .get()
            .unwrap_or_else(|| IDENTITY.get_or_init(CandidateRewriter::default))
    }

    /// Our description as the remote should see it.
    fn local_description_json(
        &self,
        description: Option<webrtc::peer_connection::RTCSessionDescription>,
    ) -> Value {
        description_json(description.map(|mut description| {
            description.sdp = self.rewriter().sdp(&description.sdp);
            description
        }))
    }

    fn fail(&self, error: NativeError) {
        self.events.emit(Event::Error(error));
    }

    /// Runs `work`, turning a panic into a coded error on this peer instead of a silently
    /// dead task.
    async fn guarded<F: Future<Output = ()>>(&self, work: F) {
        if let Err(panic) = AssertUnwindSafe(work).catch_unwind().await {
            self.fail(NativeError::new(
                "ERR_INTERNAL",
                format!("internal error: {}", panic_message(&panic)),
            ));
        }
    }
}

fn panic_message(panic: &Box<dyn std::any::Any + Send>) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "panic".to_owned())
}

enum Request {
    CreateOffer {
        ice_restart: bool,
    },
    CreateAnswer,
    SetRemoteDescription {
        kind: String,
        sdp: String,
    },
    AddIceCandidate(webrtc::peer_connection::RTCIceCandidateInit),
    LocalDescription,
    SelectedCandidatePair,
    AddTrack {
        sender_id: u32,
        spec: TrackSpec,
    },
    RemoveTrack {
        sender_id: u32,
    },
    AddTransceiver {
        kind: String,
        direction: Option<String>,
    },
    /// Local tracks whose transceiver has no m-line yet (simple-peer asks the initiator for
    /// one), as `{ kind, trackId }`.
    MissingTransceivers,
    GetStats,
    /// Reached only through the debug-build test hook.
    Panic,
}

enum Command {
    Request { id: u32, request: Request },
    Close,
}

#[napi]
pub struct NativePeer {
    shared: Arc<PeerShared>,
    commands: mpsc::UnboundedSender<Command>,
    next_request: AtomicU32,
    closed: AtomicBool,
}

#[napi]
impl NativePeer {
    #[napi(constructor, catch_unwind)]
    pub fn new(
        options: PeerOptions,
        #[napi(ts_arg_type = "(event: JsEvent) => void")] on_event: Function<JsEvent, ()>,
    ) -> napi::Result<Self> {
        let function = on_event
            .build_threadsafe_function::<Event>()
            .build_callback(|context| EventSink::to_js(context.value))?;
        let shared = Arc::new(PeerShared {
            events: EventSink::new(function),
            runtime: PeerRuntime::new(),
            channel: Arc::new(ChannelShared::default()),
            candidate_mid: Mutex::new("0".to_owned()),
            rewriter: OnceLock::new(),
            senders: Mutex::default(),
            remote_tracks: Mutex::default(),
            next_remote_track: AtomicU32::new(1),
            connection: OnceLock::new(),
        });
        let (commands, receiver) = mpsc::unbounded_channel();
        let task_shared = shared.clone();
        runtime::spawn(async move {
            let guard_shared = task_shared.clone();
            guard_shared
                .guarded(run_peer(options, task_shared.clone(), receiver))
                .await;
            // Whatever happened, the peer's last act is to release JS.
            task_shared.events.close();
        });
        Ok(Self {
            shared,
            commands,
            next_request: AtomicU32::new(1),
            closed: AtomicBool::new(false),
        })
    }

    fn request(&self, request: Request) -> u32 {
        let id = self.next_request.fetch_add(1, Ordering::Relaxed);
        if self
            .commands
            .send(Command::Request { id, request })
            .is_err()
        {
            self.shared.events.emit(Event::Reply {
                id,
                result: Err(NativeError::new("ERR_DESTROYED", "peer is closed")),
            });
        }
        id
    }

    /// Creates an offer and sets it as the local description; replies with the local
    /// description. One request, not two: the description is set as created (webrtc 0.21
    /// refuses any other), so JS has nothing to do in between.
    #[napi(catch_unwind)]
    pub fn create_offer(&self, ice_restart: Option<bool>) -> u32 {
        self.request(Request::CreateOffer {
            ice_restart: ice_restart.unwrap_or(false),
        })
    }

    /// Creates an answer and sets it as the local description, as `create_offer` does.
    #[napi(catch_unwind)]
    pub fn create_answer(&self) -> u32 {
        self.request(Request::CreateAnswer)
    }

    #[napi(catch_unwind)]
    pub fn set_remote_description(&self, kind: String, sdp: String) -> u32 {
        self.request(Request::SetRemoteDescription { kind, sdp })
    }

    #[napi(catch_unwind)]
    pub fn add_ice_candidate(
        &self,
        candidate: String,
        sdp_mid: Option<String>,
        sdp_m_line_index: Option<u32>,
    ) -> u32 {
        match signal::candidate_init(candidate, sdp_mid, sdp_m_line_index) {
            Ok(init) => self.request(Request::AddIceCandidate(init)),
            Err(error) => {
                let id = self.next_request.fetch_add(1, Ordering::Relaxed);
                self.shared.events.emit(Event::Reply {
                    id,
                    result: Err(error),
                });
                id
            }
        }
    }

    /// The current local description, with the candidates gathered so far.
    #[napi(catch_unwind)]
    pub fn local_description(&self) -> u32 {
        self.request(Request::LocalDescription)
    }

    /// Addresses of the candidate pair ICE selected, or null before there is one.
    #[napi(catch_unwind)]
    pub fn selected_candidate_pair(&self) -> u32 {
        self.request(Request::SelectedCandidatePair)
    }

    #[napi(catch_unwind)]
    pub fn get_stats(&self) -> u32 {
        self.request(Request::GetStats)
    }

    /// Replies once everything sent so far has been acknowledged by the remote.
    #[napi(catch_unwind)]
    pub fn flush(&self) -> u32 {
        let id = self.next_request.fetch_add(1, Ordering::Relaxed);
        self.shared.channel.send(Outgoing::Flush(id));
        id
    }

    /// Queues binary data; returns false when the caller should wait for `writable`.
    #[napi(catch_unwind)]
    pub fn send(&self, data: BufferSlice) -> bool {
        self.shared
            .channel
            .send(Outgoing::Binary(BytesMut::from(&data[..])))
    }

    /// Queues a text message; returns false when the caller should wait for `writable`.
    #[napi(catch_unwind)]
    pub fn send_text(&self, text: String) -> bool {
        self.shared.channel.send(Outgoing::Text(text))
    }

    /// Bytes sent but not yet acknowledged by the remote.
    #[napi(getter)]
    pub fn buffered_amount(&self) -> f64 {
        self.shared.channel.buffered_amount() as f64
    }

    /// JS has consumed this many bytes of received messages.
    #[napi(catch_unwind)]
    pub fn acknowledge(&self, bytes: u32) {
        self.shared.channel.acknowledge(bytes as usize);
    }

    /// Adds a local track; `sender_id` (chosen by JS) names it in later calls.
    #[napi(catch_unwind)]
    pub fn add_track(
        &self,
        sender_id: u32,
        track_id: String,
        stream_id: String,
        kind: String,
        codec: String,
    ) -> u32 {
        self.request(Request::AddTrack {
            sender_id,
            spec: TrackSpec {
                track_id,
                stream_id,
                kind,
                codec,
            },
        })
    }

    #[napi(catch_unwind)]
    pub fn remove_track(&self, sender_id: u32) -> u32 {
        self.request(Request::RemoveTrack { sender_id })
    }

    #[napi(catch_unwind)]
    pub fn add_transceiver(&self, kind: String, direction: Option<String>) -> u32 {
        self.request(Request::AddTransceiver { kind, direction })
    }

    #[napi(catch_unwind)]
    pub fn missing_transceivers(&self) -> u32 {
        self.request(Request::MissingTransceivers)
    }

    /// Queues an encoded frame (or audio packet) lasting `duration_ms` on a sender. False
    /// when the sender is gone.
    #[napi(catch_unwind)]
    pub fn write_sample(&self, sender_id: u32, data: BufferSlice, duration_ms: f64) -> bool {
        let duration = Duration::from_secs_f64((duration_ms / 1000.0).clamp(0.0, 3600.0));
        self.write_media(
            sender_id,
            MediaWrite::Sample {
                data: Bytes::copy_from_slice(&data),
                duration,
            },
        )
    }

    /// Queues a ready RTP packet on a sender (its SSRC and payload type are replaced by the
    /// sender's own).
    #[napi(catch_unwind)]
    pub fn write_rtp(&self, sender_id: u32, packet: BufferSlice) -> bool {
        self.write_media(sender_id, MediaWrite::Rtp(Bytes::copy_from_slice(&packet)))
    }

    fn write_media(&self, sender_id: u32, write: MediaWrite) -> bool {
        lock(&self.shared.senders)
            .get(&sender_id)
            .is_some_and(|sender| sender.writes.send(write).is_ok())
    }

    /// Sends a picture loss indication for a remote track, asking for a keyframe.
    #[napi(catch_unwind)]
    pub fn request_key_frame(&self, remote_track_id: u32) -> bool {
        let Some(track) = lock(&self.shared.remote_tracks)
            .get(&remote_track_id)
            .cloned()
        else {
            return false;
        };
        runtime::spawn(async move { media::request_key_frame(&track).await });
        true
    }

    /// Test hook, live in debug builds only: panics in this call (`"sync"`) or in the
    /// peer's task (`"task"`), to prove a panic never crosses into Node.
    #[napi(js_name = "_panicForTest", catch_unwind)]
    pub fn panic_for_test(&self, place: String) -> napi::Result<u32> {
        if !cfg!(debug_assertions) {
            return Err(napi::Error::from_reason(
                "test hooks exist only in debug builds",
            ));
        }
        match place.as_str() {
            "sync" => panic!("forced by _panicForTest"),
            _ => Ok(self.request(Request::Panic)),
        }
    }

    /// Closes the connection; a `closed` event follows, after which the peer holds nothing.
    #[napi(catch_unwind)]
    pub fn close(&self) {
        if !self.closed.swap(true, Ordering::AcqRel) {
            let _ = self.commands.send(Command::Close);
        }
    }
}

impl Drop for NativePeer {
    fn drop(&mut self) {
        // A peer garbage-collected without destroy() must still free its sockets.
        self.close();
    }
}

async fn run_peer(
    options: PeerOptions,
    shared: Arc<PeerShared>,
    mut commands: mpsc::UnboundedReceiver<Command>,
) {
    let connection = match Box::pin(build_connection(&options, &shared)).await {
        Ok(connection) => connection,
        Err(error) => {
            shared.fail(error.clone());
            // Still answer every request, so no JS promise waits forever.
            while let Some(Command::Request { id, .. }) = commands.recv().await {
                shared.events.emit(Event::Reply {
                    id,
                    result: Err(error.clone()),
                });
            }
            return;
        }
    };
    let connection: Arc<dyn PeerConnection> = Arc::new(connection);
    let _ = shared.connection.set(Arc::downgrade(&connection));

    if let Some(channel_options) = &options.channel {
        let created = match channel_options.init() {
            Ok(init) => {
                Box::pin(connection.create_data_channel(&channel_options.label, Some(init)))
                    .await
                    .map_err(|error| NativeError::new("ERR_DATA_CHANNEL", error.to_string()))
            }
            Err(error) => Err(error),
        };
        match created {
            Ok(data_channel) => start_channel(&shared, data_channel),
            Err(error) => shared.fail(error),
        }
    }

    let mut remote_candidates = 0;
    while let Some(command) = commands.recv().await {
        match command {
            Command::Request {
                id,
                request: Request::AddIceCandidate(_),
            } if remote_candidates >= signal::MAX_REMOTE_CANDIDATES => {
                shared.events.emit(Event::Reply {
                    id,
                    result: Err(NativeError::new(
                        "ERR_ADD_ICE_CANDIDATE",
                        format!(
                            "more than {} remote candidates",
                            signal::MAX_REMOTE_CANDIDATES
                        ),
                    )),
                });
            }
            Command::Request { id, request } => {
                if matches!(request, Request::AddIceCandidate(_)) {
                    remote_candidates += 1;
                }
                // Boxed: webrtc's futures are large, and inline they would sit in every idle
                // peer's task for its whole life.
                let result = Box::pin(perform(&*connection, &shared, request)).await;
                shared.events.emit(Event::Reply { id, result });
            }
            Command::Close => break,
        }
    }
    // Ends the media write tasks and drops remote tracks along with the connection.
    lock(&shared.senders).clear();
    lock(&shared.remote_tracks).clear();
    let _ = Box::pin(connection.close()).await;
}

async fn build_connection(
    options: &PeerOptions,
    shared: &Arc<PeerShared>,
) -> Result<impl PeerConnection, NativeError> {
    let constructor_error =
        |error: webrtc::error::Error| NativeError::new("ERR_PC_CONSTRUCTOR", error.to_string());
    let mut media_engine = MediaEngine::default();
    media_engine
        .register_default_codecs()
        .map_err(constructor_error)?;
    let registry = register_default_interceptors(Registry::new(), &mut media_engine)
        .map_err(constructor_error)?;
    let network = NetworkPlan::new(options).await?;
    shared.runtime.use_shared_sockets(
        network
            .mux
            .iter()
            .map(|socket| socket.local_addr())
            .collect(),
    );
    let _ = shared.rewriter.set(network.rewriter.clone());
    // `network` lives to the end: its shared sockets and port-range lock cover the bind.
    PeerConnectionBuilder::new()
        .with_configuration(options.rtc_configuration()?)
        .with_media_engine(media_engine)
        .with_interceptor_registry(registry)
        .with_setting_engine(options.setting_engine())
        .with_handler(Arc::new(Handler {
            shared: shared.clone(),
        }))
        .with_runtime(shared.runtime.clone())
        .with_udp_addrs(network.bind_addrs.clone())
        .build()
        .await
        .map_err(constructor_error)
}

fn start_channel(shared: &Arc<PeerShared>, data_channel: Arc<dyn DataChannel>) {
    let shared = shared.clone();
    let lookup = shared.clone();
    let selected_pair: channel::SelectedPair = Box::new(move || {
        let shared = lookup.clone();
        Box::pin(async move {
            match shared.connection.get().and_then(Weak::upgrade) {
                Some(connection) => selected_candidate_pair(&*connection, &shared).await,
                None => Value::Null,
            }
        })
    });
    runtime::spawn(async move {
        let work = channel::run(
            data_channel,
            shared.channel.clone(),
            shared.events.clone(),
            shared.runtime.clone(),
            selected_pair,
        );
        shared.guarded(work).await;
    });
}

async fn perform(
    connection: &dyn PeerConnection,
    shared: &PeerShared,
    request: Request,
) -> Result<Value, NativeError> {
    match request {
        Request::CreateOffer { ice_restart } => {
            let offer = connection
                .create_offer(Some(RTCOfferOptions { ice_restart }))
                .await
                .map_err(coded("ERR_CREATE_OFFER"))?;
            set_local_description(connection, shared, offer).await
        }
        Request::CreateAnswer => {
            let answer = connection
                .create_answer(None)
                .await
                .map_err(coded("ERR_CREATE_ANSWER"))?;
            set_local_description(connection, shared, answer).await
        }
        Request::SetRemoteDescription { kind, sdp } => {
            let description =
                signal::session_description(&kind, sdp, "ERR_SET_REMOTE_DESCRIPTION")?;
            shared.runtime.remote_description_applying();
            let media = json!(signal::remote_media(&description.sdp));
            connection
                .set_remote_description(description)
                .await
                .map_err(coded("ERR_SET_REMOTE_DESCRIPTION"))?;
            let mut reply = description_json(connection.remote_description().await);
            reply["media"] = media;
            Ok(reply)
        }
        Request::AddIceCandidate(init) => {
            // Already a peer-reflexive candidate: added again it would only slow the connect
            // (see runtime::CheckSources); the peer-reflexive one stands in.
            let known = signal::udp_candidate_address(&init.candidate)
                .is_some_and(|addr| shared.runtime.checked_from(addr));
            if !known {
                connection
                    .add_ice_candidate(init)
                    .await
                    .map_err(coded("ERR_ADD_ICE_CANDIDATE"))?;
            }
            shared.runtime.wake_driver();
            Ok(Value::Null)
        }
        Request::LocalDescription => {
            Ok(shared.local_description_json(connection.local_description().await))
        }
        Request::SelectedCandidatePair => Ok(selected_candidate_pair(connection, shared).await),
        Request::AddTrack { sender_id, spec } => {
            let sender = media::add_track(connection, spec).await?;
            lock(&shared.senders).insert(sender_id, sender);
            Ok(Value::Null)
        }
        Request::RemoveTrack { sender_id } => {
            let Some(sender) = lock(&shared.senders).remove(&sender_id) else {
                return Err(NativeError::new("ERR_TRACK_NOT_ADDED", "no such sender"));
            };
            connection
                .remove_track(&sender.rtp_sender)
                .await
                .map_err(coded("ERR_REMOVE_TRACK"))?;
            Ok(Value::Null)
        }
        Request::AddTransceiver { kind, direction } => {
            let kind = match kind.as_str() {
                "audio" | "video" => RtpCodecKind::from(kind.as_str()),
                other => {
                    return Err(NativeError::new(
                        "ERR_ADD_TRANSCEIVER",
                        format!("transceiver kind must be audio or video, got {other:?}"),
                    ))
                }
            };
            // Created from a kind alone, a transceiver has no track to send, and webrtc
            // refuses a sending direction without one: it receives until a track is added.
            let direction = match direction.as_deref().unwrap_or("sendrecv") {
                "sendrecv" | "recvonly" => RTCRtpTransceiverDirection::Recvonly,
                "sendonly" | "inactive" => RTCRtpTransceiverDirection::Inactive,
                other => {
                    return Err(NativeError::new(
                        "ERR_ADD_TRANSCEIVER",
                        format!("invalid transceiver direction {other:?}"),
                    ))
                }
            };
            let init = RTCRtpTransceiverInit {
                direction,
                streams: vec![],
                send_encodings: vec![],
            };
            connection
                .add_transceiver_from_kind(kind, Some(init))
                .await
                .map_err(coded("ERR_ADD_TRANSCEIVER"))?;
            Ok(Value::Null)
        }
        Request::MissingTransceivers => {
            let mut kinds = Vec::new();
            for transceiver in connection.get_transceivers().await {
                if !matches!(transceiver.mid().await, Ok(None)) {
                    continue;
                }
                if let Ok(Some(sender)) = transceiver.sender().await {
                    let track = sender.track();
                    kinds.push(json!({
                        "kind": track.kind().await.to_string(),
                        "trackId": track.track_id().await,
                    }));
                }
            }
            Ok(json!(kinds))
        }
        Request::Panic => panic!("forced by _panicForTest"),
        Request::GetStats => {
            let report = connection
                .get_stats(Instant::now(), StatsSelector::None)
                .await;
            let selected = selected_candidates(connection).await;
            Ok(stats::report_to_json(&report, selected))
        }
    }
}

/// The local and remote candidates of the pair ICE selected, once there is one.
async fn selected_candidates(
    connection: &dyn PeerConnection,
) -> Option<(RTCIceCandidate, RTCIceCandidate)> {
    let pair = connection
        .sctp()
        .await?
        .transport()
        .ice_transport()
        .get_selected_candidate_pair()
        .await
        .ok()??;
    Some((pair.local().clone(), pair.remote().clone()))
}

/// Addresses of the selected pair as JS sets them on the peer, or null before there is one.
async fn selected_candidate_pair(connection: &dyn PeerConnection, shared: &PeerShared) -> Value {
    match selected_candidates(connection).await {
        Some((local, remote)) => json!({
            "localAddress": local.address,
            "localPort": local.address.parse().map_or(local.port, |ip| {
                shared.rewriter().local_port(ip, local.port)
            }),
            "remoteAddress": remote.address,
            "remotePort": remote.port,
        }),
        None => Value::Null,
    }
}

async fn set_local_description(
    connection: &dyn PeerConnection,
    shared: &PeerShared,
    description: webrtc::peer_connection::RTCSessionDescription,
) -> Result<Value, NativeError> {
    if let Some(mid) = signal::first_mid(&description.sdp) {
        *lock(&shared.candidate_mid) = mid;
    }
    connection
        .set_local_description(description)
        .await
        .map_err(coded("ERR_SET_LOCAL_DESCRIPTION"))?;
    let local = connection.local_description().await;
    if let Some(ufrag) = local.as_ref().and_then(|d| signal::ice_ufrag(&d.sdp)) {
        shared.runtime.set_local_ufrag(ufrag);
    }
    Ok(shared.local_description_json(local))
}

/// Turns webrtc's errors into coded ones.
fn coded(code: &'static str) -> impl Fn(webrtc::error::Error) -> NativeError {
    move |error| NativeError::new(code, error.to_string())
}

fn description_json(description: Option<webrtc::peer_connection::RTCSessionDescription>) -> Value {
    match description {
        Some(description) => json!({
            "type": description.sdp_type.to_string(),
            "sdp": description.sdp,
        }),
        None => Value::Null,
    }
}

/// webrtc's callbacks, forwarded as events. Each is guarded: a panic in one becomes an
/// error on this peer rather than a connection that silently stops.
struct Handler {
    shared: Arc<PeerShared>,
}

#[async_trait::async_trait]
impl PeerConnectionEventHandler for Handler {
    async fn on_ice_candidate(&self, event: RTCPeerConnectionIceEvent) {
        self.shared
            .guarded(async {
                let mid = lock(&self.shared.candidate_mid).clone();
                let rewriter = self.shared.rewriter();
                if let Some(candidate) = signal::candidate_signal(&event.candidate, &mid, rewriter)
                {
                    self.shared.events.emit(Event::Candidate(candidate));
                }
            })
            .await
    }

    async fn on_signaling_state_change(&self, state: RTCSignalingState) {
        self.shared
            .events
            .emit(Event::SignalingState(state.to_string()));
    }

    async fn on_ice_connection_state_change(&self, state: RTCIceConnectionState) {
        self.shared
            .events
            .emit(Event::IceConnectionState(state.to_string()));
    }

    async fn on_ice_gathering_state_change(&self, state: RTCIceGatheringState) {
        self.shared
            .events
            .emit(Event::IceGatheringState(state.to_string()));
    }

    async fn on_connection_state_change(&self, state: RTCPeerConnectionState) {
        self.shared
            .events
            .emit(Event::ConnectionState(state.to_string()));
    }

    async fn on_data_channel(&self, data_channel: Arc<dyn DataChannel>) {
        start_channel(&self.shared, data_channel);
    }

    async fn on_track(&self, track: Arc<dyn TrackRemote>) {
        let id = self
            .shared
            .next_remote_track
            .fetch_add(1, Ordering::Relaxed);
        lock(&self.shared.remote_tracks).insert(id, track.clone());
        let shared = self.shared.clone();
        runtime::spawn(async move {
            let events = shared.events.clone();
            shared
                .guarded(media::run_remote_track(id, track, events))
                .await;
            lock(&shared.remote_tracks).remove(&id);
        });
    }
}
