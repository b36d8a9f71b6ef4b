//! `NativePeer`: one RTCPeerConnection and its data channel, owned by a task on the shared
//! runtime. JS calls return at once; results and events come back through the peer's
//! event sink. Requests run one at a time in the order JS made them, as in a browser.

use std::collections::HashMap;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, LazyLock, Mutex, OnceLock, Weak};
use std::time::Duration;
use std::time::Instant;

use bytes::{Bytes, BytesMut};
use futures::FutureExt;
use napi::bindgen_prelude::{BufferSlice, Function};
use napi_derive::napi;
use rtc::interceptor::Slot;
use rtc::peer_connection::configuration::RTCOfferOptions;
use rtc::peer_connection::transport::RTCDtlsTransportState;
use tokio::sync::mpsc;
use webrtc::data_channel::DataChannel;
use webrtc::media_stream::track_remote::TrackRemote;
use webrtc::peer_connection::transport::IceTransport;
use webrtc::peer_connection::{
    register_default_interceptors, MediaEngine, PeerConnection, PeerConnectionBuilder,
    PeerConnectionEventHandler, RTCIceCandidate, RTCIceCandidateInit, RTCIceConnectionState,
    RTCIceGatheringState, RTCPeerConnectionIceErrorEvent, RTCPeerConnectionIceEvent,
    RTCPeerConnectionState, RTCSessionDescription, RTCSignalingState, Registry, StatsSelector,
};

use crate::audio_source::NativeAudioSource;
use crate::candidate::CandidateLine;
use crate::channel::{self, ChannelShared, Outgoing};
use crate::config::PeerOptions;
use crate::error::{coded, panic_message, NativeError};
use crate::events::{CandidatePair, EventSink, NativeEvent, ReplyValue, SessionDescription};
use crate::executor::spawn;
use crate::keyframe_requests::{self, KeyframeRequests};
use crate::media::{
    self, DecodedOutput, MediaWrite, SenderQueue, Senders, TrackRequest, TrackSpec,
};
use crate::network::{CandidateRewriter, NetworkPlan};
use crate::runtime::PeerRuntime;
use crate::signal;
use crate::stats;
use crate::sync::lock;
use crate::video_source::NativeVideoSource;

/// State shared by the JS handle, the peer task, the channel task and webrtc's callbacks.
struct PeerShared {
    events: EventSink,
    runtime: Arc<PeerRuntime>,
    channel: Arc<ChannelShared>,
    /// The mid candidates are signalled with (browsers need the real one, not "").
    candidate_mid: Mutex<String>,
    /// NAT 1:1 and shared-port presentation of our host candidates.
    rewriter: OnceLock<CandidateRewriter>,
    /// Shared with the peer's keyframe-request interceptor.
    senders: Arc<Senders>,
    /// Remote tracks, by the id their events carry.
    remote_tracks: Mutex<HashMap<u32, RemoteTrack>>,
    next_remote_track: AtomicU32,
    /// The connection, for the channel tasks' look-ups; weak, since it holds us through
    /// its handler.
    connection: OnceLock<Weak<dyn PeerConnection>>,
    /// The DTLS handshake watch has started (see `watch_dtls_handshake`).
    dtls_watched: AtomicBool,
    /// TURN servers that refused an allocation, against how many a relay-only peer has.
    turn_refusals: Mutex<TurnRefusals>,
}

struct RemoteTrack {
    track: Arc<dyn TrackRemote>,
    /// Decoded PCM or I420 for JS, while it listens (media::run_remote_track).
    decoded: Arc<DecodedOutput>,
}

/// With `iceTransportPolicy: 'relay'`, a peer whose every TURN server refused its allocation
/// (wrong credentials: 401; quota: 486; no answer) can never connect; webrtc only logged the
/// refusal and the peer failed 15 s later through ICE. With other policies the refusal is
/// logged and host and server-reflexive candidates go on.
#[derive(Default)]
struct TurnRefusals {
    relay_only_servers: usize,
    refused: Vec<String>,
}

