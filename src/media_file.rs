//! Encoded media files split into samples, so streaming a file is a loop over `next()`:
//! IVF (VP8, VP9, AV1; one frame per sample), H264 Annex-B (one access unit per sample) and
//! Ogg Opus (one packet per sample). Files are parsed whole when opened: clips are small,
//! and a truncated file is then an error at open rather than a surprise mid-stream.

use std::collections::VecDeque;

use napi::bindgen_prelude::Buffer;
use napi_derive::napi;

#[napi(object)]
pub struct MediaSample {
    pub data: Buffer,
    /// Milliseconds this sample plays for.
    pub duration: f64,
}

/// One file's samples, in order.
#[napi]
pub struct NativeMediaReader {
    codec: &'static str,
    samples: VecDeque<(Vec<u8>, f64)>,
}

fn invalid(message: impl Into<String>) -> napi::Error {
    napi::Error::new(napi::Status::InvalidArg, message.into())
}

#[napi]
impl NativeMediaReader {
    /// `fps` sets the frame duration of H264 files, which carry no timing (default 30).
    #[napi(constructor, catch_unwind)]
    pub fn new(path: String, fps: Option<f64>) -> napi::Result<Self> {
        let bytes = std::fs::read(&path).map_err(|err| invalid(format!("{path}: {err}")))?;
        let fps = fps
            .filter(|fps| fps.is_finite() && *fps > 0.0)
            .unwrap_or(30.0);
        let (codec, samples) =
            parse(&bytes, fps).map_err(|message| invalid(format!("{path}: {message}")))?;
        Ok(Self {
            codec,
            samples: samples.into(),
        })
    }

    /// `"vp8"`, `"vp9"`, `"av1"`, `"h264"` or `"opus"`.
    #[napi(getter)]
    pub fn codec(&self) -> String {
        self.codec.to_owned()
    }

    /// The next sample, or null at the end of the file.
    #[napi(catch_unwind)]
    pub fn next(&mut self) -> Option<MediaSample> {
        self.samples
            .pop_front()
            .map(|(data, duration)| MediaSample {
                data: data.into(),
                duration,
            })
    }
}

type Samples = Vec<(Vec<u8>, f64)>;

pub fn parse(bytes: &[u8], fps: f64) -> Result<(&'static str, Samples), String> {
    match bytes.get(..4) {
        Some(b"DKIF") => ivf(bytes),
        Some(b"OggS") => Ok(("opus", ogg_opus(bytes)?)),
        Some([0, 0, 0, 1]) | Some([0, 0, 1, _]) => Ok(("h264", h264(bytes, 1000.0 / fps))),
        _ => Err("not an IVF, Ogg Opus or H264 Annex-B file".to_owned()),
    }
}

fn le_u32(bytes: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(bytes.get(at..at + 4)?.try_into().ok()?))
}

fn ivf(bytes: &[u8]) -> Result<(&'static str, Samples), String> {
    let codec = match bytes.get(8..12) {
        Some(b"VP80") => "vp8",
        Some(b"VP90") => "vp9",
        Some(b"AV01") => "av1",
        _ => return Err("IVF with a codec other than VP8, VP9 or AV1".to_owned()),
    };
    let header_size = usize::from(u16::from_le_bytes([
        *bytes.get(6).ok_or("truncated IVF header")?,
        *bytes.get(7).ok_or("truncated IVF header")?,
    ]));
    let denominator = le_u32(bytes, 16).ok_or("truncated IVF header")?;
    let numerator = le_u32(bytes, 20).ok_or("truncated IVF header")?;
    if denominator == 0 || numerator == 0 {
        return Err("IVF header without a timebase".to_owned());
    }
    let tick_ms = 1000.0 * f64::from(numerator) / f64::from(denominator);

    let mut frames: Vec<(Vec<u8>, u64)> = Vec::new();
    let mut at = header_size.max(32);
    while at < bytes.len() {
        let size = le_u32(bytes, at).ok_or("truncated IVF frame header")? as usize;
        let pts = u64::from_le_bytes(
            bytes
                .get(at + 4..at + 12)
                .ok_or("truncated IVF frame header")?
                .try_into()
                .map_err(|_| "truncated IVF frame header")?,
        );
        let data = bytes
            .get(at + 12..at + 12 + size)
            .ok_or("truncated IVF frame")?;
        frames.push((data.to_vec(), pts));
        at += 12 + size;
    }
    // A frame lasts until the next one starts; the last one as long as the one before it.
    let mut samples = Vec::with_capacity(frames.len());
    let mut last_duration = tick_ms;
    for index in 0..frames.len() {
        let duration = match frames.get(index + 1) {
            Some((_, next)) if *next > frames[index].1 => (next - frames[index].1) as f64 * tick_ms,
            _ => last_duration,
        };
        last_duration = duration;
        let frame = std::mem::take(&mut frames[index].0);
        let frame = if codec == "av1" {
            without_temporal_delimiters(frame)
        } else {
            frame
        };
        samples.push((frame, duration));
    }
    Ok((codec, samples))
}

