//! Receivers ask a video sender for a keyframe with RTCP PLI or FIR: a browser when it starts
//! decoding or has lost packets, our own decoder when it met a frame it could not decode.
//! webrtc 0.21 consumes inbound RTCP inside its interceptor chain, so this interceptor, one per
//! peer, reads the requests there and raises the keyframe flag of the peer's sender they name
//! (by SSRC); a native video source encodes its next frame as a keyframe when it sees the flag.

use std::collections::VecDeque;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Instant;

use rtc::interceptor::{Interceptor, Packet, StreamInfo, TaggedPacket};
use rtc::rtcp::payload_feedbacks::full_intra_request::FullIntraRequest;
use rtc::rtcp::payload_feedbacks::picture_loss_indication::PictureLossIndication;
use rtc::sansio::Protocol;
use rtc::shared::error::Error;

use crate::media::Senders;
use crate::sync::lock;

/// Where it sits in the chain: it only observes, so anywhere reads well; above the built-in
/// slots, nearest the application.
pub const SLOT: usize = 14_000;

pub struct KeyframeRequests {
    /// The peer's local senders: a request names one by its SSRC (a peer has a few).
    senders: Arc<Senders>,
    read_queue: VecDeque<TaggedPacket>,
    write_queue: VecDeque<TaggedPacket>,
}

impl KeyframeRequests {
    pub fn new(senders: Arc<Senders>) -> Self {
        Self {
            senders,
            read_queue: VecDeque::new(),
            write_queue: VecDeque::new(),
        }
    }

    fn note(&self, ssrc: u32) {
        let senders = lock(&self.senders);
        if let Some(sender) = senders.values().find(|sender| sender.ssrc == ssrc) {
            sender.queue.keyframe_wanted.store(true, Ordering::Relaxed);
        }
    }
}

impl Protocol<TaggedPacket, TaggedPacket, ()> for KeyframeRequests {
    type Rout = TaggedPacket;
    type Wout = TaggedPacket;
    type Eout = ();
    type Error = Error;
    type Time = Instant;

    fn handle_read(&mut self, message: TaggedPacket) -> Result<(), Self::Error> {
        if let Packet::Rtcp(packets) = &message.message.packet {
            for packet in packets {
                let any = packet.as_any();
                if let Some(pli) = any.downcast_ref::<PictureLossIndication>() {
                    self.note(pli.media_ssrc);
                } else if let Some(fir) = any.downcast_ref::<FullIntraRequest>() {
                    fir.fir.iter().for_each(|entry| self.note(entry.ssrc));
                }
            }
        }
        self.read_queue.push_back(message);
        Ok(())
    }

    fn poll_read(&mut self) -> Option<Self::Rout> {
        self.read_queue.pop_front()
    }

    fn handle_write(&mut self, message: TaggedPacket) -> Result<(), Self::Error> {
        self.write_queue.push_back(message);
        Ok(())
    }

    fn poll_write(&mut self) -> Option<Self::Wout> {
        self.write_queue.pop_front()
    }

    fn handle_timeout(&mut self, _now: Instant) -> Result<(), Self::Error> {
        Ok(())
    }

    fn poll_timeout(&mut self) -> Option<Self::Time> {
        None
    }
}

impl Interceptor for KeyframeRequests {
    fn bind_local_stream(&mut self, _info: &StreamInfo) {}
    fn unbind_local_stream(&mut self, _info: &StreamInfo) {}
    fn bind_remote_stream(&mut self, _info: &StreamInfo) {}
    fn unbind_remote_stream(&mut self, _info: &StreamInfo) {}
}
