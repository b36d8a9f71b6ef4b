//! One UDP port shared by every peer (`native.udpMuxPort`). webrtc 0.21 binds a socket per
//! peer and has no mux, so each peer's driver binds a throwaway socket that our runtime
//! swaps for a `MuxedSocket`: a view of the shared socket that sends from it and receives
//! the datagrams routed to this peer. Routing is by remote address, learnt from the first
//! datagram we send there or from the ICE username in the remote's STUN check.

use std::collections::{HashMap, VecDeque};
use std::io::{self, IoSliceMut};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock, Weak};
use std::task::{Context, Poll, Waker};

use bytes::Bytes;
use webrtc::runtime::{AsyncUdpSocket, RecvMeta, Transmit};

use crate::executor::tokio_runtime;
use crate::stun;
use crate::sync::lock;
use crate::udp::{deliver_datagram, enlarge_socket_buffers};

/// Datagrams waiting for one peer's driver; past this they are dropped, as a full socket
/// buffer would.
const INBOX_CAPACITY: usize = 4096;
const MAX_DATAGRAM: usize = 65_536;

/// How long the reader thread waits for a datagram before it looks whether the socket is
/// still in use: it ends, closing the port, at most this long after the last peer left.
const READER_POLL_INTERVAL_MS: libc::c_int = 200;
/// Datagrams read in one go before the peers they woke get to run.
const READ_BURST: usize = 256;

/// A shared socket, open while any peer uses it.
#[derive(Debug)]
pub struct MuxSocket {
    local_addr: SocketAddr,
    io: Arc<tokio::net::UdpSocket>,
    routes: Arc<Mutex<Routes>>,
    reading: Arc<AtomicBool>,
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
        let reader_socket = std_socket.try_clone()?;
        let _guard = tokio_runtime().enter();
        let io = Arc::new(tokio::net::UdpSocket::from_std(std_socket)?);
        let routes = Arc::new(Mutex::new(Routes::default()));
        let reading = Arc::new(AtomicBool::new(true));
        // Its own thread, not a tokio task: among thousands of peer tasks a task reader waited
        // its turn while the socket buffer overflowed (5,000 peers on one port dropped a third
        // of their datagrams and lost ICE consent).
        let (thread_routes, thread_reading) = (routes.clone(), reading.clone());
        std::thread::Builder::new()
            .name("spn-udp-mux".into())
            .spawn(move || read_loop(reader_socket, thread_routes, thread_reading))?;
        let socket = Arc::new(Self {
            local_addr: addr,
            io,
            routes,
            reading,
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
        // The reader thread holds the last handle to the socket: when it ends, the port closes.
        self.reading.store(false, Ordering::Release);
    }
}

fn read_loop(socket: std::net::UdpSocket, routes: Arc<Mutex<Routes>>, reading: Arc<AtomicBool>) {
    let mut buffer = vec![0u8; MAX_DATAGRAM];
    let mut woken = Vec::new();
    while reading.load(Ordering::Acquire) {
        if !wait_readable(&socket) {
            continue;
        }
        for _ in 0..READ_BURST {
            let (len, from) = match socket.recv_from(&mut buffer) {
                Ok(received) => received,
                Err(err) if err.kind() == io::ErrorKind::WouldBlock => break,
                // ICMP errors from earlier sends surface here; the socket is still fine.
                Err(err) if is_transient(&err) => continue,
                Err(err) => {
                    log::warn!("shared UDP socket stopped reading: {err}");
                    return;
                }
            };
            woken.extend(deliver(&routes, from, &buffer[..len]));
        }
        woken.drain(..).for_each(Waker::wake);
    }
}

/// Queues a datagram for the peer it belongs to; the waker to call, if that peer waits.
fn deliver(routes: &Mutex<Routes>, from: SocketAddr, datagram: &[u8]) -> Option<Waker> {
    let inbox = route(routes, from, datagram)?;
    let mut state = lock(&inbox.state);
    if state.datagrams.len() >= INBOX_CAPACITY {
        return None;
    }
    state
        .datagrams
        .push_back((from, Bytes::copy_from_slice(datagram)));
    state.waker.take()
}

/// Whether a datagram is waiting, after at most `READER_POLL_INTERVAL_MS`.
fn wait_readable(socket: &std::net::UdpSocket) -> bool {
    use std::os::fd::AsRawFd;
    let mut waiting = libc::pollfd {
        fd: socket.as_raw_fd(),
        events: libc::POLLIN,
        revents: 0,
    };
    // SAFETY: one valid pollfd for a socket this thread owns.
    unsafe { libc::poll(&mut waiting, 1, READER_POLL_INTERVAL_MS) > 0 }
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
    let ufrag = stun::recipient_ufrag(datagram)?;
    let weak = routes.by_ufrag.get(ufrag)?.clone();
    let inbox = weak.upgrade()?;
    routes.by_remote.insert(from, weak);
    Some(inbox)
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

    #[test]
    fn a_check_naming_a_ufrag_routes_its_source_to_that_peer() {
        let routes = Mutex::new(Routes::default());
        let inbox = Arc::new(Inbox::default());
        lock(&routes)
            .by_ufrag
            .insert("abcd".into(), Arc::downgrade(&inbox));
        let from = SocketAddr::from(([10, 0, 0, 2], 5000));
        assert!(route(&routes, from, b"not stun").is_none());
        let check = crate::stun::tests::binding_request(b"abcd:wxyz");
        assert!(Arc::ptr_eq(&route(&routes, from, &check).unwrap(), &inbox));
        // Everything else from that address follows the check, STUN or not.
        assert!(Arc::ptr_eq(&route(&routes, from, b"dtls").unwrap(), &inbox));
        let stranger = crate::stun::tests::binding_request(b"zzzz:wxyz");
        let elsewhere = SocketAddr::from(([10, 0, 0, 3], 5000));
        assert!(route(&routes, elsewhere, &stranger).is_none());
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