impl PeerShared {
    fn new(events: EventSink) -> Arc<Self> {
        Arc::new(Self {
            events,
            runtime: PeerRuntime::new(),
            channel: Arc::new(ChannelShared::default()),
            candidate_mid: Mutex::new("0".to_owned()),
            rewriter: OnceLock::new(),
            senders: Arc::default(),
            remote_tracks: Mutex::default(),
            next_remote_track: AtomicU32::new(1),
            connection: OnceLock::new(),
            dtls_watched: AtomicBool::new(false),
            turn_refusals: Mutex::default(),
        })
    }

    fn rewriter(&self) -> &CandidateRewriter {
        static IDENTITY: OnceLock<CandidateRewriter> = OnceLock::new();
        self.rewriter
            .get()
            .unwrap_or_else(|| IDENTITY.get_or_init(CandidateRewriter::default))
    }

    /// Our description as the remote should see it.
    fn local_description(&self, description: Option<RTCSessionDescription>) -> ReplyValue {
        let description = description.map(|mut description| {
            let sdp = signal::without_unused_components(&description.sdp);
            description.sdp = self.rewriter().sdp(&sdp);
            signal::description(description)
        });
        ReplyValue::Description {
            ice_ufrag: ice_ufrag(description.as_ref()),
            description,
        }
    }

    fn fail(&self, error: NativeError) {
        self.events.emit(NativeEvent::error(error));
    }

    /// Runs `work`, turning a panic into a coded error on this peer instead of a silently
    /// dead task.
    async fn guarded<F: Future<Output = ()>>(&self, work: F) {
        if let Err(panic) = AssertUnwindSafe(work).catch_unwind().await {
            self.fail(NativeError::new(
                "ERR_INTERNAL",
                format!("internal error: {}", panic_message(&*panic)),
            ));
        }
    }
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
    /// `unusable`: the line names no address a stack here can use (see `candidate_outcome`).
    AddIceCandidate {
        init: RTCIceCandidateInit,
        unusable: bool,
    },
    LocalDescription,
    SelectedCandidatePair,
    GetStats,
    Track(TrackRequest),
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
    max_message_size: u32,
}

#[napi]
impl NativePeer {
    #[napi(constructor, catch_unwind)]
    pub fn new(
        options: PeerOptions,
        #[napi(ts_arg_type = "(event: NativeEvent) => void")] on_event: Function<NativeEvent, ()>,
    ) -> napi::Result<Self> {
        let function = on_event
            .build_threadsafe_function::<NativeEvent>()
            .build_callback(|context| Ok(context.value))?;
        let max_message_size = options.max_message_size();
        let shared = PeerShared::new(EventSink::new(function));
        let (commands, receiver) = mpsc::unbounded_channel();
        let task_shared = shared.clone();
        spawn(async move {
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
            max_message_size,
        })
    }

    fn next_id(&self) -> u32 {
        self.next_request.fetch_add(1, Ordering::Relaxed)
    }

    /// Queues a request for the peer's task; its reply follows as an event.
    fn request(&self, request: Request) -> u32 {
        let id = self.next_id();
        match self.commands.send(Command::Request { id, request }) {
            Ok(()) => id,
            Err(_) => self.reply_now(Err(NativeError::new("ERR_DESTROYED", "peer is closed"))),
        }
    }

    /// A request answered without reaching the peer's task (it is gone, or the input was
    /// refused): the one place replies are made outside that task and the channel's flushes.
    fn reply_now(&self, result: Result<ReplyValue, NativeError>) -> u32 {
        let id = self.next_id();
        self.shared.events.emit(NativeEvent::reply(id, result));
        id
    }

