//! Options as JS hands them over (already normalised by index.js), and their translation
//! into webrtc's configuration types.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use napi_derive::napi;
use rtc::ice::mdns::MulticastDnsMode;
use rtc::peer_connection::configuration::setting_engine::SctpMaxMessageSize;
use webrtc::data_channel::RTCDataChannelInit;
use webrtc::peer_connection::{
    RTCConfiguration, RTCConfigurationBuilder, RTCIceServer, RTCIceTransportPolicy, SettingEngine,
    SettingEngineBuilder,
};

use crate::error::NativeError;

#[napi(object)]
#[derive(Debug, Clone, Default)]
pub struct IceServerOptions {
    pub urls: Vec<String>,
    pub username: Option<String>,
    pub credential: Option<String>,
}

#[napi(object)]
#[derive(Debug, Clone, Default)]
pub struct ChannelOptions {
    pub label: String,
    pub ordered: Option<bool>,
    pub max_retransmits: Option<u32>,
    pub max_packet_life_time: Option<u32>,
    pub protocol: Option<String>,
    pub negotiated: Option<bool>,
    pub id: Option<u32>,
}

#[napi(object)]
#[derive(Debug, Clone, Default)]
pub struct PeerOptions {
    pub ice_servers: Vec<IceServerOptions>,
    /// `"all"` or `"relay"`.
    pub ice_transport_policy: Option<String>,
    /// The data channel to create locally (initiator, or a negotiated channel); none means
    /// wait for the remote's.
    pub channel: Option<ChannelOptions>,
    /// Local UDP addresses to bind; defaults to every IPv4 interface.
    pub bind_addresses: Option<Vec<String>>,
    /// ICE consent timers in milliseconds (defaults 5000, 10000, 2000; see
    /// `ICE_FAILED_TIMEOUT`).
    pub ice_disconnected_timeout: Option<u32>,
    pub ice_failed_timeout: Option<u32>,
    pub ice_keepalive_interval: Option<u32>,
    /// Bind ports from this range (inclusive) instead of ephemeral ones.
    pub port_range: Option<PortRange>,
    /// One UDP port every peer of this process shares, on each bind address.
    pub udp_mux_port: Option<u32>,
    /// Public addresses host candidates are signalled with: `"public"` or `"public/bound"`.
    #[napi(js_name = "nat1to1Ips")]
    pub nat1to1_ips: Option<Vec<String>>,
    /// Also gather loopback candidates when binding a wildcard address.
    pub include_loopback: Option<bool>,
    /// The largest data-channel message, in bytes (default and maximum 256 KiB). webrtc
    /// keeps a zero-filled buffer of this size per peer.
    pub max_message_size: Option<i64>,
}

#[napi(object)]
#[derive(Debug, Clone, Default)]
pub struct PortRange {
    pub min: u32,
    pub max: u32,
}

const ICE_CHECK_INTERVAL: Duration = Duration::from_millis(5);
/// Time from `disconnected` to `failed`. webrtc's 25 s reported a vanished remote ~30 s after
/// its last packet; libwebrtc (every browser) says `disconnected` at ~5 s and `failed` at
/// ~15 s, and so do we.
const ICE_FAILED_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a relayed pair waits, after checking began, for a direct pair to succeed first.
const RELAY_ACCEPTANCE_MIN_WAIT: Duration = Duration::from_millis(100);
const ICE_MAX_BINDING_REQUESTS: u16 = 280;
const DEFAULT_BIND_ADDRESSES: [&str; 1] = ["0.0.0.0:0"];
/// Stream writes larger than this are split into messages of this size: every WebRTC stack
/// handles it well, and webrtc's receive queues are bounded in messages (~512), so it also
/// bounds what a slow reader's side holds (~8 MiB plus SCTP's 1 MiB window).
#[napi]
pub const STREAM_MESSAGE_SIZE: u32 = 16 * 1024;
/// Below this, stream messages would not fit.
const MIN_MESSAGE_SIZE: u32 = STREAM_MESSAGE_SIZE;
/// What browsers accept, and the default: Chromium sends messages this large.
const MAX_MESSAGE_SIZE: u32 = SctpMaxMessageSize::MAX_MESSAGE_SIZE;

impl PeerOptions {
    pub fn rtc_configuration(&self) -> Result<RTCConfiguration, NativeError> {
        let ice_servers = self
            .ice_servers
            .iter()
            .map(|server| RTCIceServer {
                urls: server.urls.clone(),
                username: server.username.clone().unwrap_or_default(),
                credential: server.credential.clone().unwrap_or_default(),
            })
            .collect();
        let policy = match self.ice_transport_policy.as_deref() {
            None | Some("all") => RTCIceTransportPolicy::All,
            Some("relay") => RTCIceTransportPolicy::Relay,
            Some(other) => {
                return Err(NativeError::new(
                    "ERR_PC_CONSTRUCTOR",
                    format!("invalid iceTransportPolicy: {other}"),
                ))
            }
        };
        Ok(RTCConfigurationBuilder::new()
            .with_ice_servers(ice_servers)
            .with_ice_transport_policy(policy)
            .build())
    }

