//! The server knobs of `opts.native` that webrtc 0.21 does not offer: which addresses to
//! bind (loopback included on request), a UDP port range, one shared UDP port for every
//! peer, and NAT 1:1 mapping of host candidates to public addresses.
//!
//! webrtc derives each host candidate from the address its socket is bound to, so the
//! mapping (and the shared port, whose per-peer sockets are placeholders) is applied to the
//! candidates and descriptions we signal; the remote then sends to the public address.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr, UdpSocket};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, OnceLock};

use crate::candidate::CandidateLine;
use crate::config::{parse_bind_address, PeerOptions};
use crate::error::NativeError;
use crate::mux::MuxSocket;

/// What a peer binds and how its host candidates are presented.
pub struct NetworkPlan {
    /// Handed to webrtc's `with_udp_addrs`.
    pub bind_addrs: Vec<SocketAddr>,
    /// Shared sockets this peer's placeholders are swapped for.
    pub mux: Vec<Arc<MuxSocket>>,
    pub rewriter: CandidateRewriter,
    /// Held while webrtc binds ports chosen from the range, so no other peer of this
    /// process picks the same ones in between.
    pub _port_range_guard: Option<tokio::sync::MutexGuard<'static, ()>>,
}

/// How signalled host candidates differ from the sockets webrtc bound.
#[derive(Debug, Default, Clone)]
pub struct CandidateRewriter {
    /// Bound IP → public IP (NAT 1:1).
    addresses: HashMap<IpAddr, IpAddr>,
    /// Public IP for every host candidate not listed above.
    any_address: Option<IpAddr>,
    /// Bound IP → the shared port that really receives for it.
    ports: HashMap<IpAddr, u16>,
}

fn constructor_error(message: String) -> NativeError {
    NativeError::new("ERR_PC_CONSTRUCTOR", message)
}

fn port_range_lock() -> &'static tokio::sync::Mutex<()> {
    static LOCK: OnceLock<tokio::sync::Mutex<()>> = OnceLock::new();
    LOCK.get_or_init(Default::default)
}

impl NetworkPlan {
    pub async fn new(options: &PeerOptions) -> Result<Self, NativeError> {
        let include_loopback = options.include_loopback.unwrap_or(false);
        let mut bind_addrs = if options.follows_interfaces() {
            // webrtc expands these at every bind, ICE-restart rebinds included.
            unexpanded_wildcards(&options.bind_addresses())
        } else {
            resolve_bind_addrs(&options.bind_addresses(), include_loopback)?
        };
        let mut rewriter = CandidateRewriter::from_nat_mapping(
            options.nat1to1_ips.as_deref().unwrap_or_default(),
        )?;
        let mut mux = Vec::new();
        let mut port_range_guard = None;

        if let Some(port) = options.udp_mux_port {
            let port = u16::try_from(port)
                .ok()
                .filter(|port| *port != 0)
                .ok_or_else(|| constructor_error(format!("invalid udpMuxPort: {port}")))?;
            for addr in &mut bind_addrs {
                let shared = SocketAddr::new(addr.ip(), port);
                let socket = MuxSocket::open(shared)
                    .map_err(|err| constructor_error(format!("udpMuxPort {shared}: {err}")))?;
                mux.push(socket);
                rewriter.ports.insert(addr.ip(), port);
                addr.set_port(0); // the placeholder webrtc binds
            }
        } else if let Some(range) = &options.port_range {
            let (min, max) = match (u16::try_from(range.min), u16::try_from(range.max)) {
                (Ok(min), Ok(max)) if min > 0 && min <= max => (min, max),
                _ => {
                    return Err(constructor_error(format!(
                        "invalid portRange: {}-{}",
                        range.min, range.max
                    )))
                }
            };
            port_range_guard = Some(port_range_lock().lock().await);
            for addr in bind_addrs.iter_mut().filter(|addr| addr.port() == 0) {
                let port = free_port_in_range(addr.ip(), min, max).ok_or_else(|| {
                    constructor_error(format!("no free UDP port in {min}-{max} on {}", addr.ip()))
                })?;
                addr.set_port(port);
            }
        }

        Ok(Self {
            bind_addrs,
            mux,
            rewriter,
            _port_range_guard: port_range_guard,
        })
    }
}