    /// The largest message `send` takes: `maxMessageSize` as the peer applies it.
    #[napi(getter)]
    pub fn max_message_size(&self) -> u32 {
        self.max_message_size
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
        let unusable = CandidateLine::parse(&candidate).is_unusable();
        match signal::candidate_init(candidate, sdp_mid, sdp_m_line_index) {
            Ok(init) => self.request(Request::AddIceCandidate { init, unusable }),
            Err(error) => self.reply_now(candidate_outcome(unusable, Err(error))),
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
        let id = self.next_id();
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
    /// Timed waits the peer's webrtc driver has begun, for tests and diagnostics: an idle
    /// connected peer should add about one per keepalive interval.
    #[napi(getter)]
    pub fn driver_wakeups(&self) -> f64 {
        self.shared.runtime.driver_sleeps() as f64
    }

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
        self.request(Request::Track(TrackRequest::AddTrack {
            sender_id,
            spec: TrackSpec {
                track_id,
                stream_id,
                kind,
                codec,
            },
        }))
    }

    #[napi(catch_unwind)]
    pub fn remove_track(&self, sender_id: u32) -> u32 {
        self.request(Request::Track(TrackRequest::RemoveTrack { sender_id }))
    }

    #[napi(catch_unwind)]
    pub fn add_transceiver(&self, kind: String, direction: Option<String>) -> u32 {
        self.request(Request::Track(TrackRequest::AddTransceiver {
            kind,
            direction,
        }))
    }

    /// Local tracks whose transceiver has no m-line yet, as `{ kind, trackId }`.
    #[napi(catch_unwind)]
    pub fn missing_transceivers(&self) -> u32 {
        self.request(Request::Track(TrackRequest::MissingTransceivers))
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
            .is_some_and(|sender| sender.queue.writes.send(write).is_ok())
    }

    /// Sends a picture loss indication for a remote track, asking for a keyframe.
    #[napi(catch_unwind)]
    pub fn request_key_frame(&self, remote_track_id: u32) -> bool {
        let Some(track) = lock(&self.shared.remote_tracks)
            .get(&remote_track_id)
            .map(|remote| remote.track.clone())
        else {
            return false;
        };
        spawn(async move { media::request_key_frame(&track).await });
        true
    }

    /// Starts (or stops) decoding a remote track: Opus to PCM events, H264 to I420 ones.
    /// False when the track is gone.
    #[napi(catch_unwind)]
    pub fn decode_media(&self, remote_track_id: u32, on: bool) -> bool {
        lock(&self.shared.remote_tracks)
            .get(&remote_track_id)
            .map(|remote| remote.decoded.wanted.store(on, Ordering::Relaxed))
            .is_some()
    }

    /// JS took one decoded event of a remote track: one more may follow.
    #[napi(catch_unwind)]
    pub fn decoded_taken(&self, remote_track_id: u32) {
        if let Some(remote) = lock(&self.shared.remote_tracks).get(&remote_track_id) {
            remote.decoded.taken();
        }
    }

    /// Sends what `source` encodes on a sender too, under `key` (`source.detach(key)` ends
    /// it; so does removing the sender or closing the peer). False when the sender is gone.
    #[napi(catch_unwind)]
    pub fn attach_audio_source(
        &self,
        sender_id: u32,
        source: &NativeAudioSource,
        key: u32,
    ) -> bool {
        self.sender_queue(sender_id)
            .map(|queue| source.attach(key, queue))
            .is_some()
    }

    /// Sends what `source` encodes on a sender too, under `key`, as `attach_audio_source`.
    #[napi(catch_unwind)]
    pub fn attach_video_source(
        &self,
        sender_id: u32,
        source: &NativeVideoSource,
        key: u32,
    ) -> bool {
        self.sender_queue(sender_id)
            .map(|queue| source.attach(key, queue))
            .is_some()
    }

    /// A sender's queue, for a source that encodes natively.
    fn sender_queue(&self, sender_id: u32) -> Option<SenderQueue> {
        lock(&self.shared.senders)
            .get(&sender_id)
            .map(|sender| sender.queue.clone())
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
                shared
                    .events
                    .emit(NativeEvent::reply(id, Err(error.clone())));
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
                    .map_err(coded("ERR_DATA_CHANNEL"))
            }
            Err(error) => Err(error),
        };
        match created {
            Ok(data_channel) => start_channel(&shared, data_channel),
            Err(error) => shared.fail(error),
        }
    }

    let mut remote_candidates = CandidateBudget::default();
    while let Some(command) = commands.recv().await {
        let Command::Request { id, request } = command else {
            break;
        };
        let result = match request {
            Request::AddIceCandidate { unusable, .. } if !remote_candidates.take() => {
                candidate_outcome(unusable, Err(CandidateBudget::exhausted()))
            }
            // Boxed: webrtc's futures are large, and inline they would sit in every idle
            // peer's task for its whole life.
            request => Box::pin(perform(&*connection, &shared, request)).await,
        };
        shared.events.emit(NativeEvent::reply(id, result));
    }
    // Ends the media write tasks and drops remote tracks along with the connection.
    lock(&shared.senders).clear();
    lock(&shared.remote_tracks).clear();
    let _ = Box::pin(connection.close()).await;
}

