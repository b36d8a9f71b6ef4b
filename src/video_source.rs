//! A local video source fed with I420 frames from JS: H264-encoded on tokio's blocking pool
//! (never on the JS thread, nor on a worker that drives connections) and sent on every sender
//! the source is attached to. Frames arriving while one is being encoded wait in a slot of
//! one: a newer frame replaces a waiting one, which is dropped, as a live camera's would be.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use napi_derive::napi;

use crate::executor::tokio_runtime;
use crate::h264::{check_frame, H264Encoder, I420};
use crate::media::{SenderQueue, SourceSenders};
use crate::sync::lock;

/// The duration given to a source's first frame, and the cap on any frame's.
const FIRST_FRAME: Duration = Duration::from_millis(33);
const LONGEST_FRAME: Duration = Duration::from_secs(1);

struct PendingFrame {
    frame: I420,
    duration: Duration,
}

#[derive(Default)]
struct VideoState {
    waiting: Option<PendingFrame>,
    encoding: bool,
    encoder: Option<H264Encoder>,
    /// A sender joined: its receiver needs a keyframe to start from.
    keyframe_wanted: bool,
    attached: SourceSenders,
    last_push: Option<Instant>,
    dropped: u32,
    encoded: u32,
    stopped: bool,
}

/// `RTCVideoSource`'s native half; also behind `track.writeFrame()`.
#[napi]
pub struct NativeVideoSource {
    state: Arc<Mutex<VideoState>>,
}

impl Default for NativeVideoSource {
    fn default() -> Self {
        Self::new()
    }
}

#[napi]
impl NativeVideoSource {
    #[napi(constructor)]
    pub fn new() -> Self {
        Self {
            state: Arc::default(),
        }
    }

    /// Queues a packed I420 frame for encoding. False when it replaced a frame still waiting
    /// (that one is dropped: the writer is faster than the encoder) or the source is stopped.
    #[napi(catch_unwind)]
    pub fn push(&self, width: u32, height: u32, data: &[u8]) -> napi::Result<bool> {
        // JS checks first and throws a coded TypeError; this guards the native call itself.
        check_frame(width, height, data.len())
            .map_err(|message| napi::Error::new(napi::Status::InvalidArg, message))?;
        let now = Instant::now();
        let mut state = lock(&self.state);
        if state.stopped {
            return Ok(false);
        }
        let duration = state
            .last_push
            .map_or(FIRST_FRAME, |last| (now - last).min(LONGEST_FRAME));
        state.last_push = Some(now);
        let frame = I420 {
            width,
            height,
            data: data.to_vec(),
        };
        let replaced = state
            .waiting
            .replace(PendingFrame { frame, duration })
            .is_some();
        if replaced {
            state.dropped += 1;
        }
        if !state.encoding {
            state.encoding = true;
            let shared = self.state.clone();
            tokio_runtime().spawn_blocking(move || encode_waiting(&shared));
        }
        Ok(!replaced)
    }

    /// Frames dropped because a newer one arrived before the encoder took them.
    #[napi(getter)]
    pub fn dropped_frames(&self) -> u32 {
        lock(&self.state).dropped
    }

    #[napi(getter)]
    pub fn encoded_frames(&self) -> u32 {
        lock(&self.state).encoded
    }

    /// Sends this source's video on `queue` too, under `key`, starting with a keyframe.
    pub fn attach(&self, key: u32, queue: SenderQueue) {
        let mut state = lock(&self.state);
        state.attached.attach(key, queue);
        state.keyframe_wanted = true;
    }

    #[napi]
    pub fn detach(&self, key: u32) {
        lock(&self.state).attached.detach(key);
    }

    /// Drops the waiting frame and refuses more.
    #[napi]
    pub fn stop(&self) {
        let mut state = lock(&self.state);
        state.stopped = true;
        state.waiting = None;
        state.attached.clear();
        state.encoder = None;
    }
}

/// Encodes waiting frames until none is left. The encoder is taken out of the state while it
/// works, so pushes never wait for an encode.
fn encode_waiting(state: &Mutex<VideoState>) {
    loop {
        let (pending, encoder, keyframe) = {
            let mut guard = lock(state);
            let Some(pending) = guard.waiting.take().filter(|_| !guard.stopped) else {
                guard.encoding = false;
                return;
            };
            let encoder = guard.encoder.take();
            let requested = guard.attached.take_keyframe_requests();
            let keyframe = std::mem::take(&mut guard.keyframe_wanted) || requested;
            (pending, encoder, keyframe)
        };
        let size = (pending.frame.width, pending.frame.height);
        let encoder = match encoder.filter(|encoder| encoder.size() == size) {
            Some(encoder) => Ok(encoder),
            None => H264Encoder::new(size.0, size.1),
        };
        let mut encoder = match encoder {
            Ok(encoder) => encoder,
            Err(error) => {
                log::warn!("{error}");
                continue;
            }
        };
        if keyframe {
            encoder.force_keyframe();
        }
        let access_unit = encoder
            .encode(pending.frame)
            .inspect_err(|error| log::warn!("{error}"))
            .ok()
            .flatten();
        let mut guard = lock(state);
        if !guard.stopped {
            guard.encoder = Some(encoder);
        }
        if let Some(access_unit) = access_unit {
            guard.encoded += 1;
            guard
                .attached
                .send(&Bytes::from(access_unit), pending.duration);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::media::MediaWrite;
    use std::sync::atomic::AtomicBool;
    use tokio::sync::mpsc;

    #[test]
    fn frames_are_encoded_in_order_and_a_burst_drops_the_waiting_ones() {
        let source = NativeVideoSource::new();
        let (writes, mut sent) = mpsc::unbounded_channel();
        let keyframe_wanted = Arc::new(AtomicBool::new(false));
        source.attach(
            1,
            SenderQueue {
                writes,
                keyframe_wanted,
            },
        );
        let grey = vec![128u8; 160 * 120 * 3 / 2];
        let mut taken = 0;
        for _ in 0..30 {
            taken += usize::from(source.push(160, 120, &grey).unwrap());
        }
        let received = tokio_runtime().block_on(async {
            let mut received = Vec::new();
            while let Ok(Some(MediaWrite::Sample { data, .. })) =
                tokio::time::timeout(Duration::from_millis(500), sent.recv()).await
            {
                received.push(data);
            }
            received
        });
        assert_eq!(received.len() as u32, source.encoded_frames());
        assert_eq!(taken as u32 + source.dropped_frames(), 30);
        // Only a push that found the slot empty is encoded (the last one always is).
        assert!(
            (1..=taken).contains(&received.len()),
            "{} encoded of {taken} taken",
            received.len()
        );
        // The first access unit starts with the parameter sets and a keyframe.
        assert!(received[0]
            .windows(5)
            .any(|w| w[..4] == [0, 0, 0, 1] && w[4] & 0x1f == 7));
        assert!(source.push(161, 120, &grey).is_err());
        source.stop();
        assert!(!source.push(160, 120, &grey).unwrap());
    }
}
