//! getStats(): webrtc's report as the list of W3C-shaped objects simple-peer's callback gets.

use serde_json::Value;
use webrtc::peer_connection::{RTCStatsReport, RTCStatsReportEntry};

pub fn report_to_json(report: &RTCStatsReport) -> Value {
    let mut entries: Vec<Value> = report.iter().filter_map(entry_to_json).collect();
    link_candidate_pairs(&mut entries);
    Value::Array(entries)
}

/// webrtc 0.21 names a pair's candidates without the prefix its candidate entries carry
/// (`candidate:X` against `RTCLocalIceCandidate_candidate:X`); point them at the entries, so
/// code written for browsers (simple-peer's included) can follow the links.
fn link_candidate_pairs(entries: &mut [Value]) {
    let ids: Vec<String> = entries
        .iter()
        .filter(|entry| {
            matches!(
                entry["type"].as_str(),
                Some("local-candidate" | "remote-candidate")
            )
        })
        .filter_map(|entry| entry["id"].as_str().map(str::to_owned))
        .collect();
    let resolve = |reference: &str| {
        ids.iter()
            .find(|id| id.as_str() == reference || id.ends_with(&format!("_{reference}")))
            .cloned()
    };
    for entry in entries.iter_mut() {
        if entry["type"] != "candidate-pair" {
            continue;
        }
        for key in ["localCandidateId", "remoteCandidateId"] {
            if let Some(id) = entry[key].as_str().and_then(resolve) {
                entry[key] = Value::String(id);
            }
        }
    }
}

fn entry_to_json(entry: &RTCStatsReportEntry) -> Option<Value> {
    use RTCStatsReportEntry as E;
    let value = match entry {
        E::PeerConnection(s) => serde_json::to_value(s),
        E::Transport(s) => serde_json::to_value(s),
        E::IceCandidatePair(s) => serde_json::to_value(s),
        E::LocalCandidate(s) | E::RemoteCandidate(s) => serde_json::to_value(s),
        E::Certificate(s) => serde_json::to_value(s),
        E::Codec(s) => serde_json::to_value(s),
        E::DataChannel(s) => serde_json::to_value(s),
        E::InboundRtp(s) => serde_json::to_value(s),
        E::OutboundRtp(s) => serde_json::to_value(s),
        E::RemoteInboundRtp(s) => serde_json::to_value(s),
        E::RemoteOutboundRtp(s) => serde_json::to_value(s),
        E::AudioSource(s) => serde_json::to_value(s),
        E::VideoSource(s) => serde_json::to_value(s),
        E::AudioPlayout(s) => serde_json::to_value(s),
        _ => return None,
    };
    value.ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn pair_references_resolve_to_candidate_entries() {
        let mut entries = vec![
            json!({"type": "local-candidate", "id": "RTCLocalIceCandidate_candidate:a"}),
            json!({"type": "candidate-pair", "id": "p", "localCandidateId": "candidate:a", "remoteCandidateId": "candidate:gone"}),
        ];
        link_candidate_pairs(&mut entries);
        assert_eq!(
            entries[1]["localCandidateId"],
            "RTCLocalIceCandidate_candidate:a"
        );
        assert_eq!(entries[1]["remoteCandidateId"], "candidate:gone");
    }
}
