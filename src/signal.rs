//! Signalling data between simple-peer's JSON shapes and webrtc's types.

use serde_json::Value;
use webrtc::peer_connection::{RTCIceCandidate, RTCIceCandidateInit, RTCSessionDescription};

use crate::candidate::CandidateLine;
use crate::error::NativeError;
use crate::events::{IceCandidate, RemoteMedia, SessionDescription};
use crate::network::CandidateRewriter;

/// SDP larger than this is refused before parsing: no real session comes near it, and a
/// hostile one should not cost unbounded memory or time.
pub const MAX_SDP_BYTES: usize = 256 * 1024;
const MAX_CANDIDATE_BYTES: usize = 1024;
/// Remote candidates accepted per description, and trickled per peer. Real endpoints send a
/// handful; ICE checks every pair on each tick, so thousands would turn us into a packet
/// sprayer aimed wherever a hostile remote chose.
pub const MAX_REMOTE_CANDIDATES: usize = 200;

pub fn session_description(
    kind: &str,
    sdp: String,
    code: &'static str,
) -> Result<RTCSessionDescription, NativeError> {
    if sdp.len() > MAX_SDP_BYTES {
        return Err(NativeError::new(
            code,
            format!("SDP of {} bytes exceeds {MAX_SDP_BYTES}", sdp.len()),
        ));
    }
    let candidates = sdp
        .lines()
        .filter(|line| line.starts_with("a=candidate:"))
        .count();
    if candidates > MAX_REMOTE_CANDIDATES {
        return Err(NativeError::new(
            code,
            format!("SDP with {candidates} candidates exceeds {MAX_REMOTE_CANDIDATES}"),
        ));
    }
    let description = match kind {
        "offer" => RTCSessionDescription::offer(sdp),
        "answer" => RTCSessionDescription::answer(sdp),
        "pranswer" => RTCSessionDescription::pranswer(sdp),
        "rollback" => RTCSessionDescription::rollback(Some(sdp)),
        other => {
            return Err(NativeError::new(
                code,
                format!("unknown session description type: {other:?}"),
            ))
        }
    };
    description.map_err(|error| NativeError::new(code, error.to_string()))
}

pub fn candidate_init(
    candidate: String,
    sdp_mid: Option<String>,
    sdp_m_line_index: Option<u32>,
) -> Result<RTCIceCandidateInit, NativeError> {
    if candidate.len() > MAX_CANDIDATE_BYTES {
        return Err(NativeError::new(
            "ERR_ADD_ICE_CANDIDATE",
            "candidate line too long",
        ));
    }
    Ok(RTCIceCandidateInit {
        candidate,
        sdp_mid,
        sdp_mline_index: sdp_m_line_index.and_then(|index| u16::try_from(index).ok()),
        username_fragment: None,
        url: None,
    })
}

/// The media id of the first m-line: with bundling, every candidate belongs to it.
pub fn first_mid(sdp: &str) -> Option<String> {
    sdp.lines()
        .find_map(|line| line.trim_end().strip_prefix("a=mid:"))
        .map(str::to_owned)
}

/// Our ICE username fragment, which a remote's STUN checks name.
pub fn ice_ufrag(sdp: &str) -> Option<&str> {
    sdp.lines()
        .find_map(|line| line.trim_end().strip_prefix("a=ice-ufrag:"))
}

/// The audio and video sections of a description, in order.
pub fn remote_media(sdp: &str) -> Vec<RemoteMedia> {
    let mut sections: Vec<RemoteMedia> = Vec::new();
    let mut first_payload = None;
    for line in sdp.lines().map(str::trim_end) {
        if let Some(media) = line.strip_prefix("m=") {
            let fields: Vec<&str> = media.split_whitespace().collect();
            first_payload = fields.get(3).map(|pt| pt.to_string());
            if let Some(kind @ ("audio" | "video")) = fields.first().copied() {
                sections.push(RemoteMedia {
                    kind: kind.to_owned(),
                    sending: fields.get(1).is_some_and(|port| *port != "0"),
                    ..Default::default()
                });
            } else {
                first_payload = None;
                sections.push(RemoteMedia::default()); // not media: dropped below
            }
            continue;
        }
        let Some(section) = sections.last_mut() else {
            continue;
        };
        if let Some(mid) = line.strip_prefix("a=mid:") {
            section.mid = mid.to_owned();
        } else if matches!(line, "a=recvonly" | "a=inactive") {
            section.sending = false;
        } else if let Some(msid) = line.strip_prefix("a=msid:") {
            let mut fields = msid.split_whitespace();
            if let Some(stream) = fields.next().filter(|stream| *stream != "-") {
                section.stream_ids.push(stream.to_owned());
            }
            if let Some(track) = fields.next() {
                section.track_id = Some(track.to_owned());
            }
        } else if let Some(ssrc) = line.strip_prefix("a=ssrc:") {
            let mut fields = ssrc.split_whitespace();
            if let Some(ssrc) = fields.next().and_then(|ssrc| ssrc.parse().ok()) {
                if !section.ssrcs.contains(&ssrc) {
                    section.ssrcs.push(ssrc);
                }
            }
            // Plan B style `a=ssrc:N msid:stream track`, where there is no a=msid line.
            let attribute = fields.next().and_then(|field| field.strip_prefix("msid:"));
            if let (Some(stream), Some(track), None) =
                (attribute, fields.next(), section.track_id.as_ref())
            {
                section.stream_ids.push(stream.to_owned());
                section.track_id = Some(track.to_owned());
            }
        } else if let Some(rtpmap) = line.strip_prefix("a=rtpmap:") {
            let mut fields = rtpmap.split_whitespace();
            if fields.next() == first_payload.as_deref() && section.codec.is_empty() {
                if let Some(name) = fields.next().and_then(|codec| codec.split('/').next()) {
                    section.codec = name.to_ascii_lowercase();
                }
            }
        }
    }
    sections.retain(|section| !section.kind.is_empty());
    sections
}

