//! Media at the encoded level: local tracks that send samples or RTP packets JS writes, and
//! remote tracks delivered to JS as RTP packets and reassembled frames.

use std::collections::hash_map::RandomState;
use std::collections::HashMap;
use std::hash::{BuildHasher, Hasher};
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use napi::bindgen_prelude::Buffer;
use napi_derive::napi;
use rtc::media::Sample;
use rtc::peer_connection::configuration::media_engine::{
    MIME_TYPE_AV1, MIME_TYPE_H264, MIME_TYPE_OPUS, MIME_TYPE_VP8, MIME_TYPE_VP9,
};
use rtc::rtcp::payload_feedbacks::picture_loss_indication::PictureLossIndication;
use rtc::rtp::codec::vp9::Vp9Packet;
use rtc::rtp::codec::{av1::Av1Depacketizer, h264::H264Packet, opus::OpusPacket, vp8::Vp8Packet};
use rtc::rtp::packetizer::Depacketizer;
use rtc::rtp_transceiver::rtp_sender::{
    RTCRtpCodec, RTCRtpCodingParameters, RTCRtpEncodingParameters, RtpCodecKind,
};
use rtc::rtp_transceiver::{RTCRtpTransceiverDirection, RTCRtpTransceiverInit};
use rtc::shared::marshal::{Marshal, Unmarshal};
use tokio::sync::mpsc;
use webrtc::media_stream::track_local::static_sample::TrackLocalStaticSample;
use webrtc::media_stream::track_local::TrackLocal;
use webrtc::media_stream::track_remote::{TrackRemote, TrackRemoteEvent};
use webrtc::media_stream::MediaStreamTrack;
use webrtc::peer_connection::PeerConnection;
use webrtc::rtp_transceiver::RtpSender;

use crate::error::{coded, NativeError};
use crate::events::{
    EventSink, MediaFrame, NativeEvent, PcmFrame, PendingTrack, RemoteTrackInfo, ReplyValue,
    VideoFrameData,
};
use crate::executor::spawn;
use crate::h264::{H264Decoder, MAX_DIMENSION};
use crate::pcm::{self, OPUS_RATE};
use crate::sync::lock;

/// The codecs a local track can name, by kind; the first of each is the kind's default.
/// JS reads these lists (`supportedCodecs()`) rather than keeping its own.
const AUDIO_CODECS: [&str; 1] = ["opus"];
const VIDEO_CODECS: [&str; 4] = ["vp8", "vp9", "h264", "av1"];

#[napi(object, object_from_js = false)]
pub struct SupportedCodecs {
    pub audio: Vec<String>,
    pub video: Vec<String>,
}

/// The codec names `MediaStreamTrack` accepts, by kind.
#[napi]
pub fn supported_codecs() -> SupportedCodecs {
    let names = |list: &[&str]| list.iter().map(|name| name.to_string()).collect();
    SupportedCodecs {
        audio: names(&AUDIO_CODECS),
        video: names(&VIDEO_CODECS),
    }
}

#[napi(object, object_from_js = false)]
pub struct RawMediaLimits {
    pub min_sample_rate: u32,
    pub max_sample_rate: u32,
    /// The largest width or height of an I420 picture.
    pub max_dimension: u32,
}

/// The PCM rates and picture sizes raw tracks take; JS checks its arguments against these.
#[napi]
pub fn raw_media_limits() -> RawMediaLimits {
    RawMediaLimits {
        min_sample_rate: pcm::MIN_SAMPLE_RATE,
        max_sample_rate: pcm::MAX_SAMPLE_RATE,
        max_dimension: MAX_DIMENSION,
    }
}

/// A codec JS can name, as the default media engine registers it (so it negotiates).
pub fn codec(name: &str) -> Result<(RtpCodecKind, RTCRtpCodec), NativeError> {
    let video = |mime: &str, fmtp: &str| {
        (
            RtpCodecKind::Video,
            RTCRtpCodec {
                mime_type: mime.to_owned(),
                clock_rate: 90_000,
                channels: 0,
                sdp_fmtp_line: fmtp.to_owned(),
                rtcp_feedback: vec![],
            },
        )
    };
    Ok(match name.to_ascii_lowercase().as_str() {
        "opus" => (
            RtpCodecKind::Audio,
            RTCRtpCodec {
                mime_type: MIME_TYPE_OPUS.to_owned(),
                clock_rate: 48_000,
                channels: 2,
                sdp_fmtp_line: "minptime=10;useinbandfec=1".to_owned(),
                rtcp_feedback: vec![],
            },
        ),
        "vp8" => video(MIME_TYPE_VP8, ""),
        "vp9" => video(MIME_TYPE_VP9, "profile-id=0"),
        "h264" => video(
            MIME_TYPE_H264,
            "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f",
        ),
        "av1" => video(MIME_TYPE_AV1, "profile-id=0"),
        other => {
            let known = [&AUDIO_CODECS[..], &VIDEO_CODECS[..]].concat().join(", ");
            return Err(NativeError::new(
                "ERR_INVALID_ARG_TYPE",
                format!("unsupported codec {other:?}: use one of {known}"),
            ));
        }
    })
}