/// An AV1 temporal unit without its temporal delimiter OBUs, which RTP does not carry
/// (RFC 9628 / AV1 RTP spec 5): the sample then equals the frame the receiver rebuilds.
fn without_temporal_delimiters(unit: Vec<u8>) -> Vec<u8> {
    const TEMPORAL_DELIMITER: u8 = 2;
    let mut kept = Vec::with_capacity(unit.len());
    let mut at = 0;
    while at < unit.len() {
        let header = unit[at];
        let has_extension = header & 0x04 != 0;
        let has_size = header & 0x02 != 0;
        if !has_size {
            kept.extend_from_slice(&unit[at..]); // the rest is one OBU: keep it as it is
            break;
        }
        let mut cursor = at + 1 + usize::from(has_extension);
        let mut size = 0usize;
        let mut shift = 0;
        loop {
            let Some(&byte) = unit.get(cursor) else {
                return unit; // malformed: leave the sample untouched
            };
            size |= usize::from(byte & 0x7F) << shift;
            cursor += 1;
            shift += 7;
            if byte & 0x80 == 0 || shift > 56 {
                break;
            }
        }
        let end = (cursor + size).min(unit.len());
        if (header >> 3) & 0x0F != TEMPORAL_DELIMITER {
            kept.extend_from_slice(&unit[at..end]);
        }
        at = end;
    }
    kept
}

/// NAL units with their start codes removed.
fn nal_units(bytes: &[u8]) -> Vec<&[u8]> {
    let mut starts = Vec::new(); // (start code position, payload position)
    let mut index = 0;
    while index + 3 <= bytes.len() {
        if bytes[index] == 0 && bytes[index + 1] == 0 && bytes[index + 2] == 1 {
            let code_start = if index > 0 && bytes[index - 1] == 0 {
                index - 1
            } else {
                index
            };
            starts.push((code_start, index + 3));
            index += 3;
        } else {
            index += 1;
        }
    }
    starts
        .iter()
        .enumerate()
        .map(|(n, &(_, payload))| {
            let end = starts.get(n + 1).map_or(bytes.len(), |next| next.0);
            &bytes[payload..end]
        })
        .filter(|nal| !nal.is_empty())
        .collect()
}

/// Access units: the parameter sets and SEI before a picture travel with it, each NAL after
/// a 4-byte start code (what the RTP depacketizer gives back, so samples compare exactly).
fn h264(bytes: &[u8], frame_ms: f64) -> Samples {
    let mut samples = Vec::new();
    let mut unit = Vec::new();
    for nal in nal_units(bytes) {
        let nal_type = nal[0] & 0x1F;
        if nal_type == 9 {
            continue; // access unit delimiters are not sent over RTP
        }
        unit.extend_from_slice(&[0, 0, 0, 1]);
        unit.extend_from_slice(nal);
        if (1..=5).contains(&nal_type) {
            samples.push((std::mem::take(&mut unit), frame_ms));
        }
    }
    samples
}