/// Our description without the component-2 copies of candidates that webrtc 0.21 writes into
/// every section beside the component-1 ones. A section that multiplexes RTCP (`a=rtcp-mux`)
/// or has none (the data channel's) uses component 1 alone, so the copies only cost the
/// remote parsing, pairing and its candidate limits.
pub fn without_unused_components(sdp: &str) -> String {
    let mut kept = String::with_capacity(sdp.len());
    let mut section: Vec<&str> = Vec::new();
    let mut flush = |section: &mut Vec<&str>| {
        let single = section
            .first()
            .is_some_and(|m| m.starts_with("m=application"))
            || section.iter().any(|line| line.trim_end() == "a=rtcp-mux");
        for line in section.drain(..) {
            let rtcp_candidate = line
                .strip_prefix("a=")
                .filter(|rest| rest.starts_with("candidate:"))
                .is_some_and(|rest| CandidateLine::parse(rest).component() == Some("2"));
            if !(single && rtcp_candidate) {
                kept.push_str(line);
            }
        }
    };
    for line in sdp.split_inclusive('\n') {
        if line.starts_with("m=") {
            flush(&mut section);
        }
        section.push(line);
    }
    flush(&mut section);
    kept
}

/// A description in the shape simple-peer signals it.
pub fn description(description: RTCSessionDescription) -> SessionDescription {
    SessionDescription {
        kind: description.sdp_type.to_string(),
        sdp: description.sdp,
    }
}

/// A gathered candidate in the shape simple-peer signals it.
pub fn candidate_signal(
    candidate: &RTCIceCandidate,
    mid: &str,
    rewriter: &CandidateRewriter,
) -> Option<IceCandidate> {
    let init = candidate.to_json().ok()?;
    Some(IceCandidate {
        candidate: rewriter.candidate(&init.candidate),
        sdp_m_line_index: 0,
        sdp_mid: mid.to_owned(),
    })
}

