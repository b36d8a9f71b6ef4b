//! Raw audio: Opus encoding and decoding (libopus transpiled to Rust, `unsafe-libopus`, so the
//! addon needs no system library) and resampling to Opus's 48 kHz. WebRTC negotiates Opus at
//! 48 kHz whatever the content, so that is the one rate frames are encoded and decoded at.

use std::ptr::NonNull;

use unsafe_libopus::{
    opus_decode, opus_decoder_create, opus_decoder_destroy, opus_encode, opus_encoder_create,
    opus_encoder_destroy, opus_packet_get_nb_channels, OpusDecoder, OpusEncoder,
    OPUS_APPLICATION_AUDIO, OPUS_OK,
};

pub const OPUS_RATE: u32 = 48_000;
/// The rates PCM is taken at (and resampled from).
pub const MIN_SAMPLE_RATE: u32 = 8_000;
pub const MAX_SAMPLE_RATE: u32 = 384_000;
/// 20 ms at 48 kHz: the frame browsers send and expect.
pub const FRAME_SAMPLES: usize = 960;
/// The longest Opus packet decodes to 120 ms.
const MAX_DECODED_SAMPLES: usize = 5_760;
/// RFC 7587 recommends at most 1275 bytes per frame; a 20 ms frame is far shorter.
const MAX_PACKET_BYTES: usize = 1_500;

/// One Opus encoder for interleaved 16-bit PCM at 48 kHz, mono or stereo.
pub struct Encoder {
    state: NonNull<OpusEncoder>,
    channels: usize,
}

// libopus state is plain memory with no thread affinity; each encoder is used by one task
// at a time, behind a lock.
unsafe impl Send for Encoder {}

impl Encoder {
    pub fn new(channels: usize) -> Result<Self, String> {
        let mut error = 0;
        // SAFETY: the arguments are checked by libopus, which returns null on failure.
        let state = unsafe {
            opus_encoder_create(
                OPUS_RATE as i32,
                channels as i32,
                OPUS_APPLICATION_AUDIO,
                &mut error,
            )
        };
        match NonNull::new(state) {
            Some(state) if error == OPUS_OK => Ok(Self { state, channels }),
            _ => Err(format!("cannot create an Opus encoder (error {error})")),
        }
    }

    pub fn channels(&self) -> usize {
        self.channels
    }

    /// Encodes one 20 ms frame (`FRAME_SAMPLES` per channel, interleaved).
    pub fn encode(&mut self, frame: &[i16]) -> Result<Vec<u8>, String> {
        assert_eq!(frame.len(), FRAME_SAMPLES * self.channels);
        let mut packet = vec![0u8; MAX_PACKET_BYTES];
        // SAFETY: `frame` holds FRAME_SAMPLES per channel and `packet` its stated length.
        let written = unsafe {
            opus_encode(
                self.state.as_ptr(),
                frame.as_ptr(),
                FRAME_SAMPLES as i32,
                packet.as_mut_ptr(),
                packet.len() as i32,
            )
        };
        if written < 0 {
            return Err(format!("Opus encoding failed (error {written})"));
        }
        packet.truncate(written as usize);
        Ok(packet)
    }
}

impl Drop for Encoder {
    fn drop(&mut self) {
        // SAFETY: created by opus_encoder_create and dropped once.
        unsafe { opus_encoder_destroy(self.state.as_ptr()) }
    }
}

/// Decodes one remote track's Opus packets to interleaved 16-bit PCM at 48 kHz, in as many
/// channels as the packets carry.
#[derive(Default)]
pub struct Decoder {
    state: Option<(NonNull<OpusDecoder>, usize)>,
}

unsafe impl Send for Decoder {}

/// Decoded audio: `samples` interleaved, `channels` of them per frame, at 48 kHz.
pub struct Pcm {
    pub samples: Vec<i16>,
    pub channels: usize,
}

impl Decoder {
    pub fn decode(&mut self, packet: &[u8]) -> Option<Pcm> {
        if packet.is_empty() || packet.len() > i32::MAX as usize {
            return None;
        }
        // SAFETY: reads the packet's first byte, which exists.
        let channels = match unsafe { opus_packet_get_nb_channels(packet.as_ptr()) } {
            2 => 2,
            _ => 1,
        };
        let state = self.state_for(channels)?;
        let mut samples = vec![0i16; MAX_DECODED_SAMPLES * channels];
        // SAFETY: `samples` holds MAX_DECODED_SAMPLES per channel, as the call is told.
        let decoded = unsafe {
            opus_decode(
                state.as_ptr(),
                packet.as_ptr(),
                packet.len() as i32,
                samples.as_mut_ptr(),
                MAX_DECODED_SAMPLES as i32,
                0,
            )
        };
        if decoded <= 0 {
            log::debug!(
                "Opus packet of {} bytes not decoded ({decoded})",
                packet.len()
            );
            return None;
        }
        samples.truncate(decoded as usize * channels);
        Some(Pcm { samples, channels })
    }

    /// A decoder for `channels`, made anew when the remote switches between mono and stereo.
    fn state_for(&mut self, channels: usize) -> Option<NonNull<OpusDecoder>> {
        if let Some((state, current)) = self.state {
            if current == channels {
                return Some(state);
            }
            self.release();
        }
        let mut error = 0;
        // SAFETY: checked arguments; null on failure.
        let state = unsafe { opus_decoder_create(OPUS_RATE as i32, channels as i32, &mut error) };
        let state = NonNull::new(state).filter(|_| error == OPUS_OK)?;
        self.state = Some((state, channels));
        Some(state)
    }

    fn release(&mut self) {
        if let Some((state, _)) = self.state.take() {
            // SAFETY: created by opus_decoder_create and released once.
            unsafe { opus_decoder_destroy(state.as_ptr()) }
        }
    }
}