/// The configured wildcards as addresses, for webrtc to expand (see `follows_interfaces`).
fn unexpanded_wildcards(configured: &[String]) -> Vec<SocketAddr> {
    let mut wildcards: Vec<SocketAddr> = Vec::new();
    for addr in configured
        .iter()
        .filter_map(|text| parse_bind_address(text))
    {
        if !wildcards.contains(&addr) {
            wildcards.push(addr);
        }
    }
    wildcards
}

/// Configured addresses with wildcards expanded to this machine's interfaces. webrtc would
/// expand them too, but always without loopback.
fn resolve_bind_addrs(
    configured: &[String],
    include_loopback: bool,
) -> Result<Vec<SocketAddr>, NativeError> {
    let mut resolved: Vec<SocketAddr> = Vec::new();
    let mut push = |addr: SocketAddr| {
        if !resolved.contains(&addr) {
            resolved.push(addr);
        }
    };
    for text in configured {
        let addr = parse_bind_address(text)
            .ok_or_else(|| constructor_error(format!("invalid bind address: {text:?}")))?;
        if !addr.ip().is_unspecified() {
            push(addr);
            continue;
        }
        let interfaces = interface_ips(addr.is_ipv4(), include_loopback);
        if interfaces.is_empty() {
            push(addr); // nothing to expand into; webrtc falls back the same way
        }
        for ip in interfaces {
            push(SocketAddr::new(ip, addr.port()));
        }
    }
    Ok(resolved)
}

fn interface_ips(ipv4: bool, include_loopback: bool) -> Vec<IpAddr> {
    let Ok(interfaces) = rtc::shared::ifaces::ifaces() else {
        return Vec::new();
    };
    interfaces
        .into_iter()
        .filter_map(|interface| interface.addr.map(|addr| addr.ip()))
        .filter(|ip| ip.is_ipv4() == ipv4 && !ip.is_unspecified() && !is_link_local(ip))
        .filter(|ip| include_loopback || !ip.is_loopback())
        .collect()
}

fn is_link_local(ip: &IpAddr) -> bool {
    match ip {
        IpAddr::V4(ip) => ip.is_link_local(),
        IpAddr::V6(ip) => (ip.segments()[0] & 0xffc0) == 0xfe80,
    }
}

/// A port in `min..=max` that is free on `ip` now, tried round-robin so consecutive peers
/// do not all probe from the bottom of the range.
fn free_port_in_range(ip: IpAddr, min: u16, max: u16) -> Option<u16> {
    static CURSOR: AtomicU32 = AtomicU32::new(0);
    let span = u32::from(max - min) + 1;
    let start = CURSOR.fetch_add(1, Ordering::Relaxed) % span;
    (0..span)
        .map(|step| min + ((start + step) % span) as u16)
        .find(|port| UdpSocket::bind(SocketAddr::new(ip, *port)).is_ok())
}

impl CandidateRewriter {
    /// `nat1to1Ips` entries: `"public"` maps every host candidate, `"public/bound"` only the
    /// ones bound to that address.
    fn from_nat_mapping(entries: &[String]) -> Result<Self, NativeError> {
        let mut rewriter = Self::default();
        for entry in entries {
            let parse = |text: &str| {
                text.trim()
                    .parse::<IpAddr>()
                    .map_err(|_| constructor_error(format!("invalid nat1to1Ips entry: {entry:?}")))
            };
            match entry.split_once('/') {
                Some((public, bound)) => {
                    rewriter.addresses.insert(parse(bound)?, parse(public)?);
                }
                None if rewriter.any_address.is_none() => {
                    rewriter.any_address = Some(parse(entry)?)
                }
                None => {
                    return Err(constructor_error(
                        "nat1to1Ips: more than one public address needs \"public/bound\" pairs"
                            .to_owned(),
                    ))
                }
            }
        }
        Ok(rewriter)
    }

    pub fn is_identity(&self) -> bool {
        self.addresses.is_empty() && self.any_address.is_none() && self.ports.is_empty()
    }

    /// A candidate line (`candidate:...`) as the remote should see it.
    pub fn candidate(&self, line: &str) -> String {
        if self.is_identity() {
            return line.to_owned();
        }
        let parsed = CandidateLine::parse(line);
        let bound = match (parsed.kind(), parsed.address()) {
            (Some("host"), Some(address)) => address.parse::<IpAddr>().ok(),
            _ => None,
        };
        let Some(bound) = bound else {
            return line.to_owned();
        };
        let public = self.public_address(bound).to_string();
        parsed.with_address(&public, self.ports.get(&bound).copied())
    }