/// Runs untrusted signalling input through every native parser it can reach: the JSON
/// shapes index.js forwards, session descriptions of each type, and candidate lines. Used by
/// the fuzz target; must never panic, whatever the bytes.
pub fn parse_untrusted(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    if let Ok(value) = serde_json::from_str::<Value>(&text) {
        if let (Some(kind), Some(sdp)) = (value["type"].as_str(), value["sdp"].as_str()) {
            let _ = session_description(kind, sdp.to_owned(), "ERR_SET_REMOTE_DESCRIPTION");
        }
        let candidate = &value["candidate"];
        if let Some(line) = candidate["candidate"].as_str() {
            let mid = candidate["sdpMid"].as_str().map(str::to_owned);
            let index = candidate["sdpMLineIndex"]
                .as_u64()
                .and_then(|n| u32::try_from(n).ok());
            if candidate_init(line.to_owned(), mid, index).is_ok() {
                let _ = rtc::ice::candidate::unmarshal_candidate(
                    line.strip_prefix("candidate:").unwrap_or(line),
                );
            }
        }
    }
    for kind in ["offer", "answer", "pranswer"] {
        let _ = session_description(kind, text.to_string(), "ERR_SET_REMOTE_DESCRIPTION");
    }
    let _ = first_mid(&text);
    if text.len() <= MAX_CANDIDATE_BYTES {
        let _ = rtc::ice::candidate::unmarshal_candidate(
            text.strip_prefix("candidate:").unwrap_or(&text),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remote_media_reads_what_each_section_sends() {
        let sdp = "v=0\r\na=group:BUNDLE 0 1 2 3\r\n\
            m=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\na=mid:0\r\n\
            m=video 9 UDP/TLS/RTP/SAVPF 96 97\r\na=mid:1\r\na=sendrecv\r\n\
            a=msid:stream-a track-1\r\na=rtpmap:96 VP8/90000\r\na=rtpmap:97 rtx/90000\r\n\
            a=ssrc:111 cname:x\r\na=ssrc:111 msid:stream-a track-1\r\na=ssrc:112 cname:x\r\n\
            m=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=mid:2\r\na=recvonly\r\na=rtpmap:111 opus/48000/2\r\n\
            m=video 0 UDP/TLS/RTP/SAVPF 96\r\na=mid:3\r\na=ssrc:7 msid:old-stream old-track\r\n";
        let media = remote_media(sdp);
        assert_eq!(
            media,
            vec![
                RemoteMedia {
                    mid: "1".into(),
                    kind: "video".into(),
                    sending: true,
                    track_id: Some("track-1".into()),
                    stream_ids: vec!["stream-a".into()],
                    ssrcs: vec![111, 112],
                    codec: "vp8".into(),
                },
                RemoteMedia {
                    mid: "2".into(),
                    kind: "audio".into(),
                    sending: false,
                    codec: "opus".into(),
                    ..Default::default()
                },
                RemoteMedia {
                    mid: "3".into(),
                    kind: "video".into(),
                    sending: false,
                    track_id: Some("old-track".into()),
                    stream_ids: vec!["old-stream".into()],
                    ssrcs: vec![7],
                    ..Default::default()
                },
            ]
        );
    }

    #[test]
    fn component_two_candidates_go_where_rtcp_is_muxed_or_absent() {
        let candidate = |component| {
            format!("a=candidate:1 {component} udp 2130706431 10.0.0.2 5000 typ host\r\n")
        };
        let (one, two) = (candidate(1), candidate(2));
        let sdp = format!(
            "v=0\r\nm=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\na=mid:0\r\n{one}{two}\
             m=video 9 UDP/TLS/RTP/SAVPF 96\r\na=mid:1\r\n{one}{two}a=rtcp-mux\r\n\
             m=audio 9 UDP/TLS/RTP/SAVP 111\r\na=mid:2\r\n{one}{two}"
        );
        let expected = format!(
            "v=0\r\nm=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\na=mid:0\r\n{one}\
             m=video 9 UDP/TLS/RTP/SAVPF 96\r\na=mid:1\r\n{one}a=rtcp-mux\r\n\
             m=audio 9 UDP/TLS/RTP/SAVP 111\r\na=mid:2\r\n{one}{two}"
        );
        assert_eq!(without_unused_components(&sdp), expected);
        assert_eq!(without_unused_components("v=0\r\n"), "v=0\r\n");
    }

    #[test]
    fn first_mid_reads_the_first_media_section() {
        let sdp = "v=0\r\nm=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\na=mid:0\r\nm=audio 9\r\na=mid:1\r\n";
        assert_eq!(first_mid(sdp).as_deref(), Some("0"));
        assert_eq!(first_mid("v=0\r\n"), None);
    }

    #[test]
    fn bad_descriptions_are_coded() {
        let error =
            session_description("bogus", "v=0".into(), "ERR_SET_REMOTE_DESCRIPTION").unwrap_err();
        assert_eq!(error.code, "ERR_SET_REMOTE_DESCRIPTION");
        let huge = "a".repeat(MAX_SDP_BYTES + 1);
        assert!(session_description("offer", huge, "ERR_SET_REMOTE_DESCRIPTION").is_err());
        let crowded =
            "a=candidate:1 1 udp 1 10.0.0.1 9 typ host\r\n".repeat(MAX_REMOTE_CANDIDATES + 1);
        let error =
            session_description("offer", crowded, "ERR_SET_REMOTE_DESCRIPTION").unwrap_err();
        assert!(error.message.contains("candidates"));
    }

    #[test]
    fn untrusted_input_never_panics() {
        for input in [
            &b""[..],
            b"\xff\xfe",
            b"v=0\r\nm=",
            br#"{"type":"offer","sdp":"v=0\r\n"}"#,
            br#"{"candidate":{"candidate":"candidate:1 1 udp 1 1.2.3.4 5 typ host","sdpMid":"0","sdpMLineIndex":0}}"#,
            b"candidate:1 1 udp 99999999999 x.local -1 typ bogus",
        ] {
            parse_untrusted(input);
        }
    }

    #[test]
    fn oversized_candidates_are_refused() {
        assert!(candidate_init("x".repeat(5000), None, None).is_err());
        let init = candidate_init(
            "candidate:1 1 udp 1 10.0.0.1 9 typ host".into(),
            Some("0".into()),
            Some(0),
        )
        .unwrap();
        assert_eq!(init.sdp_mline_index, Some(0));
    }
}
