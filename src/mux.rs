//! One UDP port shared by every peer (`native.udpMuxPort`). webrtc 0.21 binds a socket per
//! peer and has no mux, so each peer's driver binds a throwaway socket that our runtime
//! swaps for a `MuxedSocket`: a view of the shared socket that sends from it and receives
//! the datagrams routed to this peer. Routing is by remote address, learnt from the first
//! datagram we send there or from the ICE username in the remote's STUN check.

use std::collections::{HashMap, VecDeque};
use std::io::{self, IoSliceMut};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, OnceLock, Weak};
use std::task::{Context, Poll, Waker};

use bytes::Bytes;
use webrtc::runtime::{AsyncUdpSocket, RecvMeta, Transmit};

use crate::runtime::{deliver_datagram, enlarge_socket_buffers, lock, tokio_runtime};

/// Datagrams waiting for one peer's driver; past this they are dropped, as a full socket
/// buffer would.
const INBOX_CAPACITY: usize = 4096;
const MAX_DATAGRAM: usize = 65_536;

/// A shared socket, open while any peer uses it.
#[derive(Debug)]
pub struct MuxSocket {
    local_addr: SocketAddr,
    io: Arc<tokio::net::UdpSocket>,
    routes: Arc<Mutex<Routes>>,
    reader: tokio::task::JoinHandle<()>,
}

#[derive(Debug, Default)]
struct Routes {
    by_remote: HashMap<SocketAddr, Weak<Inbox>>,
    by_ufrag: HashMap<String, Weak<Inbox>>,
}

#[derive(Debug, Default)]
struct Inbox {
    state: Mutex<InboxState>,
}

#[derive(Debug, Default)]
struct InboxState {
    datagrams: VecDeque<(SocketAddr, Bytes)>,
    waker: Option<Waker>,
}

fn open_sockets() -> &'static Mutex<HashMap<SocketAddr, Weak<MuxSocket>>> {
    static OPEN: OnceLock<Mutex<HashMap<SocketAddr, Weak<MuxSocket>>>> = OnceLock::new();
    OPEN.get_or_init(Default::default)
}

