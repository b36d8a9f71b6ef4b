//! A local audio source fed with PCM from JS: buffered, Opus-encoded off the JS thread in
//! 20 ms frames at the pace they play, and sent on every sender the source is attached to
//! (one per peer a track of it was added to).

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use napi_derive::napi;
use tokio::time::Instant;

use crate::executor::spawn;
use crate::media::{SenderQueue, SourceSenders};
use crate::pcm::{Encoder, Resampler, FRAME_SAMPLES, MAX_SAMPLE_RATE, MIN_SAMPLE_RATE, OPUS_RATE};
use crate::sync::lock;

const FRAME: Duration = Duration::from_millis(20);
/// A source may run this far ahead of real time; what is pushed beyond it is refused.
const MAX_BUFFERED: Duration = Duration::from_secs(2);
/// Sending starts once this much is buffered, so a writer pushing 10 ms chunks on a JS timer
/// does not leave the encoder short at every other tick.
const PREBUFFER_FRAMES: usize = 2;
/// Ticks without a full frame before the pump sends the remainder, padded, and stops.
const UNDERRUN_TICKS: u32 = 5;

#[derive(Default)]
struct SourceState {
    /// Interleaved PCM at 48 kHz in `channels` channels, waiting to be encoded.
    buffer: VecDeque<i16>,
    channels: usize,
    resampler: Option<Resampler>,
    encoder: Option<Encoder>,
    attached: SourceSenders,
    pumping: bool,
    stopped: bool,
}

impl SourceState {
    fn buffered_frames(&self) -> usize {
        self.buffer.len() / FRAME_SAMPLES / self.channels.max(1)
    }
}

/// `RTCAudioSource`'s native half; also behind `track.writePcm()`.
#[napi]
pub struct NativeAudioSource {
    state: Arc<Mutex<SourceState>>,
}

impl Default for NativeAudioSource {
    fn default() -> Self {
        Self::new()
    }
}

#[napi]
impl NativeAudioSource {
    #[napi(constructor)]
    pub fn new() -> Self {
        Self {
            state: Arc::default(),
        }
    }

    /// Buffers interleaved 16-bit PCM at `sample_rate` in `channels` (1 or 2). False when
    /// the source is stopped or already holds 2 s: the samples are then dropped, as a live
    /// source's would be, and the caller should wait (`bufferedMs`).
    #[napi(catch_unwind)]
    pub fn push(&self, samples: &[i16], sample_rate: u32, channels: u32) -> napi::Result<bool> {
        let channels = channels as usize;
        // JS checks first and throws a coded TypeError; this guards the native call itself.
        check_format(samples.len(), sample_rate, channels)
            .map_err(|message| napi::Error::new(napi::Status::InvalidArg, message))?;
        let mut state = lock(&self.state);
        if state.stopped {
            return Ok(false);
        }
        if state.channels != channels {
            // A change of layout starts afresh: mixing layouts in one buffer would garble both.
            state.buffer.clear();
            state.encoder = None;
            state.channels = channels;
        }
        let incoming = samples.len() as u64 * OPUS_RATE as u64 / sample_rate as u64;
        let limit = (MAX_BUFFERED.as_millis() as u64 * OPUS_RATE as u64 / 1000) * channels as u64;
        if state.buffer.len() as u64 + incoming > limit {
            return Ok(false);
        }
        if !state
            .resampler
            .as_ref()
            .is_some_and(|resampler| resampler.matches(sample_rate, channels))
        {
            state.resampler = Some(Resampler::new(sample_rate, channels));
        }
        let SourceState {
            buffer, resampler, ..
        } = &mut *state;
        if let Some(resampler) = resampler {
            resampler.push(samples, buffer);
        }
        if !state.pumping && state.buffered_frames() >= PREBUFFER_FRAMES {
            state.pumping = true;
            spawn(pump(self.state.clone()));
        }
        Ok(true)
    }

    /// Milliseconds of audio waiting to be sent.
    #[napi(getter)]
    pub fn buffered_ms(&self) -> f64 {
        let state = lock(&self.state);
        let frames = state.buffer.len() / state.channels.max(1);
        frames as f64 * 1000.0 / OPUS_RATE as f64
    }

    /// Sends this source's audio on `queue` too, under `key`, until detached.
    pub fn attach(&self, key: u32, queue: SenderQueue) {
        lock(&self.state).attached.attach(key, queue);
    }

    #[napi]
    pub fn detach(&self, key: u32) {
        lock(&self.state).attached.detach(key);
    }

    /// Drops what is buffered and refuses more; the pump ends at its next tick.
    #[napi]
    pub fn stop(&self) {
        let mut state = lock(&self.state);
        state.stopped = true;
        state.buffer.clear();
        state.attached.clear();
    }
}