// Every default codec with the default interceptors' feedback and header extensions, built
// once: each peer's clone shares those tables (rtc copies one only if it is written to,
// vendor/PATCHES.md), so a peer holds no codec table of its own.
static MEDIA_ENGINE: LazyLock<Result<MediaEngine, String>> = LazyLock::new(|| {
    let mut media_engine = MediaEngine::default();
    media_engine
        .register_default_codecs()
        .map_err(|err| err.to_string())?;
    register_default_interceptors(Registry::new(), &mut media_engine)
        .map_err(|err| err.to_string())?;
    Ok(media_engine)
});

async fn build_connection(
    options: &PeerOptions,
    shared: &Arc<PeerShared>,
) -> Result<impl PeerConnection, NativeError> {
    let constructor_error = coded::<webrtc::error::Error>("ERR_PC_CONSTRUCTOR");
    let media_engine = MEDIA_ENGINE
        .clone()
        .map_err(|message| NativeError::new("ERR_PC_CONSTRUCTOR", message))?;
    // The interceptors do not depend on the engine; what they register in one is already in
    // the shared engine, so this one is thrown away.
    let registry = register_default_interceptors(Registry::new(), &mut MediaEngine::default())
        .map_err(constructor_error)?
        .with(
            Slot::from(keyframe_requests::SLOT),
            KeyframeRequests::new(shared.senders.clone()),
        );
    let relay_only_servers = options.relay_only_turn_servers();
    lock(&shared.turn_refusals).relay_only_servers = relay_only_servers;
    let skipped = options.unsupported_turn_urls();
    for url in &skipped {
        log::warn!("{url}: TURN over TLS (turns:) is not supported; this URL is skipped");
    }
    if options.is_relay_only() && relay_only_servers == 0 && !skipped.is_empty() {
        shared.fail(NativeError::new(
            "ERR_ICE_CONNECTION_FAILURE",
            format!(
                "iceTransportPolicy 'relay' with no usable TURN URL: {} (TURN over TLS, turns:, \
                 is not supported)",
                skipped.join(", ")
            ),
        ));
    }
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
                None => None,
            }
        })
    });
    spawn(async move {
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

/// Runs one request; each kind of request has its one kind of reply.
async fn perform(
    connection: &dyn PeerConnection,
    shared: &PeerShared,
    request: Request,
) -> Result<ReplyValue, NativeError> {
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
            set_remote_description(connection, shared, &kind, sdp).await
        }
        Request::AddIceCandidate { init, unusable } => {
            candidate_outcome(unusable, add_ice_candidate(connection, shared, init).await)
        }
        Request::LocalDescription => {
            Ok(shared.local_description(connection.local_description().await))
        }
        Request::SelectedCandidatePair => Ok(ReplyValue::SelectedPair {
            pair: selected_candidate_pair(connection, shared).await,
        }),
        Request::GetStats => {
            let report = connection
                .get_stats(Instant::now(), StatsSelector::None)
                .await;
            let ice = ice_candidates(connection).await;
            Ok(ReplyValue::Stats {
                reports: stats::report_to_json(&report, &ice),
            })
        }
        Request::Track(request) => media::perform(connection, &shared.senders, request).await,
        Request::Panic => panic!("forced by _panicForTest"),
    }
}

async fn set_remote_description(
    connection: &dyn PeerConnection,
    shared: &PeerShared,
    kind: &str,
    sdp: String,
) -> Result<ReplyValue, NativeError> {
    let description = signal::session_description(kind, sdp, "ERR_SET_REMOTE_DESCRIPTION")?;
    shared.runtime.remote_description_applying();
    let media = signal::remote_media(&description.sdp);
    connection
        .set_remote_description(description)
        .await
        .map_err(coded("ERR_SET_REMOTE_DESCRIPTION"))?;
    shared.runtime.remote_description_applied();
    let description = connection
        .remote_description()
        .await
        .map(signal::description);
    Ok(ReplyValue::RemoteDescription {
        ice_ufrag: ice_ufrag(description.as_ref()),
        description,
        media,
    })
}

