//! Raw video: H264 encoding and decoding through OpenH264, built from the source bundled in
//! the `openh264` crate (no system library). Frames are I420, packed: the Y plane, then U
//! and V at half width and height, with no row padding.

use openh264::decoder::Decoder;
use openh264::encoder::{
    BitRate, Encoder, EncoderConfig, FrameRate, FrameType, IntraFramePeriod, RateControlMode,
    UsageType, VuiConfig,
};
use openh264::formats::{YUVBuffer, YUVSource};
use openh264::OpenH264API;

pub const MAX_DIMENSION: u32 = 4096;

/// The byte length of a packed I420 frame.
pub fn i420_len(width: u32, height: u32) -> usize {
    width as usize * height as usize * 3 / 2
}

/// Why a frame of these dimensions and length cannot be encoded, if it cannot.
pub fn check_frame(width: u32, height: u32, len: usize) -> Result<(), String> {
    if !(2..=MAX_DIMENSION).contains(&width) || !(2..=MAX_DIMENSION).contains(&height) {
        return Err(format!(
            "frame size must be 2 to {MAX_DIMENSION} pixels each way, got {width}x{height}"
        ));
    }
    if !width.is_multiple_of(2) || !height.is_multiple_of(2) {
        return Err(format!(
            "I420 frames have even dimensions, got {width}x{height}"
        ));
    }
    if len != i420_len(width, height) {
        return Err(format!(
            "an I420 frame of {width}x{height} is {} bytes, got {len}",
            i420_len(width, height)
        ));
    }
    Ok(())
}

pub struct I420 {
    pub width: u32,
    pub height: u32,
    pub data: Vec<u8>,
}

/// An H264 encoder for one source: constrained baseline as the SDP offers it, a keyframe at
/// least every 2 s at 30 fps, BT.601 colour signalled, re-created when the frame size changes.
pub struct H264Encoder {
    encoder: Encoder,
    size: (u32, u32),
}

impl H264Encoder {
    pub fn new(width: u32, height: u32) -> Result<Self, String> {
        // ~0.1 bit per pixel at 30 fps: 0.9 Mbit/s at 640x480, capped for large frames.
        let bitrate = (width * height * 3).clamp(100_000, 4_000_000);
        let config = EncoderConfig::new()
            .bitrate(BitRate::from_bps(bitrate))
            .max_frame_rate(FrameRate::from_hz(30.0))
            .rate_control_mode(RateControlMode::Bitrate)
            .usage_type(UsageType::CameraVideoRealTime)
            .intra_frame_period(IntraFramePeriod::from_num_frames(60))
            // I420 in is BT.601 limited range, as libwebrtc's and libyuv's: said in the stream,
            // or Chromium takes an unmarked one for BT.709 and greens come out dull.
            .vui(VuiConfig::bt601());
        let encoder = Encoder::with_api_config(OpenH264API::from_source(), config)
            .map_err(|error| format!("cannot create an H264 encoder: {error}"))?;
        Ok(Self {
            encoder,
            size: (width, height),
        })
    }

    pub fn size(&self) -> (u32, u32) {
        self.size
    }

    pub fn force_keyframe(&mut self) {
        self.encoder.force_intra_frame();
    }

    /// One frame's access unit in Annex-B, or None when the encoder produced nothing.
    pub fn encode(&mut self, frame: I420) -> Result<Option<Vec<u8>>, String> {
        let yuv = YUVBuffer::from_vec(frame.data, frame.width as usize, frame.height as usize);
        let stream = self
            .encoder
            .encode(&yuv)
            .map_err(|error| format!("H264 encoding failed: {error}"))?;
        if matches!(stream.frame_type(), FrameType::Skip | FrameType::Invalid) {
            return Ok(None);
        }
        let access_unit = stream.to_vec();
        Ok((!access_unit.is_empty()).then_some(access_unit))
    }
}

/// Decodes one remote track's access units (Annex-B) to packed I420.
pub struct H264Decoder {
    decoder: Decoder,
}

impl H264Decoder {
    pub fn new() -> Result<Self, String> {
        let decoder =
            Decoder::new().map_err(|error| format!("cannot create an H264 decoder: {error}"))?;
        Ok(Self { decoder })
    }