    pub fn setting_engine(&self) -> SettingEngine {
        let millis = |value: Option<u32>| value.map(|ms| Duration::from_millis(u64::from(ms)));
        SettingEngineBuilder::new()
            // Browsers accept 256 KiB messages; the 64 KiB default would refuse them.
            .with_sctp_max_message_size(self.sctp_max_message_size())
            // Remote `.local` candidates are ignored before they reach ICE (the remote's
            // checks find it anyway), so the per-peer mDNS query socket on 5353 was a file
            // descriptor, a 94 KB receive buffer and a multicast membership doing nothing.
            .with_multicast_dns_mode(MulticastDnsMode::Disabled)
            // A peer-reflexive pair is learnt when the remote's check beats its trickled
            // candidate (always, with browsers hiding host addresses behind mDNS); waiting
            // the default second for a better one only delays every such connect.
            .with_prflx_acceptance_min_wait(Some(Duration::ZERO))
            // A relayed pair was held back 2 s after checking began, in case a direct one
            // succeeded (libwebrtc takes what works and switches later): every connect through
            // a relay took 2 s. Relay-only there is nothing to wait for; otherwise a direct
            // pair that works answers within a round trip, so a short wait still prefers it.
            .with_relay_acceptance_min_wait(Some(self.relay_acceptance_min_wait()))
            // The controlling side nominates on a received check when it can, otherwise on
            // its next check tick, so the tick bounds the slow connects (measured: 25 ms ticks
            // gave a p90 of ~30 ms). 5 ms is RFC 8445's floor for Ta. Attempts are scaled to
            // keep webrtc's 1.4 s per-candidate window; once connected, keepalives set the pace.
            .with_ice_connection_attempts(Some(ICE_CHECK_INTERVAL), Some(ICE_MAX_BINDING_REQUESTS))
            // An ICE restart gathers on freshly bound sockets (webrtc re-enumerates the
            // interfaces), so a moved address is found; the old sockets go with the old pair.
            .with_discard_local_candidates_during_ice_restart(self.follows_interfaces())
            .with_ice_timeouts(
                millis(self.ice_disconnected_timeout),
                millis(self.ice_failed_timeout).or(Some(ICE_FAILED_TIMEOUT)),
                millis(self.ice_keepalive_interval),
            )
            .build()
    }

    pub fn is_relay_only(&self) -> bool {
        self.ice_transport_policy.as_deref() == Some("relay")
    }

    fn turn_urls(&self) -> impl Iterator<Item = &String> {
        self.ice_servers
            .iter()
            .flat_map(|server| &server.urls)
            .filter(|url| url.starts_with("turn:") || url.starts_with("turns:"))
    }

    /// TURN URLs webrtc skips without a word: `turns:` (TURN over TLS) has no client here.
    pub fn unsupported_turn_urls(&self) -> Vec<String> {
        self.turn_urls()
            .filter(|url| !is_supported_turn_url(url))
            .cloned()
            .collect()
    }

    /// How many TURN URLs a relay-only peer allocates on (0 unless the policy is 'relay').
    pub fn relay_only_turn_servers(&self) -> usize {
        if !self.is_relay_only() {
            return 0;
        }
        self.turn_urls()
            .filter(|url| is_supported_turn_url(url))
            .count()
    }

    fn relay_acceptance_min_wait(&self) -> Duration {
        if self.is_relay_only() {
            Duration::ZERO
        } else {
            RELAY_ACCEPTANCE_MIN_WAIT
        }
    }

    /// The largest message `send()` takes and SCTP negotiates: `maxMessageSize` held
    /// within what stream messages and browsers need.
    pub fn max_message_size(&self) -> u32 {
        self.max_message_size.map_or(MAX_MESSAGE_SIZE, |bytes| {
            bytes.clamp(i64::from(MIN_MESSAGE_SIZE), i64::from(MAX_MESSAGE_SIZE)) as u32
        })
    }

    fn sctp_max_message_size(&self) -> SctpMaxMessageSize {
        match self.max_message_size() {
            bytes if bytes < MAX_MESSAGE_SIZE => SctpMaxMessageSize::Bounded(bytes),
            _ => SctpMaxMessageSize::Unbounded,
        }
    }