/// A random SSRC: every `RandomState` is seeded afresh, which is all the randomness needed.
fn random_ssrc() -> u32 {
    (RandomState::new().build_hasher().finish() as u32).max(1)
}

pub enum MediaWrite {
    Sample { data: Bytes, duration: Duration },
    Rtp(Bytes),
}

/// One `addTrack` on one peer: what JS writes goes to this sender.
pub struct LocalSender {
    pub queue: SenderQueue,
    pub rtp_sender: Arc<dyn RtpSender>,
    pub ssrc: u32,
}

pub struct TrackSpec {
    pub track_id: String,
    pub stream_id: String,
    pub kind: String,
    pub codec: String,
}

/// What JS and natively encoding sources write to a sender through.
#[derive(Clone)]
pub struct SenderQueue {
    pub writes: mpsc::UnboundedSender<MediaWrite>,
    /// Set when the receiver asked for a keyframe (keyframe_requests.rs) or missed a frame
    /// (one written before negotiation gave the sender a payload type): a video source then
    /// encodes a keyframe next.
    pub keyframe_wanted: Arc<AtomicBool>,
}

/// The senders a natively encoding source feeds, by the key JS attached each with.
#[derive(Default)]
pub struct SourceSenders(Vec<(u32, SenderQueue)>);

impl SourceSenders {
    pub fn attach(&mut self, key: u32, queue: SenderQueue) {
        self.detach(key);
        self.0.push((key, queue));
    }

    pub fn detach(&mut self, key: u32) {
        self.0.retain(|(existing, _)| *existing != key);
    }

    pub fn clear(&mut self) {
        self.0.clear();
    }

    /// Sends one encoded sample on each; a sender whose peer is gone is forgotten.
    pub fn send(&mut self, data: &Bytes, duration: Duration) {
        self.0.retain(|(_, queue)| {
            let sample = MediaWrite::Sample {
                data: data.clone(),
                duration,
            };
            queue.writes.send(sample).is_ok()
        });
    }

    /// Whether a receiver wants a keyframe; every flag is cleared, as one keyframe serves all.
    pub fn take_keyframe_requests(&self) -> bool {
        self.0.iter().fold(false, |wanted, (_, queue)| {
            queue.keyframe_wanted.swap(false, Ordering::Relaxed) || wanted
        })
    }
}

/// Local tracks added to one peer, by the sender id JS chose.
pub type Senders = Mutex<HashMap<u32, LocalSender>>;

/// The requests about tracks and transceivers, which run in order with the peer's others.
pub enum TrackRequest {
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
    /// one).
    MissingTransceivers,
}

pub async fn perform(
    connection: &dyn PeerConnection,
    senders: &Senders,
    request: TrackRequest,
) -> Result<ReplyValue, NativeError> {
    match request {
        TrackRequest::AddTrack { sender_id, spec } => {
            let sender = add_track(connection, spec).await?;
            lock(senders).insert(sender_id, sender);
        }
        TrackRequest::RemoveTrack { sender_id } => {
            let Some(sender) = lock(senders).remove(&sender_id) else {
                return Err(NativeError::new("ERR_TRACK_NOT_ADDED", "no such sender"));
            };
            connection
                .remove_track(&sender.rtp_sender)
                .await
                .map_err(coded("ERR_REMOVE_TRACK"))?;
        }
        TrackRequest::AddTransceiver { kind, direction } => {
            let (kind, init) = transceiver_init(&kind, direction.as_deref())?;
            connection
                .add_transceiver_from_kind(kind, Some(init))
                .await
                .map_err(coded("ERR_ADD_TRANSCEIVER"))?;
        }
        TrackRequest::MissingTransceivers => {
            return Ok(ReplyValue::MissingTransceivers {
                tracks: missing_transceivers(connection).await,
            })
        }
    }
    Ok(ReplyValue::Done)
}