async fn add_ice_candidate(
    connection: &dyn PeerConnection,
    shared: &PeerShared,
    init: RTCIceCandidateInit,
) -> Result<ReplyValue, NativeError> {
    // Already a peer-reflexive candidate: added again it would only slow the connect
    // (see runtime::CheckSources); the peer-reflexive one stands in.
    let known = CandidateLine::parse(&init.candidate)
        .udp_address()
        .is_some_and(|addr| shared.runtime.checked_from(addr));
    if !known {
        connection
            .add_ice_candidate(init)
            .await
            .map_err(coded("ERR_ADD_ICE_CANDIDATE"))?;
    }
    shared.runtime.wake_driver();
    Ok(ReplyValue::Done)
}

/// A remote candidate that fails because no stack here can use it (mDNS, no address) is
/// skipped, as browsers skip it; any other failure is the peer's.
fn candidate_outcome(
    unusable: bool,
    result: Result<ReplyValue, NativeError>,
) -> Result<ReplyValue, NativeError> {
    match result {
        Err(_) if unusable => Ok(ReplyValue::IgnoredCandidate),
        result => result,
    }
}

/// Remote candidates accepted per peer. Real endpoints send a handful; ICE checks every
/// pair on each tick, so thousands would turn us into a packet sprayer aimed wherever a
/// hostile remote chose.
#[derive(Default)]
struct CandidateBudget {
    taken: usize,
}

impl CandidateBudget {
    fn take(&mut self) -> bool {
        let allowed = self.taken < signal::MAX_REMOTE_CANDIDATES;
        self.taken += usize::from(allowed);
        allowed
    }

    fn exhausted() -> NativeError {
        NativeError::new(
            "ERR_ADD_ICE_CANDIDATE",
            format!(
                "more than {} remote candidates",
                signal::MAX_REMOTE_CANDIDATES
            ),
        )
    }
}

/// The local and remote candidates of the pair ICE selected, once there is one.
async fn selected_candidates(ice: &dyn IceTransport) -> Option<(RTCIceCandidate, RTCIceCandidate)> {
    let pair = ice.get_selected_candidate_pair().await.ok()??;
    Some((pair.local().clone(), pair.remote().clone()))
}

/// The connection's ICE transport, once the remote description has created it.
async fn ice_transport(connection: &dyn PeerConnection) -> Option<Arc<dyn IceTransport>> {
    Some(connection.sctp().await?.transport().ice_transport())
}

/// webrtc 0.21 never fails a connection whose DTLS handshake fails (a tampered fingerprint,
/// a fatal alert) or never finishes: ICE stays connected, and the peer waited for the ICE
/// consent timers, which a remote that keeps answering checks never trips (measured: the
/// side that rejected the certificate failed after 21 s, the other never). Once ICE is
/// connected, the handshake gets this long; then the peer fails with simple-peer's code.
const DTLS_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
const DTLS_WATCH_INTERVAL: Duration = Duration::from_millis(100);

async fn watch_dtls_handshake(shared: Arc<PeerShared>) {
    let deadline = tokio::time::Instant::now() + DTLS_HANDSHAKE_TIMEOUT;
    loop {
        let Some(connection) = shared.connection.get().and_then(Weak::upgrade) else {
            return; // closed
        };
        let state = match connection.sctp().await {
            Some(sctp) => sctp.transport().state().await.ok(),
            None => None,
        };
        drop(connection);
        match state {
            Some(RTCDtlsTransportState::Connected | RTCDtlsTransportState::Closed) => return,
            Some(RTCDtlsTransportState::Failed) => {
                shared.fail(NativeError::new(
                    "ERR_CONNECTION_FAILURE",
                    "DTLS handshake failed",
                ));
                return;
            }
            _ => {}
        }
        if tokio::time::Instant::now() >= deadline {
            shared.fail(NativeError::new(
                "ERR_CONNECTION_FAILURE",
                format!(
                    "DTLS handshake not complete {} s after ICE connected",
                    DTLS_HANDSHAKE_TIMEOUT.as_secs()
                ),
            ));
            return;
        }
        tokio::time::sleep(DTLS_WATCH_INTERVAL).await;
    }
}