/// Why PCM in this layout cannot be taken, if it cannot.
fn check_format(len: usize, sample_rate: u32, channels: usize) -> Result<(), String> {
    if !(1..=2).contains(&channels) {
        return Err(format!("channelCount must be 1 or 2, got {channels}"));
    }
    if !(MIN_SAMPLE_RATE..=MAX_SAMPLE_RATE).contains(&sample_rate) {
        return Err(format!(
            "sampleRate must be {MIN_SAMPLE_RATE} to {MAX_SAMPLE_RATE}, got {sample_rate}"
        ));
    }
    if !len.is_multiple_of(channels) {
        return Err(format!(
            "{len} samples do not fill whole frames of {channels} channels"
        ));
    }
    Ok(())
}

/// Encodes and sends one frame every 20 ms while the source has audio, then ends; the next
/// push starts it again. Time is kept against a deadline, so frames leave at the real rate
/// however long encoding takes.
async fn pump(state: Arc<Mutex<SourceState>>) {
    let mut due = Instant::now();
    let mut short_ticks = 0;
    loop {
        {
            let mut guard = lock(&state);
            let channels = guard.channels.max(1);
            let frame_len = FRAME_SAMPLES * channels;
            if guard.stopped {
                guard.pumping = false;
                return;
            }
            let frame: Option<Vec<i16>> = if guard.buffer.len() >= frame_len {
                short_ticks = 0;
                Some(guard.buffer.drain(..frame_len).collect())
            } else if short_ticks < UNDERRUN_TICKS {
                short_ticks += 1;
                None
            } else if guard.buffer.is_empty() {
                guard.pumping = false;
                return;
            } else {
                // The writer paused mid-frame: send what it gave, padded with silence.
                let mut frame: Vec<i16> = guard.buffer.drain(..).collect();
                frame.resize(frame_len, 0);
                Some(frame)
            };
            if let Some(packet) = frame.and_then(|frame| encode(&mut guard, &frame)) {
                guard.attached.send(&packet, FRAME);
            }
        }
        due += FRAME;
        let now = Instant::now();
        if due + FRAME * 5 < now {
            due = now; // the runtime stalled: resume at the real rate, not in a burst
        }
        tokio::time::sleep_until(due).await;
    }
}

fn encode(state: &mut SourceState, frame: &[i16]) -> Option<Bytes> {
    let channels = state.channels;
    if state
        .encoder
        .as_ref()
        .is_none_or(|encoder| encoder.channels() != channels)
    {
        state.encoder = Encoder::new(channels)
            .inspect_err(|error| log::warn!("{error}"))
            .ok();
    }
    let encoder = state.encoder.as_mut()?;
    match encoder.encode(frame) {
        Ok(packet) => Some(Bytes::from(packet)),
        Err(error) => {
            log::warn!("{error}");
            None
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
    fn bad_formats_are_refused_saying_what_is_wrong() {
        for (len, rate, channels, named) in [
            (960, 48_000, 3, "channelCount"),
            (960, 100, 1, "sampleRate"),
            (961, 48_000, 2, "whole frames"),
        ] {
            let message = check_format(len, rate, channels).unwrap_err();
            assert!(message.contains(named), "{message}");
        }
        assert!(check_format(882, 44_100, 2).is_ok());
    }

    #[test]
    fn a_second_of_audio_leaves_as_fifty_frames_in_real_time() {
        crate::executor::tokio_runtime().block_on(async {
            let source = NativeAudioSource::new();
            let (writes, mut sent) = mpsc::unbounded_channel();
            let keyframe_wanted = Arc::new(AtomicBool::new(false));
            source.attach(
                1,
                SenderQueue {
                    writes,
                    keyframe_wanted,
                },
            );
            let started = Instant::now();
            assert!(source.push(&vec![1000; 48_000], 48_000, 1).unwrap());
            assert!(source.buffered_ms() > 900.0);
            // Two more seconds would run too far ahead of real time.
            assert!(!source.push(&vec![0; 96_000], 48_000, 1).unwrap());
            let mut frames = 0;
            while let Ok(Some(MediaWrite::Sample { duration, .. })) =
                tokio::time::timeout(Duration::from_millis(500), sent.recv()).await
            {
                assert_eq!(duration, FRAME);
                frames += 1;
            }
            let took = started.elapsed();
            assert_eq!(frames, 50);
            assert!(took >= Duration::from_millis(960), "{took:?}");
            source.stop();
            assert!(!source.push(&[0; 960], 48_000, 1).unwrap());
        });
    }
}