/// What `addTransceiver(kind, { direction })` creates. Created from a kind alone, a
/// transceiver has no track to send, and webrtc refuses a sending direction without one:
/// it receives until a track is added.
fn transceiver_init(
    kind: &str,
    direction: Option<&str>,
) -> Result<(RtpCodecKind, RTCRtpTransceiverInit), NativeError> {
    let kind = match kind {
        "audio" | "video" => RtpCodecKind::from(kind),
        other => {
            return Err(NativeError::new(
                "ERR_ADD_TRANSCEIVER",
                format!("transceiver kind must be audio or video, got {other:?}"),
            ))
        }
    };
    let direction = match direction.unwrap_or("sendrecv") {
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
    Ok((kind, init))
}

async fn missing_transceivers(connection: &dyn PeerConnection) -> Vec<PendingTrack> {
    let mut tracks = Vec::new();
    for transceiver in connection.get_transceivers().await {
        if !matches!(transceiver.mid().await, Ok(None)) {
            continue;
        }
        if let Ok(Some(sender)) = transceiver.sender().await {
            let track = sender.track();
            tracks.push(PendingTrack {
                kind: track.kind().await.to_string(),
                track_id: track.track_id().await,
            });
        }
    }
    tracks
}

/// Adds a local track to the connection.
async fn add_track(
    connection: &dyn PeerConnection,
    spec: TrackSpec,
) -> Result<LocalSender, NativeError> {
    let (kind, codec) = codec(&spec.codec)?;
    if kind.to_string() != spec.kind {
        return Err(NativeError::new(
            "ERR_INVALID_ARG_TYPE",
            format!("codec {} is not for {} tracks", spec.codec, spec.kind),
        ));
    }
    let ssrc = random_ssrc();
    let track = MediaStreamTrack::new(
        spec.stream_id,
        spec.track_id.clone(),
        spec.track_id,
        kind,
        vec![RTCRtpEncodingParameters {
            rtp_coding_parameters: RTCRtpCodingParameters {
                ssrc: Some(ssrc),
                ..Default::default()
            },
            codec,
            ..Default::default()
        }],
    );
    let track = Arc::new(
        TrackLocalStaticSample::new(Instant::now(), track).map_err(coded("ERR_ADD_TRACK"))?,
    );
    let rtp_sender = connection
        .add_track(track.clone() as Arc<dyn TrackLocal>)
        .await
        .map_err(coded("ERR_ADD_TRACK"))?;
    let (writes, queue) = mpsc::unbounded_channel();
    let keyframe_wanted = Arc::new(AtomicBool::new(false));
    let sender = SenderTask {
        track,
        rtp_sender: rtp_sender.clone(),
        ssrc,
        payload_type: None,
        sequence: SequenceRewriter::default(),
        keyframe_wanted: keyframe_wanted.clone(),
    };
    spawn(sender.run(queue));
    Ok(LocalSender {
        queue: SenderQueue {
            writes,
            keyframe_wanted,
        },
        rtp_sender,
        ssrc,
    })
}

struct SenderTask {
    track: Arc<TrackLocalStaticSample>,
    rtp_sender: Arc<dyn RtpSender>,
    ssrc: u32,
    /// Learnt from the sender once negotiation has given it one.
    payload_type: Option<u8>,
    sequence: SequenceRewriter,
    keyframe_wanted: Arc<AtomicBool>,
}

/// Sequence numbers for forwarded RTP: one continuous series on our SSRC, whatever the
/// sources. Gaps and reordering within a source carry over (so the receiver's NACK and
/// jitter handling still see them); a jump, as when the source changes, continues from
/// the last number sent, or SRTP's replay check would discard the new source's packets.
#[derive(Default)]
struct SequenceRewriter {
    last: Option<(u16, u16)>, // (last in, last out)
}

impl SequenceRewriter {
    const MAX_GAP: i16 = 1000;

    fn map(&mut self, incoming: u16) -> u16 {
        let outgoing = match self.last {
            None => incoming,
            Some((last_in, last_out)) => {
                let delta = incoming.wrapping_sub(last_in) as i16;
                let delta = if delta.unsigned_abs() > Self::MAX_GAP as u16 {
                    1
                } else {
                    delta
                };
                last_out.wrapping_add(delta as u16)
            }
        };
        if self
            .last
            .is_none_or(|(last_in, _)| (incoming.wrapping_sub(last_in) as i16) > 0)
        {
            self.last = Some((incoming, outgoing));
        }
        outgoing
    }
}

impl SenderTask {
    /// Sends what JS wrote, in order, until the sender is removed or the peer closes.
    async fn run(mut self, mut queue: mpsc::UnboundedReceiver<MediaWrite>) {
        while let Some(write) = queue.recv().await {
            self.write(write).await;
        }
    }

    /// Until negotiation gives the sender a payload type there is nowhere to send, so
    /// writes made before that are dropped, as a live source's would be.
    async fn write(&mut self, write: MediaWrite) {
        if self.payload_type.is_none() {
            self.payload_type = match self.rtp_sender.get_parameters().await {
                Ok(parameters) => parameters
                    .rtp_parameters
                    .codecs
                    .first()
                    .map(|codec| codec.payload_type),
                Err(_) => None,
            };
        }
        let Some(payload_type) = self.payload_type else {
            self.keyframe_wanted.store(true, Ordering::Relaxed);
            return;
        };
        let result = match write {
            MediaWrite::Sample { data, duration } => {
                let sample = Sample {
                    data,
                    timestamp: Instant::now(),
                    duration,
                    packet_timestamp: 0,
                    prev_dropped_packets: 0,
                    prev_padding_packets: 0,
                };
                self.track
                    .write_sample(self.ssrc, payload_type, &sample, &[])
                    .await
            }
            MediaWrite::Rtp(mut bytes) => match rtc::rtp::Packet::unmarshal(&mut bytes) {
                Ok(mut packet) => {
                    packet.header.ssrc = self.ssrc;
                    packet.header.payload_type = payload_type;
                    packet.header.sequence_number =
                        self.sequence.map(packet.header.sequence_number);
                    self.track.write_rtp(packet).await
                }
                Err(error) => {
                    log::debug!("writeRtp: not an RTP packet: {error}");
                    Ok(())
                }
            },
        };
        match result {
            Ok(()) => log::trace!("media write on ssrc {} sent", self.ssrc),
            Err(error) => log::debug!("media write on ssrc {}: {error}", self.ssrc),
        }
    }
}

/// A remote track's decoded media on its way to JS: whether JS wants it, and how much of it
/// JS has not yet taken. A JS thread that stops taking (busy, or blocked) loses the newest
/// pictures and audio frames beyond a bound, counted, instead of queueing them without end.
#[derive(Default)]
pub struct DecodedOutput {
    pub wanted: AtomicBool,
    in_flight: AtomicU32,
    dropped: AtomicU32,
}

impl DecodedOutput {
    /// 1 s of 20 ms audio frames; 8 pictures (a quarter of a second at 30 fps).
    const MAX_IN_FLIGHT_AUDIO: u32 = 50;
    const MAX_IN_FLIGHT_VIDEO: u32 = 8;

    /// JS took one decoded event (lib/native.js, as it dispatches it).
    pub fn taken(&self) {
        let _ = self
            .in_flight
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| n.checked_sub(1));
    }

    /// The event for `media` if it may go to JS (counted in flight), None if it is dropped
    /// (counted too).
    fn admit(&self, id: u32, media: Decoded) -> Option<NativeEvent> {
        let limit = match media {
            Decoded::Pcm(_) => Self::MAX_IN_FLIGHT_AUDIO,
            Decoded::Picture(_) => Self::MAX_IN_FLIGHT_VIDEO,
        };
        let admitted = self
            .in_flight
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| {
                (n < limit).then_some(n + 1)
            })
            .is_ok();
        if !admitted {
            self.dropped.fetch_add(1, Ordering::Relaxed);
            return None;
        }
        let dropped = self.dropped.load(Ordering::Relaxed);
        Some(match media {
            Decoded::Pcm(frame) => NativeEvent::Pcm { id, frame, dropped },
            Decoded::Picture(frame) => NativeEvent::VideoFrame { id, frame, dropped },
        })
    }
}