    /// A session description's candidate lines rewritten the same way.
    pub fn sdp(&self, sdp: &str) -> String {
        if self.is_identity() {
            return sdp.to_owned();
        }
        sdp.split_inclusive('\n')
            .map(|line| match line.strip_prefix("a=") {
                Some(rest) if rest.starts_with("candidate:") => {
                    let body = rest.trim_end_matches(['\r', '\n']);
                    let ending = &rest[body.len()..];
                    format!("a={}{ending}", self.candidate(body))
                }
                _ => line.to_owned(),
            })
            .collect()
    }

    fn public_address(&self, bound: IpAddr) -> IpAddr {
        self.addresses
            .get(&bound)
            .copied()
            .or(self.any_address)
            .unwrap_or(bound)
    }

    /// The port that really carries traffic for a socket webrtc reports as `(ip, port)`.
    pub fn local_port(&self, ip: IpAddr, port: u16) -> u16 {
        self.ports.get(&ip).copied().unwrap_or(port)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOST: &str = "candidate:1 1 udp 2130706431 10.0.0.2 50000 typ host generation 0";

    #[test]
    fn nat_mapping_rewrites_host_candidates_only() {
        let rewriter = CandidateRewriter::from_nat_mapping(&["203.0.113.9".into()]).unwrap();
        assert_eq!(
            rewriter.candidate(HOST),
            "candidate:1 1 udp 2130706431 203.0.113.9 50000 typ host generation 0"
        );
        let srflx = "candidate:2 1 udp 1 198.51.100.1 4000 typ srflx raddr 10.0.0.2 rport 5";
        assert_eq!(rewriter.candidate(srflx), srflx);
        assert_eq!(rewriter.candidate("garbage"), "garbage");
    }

    #[test]
    fn nat_pairs_map_only_their_bound_address() {
        let rewriter =
            CandidateRewriter::from_nat_mapping(&["203.0.113.9/10.0.0.3".into()]).unwrap();
        assert_eq!(rewriter.candidate(HOST), HOST);
        let other = HOST.replace("10.0.0.2", "10.0.0.3");
        assert!(rewriter.candidate(&other).contains(" 203.0.113.9 50000 "));
        assert!(CandidateRewriter::from_nat_mapping(&["nope".into()]).is_err());
        assert!(
            CandidateRewriter::from_nat_mapping(&["1.1.1.1".into(), "2.2.2.2".into()]).is_err()
        );
    }

    #[test]
    fn shared_port_replaces_the_placeholder_port_in_sdp() {
        let mut rewriter = CandidateRewriter::default();
        rewriter.ports.insert("10.0.0.2".parse().unwrap(), 3478);
        let sdp = format!("v=0\r\na=mid:0\r\na={HOST}\r\na=end-of-candidates\r\n");
        assert_eq!(
            rewriter.sdp(&sdp),
            "v=0\r\na=mid:0\r\na=candidate:1 1 udp 2130706431 10.0.0.2 3478 typ host generation 0\r\na=end-of-candidates\r\n"
        );
        assert_eq!(
            rewriter.local_port("10.0.0.2".parse().unwrap(), 50000),
            3478
        );
    }

    #[test]
    fn wildcards_expand_to_interfaces_with_loopback_on_request() {
        let without = resolve_bind_addrs(&["0.0.0.0".into()], false).unwrap();
        assert!(without.iter().all(|addr| !addr.ip().is_loopback()));
        let with = resolve_bind_addrs(&["0.0.0.0:0".into()], true).unwrap();
        assert!(with.iter().any(|addr| addr.ip().is_loopback()));
        assert!(resolve_bind_addrs(&["not an address".into()], false).is_err());
        let explicit = resolve_bind_addrs(&["127.0.0.1:4000".into()], false).unwrap();
        assert_eq!(explicit, vec![SocketAddr::from(([127, 0, 0, 1], 4000))]);
    }

    #[test]
    fn range_ports_are_free_ones() {
        let taken = UdpSocket::bind("127.0.0.1:0").unwrap();
        let port = taken.local_addr().unwrap().port();
        assert_eq!(
            free_port_in_range("127.0.0.1".parse().unwrap(), port, port),
            None
        );
        drop(taken);
        assert_eq!(
            free_port_in_range("127.0.0.1".parse().unwrap(), port, port),
            Some(port)
        );
    }
}
