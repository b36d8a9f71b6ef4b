//! The one reader of ICE candidate lines (RFC 8839 §5.1), ours and the remote's:
//! `candidate:<foundation> <component> <transport> <priority> <address> <port> typ <type> …`.

use std::net::{IpAddr, SocketAddr};

pub struct CandidateLine<'a> {
    fields: Vec<&'a str>,
}

impl<'a> CandidateLine<'a> {
    pub fn parse(line: &'a str) -> Self {
        Self {
            fields: line.split_whitespace().collect(),
        }
    }

    /// 1 for RTP (and everything, with rtcp-mux), 2 for RTCP.
    pub fn component(&self) -> Option<&'a str> {
        self.fields.get(1).copied()
    }

    pub fn address(&self) -> Option<&'a str> {
        self.fields.get(4).copied()
    }

    /// `host`, `srflx`, `prflx` or `relay`.
    pub fn kind(&self) -> Option<&'a str> {
        (self.fields.get(6) == Some(&"typ"))
            .then(|| self.fields.get(7).copied())
            .flatten()
    }

    /// The address of a UDP candidate, when it is an IP address (not mDNS).
    pub fn udp_address(&self) -> Option<SocketAddr> {
        if !self.fields.get(2)?.eq_ignore_ascii_case("udp") {
            return None;
        }
        let ip: IpAddr = self.address()?.parse().ok()?;
        Some(SocketAddr::new(ip, self.fields.get(5)?.parse().ok()?))
    }

    /// A candidate no stack here can use: no address at all, or an mDNS name (the remote
    /// hides its host address, and its checks arrive as peer-reflexive ones anyway).
    pub fn is_unusable(&self) -> bool {
        self.address()
            .is_none_or(|address| address.ends_with(".local"))
    }

    /// The same line with another address and, when given, another port.
    pub fn with_address(&self, address: &str, port: Option<u16>) -> String {
        let port = port.map(|port| port.to_string());
        let mut fields = self.fields.clone();
        if let Some(slot) = fields.get_mut(4) {
            *slot = address;
        }
        if let (Some(slot), Some(port)) = (fields.get_mut(5), port.as_deref()) {
            *slot = port;
        }
        fields.join(" ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOST: &str = "candidate:1 1 UDP 2130706431 10.0.0.2 50000 typ host generation 0";

    #[test]
    fn reads_the_fields_of_a_host_candidate() {
        let line = CandidateLine::parse(HOST);
        assert_eq!(line.address(), Some("10.0.0.2"));
        assert_eq!(line.component(), Some("1"));
        assert_eq!(line.kind(), Some("host"));
        assert_eq!(
            line.udp_address(),
            Some(SocketAddr::from(([10, 0, 0, 2], 50000)))
        );
        assert!(!line.is_unusable());
    }

    #[test]
    fn udp_addresses_come_from_ip_candidates_only() {
        let mdns = CandidateLine::parse("candidate:1 1 udp 1 f00d.local 9 typ host");
        assert_eq!(mdns.udp_address(), None);
        assert!(mdns.is_unusable());
        let tcp = CandidateLine::parse("candidate:1 1 tcp 1 10.0.0.2 9 typ host tcptype active");
        assert_eq!(tcp.udp_address(), None);
        let short = CandidateLine::parse("candidate:1 1 udp");
        assert_eq!((short.udp_address(), short.kind()), (None, None));
        assert!(short.is_unusable());
    }

    #[test]
    fn with_address_replaces_address_and_port_only() {
        let line = CandidateLine::parse(HOST);
        assert_eq!(
            line.with_address("203.0.113.9", None),
            "candidate:1 1 UDP 2130706431 203.0.113.9 50000 typ host generation 0"
        );
        assert_eq!(
            line.with_address("203.0.113.9", Some(3478)),
            "candidate:1 1 UDP 2130706431 203.0.113.9 3478 typ host generation 0"
        );
    }
}
