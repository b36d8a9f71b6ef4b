//! The little of STUN (RFC 5389) we read ourselves, before webrtc's ICE agent sees a
//! datagram: whether it is a connectivity check, and whom its USERNAME names.

const MAGIC_COOKIE: [u8; 4] = [0x21, 0x12, 0xA4, 0x42];
const BINDING_REQUEST: u16 = 0x0001;
const USERNAME: u16 = 0x0006;
const HEADER_LEN: usize = 20;

/// A datagram that is a well-formed STUN message, as far as its header and attribute
/// framing go.
pub struct StunMessage<'a> {
    message_type: u16,
    attributes: &'a [u8],
}

impl<'a> StunMessage<'a> {
    pub fn parse(datagram: &'a [u8]) -> Option<Self> {
        if datagram.len() < HEADER_LEN || datagram[0] & 0xC0 != 0 || datagram[4..8] != MAGIC_COOKIE
        {
            return None;
        }
        let declared = usize::from(u16::from_be_bytes([datagram[2], datagram[3]]));
        Some(Self {
            message_type: u16::from_be_bytes([datagram[0], datagram[1]]),
            attributes: datagram.get(HEADER_LEN..HEADER_LEN + declared)?,
        })
    }

    /// An ICE connectivity check (a binding request).
    pub fn is_binding_request(&self) -> bool {
        self.message_type == BINDING_REQUEST
    }

    /// The recipient's ufrag in USERNAME ("recipient:sender"), if there is one.
    pub fn recipient_ufrag(&self) -> Option<&'a str> {
        let mut attributes = self.attributes;
        while attributes.len() >= 4 {
            let kind = u16::from_be_bytes([attributes[0], attributes[1]]);
            let size = usize::from(u16::from_be_bytes([attributes[2], attributes[3]]));
            let value = attributes.get(4..4 + size)?;
            if kind == USERNAME {
                let username = std::str::from_utf8(value).ok()?;
                return username.split(':').next();
            }
            let padded = (size + 3) & !3;
            attributes = attributes.get(4 + padded..).unwrap_or_default();
        }
        None
    }
}

/// The recipient's ufrag of a STUN message, if the datagram is one and names it.
pub fn recipient_ufrag(datagram: &[u8]) -> Option<&str> {
    StunMessage::parse(datagram)?.recipient_ufrag()
}

#[cfg(test)]
pub mod tests {
    use super::*;

    /// A binding request naming `username`, with another attribute before it to walk past.
    pub fn binding_request(username: &[u8]) -> Vec<u8> {
        let mut attribute = vec![0x00, 0x06];
        attribute.extend_from_slice(&(username.len() as u16).to_be_bytes());
        attribute.extend_from_slice(username);
        while attribute.len() % 4 != 0 {
            attribute.push(0);
        }
        let mut packet = vec![0x00, 0x01];
        packet.extend_from_slice(&((attribute.len() + 8) as u16).to_be_bytes());
        packet.extend_from_slice(&MAGIC_COOKIE);
        packet.extend_from_slice(&[7; 12]);
        packet.extend_from_slice(&[0x80, 0x29, 0x00, 0x04, 1, 2, 3, 4]);
        packet.extend_from_slice(&attribute);
        packet
    }

    #[test]
    fn reads_the_recipient_ufrag_of_a_stun_check() {
        let packet = binding_request(b"abcd:wxyz");
        assert_eq!(recipient_ufrag(&packet), Some("abcd"));
        let odd = binding_request(b"abc:wxyz1");
        assert_eq!(recipient_ufrag(&odd), Some("abc"));
        assert!(StunMessage::parse(&packet).unwrap().is_binding_request());
    }

    #[test]
    fn a_response_is_stun_but_no_check() {
        let mut response = binding_request(b"abcd:wxyz");
        response[..2].copy_from_slice(&[0x01, 0x01]);
        let message = StunMessage::parse(&response).unwrap();
        assert!(!message.is_binding_request());
    }

    #[test]
    fn ignores_what_is_not_stun_or_is_cut_short() {
        assert_eq!(recipient_ufrag(b""), None);
        assert!(StunMessage::parse(&[0x80; 64]).is_none()); // RTP/DTLS-looking
        let packet = binding_request(b"abcd:wxyz");
        for cut in 0..packet.len() {
            assert_eq!(recipient_ufrag(&packet[..cut]), None);
        }
    }
}