    pub fn bind_addresses(&self) -> Vec<String> {
        match &self.bind_addresses {
            Some(addresses) if !addresses.is_empty() => addresses.clone(),
            _ => DEFAULT_BIND_ADDRESSES.map(String::from).to_vec(),
        }
    }

    /// Whether the peer binds "whatever interfaces there are" (wildcards on ephemeral ports,
    /// no shared port, range or loopback): then webrtc expands the wildcards itself, again on
    /// every ICE restart, and a restart rebinds, so it follows an address that came or went.
    pub fn follows_interfaces(&self) -> bool {
        self.udp_mux_port.is_none()
            && self.port_range.is_none()
            && !self.include_loopback.unwrap_or(false)
            && self.bind_addresses().iter().all(|text| {
                parse_bind_address(text)
                    .is_some_and(|addr| addr.port() == 0 && addr.ip().is_unspecified())
            })
    }
}

/// A bind address as configured: `ip:port`, or an IP alone (port 0).
pub fn parse_bind_address(text: &str) -> Option<SocketAddr> {
    text.parse::<SocketAddr>()
        .or_else(|_| text.parse::<IpAddr>().map(|ip| SocketAddr::new(ip, 0)))
        .ok()
}

/// The TURN URLs a relay is allocated on: `turn:` over UDP, or over TCP with `?transport=tcp`
/// (webrtc 0.21 allocated over UDP only; vendor/PATCHES.md).
fn is_supported_turn_url(url: &str) -> bool {
    url.starts_with("turn:")
}

impl ChannelOptions {
    pub fn init(&self) -> Result<RTCDataChannelInit, NativeError> {
        let as_u16 = |value: Option<u32>, name: &str| {
            value
                .map(|v| {
                    u16::try_from(v).map_err(|_| {
                        NativeError::new(
                            "ERR_DATA_CHANNEL",
                            format!("channelConfig.{name} out of range: {v}"),
                        )
                    })
                })
                .transpose()
        };
        let negotiated = if self.negotiated.unwrap_or(false) {
            Some(as_u16(Some(self.id.unwrap_or(0)), "id")?.unwrap_or(0))
        } else {
            None
        };
        Ok(RTCDataChannelInit {
            ordered: self.ordered.unwrap_or(true),
            max_packet_life_time: as_u16(self.max_packet_life_time, "maxPacketLifeTime")?,
            max_retransmits: as_u16(self.max_retransmits, "maxRetransmits")?,
            protocol: self.protocol.clone().unwrap_or_default(),
            negotiated,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transport_policy_is_checked() {
        let mut options = PeerOptions::default();
        assert!(options.rtc_configuration().is_ok());
        options.ice_transport_policy = Some("relay".into());
        assert_eq!(
            options.rtc_configuration().unwrap().ice_transport_policy(),
            RTCIceTransportPolicy::Relay
        );
        options.ice_transport_policy = Some("sideways".into());
        assert_eq!(
            options.rtc_configuration().unwrap_err().code,
            "ERR_PC_CONSTRUCTOR"
        );
    }

    #[test]
    fn channel_init_maps_simple_peer_channel_config() {
        let options = ChannelOptions {
            label: "x".into(),
            ordered: Some(false),
            max_retransmits: Some(3),
            negotiated: Some(true),
            id: Some(7),
            ..Default::default()
        };
        let init = options.init().unwrap();
        assert!(!init.ordered);
        assert_eq!(init.max_retransmits, Some(3));
        assert_eq!(init.negotiated, Some(7));
        let too_big = ChannelOptions {
            max_retransmits: Some(70_000),
            ..Default::default()
        };
        assert_eq!(
            too_big.init().err().map(|e| e.code),
            Some("ERR_DATA_CHANNEL")
        );
    }

    #[test]
    fn max_message_size_is_held_between_a_stream_message_and_what_browsers_take() {
        let with = |bytes| PeerOptions {
            max_message_size: bytes,
            ..Default::default()
        };
        assert_eq!(with(None).max_message_size(), 256 * 1024);
        assert_eq!(with(Some(65_536)).max_message_size(), 65_536);
        assert_eq!(with(Some(-5)).max_message_size(), STREAM_MESSAGE_SIZE);
        assert_eq!(with(Some(1 << 40)).max_message_size(), 256 * 1024);
        assert!(matches!(
            with(Some(1000)).sctp_max_message_size(),
            SctpMaxMessageSize::Bounded(STREAM_MESSAGE_SIZE)
        ));
        assert!(matches!(
            with(None).sctp_max_message_size(),
            SctpMaxMessageSize::Unbounded
        ));
    }

    #[test]
    fn binds_every_ipv4_interface_by_default() {
        assert_eq!(PeerOptions::default().bind_addresses(), vec!["0.0.0.0:0"]);
    }
}