impl Drop for Decoder {
    fn drop(&mut self) {
        self.release();
    }
}

/// Linear interpolation from any rate to 48 kHz, continuous across calls: the position
/// between input samples and the last input frame carry over, so chunks of any length
/// join without clicks. Speech and tones survive it; it is no studio resampler.
pub struct Resampler {
    rate: u32,
    channels: usize,
    /// Where the next output sample falls, in input samples after `last`.
    position: f64,
    last: Vec<i16>,
}

impl Resampler {
    pub fn new(rate: u32, channels: usize) -> Self {
        Self {
            rate,
            channels,
            position: 0.0,
            last: Vec::new(),
        }
    }

    pub fn matches(&self, rate: u32, channels: usize) -> bool {
        self.rate == rate && self.channels == channels
    }

    /// Appends `input` (interleaved, at `self.rate`) to `output` at 48 kHz.
    pub fn push(&mut self, input: &[i16], output: &mut impl Extend<i16>) {
        let channels = self.channels;
        if self.rate == OPUS_RATE {
            output.extend(input.iter().copied());
            return;
        }
        let frames = input.len() / channels;
        if frames == 0 {
            return;
        }
        let step = self.rate as f64 / OPUS_RATE as f64;
        // Input frame `i` of this call is frame `i + 1` here; frame 0 is the previous call's
        // last (or this call's first, at the start).
        let previous = if self.last.is_empty() {
            input[..channels].to_vec()
        } else {
            std::mem::take(&mut self.last)
        };
        let frame = |index: usize| -> &[i16] {
            if index == 0 {
                &previous
            } else {
                &input[(index - 1) * channels..index * channels]
            }
        };
        let mut position = self.position;
        while position < frames as f64 {
            let index = position as usize;
            let fraction = position - index as f64;
            let (from, to) = (frame(index), frame(index + 1));
            output.extend((0..channels).map(|channel| {
                let a = from[channel] as f64;
                let b = to[channel] as f64;
                (a + (b - a) * fraction).round() as i16
            }));
            position += step;
        }
        self.position = position - frames as f64;
        self.last = input[(frames - 1) * channels..frames * channels].to_vec();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sine(frequency: f64, rate: u32, samples: usize) -> Vec<i16> {
        (0..samples)
            .map(|n| {
                let t = n as f64 / rate as f64;
                ((2.0 * std::f64::consts::PI * frequency * t).sin() * 12_000.0) as i16
            })
            .collect()
    }

    /// Power at `frequency` against the signal's total (Goertzel).
    fn share_at(samples: &[i16], rate: u32, frequency: f64) -> f64 {
        let omega = 2.0 * std::f64::consts::PI * frequency / rate as f64;
        let coefficient = 2.0 * omega.cos();
        let (mut s1, mut s2) = (0.0, 0.0);
        for &sample in samples {
            let s0 = sample as f64 + coefficient * s1 - s2;
            s2 = s1;
            s1 = s0;
        }
        let power = s1 * s1 + s2 * s2 - coefficient * s1 * s2;
        let total: f64 = samples.iter().map(|&s| (s as f64).powi(2)).sum();
        2.0 * power / (total * samples.len() as f64)
    }

    #[test]
    fn a_tone_survives_encoding_and_decoding() {
        let mut encoder = Encoder::new(1).unwrap();
        let mut decoder = Decoder::default();
        let tone = sine(440.0, OPUS_RATE, FRAME_SAMPLES * 50);
        let mut decoded = Vec::new();
        for frame in tone.chunks(FRAME_SAMPLES) {
            let packet = encoder.encode(frame).unwrap();
            assert!(packet.len() < 400, "{} bytes", packet.len());
            let pcm = decoder.decode(&packet).unwrap();
            assert_eq!((pcm.channels, pcm.samples.len()), (1, FRAME_SAMPLES));
            decoded.extend(pcm.samples);
        }
        let steady = &decoded[FRAME_SAMPLES * 10..];
        assert!(share_at(steady, OPUS_RATE, 440.0) > 0.8);
        assert!(share_at(steady, OPUS_RATE, 660.0) < 0.05);
    }

    #[test]
    fn stereo_packets_decode_to_two_channels_and_garbage_to_nothing() {
        let mut encoder = Encoder::new(2).unwrap();
        let mut decoder = Decoder::default();
        let packet = encoder.encode(&vec![0; FRAME_SAMPLES * 2]).unwrap();
        let pcm = decoder.decode(&packet).unwrap();
        assert_eq!((pcm.channels, pcm.samples.len()), (2, FRAME_SAMPLES * 2));
        assert!(decoder.decode(&[]).is_none());
        // A code-3 packet claiming 63 frames in 2 bytes is invalid.
        assert!(decoder.decode(&[0xFF, 0xFF]).is_none());
    }

    #[test]
    fn resampling_keeps_the_pitch_and_joins_chunks() {
        let rate = 44_100;
        let tone = sine(440.0, rate, rate as usize);
        let mut resampler = Resampler::new(rate, 1);
        let mut output = Vec::new();
        for chunk in tone.chunks(441) {
            resampler.push(chunk, &mut output);
        }
        assert!(
            (output.len() as i64 - OPUS_RATE as i64).abs() <= 2,
            "{}",
            output.len()
        );
        assert!(share_at(&output, OPUS_RATE, 440.0) > 0.9);
        let mut stereo = Resampler::new(24_000, 2);
        let mut doubled = Vec::new();
        stereo.push(&[100, -100, 200, -200], &mut doubled);
        assert_eq!(doubled.len() % 2, 0);
        assert!(doubled.chunks(2).all(|frame| frame[0] == -frame[1]));
    }
}