/// Opus packets from Ogg pages (RFC 7845), OpusHead and OpusTags skipped.
fn ogg_opus(bytes: &[u8]) -> Result<Samples, String> {
    let mut packets: Vec<Vec<u8>> = Vec::new();
    let mut packet = Vec::new();
    let mut at = 0;
    while at < bytes.len() {
        if bytes.get(at..at + 4) != Some(b"OggS") {
            return Err("bad Ogg page".to_owned());
        }
        let segments = usize::from(*bytes.get(at + 26).ok_or("truncated Ogg page")?);
        let table = bytes
            .get(at + 27..at + 27 + segments)
            .ok_or("truncated Ogg page")?;
        let mut body = at + 27 + segments;
        for &lace in table {
            let lace = usize::from(lace);
            packet.extend_from_slice(bytes.get(body..body + lace).ok_or("truncated Ogg page")?);
            body += lace;
            if lace < 255 {
                packets.push(std::mem::take(&mut packet));
            }
        }
        at = body;
    }
    if packets.first().map(|p| p.starts_with(b"OpusHead")) != Some(true) {
        return Err("Ogg file without an Opus stream".to_owned());
    }
    Ok(packets
        .into_iter()
        .skip(2)
        .map(|packet| {
            let duration = opus_packet_ms(&packet);
            (packet, duration)
        })
        .filter(|(_, duration)| *duration > 0.0)
        .collect())
}

/// An Opus packet's duration from its TOC byte (RFC 6716 section 3.1).
fn opus_packet_ms(packet: &[u8]) -> f64 {
    let Some(&toc) = packet.first() else {
        return 0.0;
    };
    let config = toc >> 3;
    let frame_ms = match config {
        0..=11 => [10.0, 20.0, 40.0, 60.0][usize::from(config % 4)],
        12..=15 => [10.0, 20.0][usize::from(config % 2)],
        _ => [2.5, 5.0, 10.0, 20.0][usize::from(config % 4)],
    };
    let frames = match toc & 3 {
        0 => 1,
        1 | 2 => 2,
        _ => packet.get(1).map_or(0, |count| count & 0x3F),
    };
    frame_ms * f64::from(frames)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(name: &str) -> Vec<u8> {
        std::fs::read(format!(
            "{}/__test__/fixtures/media/{name}",
            env!("CARGO_MANIFEST_DIR")
        ))
        .unwrap()
    }

    #[test]
    fn ivf_files_give_one_sample_per_frame() {
        for (name, codec) in [("vp8.ivf", "vp8"), ("vp9.ivf", "vp9"), ("av1.ivf", "av1")] {
            let (found, samples) = parse(&fixture(name), 30.0).unwrap();
            assert_eq!(found, codec);
            assert_eq!(samples.len(), 30, "{name}");
            assert!(samples
                .iter()
                .all(|(_, ms)| (*ms - 1000.0 / 15.0).abs() < 0.01));
        }
        let first_vp8 = &parse(&fixture("vp8.ivf"), 30.0).unwrap().1[0].0;
        assert_eq!(first_vp8[0] & 1, 0, "a VP8 file starts with a keyframe");
    }

    #[test]
    fn h264_files_give_one_access_unit_per_frame() {
        let (codec, samples) = parse(&fixture("h264.h264"), 15.0).unwrap();
        assert_eq!(codec, "h264");
        assert_eq!(samples.len(), 30);
        // The first access unit carries SPS (7) and PPS (8) before its IDR picture (5).
        let types: Vec<u8> = nal_units(&samples[0].0)
            .iter()
            .map(|n| n[0] & 0x1F)
            .collect();
        assert!(
            types.starts_with(&[7, 8]) && types.ends_with(&[5]),
            "{types:?}"
        );
    }

    #[test]
    fn ogg_opus_gives_20_ms_packets() {
        let (codec, samples) = parse(&fixture("opus.ogg"), 30.0).unwrap();
        assert_eq!(codec, "opus");
        assert!((99..=101).contains(&samples.len()), "{}", samples.len());
        assert!(samples.iter().all(|(_, ms)| *ms == 20.0));
    }

    #[test]
    fn garbage_and_truncation_are_errors_not_panics() {
        assert!(parse(b"", 30.0).is_err());
        assert!(parse(b"hello world", 30.0).is_err());
        for name in ["vp8.ivf", "opus.ogg"] {
            let bytes = fixture(name);
            for cut in [5, 20, 40, bytes.len() - 3] {
                let _ = parse(&bytes[..cut], 30.0);
            }
        }
        assert!(parse(&fixture("vp8.ivf")[..100], 30.0).is_err());
    }
}
