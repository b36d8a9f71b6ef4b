//! getStats(): webrtc's report as the list of W3C-shaped objects simple-peer's callback gets.

use serde_json::{json, Value};
use webrtc::peer_connection::{RTCIceCandidate, RTCStatsReport, RTCStatsReportEntry};

/// What ICE holds about the candidates, which webrtc's report states less fully than W3C.
#[derive(Default)]
pub struct IceCandidates {
    /// The selected pair's local and remote candidates.
    pub selected: Option<(RTCIceCandidate, RTCIceCandidate)>,
    pub local: Vec<RTCIceCandidate>,
    pub remote: Vec<RTCIceCandidate>,
}

pub fn report_to_json(report: &RTCStatsReport, ice: &IceCandidates) -> Vec<Value> {
    let mut entries: Vec<Value> = report.iter().filter_map(entry_to_json).collect();
    link_candidate_pairs(&mut entries);
    if let Some((local, remote)) = &ice.selected {
        add_selected_candidates(&mut entries, local, remote);
    }
    restore_candidate_details(&mut entries, ice);
    entries
}

/// webrtc 0.21 reports a candidate's priority as its top 16 bits, and `relayProtocol` on
/// every candidate, as "Unspecified" (it never learns it). W3C, and the browsers, give the
/// priority the candidate line carries, and `relayProtocol` on local relay candidates only.
fn restore_candidate_details(entries: &mut [Value], ice: &IceCandidates) {
    for entry in entries.iter_mut() {
        let (prefix, known) = match entry["type"].as_str() {
            Some("local-candidate") => ("RTCLocalIceCandidate_", &ice.local),
            Some("remote-candidate") => ("RTCRemoteIceCandidate_", &ice.remote),
            _ => continue,
        };
        let id = entry["id"].as_str().unwrap_or_default();
        let same_id = |candidate: &&RTCIceCandidate| id.strip_prefix(prefix) == Some(&candidate.id);
        let same_address = |candidate: &&RTCIceCandidate| {
            entry["address"] == candidate.address.as_str()
                && entry["port"] == candidate.port
                && entry["candidateType"] == candidate.typ.to_string().as_str()
        };
        let found = known
            .iter()
            .find(same_id)
            .or_else(|| known.iter().find(same_address));
        if let Some(candidate) = found {
            entry["priority"] = json!(candidate.priority);
        }
        let Some(fields) = entry.as_object_mut() else {
            continue;
        };
        if prefix == "RTCLocalIceCandidate_" && fields.get("candidateType") == Some(&json!("relay"))
        {
            let url = fields.get("url").and_then(Value::as_str);
            fields.insert("relayProtocol".into(), json!(relay_protocol(url)));
        } else {
            fields.remove("relayProtocol");
        }
    }
}

/// How a relay candidate's TURN server is reached, from its URL (RFC 7065).
fn relay_protocol(url: Option<&str>) -> &'static str {
    match url {
        Some(url) if url.starts_with("turns:") => "tls",
        Some(url) if url.contains("transport=tcp") => "tcp",
        _ => "udp",
    }
}