/// The candidates ICE holds, for getStats.
async fn ice_candidates(connection: &dyn PeerConnection) -> stats::IceCandidates {
    let Some(ice) = ice_transport(connection).await else {
        return stats::IceCandidates::default();
    };
    stats::IceCandidates {
        selected: selected_candidates(&*ice).await,
        local: ice.get_local_candidates().await.unwrap_or_default(),
        remote: ice.get_remote_candidates().await.unwrap_or_default(),
    }
}

/// Addresses of the selected pair as JS sets them on the peer, or none before there is one.
async fn selected_candidate_pair(
    connection: &dyn PeerConnection,
    shared: &PeerShared,
) -> Option<CandidatePair> {
    let (local, remote) = selected_candidates(&*ice_transport(connection).await?).await?;
    let local_port = local.address.parse().map_or(local.port, |ip| {
        shared.rewriter().local_port(ip, local.port)
    });
    Some(CandidatePair {
        local_address: local.address,
        local_port: u32::from(local_port),
        remote_address: remote.address,
        remote_port: u32::from(remote.port),
    })
}

async fn set_local_description(
    connection: &dyn PeerConnection,
    shared: &PeerShared,
    description: RTCSessionDescription,
) -> Result<ReplyValue, NativeError> {
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
    Ok(shared.local_description(local))
}