/// Delivers a remote track's packets and frames until it ends; its frames decoded too (Opus
/// to PCM, H264 to I420) while JS wants them.
pub async fn run_remote_track(
    id: u32,
    track: Arc<dyn TrackRemote>,
    events: EventSink,
    decoded: Arc<DecodedOutput>,
) {
    let mut assembler: Option<FrameAssembler> = None;
    let mut decoding = RawDecoding::default();
    while let Some(event) = track.poll().await {
        match event {
            TrackRemoteEvent::OnOpen(init) => {
                let codec = track
                    .codec(init.ssrc)
                    .await
                    .map(|codec| codec_name(&codec.mime_type))
                    .unwrap_or_default();
                let kind = track.kind().await.to_string();
                assembler = FrameAssembler::new(&codec);
                decoding = RawDecoding::default();
                events.emit(NativeEvent::Track {
                    id,
                    track: RemoteTrackInfo {
                        track_id: init.track_id,
                        stream_ids: init.stream_ids,
                        kind,
                        codec,
                        ssrc: init.ssrc,
                    },
                });
            }
            TrackRemoteEvent::OnRtpPacket(packet) => {
                let frame = assembler.as_mut().and_then(|a| a.push(&packet));
                if let Ok(bytes) = packet.marshal() {
                    events.emit(NativeEvent::Rtp {
                        id,
                        packet: Buffer::from(Vec::from(bytes)),
                    });
                }
                if let Some(frame) = frame {
                    if decoded.wanted.load(Ordering::Relaxed) {
                        // Decoded even when it is dropped: a picture is a reference for the next.
                        let media = decoding.decode(id, &track, &frame).await;
                        if let Some(event) = media.and_then(|media| decoded.admit(id, media)) {
                            events.emit(event);
                        }
                    }
                    events.emit(NativeEvent::Frame {
                        id,
                        frame: MediaFrame {
                            data: frame.data.into(),
                            timestamp: frame.timestamp,
                            keyframe: frame.keyframe,
                        },
                    });
                }
            }
            TrackRemoteEvent::OnEnded => break,
            _ => {}
        }
    }
    events.emit(NativeEvent::TrackEnded { id });
}