    /// The picture an access unit completes: None while the decoder waits for more (or for
    /// a keyframe); Err when the stream is broken, and a keyframe should be asked for.
    pub fn decode(&mut self, access_unit: &[u8]) -> Result<Option<I420>, String> {
        let Some(picture) = self
            .decoder
            .decode(access_unit)
            .map_err(|error| format!("H264 decoding failed: {error}"))?
        else {
            return Ok(None);
        };
        let (width, height) = picture.dimensions();
        let (y_stride, u_stride, v_stride) = picture.strides();
        let mut data = Vec::with_capacity(width * height * 3 / 2);
        let mut copy_plane = |plane: &[u8], stride: usize, width: usize, height: usize| {
            for row in plane.chunks(stride).take(height) {
                data.extend_from_slice(&row[..width]);
            }
        };
        copy_plane(picture.y(), y_stride, width, height);
        copy_plane(picture.u(), u_stride, width / 2, height / 2);
        copy_plane(picture.v(), v_stride, width / 2, height / 2);
        Ok(Some(I420 {
            width: width as u32,
            height: height as u32,
            data,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Four flat quadrants in I420: luma and chroma picked per quadrant.
    fn quadrants(width: u32, height: u32, colours: [(u8, u8, u8); 4]) -> I420 {
        let (w, h) = (width as usize, height as usize);
        let quadrant = |x: usize, y: usize| usize::from(x >= w / 2) + 2 * usize::from(y >= h / 2);
        let mut data = Vec::with_capacity(i420_len(width, height));
        data.extend((0..w * h).map(|i| colours[quadrant(i % w, i / w)].0));
        for plane in [1, 2] {
            data.extend((0..w * h / 4).map(|i| {
                let colour = colours[quadrant((i % (w / 2)) * 2, (i / (w / 2)) * 2)];
                if plane == 1 {
                    colour.1
                } else {
                    colour.2
                }
            }));
        }
        I420 {
            width,
            height,
            data,
        }
    }

    #[test]
    fn frames_survive_encoding_and_decoding() {
        let colours = [
            (76, 85, 255),
            (150, 44, 21),
            (29, 255, 107),
            (235, 128, 128),
        ];
        let mut encoder = H264Encoder::new(160, 120).unwrap();
        let mut decoder = H264Decoder::new().unwrap();
        let mut decoded = None;
        for _ in 0..5 {
            let access_unit = encoder
                .encode(quadrants(160, 120, colours))
                .unwrap()
                .unwrap();
            assert_eq!(&access_unit[..4], &[0, 0, 0, 1]);
            decoded = decoder.decode(&access_unit).unwrap().or(decoded);
        }
        let picture = decoded.expect("a decoded picture");
        assert_eq!((picture.width, picture.height), (160, 120));
        assert_eq!(picture.data.len(), i420_len(160, 120));
        // The centre of each quadrant, within codec tolerance.
        for (index, colour) in colours.iter().enumerate() {
            let (x, y) = (40 + 80 * (index % 2), 30 + 60 * (index / 2));
            let luma = picture.data[y * 160 + x];
            let u = picture.data[160 * 120 + (y / 2) * 80 + x / 2];
            let v = picture.data[160 * 120 * 5 / 4 + (y / 2) * 80 + x / 2];
            for (got, want) in [(luma, colour.0), (u, colour.1), (v, colour.2)] {
                assert!(
                    got.abs_diff(want) <= 12,
                    "quadrant {index}: {got} for {want}"
                );
            }
        }
    }

    #[test]
    fn bad_frames_are_described() {
        assert!(check_frame(160, 120, 28_800).is_ok());
        assert!(check_frame(161, 120, 28_980).unwrap_err().contains("even"));
        assert!(check_frame(160, 120, 100)
            .unwrap_err()
            .contains("28800 bytes"));
        assert!(check_frame(0, 120, 0).unwrap_err().contains("2 to 4096"));
        // Garbage from the network neither panics nor yields a picture.
        let mut decoder = H264Decoder::new().unwrap();
        assert!(!matches!(
            decoder.decode(&[0, 0, 0, 1, 0x65, 0xff, 0x00]),
            Ok(Some(_))
        ));
    }
}