fn ice_ufrag(description: Option<&SessionDescription>) -> Option<String> {
    description
        .and_then(|description| signal::ice_ufrag(&description.sdp))
        .map(str::to_owned)
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
                    self.shared
                        .events
                        .emit(NativeEvent::Candidate { candidate });
                }
            })
            .await
    }

    async fn on_signaling_state_change(&self, state: RTCSignalingState) {
        self.shared.events.emit(NativeEvent::SignalingState {
            state: state.to_string(),
        });
    }

    async fn on_ice_connection_state_change(&self, state: RTCIceConnectionState) {
        self.shared.events.emit(NativeEvent::IceConnectionState {
            state: state.to_string(),
        });
        let connected = matches!(
            state,
            RTCIceConnectionState::Connected | RTCIceConnectionState::Completed
        );
        if connected && !self.shared.dtls_watched.swap(true, Ordering::AcqRel) {
            spawn(watch_dtls_handshake(self.shared.clone()));
        }
    }

    async fn on_ice_candidate_error(&self, event: RTCPeerConnectionIceErrorEvent) {
        log::warn!(
            "{} refused the TURN allocation: {}",
            event.url,
            event.error_text
        );
        let all_refused = {
            let mut refusals = lock(&self.shared.turn_refusals);
            if !refusals.refused.contains(&event.url) {
                refusals.refused.push(event.url.clone());
            }
            refusals.relay_only_servers > 0 && refusals.refused.len() >= refusals.relay_only_servers
        };
        if all_refused {
            self.shared.fail(NativeError::new(
                "ERR_ICE_CONNECTION_FAILURE",
                format!(
                    "TURN server {} refused the allocation: {}; with iceTransportPolicy 'relay' \
                     no candidate is left",
                    event.url, event.error_text
                ),
            ));
        }
    }

    async fn on_ice_gathering_state_change(&self, state: RTCIceGatheringState) {
        self.shared.events.emit(NativeEvent::IceGatheringState {
            state: state.to_string(),
        });
    }

    async fn on_connection_state_change(&self, state: RTCPeerConnectionState) {
        self.shared.events.emit(NativeEvent::ConnectionState {
            state: state.to_string(),
        });
    }

    async fn on_data_channel(&self, data_channel: Arc<dyn DataChannel>) {
        start_channel(&self.shared, data_channel);
    }

    async fn on_track(&self, track: Arc<dyn TrackRemote>) {
        let id = self
            .shared
            .next_remote_track
            .fetch_add(1, Ordering::Relaxed);
        let decoded = Arc::new(DecodedOutput::default());
        let remote = RemoteTrack {
            track: track.clone(),
            decoded: decoded.clone(),
        };
        lock(&self.shared.remote_tracks).insert(id, remote);
        let shared = self.shared.clone();
        spawn(async move {
            let events = shared.events.clone();
            shared
                .guarded(media::run_remote_track(id, track, events, decoded))
                .await;
            lock(&shared.remote_tracks).remove(&id);
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A peer whose task has ended, with the events it emits recorded.
    fn peer_without_task() -> (NativePeer, Arc<Mutex<Vec<NativeEvent>>>) {
        let (events, recorded) = EventSink::recorder();
        let shared = PeerShared::new(events);
        let (commands, receiver) = mpsc::unbounded_channel();
        drop(receiver);
        let peer = NativePeer {
            shared,
            commands,
            next_request: AtomicU32::new(1),
            closed: AtomicBool::new(false),
            max_message_size: 0,
        };
        (peer, recorded)
    }

    fn failure(event: &NativeEvent) -> Option<(u32, &str)> {
        match event {
            NativeEvent::Failed { id, code, .. } => Some((*id, code.as_str())),
            _ => None,
        }
    }

    #[test]
    fn requests_to_a_closed_peer_are_answered_at_once() {
        let (peer, recorded) = peer_without_task();
        let offer = peer.create_offer(None);
        let stats = peer.get_stats();
        assert_ne!(offer, stats, "every request has its own id");
        let recorded = lock(&recorded);
        let failures: Vec<_> = recorded.iter().filter_map(failure).collect();
        assert_eq!(
            failures,
            [(offer, "ERR_DESTROYED"), (stats, "ERR_DESTROYED")]
        );
    }

    #[test]
    fn a_refused_candidate_line_is_answered_without_the_task() {
        let (peer, recorded) = peer_without_task();
        let long = format!(
            "candidate:1 1 udp 1 10.0.0.1 9 typ host {}",
            "x".repeat(2000)
        );
        let refused = peer.add_ice_candidate(long, None, None);
        let mdns = format!(
            "candidate:1 1 udp 1 f00d.local 9 typ host {}",
            "x".repeat(2000)
        );
        let ignored = peer.add_ice_candidate(mdns, None, None);
        let recorded = lock(&recorded);
        assert_eq!(
            failure(&recorded[0]),
            Some((refused, "ERR_ADD_ICE_CANDIDATE"))
        );
        assert!(matches!(
            recorded[1],
            NativeEvent::Reply { id, value: ReplyValue::IgnoredCandidate } if id == ignored
        ));
    }

    #[test]
    fn unusable_candidates_are_skipped_and_others_fail() {
        let error = || Err(NativeError::new("ERR_ADD_ICE_CANDIDATE", "parse"));
        assert!(matches!(
            candidate_outcome(true, error()),
            Ok(ReplyValue::IgnoredCandidate)
        ));
        assert!(candidate_outcome(false, error()).is_err());
        assert!(matches!(
            candidate_outcome(true, Ok(ReplyValue::Done)),
            Ok(ReplyValue::Done)
        ));
    }

    #[test]
    fn the_candidate_budget_runs_out_after_the_limit() {
        let mut budget = CandidateBudget::default();
        for _ in 0..signal::MAX_REMOTE_CANDIDATES {
            assert!(budget.take());
        }
        assert!(!budget.take());
        assert!(!budget.take());
        assert_eq!(CandidateBudget::exhausted().code, "ERR_ADD_ICE_CANDIDATE");
    }

    #[test]
    fn a_panic_in_guarded_work_becomes_an_internal_error() {
        let (peer, recorded) = peer_without_task();
        let shared = peer.shared.clone();
        crate::executor::tokio_runtime().block_on(shared.guarded(async {
            panic!("inside the peer's task");
        }));
        let recorded = lock(&recorded);
        let [NativeEvent::Error { code, message }] = &recorded[..] else {
            panic!("one error event expected");
        };
        assert_eq!(code, "ERR_INTERNAL");
        assert!(message.contains("inside the peer's task"), "{message}");
    }
}