enum RawDecoder {
    Opus(pcm::Decoder),
    H264(H264Decoder),
}

/// One frame decoded.
enum Decoded {
    Pcm(PcmFrame),
    Picture(VideoFrameData),
}

/// A remote track's decoder, made when JS first asks for raw media; video decoders ask the
/// sender for a keyframe to start from, and again when the stream breaks.
#[derive(Default)]
struct RawDecoding {
    decoder: Option<RawDecoder>,
    last_keyframe_request: Option<Instant>,
    /// The codec has no decoder here (VP8, VP9, AV1): said once, then nothing.
    unsupported: bool,
}

impl RawDecoding {
    const KEYFRAME_REQUEST_INTERVAL: Duration = Duration::from_secs(1);

    async fn decode(
        &mut self,
        id: u32,
        track: &Arc<dyn TrackRemote>,
        frame: &Frame,
    ) -> Option<Decoded> {
        if self.decoder.is_none() && !self.unsupported {
            self.decoder = match frame.codec {
                Codec::Opus => Some(RawDecoder::Opus(pcm::Decoder::default())),
                Codec::H264 => H264Decoder::new()
                    .inspect_err(|error| log::warn!("{error}"))
                    .ok()
                    .map(RawDecoder::H264),
                _ => None,
            };
            if self.decoder.is_none() {
                log::debug!("remote track {id}: no decoder for its codec");
                self.unsupported = true;
            }
            if matches!(self.decoder, Some(RawDecoder::H264(_))) && !frame.keyframe {
                self.request_keyframe(track).await;
            }
        }
        match self.decoder.as_mut()? {
            RawDecoder::Opus(decoder) => {
                let pcm = decoder.decode(&frame.data)?;
                Some(Decoded::Pcm(PcmFrame {
                    number_of_frames: (pcm.samples.len() / pcm.channels) as u32,
                    channel_count: pcm.channels as u32,
                    sample_rate: OPUS_RATE,
                    samples: pcm.samples.into(),
                }))
            }
            RawDecoder::H264(decoder) => {
                // Milliseconds of work: let the runtime move other tasks off this worker.
                let decoded = tokio::task::block_in_place(|| decoder.decode(&frame.data));
                match decoded {
                    Ok(Some(picture)) => Some(Decoded::Picture(VideoFrameData {
                        width: picture.width,
                        height: picture.height,
                        data: picture.data.into(),
                    })),
                    Ok(None) => None,
                    Err(error) => {
                        log::debug!("remote track {id}: {error}");
                        self.request_keyframe(track).await;
                        None
                    }
                }
            }
        }
    }