/// webrtc 0.21 leaves out of its report the candidates it did not learn from signalling: a
/// peer-reflexive remote, learnt from the remote's checks, is the usual one, and often the
/// selected pair's. Code that walks the report from the selected pair to the remote address
/// must find it, so a candidate the selected pair names and the report lacks is added from
/// what ICE holds for it.
fn add_selected_candidates(
    entries: &mut Vec<Value>,
    local: &RTCIceCandidate,
    remote: &RTCIceCandidate,
) {
    let Some(pair_id) = entries
        .iter()
        .find(|entry| entry["type"] == "transport")
        .and_then(|transport| transport["selectedCandidatePairId"].as_str())
        .map(str::to_owned)
    else {
        return;
    };
    let Some(pair) = entries.iter().find(|entry| entry["id"] == pair_id.as_str()) else {
        return;
    };
    let pair = pair.clone();
    for (key, kind, candidate) in [
        ("localCandidateId", "local-candidate", local),
        ("remoteCandidateId", "remote-candidate", remote),
    ] {
        let Some(id) = pair[key].as_str() else {
            continue;
        };
        if entries.iter().any(|entry| entry["id"] == id) {
            continue;
        }
        entries.push(json!({
            "id": id,
            "type": kind,
            "timestamp": pair["timestamp"],
            "transportId": pair["transportId"],
            "address": candidate.address,
            "port": candidate.port,
            "protocol": candidate.protocol.to_string(),
            "candidateType": candidate.typ.to_string(),
            "priority": candidate.priority,
            "foundation": candidate.foundation,
            "relatedAddress": candidate.related_address,
            "relatedPort": candidate.related_port,
        }));
    }
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

    #[test]
    fn candidates_get_their_full_priority_and_relay_protocol_where_it_belongs() {
        let mut entries = vec![
            json!({"type": "local-candidate", "id": "RTCLocalIceCandidate_candidate:a",
                "address": "10.0.0.1", "port": 5000, "candidateType": "host",
                "priority": 32512, "relayProtocol": "Unspecified"}),
            json!({"type": "local-candidate", "id": "RTCLocalIceCandidate_candidate:r",
                "address": "10.0.0.9", "port": 6000, "candidateType": "relay",
                "url": "turn:10.0.0.9:3478?transport=tcp", "relayProtocol": "Unspecified"}),
            json!({"type": "remote-candidate", "id": "RTCRemoteIceCandidate_other",
                "address": "10.0.0.2", "port": 7000, "candidateType": "host",
                "priority": 32512, "relayProtocol": "Unspecified"}),
        ];
        let local = RTCIceCandidate {
            id: "candidate:a".into(),
            priority: 2130706431,
            ..Default::default()
        };
        let remote = RTCIceCandidate {
            id: "unrelated".into(),
            address: "10.0.0.2".into(),
            port: 7000,
            typ: webrtc::peer_connection::RTCIceCandidateType::Host,
            priority: 2113937151,
            ..Default::default()
        };
        let ice = IceCandidates {
            local: vec![local],
            remote: vec![remote],
            ..Default::default()
        };
        restore_candidate_details(&mut entries, &ice);
        assert_eq!(entries[0]["priority"], 2130706431);
        assert_eq!(entries[2]["priority"], 2113937151, "matched by address");
        assert_eq!(entries[1]["relayProtocol"], "tcp");
        assert!(entries[0].get("relayProtocol").is_none());
        assert!(entries[2].get("relayProtocol").is_none());
        assert_eq!(relay_protocol(Some("turns:x:5349")), "tls");
        assert_eq!(relay_protocol(None), "udp");
    }

    #[test]
    fn a_selected_candidate_the_report_lacks_is_added() {
        let mut entries = vec![
            json!({"type": "transport", "id": "t", "selectedCandidatePairId": "p"}),
            json!({"type": "candidate-pair", "id": "p", "transportId": "t", "timestamp": 1.0,
                "localCandidateId": "l", "remoteCandidateId": "r"}),
            json!({"type": "local-candidate", "id": "l", "address": "10.0.0.1"}),
        ];
        let remote = RTCIceCandidate {
            address: "10.0.0.2".into(),
            port: 5000,
            priority: 7,
            ..Default::default()
        };
        add_selected_candidates(&mut entries, &RTCIceCandidate::default(), &remote);
        assert_eq!(
            entries.len(),
            4,
            "only the missing remote candidate is added"
        );
        let added = &entries[3];
        assert_eq!(added["id"], "r");
        assert_eq!(added["type"], "remote-candidate");
        assert_eq!(added["transportId"], "t");
        assert_eq!(added["address"], "10.0.0.2");
        assert_eq!(added["port"], 5000);
        assert_eq!(added["priority"], 7);
    }

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