impl MuxSocket {
    /// The shared socket bound to `addr`, binding it if no peer holds it yet.
    pub fn open(addr: SocketAddr) -> io::Result<Arc<Self>> {
        let mut open = lock(open_sockets());
        if let Some(socket) = open.get(&addr).and_then(Weak::upgrade) {
            return Ok(socket);
        }
        let std_socket = std::net::UdpSocket::bind(addr)?;
        std_socket.set_nonblocking(true)?;
        enlarge_socket_buffers(&std_socket);
        let _guard = tokio_runtime().enter();
        let io = Arc::new(tokio::net::UdpSocket::from_std(std_socket)?);
        let routes = Arc::new(Mutex::new(Routes::default()));
        let reader = tokio_runtime().spawn(read_loop(io.clone(), routes.clone()));
        let socket = Arc::new(Self {
            local_addr: addr,
            io,
            routes,
            reader,
        });
        open.retain(|_, socket| socket.strong_count() > 0);
        open.insert(addr, Arc::downgrade(&socket));
        Ok(socket)
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// A peer's view of this socket. `placeholder` is the address webrtc bound and keys
    /// its candidates by; `ufrag` is the peer's current local ICE username fragment.
    pub fn attach(
        self: &Arc<Self>,
        placeholder: SocketAddr,
        ufrag: Option<&str>,
    ) -> Arc<MuxedSocket> {
        let muxed = Arc::new(MuxedSocket {
            mux: self.clone(),
            placeholder,
            inbox: Arc::new(Inbox::default()),
        });
        if let Some(ufrag) = ufrag {
            muxed.route_ufrag(ufrag);
        }
        muxed
    }
}

impl Drop for MuxSocket {
    fn drop(&mut self) {
        // The reader owns the last handle to the socket: aborting it closes the port.
        self.reader.abort();
    }
}

async fn read_loop(io: Arc<tokio::net::UdpSocket>, routes: Arc<Mutex<Routes>>) {
    let mut buffer = vec![0u8; MAX_DATAGRAM];
    loop {
        let (len, from) = match io.recv_from(&mut buffer).await {
            Ok(received) => received,
            // ICMP errors from earlier sends surface here; the socket is still fine.
            Err(err) if is_transient(&err) => continue,
            Err(err) => {
                log::warn!("shared UDP socket stopped reading: {err}");
                return;
            }
        };
        let datagram = &buffer[..len];
        let Some(inbox) = route(&routes, from, datagram) else {
            continue;
        };
        let mut state = lock(&inbox.state);
        if state.datagrams.len() < INBOX_CAPACITY {
            state
                .datagrams
                .push_back((from, Bytes::copy_from_slice(datagram)));
            if let Some(waker) = state.waker.take() {
                waker.wake();
            }
        }
    }
}

fn is_transient(err: &io::Error) -> bool {
    matches!(
        err.kind(),
        io::ErrorKind::ConnectionRefused
            | io::ErrorKind::ConnectionReset
            | io::ErrorKind::Interrupted
            | io::ErrorKind::WouldBlock
    )
}

/// The peer a datagram from `from` belongs to: the one already talking to that address, or
/// the one whose ufrag a STUN check names (which then owns the address).
fn route(routes: &Mutex<Routes>, from: SocketAddr, datagram: &[u8]) -> Option<Arc<Inbox>> {
    let mut routes = lock(routes);
    if let Some(inbox) = routes.by_remote.get(&from).and_then(Weak::upgrade) {
        return Some(inbox);
    }
    let ufrag = stun_recipient_ufrag(datagram)?;
    let weak = routes.by_ufrag.get(ufrag)?.clone();
    let inbox = weak.upgrade()?;
    routes.by_remote.insert(from, weak);
    Some(inbox)
}

/// The recipient's ufrag in a STUN message's USERNAME ("recipient:sender"), if there is one.
pub fn stun_recipient_ufrag(datagram: &[u8]) -> Option<&str> {
    const MAGIC_COOKIE: [u8; 4] = [0x21, 0x12, 0xA4, 0x42];
    const USERNAME: u16 = 0x0006;
    if datagram.len() < 20 || datagram[0] & 0xC0 != 0 || datagram[4..8] != MAGIC_COOKIE {
        return None;
    }
    let declared = usize::from(u16::from_be_bytes([datagram[2], datagram[3]]));
    let mut attributes = datagram.get(20..20 + declared)?;
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

/// One peer's view of a shared socket.
#[derive(Debug)]
pub struct MuxedSocket {
    mux: Arc<MuxSocket>,
    placeholder: SocketAddr,
    inbox: Arc<Inbox>,
}

impl MuxedSocket {
    /// STUN checks naming `ufrag` reach this peer (called again after an ICE restart).
    pub fn route_ufrag(&self, ufrag: &str) {
        lock(&self.mux.routes)
            .by_ufrag
            .insert(ufrag.to_owned(), Arc::downgrade(&self.inbox));
    }
}

impl Drop for MuxedSocket {
    fn drop(&mut self) {
        let mut routes = lock(&self.mux.routes);
        routes.by_remote.retain(|_, inbox| inbox.strong_count() > 0);
        routes.by_ufrag.retain(|_, inbox| inbox.strong_count() > 0);
    }
}

impl AsyncUdpSocket for MuxedSocket {
    fn local_addr(&self) -> io::Result<SocketAddr> {
        Ok(self.placeholder)
    }

    fn poll_send(&self, cx: &mut Context<'_>, transmit: &Transmit<'_>) -> Poll<io::Result<usize>> {
        {
            let mut routes = lock(&self.mux.routes);
            let owner = routes.by_remote.get(&transmit.destination);
            if owner.is_none_or(|owner| owner.strong_count() == 0) {
                routes
                    .by_remote
                    .insert(transmit.destination, Arc::downgrade(&self.inbox));
            }
        }
        self.mux
            .io
            .poll_send_to(cx, transmit.contents, transmit.destination)
    }

    fn poll_recv(
        &self,
        cx: &mut Context<'_>,
        bufs: &mut [IoSliceMut<'_>],
        meta: &mut [RecvMeta],
    ) -> Poll<io::Result<usize>> {
        let mut state = lock(&self.inbox.state);
        let Some((from, datagram)) = state.datagrams.pop_front() else {
            state.waker = Some(cx.waker().clone());
            return Poll::Pending;
        };
        deliver_datagram(bufs, meta, &datagram, from, Some(self.placeholder.ip()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn binding_request(username: &[u8]) -> Vec<u8> {
        let mut attribute = vec![0x00, 0x06];
        attribute.extend_from_slice(&(username.len() as u16).to_be_bytes());
        attribute.extend_from_slice(username);
        while attribute.len() % 4 != 0 {
            attribute.push(0);
        }
        let mut packet = vec![0x00, 0x01];
        packet.extend_from_slice(&((attribute.len() + 8) as u16).to_be_bytes());
        packet.extend_from_slice(&[0x21, 0x12, 0xA4, 0x42]);
        packet.extend_from_slice(&[7; 12]);
        // An attribute before USERNAME, to walk past.
        packet.extend_from_slice(&[0x80, 0x29, 0x00, 0x04, 1, 2, 3, 4]);
        packet.extend_from_slice(&attribute);
        packet
    }

    #[test]
    fn reads_the_recipient_ufrag_of_a_stun_check() {
        let packet = binding_request(b"abcd:wxyz");
        assert_eq!(stun_recipient_ufrag(&packet), Some("abcd"));
        let odd = binding_request(b"abc:wxyz1");
        assert_eq!(stun_recipient_ufrag(&odd), Some("abc"));
    }

    #[test]
    fn ignores_what_is_not_stun_or_is_cut_short() {
        assert_eq!(stun_recipient_ufrag(b""), None);
        assert_eq!(stun_recipient_ufrag(&[0x80; 64]), None); // RTP/DTLS-looking
        let packet = binding_request(b"abcd:wxyz");
        for cut in 0..packet.len() {
            assert_eq!(stun_recipient_ufrag(&packet[..cut]), None);
        }
    }

    #[test]
    fn the_port_closes_with_its_last_user() {
        let socket = MuxSocket::open("127.0.0.1:0".parse().unwrap()).unwrap();
        let bound = socket.io.local_addr().unwrap();
        let again = MuxSocket::open(socket.local_addr()).unwrap();
        assert!(Arc::ptr_eq(&socket, &again));
        drop((socket, again));
        let mut free = false;
        for _ in 0..100 {
            if std::net::UdpSocket::bind(bound).is_ok() {
                free = true;
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        assert!(free, "{bound} still bound");
    }
}