    async fn request_keyframe(&mut self, track: &Arc<dyn TrackRemote>) {
        let due = self
            .last_keyframe_request
            .is_none_or(|last| last.elapsed() >= Self::KEYFRAME_REQUEST_INTERVAL);
        if due {
            self.last_keyframe_request = Some(Instant::now());
            request_key_frame(track).await;
        }
    }
}

/// Asks the remote for a keyframe (RTCP PLI) on every stream of the track.
pub async fn request_key_frame(track: &Arc<dyn TrackRemote>) {
    for media_ssrc in track.ssrcs().await {
        let pli = PictureLossIndication {
            sender_ssrc: 0,
            media_ssrc,
        };
        if let Err(error) = track.write_rtcp(vec![Box::new(pli)]).await {
            log::debug!("PLI for ssrc {media_ssrc}: {error}");
        }
    }
}

fn codec_name(mime: &str) -> String {
    mime.rsplit('/').next().unwrap_or(mime).to_ascii_lowercase()
}

/// A reassembled frame: the depacketized payloads of one RTP timestamp.
#[derive(Debug)]
struct Frame {
    codec: Codec,
    data: Vec<u8>,
    timestamp: u32,
    keyframe: bool,
}

#[derive(Debug, Clone, Copy)]
enum Codec {
    Opus,
    Vp8,
    Vp9,
    H264,
    Av1,
}

/// Collects packets into frames: consecutive sequence numbers sharing a timestamp, ended by
/// the marker bit. A frame with a gap is dropped whole (a partial frame is not decodable).
struct FrameAssembler {
    codec: Codec,
    depacketizer: Box<dyn Depacketizer + Send>,
    timestamp: Option<u32>,
    next_sequence: u16,
    parts: BytesMut,
    broken: bool,
}

impl FrameAssembler {
    /// `codec` as `codec_name` gives it.
    fn new(codec: &str) -> Option<Self> {
        let (codec, depacketizer): (Codec, Box<dyn Depacketizer + Send>) = match codec {
            "opus" => (Codec::Opus, Box::<OpusPacket>::default()),
            "vp8" => (Codec::Vp8, Box::<Vp8Packet>::default()),
            "vp9" => (Codec::Vp9, Box::<Vp9Packet>::default()),
            "h264" => (Codec::H264, Box::<H264Packet>::default()),
            "av1" => (Codec::Av1, Box::<Av1Depacketizer>::default()),
            _ => return None,
        };
        Some(Self {
            codec,
            depacketizer,
            timestamp: None,
            next_sequence: 0,
            parts: BytesMut::new(),
            broken: false,
        })
    }

    fn push(&mut self, packet: &rtc::rtp::Packet) -> Option<Frame> {
        let header = &packet.header;
        if packet.payload.is_empty() {
            return None; // padding
        }
        if self.timestamp != Some(header.timestamp) {
            self.timestamp = Some(header.timestamp);
            self.parts.clear();
            self.broken = false;
        } else if header.sequence_number != self.next_sequence {
            self.broken = true;
        }
        self.next_sequence = header.sequence_number.wrapping_add(1);
        match self.depacketizer.depacketize(&packet.payload) {
            Ok(payload) => self.parts.extend_from_slice(&payload),
            Err(_) => self.broken = true,
        }
        // Audio packets are whole frames; video frames end at the marker.
        let complete = matches!(self.codec, Codec::Opus) || header.marker;
        if !complete {
            return None;
        }
        self.timestamp = None;
        if self.broken || self.parts.is_empty() {
            return None;
        }
        // Taken whole, the buffer becomes the frame's Vec without a copy.
        let data = Vec::from(std::mem::take(&mut self.parts));
        Some(Frame {
            codec: self.codec,
            keyframe: is_keyframe(&self.codec, &data),
            data,
            timestamp: header.timestamp,
        })
    }
}

fn is_keyframe(codec: &Codec, frame: &[u8]) -> bool {
    match codec {
        Codec::Opus => true,
        // RFC 6386 9.1: bit 0 of the frame tag is 0 for a key frame.
        Codec::Vp8 => frame.first().is_some_and(|byte| byte & 0x01 == 0),
        // VP9 uncompressed header: frame_marker(2) profile(2) [reserved] show_existing(1)
        // frame_type(1), frame_type 0 for a key frame.
        Codec::Vp9 => frame.first().is_some_and(|&byte| {
            let profile = ((byte >> 5) & 1) | (((byte >> 4) & 1) << 1);
            let shift = if profile == 3 { 2 } else { 3 };
            let show_existing = (byte >> shift) & 1;
            let frame_type = (byte >> (shift - 1)) & 1;
            byte >> 6 == 0b10 && show_existing == 0 && frame_type == 0
        }),
        // An IDR slice (NAL type 5) among the Annex-B units.
        Codec::H264 => frame
            .windows(4)
            .any(|w| w[..3] == [0, 0, 1] && w[3] & 0x1F == 5),
        // A sequence header OBU (type 1) opens every AV1 keyframe sent over RTP.
        Codec::Av1 => frame.first().is_some_and(|byte| (byte >> 3) & 0x0F == 1),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_map_to_negotiable_codecs() {
        assert_eq!(codec("VP8").unwrap().0, RtpCodecKind::Video);
        assert_eq!(codec("opus").unwrap().1.clock_rate, 48_000);
        let unknown = codec("mp3").unwrap_err();
        assert_eq!(unknown.code, "ERR_INVALID_ARG_TYPE");
        assert!(unknown.message.contains("opus, vp8, vp9, h264, av1"));
    }

    #[test]
    fn every_listed_codec_negotiates_as_its_kind() {
        let listed = supported_codecs();
        for (kind, names) in [
            (RtpCodecKind::Audio, listed.audio),
            (RtpCodecKind::Video, listed.video),
        ] {
            for name in names {
                assert_eq!(codec(&name).unwrap().0, kind, "{name}");
                assert!(
                    FrameAssembler::new(&name).is_some(),
                    "{name} has no depacketizer"
                );
            }
        }
    }

    #[test]
    fn raw_media_limits_are_the_ones_the_encoders_check() {
        let limits = raw_media_limits();
        let max = limits.max_dimension;
        let len = |width, height| crate::h264::i420_len(width, height);
        assert!(crate::h264::check_frame(max, 2, len(max, 2)).is_ok());
        assert!(crate::h264::check_frame(max + 2, 2, len(max + 2, 2)).is_err());
        assert_eq!(
            (limits.min_sample_rate, limits.max_sample_rate),
            (pcm::MIN_SAMPLE_RATE, pcm::MAX_SAMPLE_RATE)
        );
    }

    #[test]
    fn transceivers_receive_until_a_track_is_added() {
        let (kind, init) = transceiver_init("audio", None).unwrap();
        assert_eq!(kind, RtpCodecKind::Audio);
        assert_eq!(init.direction, RTCRtpTransceiverDirection::Recvonly);
        let (_, init) = transceiver_init("video", Some("sendonly")).unwrap();
        assert_eq!(init.direction, RTCRtpTransceiverDirection::Inactive);
        for (kind, direction) in [("data", None), ("video", Some("sideways"))] {
            let Err(error) = transceiver_init(kind, direction) else {
                panic!("{kind} {direction:?} must be refused");
            };
            assert_eq!(error.code, "ERR_ADD_TRANSCEIVER");
        }
    }

    #[test]
    fn forwarded_sequence_numbers_stay_continuous_across_sources() {
        let mut rewriter = SequenceRewriter::default();
        let first: Vec<u16> = [65534, 65535, 0, 2, 1].map(|n| rewriter.map(n)).to_vec();
        assert_eq!(
            first,
            vec![65534, 65535, 0, 2, 1],
            "wraps, gaps and reorders carry over"
        );
        // A new source far away in sequence space continues right after the last one.
        assert_eq!(rewriter.map(30_000), 3);
        assert_eq!(rewriter.map(30_001), 4);
    }

    #[test]
    fn keyframes_are_recognised() {
        assert!(is_keyframe(&Codec::Vp8, &[0x10, 0x02]));
        assert!(!is_keyframe(&Codec::Vp8, &[0x11, 0x02]));
        assert!(is_keyframe(
            &Codec::H264,
            &[0, 0, 0, 1, 0x67, 0, 0, 0, 1, 0x65]
        ));
        assert!(!is_keyframe(&Codec::H264, &[0, 0, 0, 1, 0x41]));
        assert!(is_keyframe(&Codec::Vp9, &[0x82]));
        assert!(!is_keyframe(&Codec::Vp9, &[0x86]));
    }
}
