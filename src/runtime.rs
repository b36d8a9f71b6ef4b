//! The per-peer `webrtc::runtime::Runtime`, which tunes what the crate leaves to its
//! runtime: socket buffer sizes, timer wake-ups, and reads webrtc would leave parked.

use std::collections::VecDeque;
use std::future::Future;
use std::io::{self, IoSliceMut};
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicU8, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use webrtc::runtime::{
    AsyncInterval, AsyncTcpListener, AsyncTcpStream, AsyncUdpSocket, JoinHandle, RecvMeta, Runtime,
    TokioRuntime, Transmit,
};

use crate::executor::tokio_runtime;
use crate::mux::{MuxSocket, MuxedSocket};
use crate::stun::StunMessage;
use crate::sync::lock;
use crate::udp::{deliver_datagram, enlarge_socket_buffers};

/// One per peer connection. It delegates to the crate's `TokioRuntime`, with two changes:
///
/// - UDP sockets get 4 MiB send and receive buffers.
/// - After the driver loop is woken by a packet or a command (its timer future is dropped
///   unfired), the next timer it asks for fires at once. The driver computes its next
///   deadline before the packet it just handled advanced DTLS/SCTP state, so without this
///   each handshake step waits for the following timer tick (~200 ms per step).
/// - `wake_driver()` fires the sleep the driver is in now. webrtc's `add_ice_candidate`
///   asks ICE for a connectivity check but does not wake the driver, so without this a
///   trickled candidate waits for the driver's next timer (up to a second).
/// - With `udpMuxPort`, the sockets webrtc binds are placeholders, swapped for views of
///   the shared socket (see mux.rs).
/// - `resume_reads()` makes the driver pull messages SCTP parked (see `ReadResume`).
/// - It notes where ICE checks come from (see `CheckSources`), and reads the ones that came
///   before the remote description again once it is applied (see `EarlyChecks`).
#[derive(Debug)]
pub struct PeerRuntime {
    inner: TokioRuntime,
    timers: Arc<TimerControl>,
    shared_sockets: Mutex<SharedSockets>,
    read_resume: Arc<ReadResume>,
    check_sources: Arc<CheckSources>,
    early_checks: Arc<EarlyChecks>,
}

#[derive(Debug, Default)]
struct SharedSockets {
    /// Addresses of the shared sockets, one per bound IP. Only addresses: a closed peer
    /// must not keep the port open, and a rebind after an ICE restart reopens it.
    addrs: Vec<SocketAddr>,
    local_ufrag: Option<String>,
    attached: Vec<Weak<MuxedSocket>>,
}

#[derive(Debug, Default)]
struct TimerControl {
    /// The next sleep fires at once.
    wake_early: AtomicBool,
    /// The sleep being waited on now fires at once.
    fire_now: AtomicBool,
    sleeper: Mutex<Option<Waker>>,
    /// Timed waits the driver has begun: one per pass of its loop that found nothing to do.
    sleeps: AtomicU64,
}

impl PeerRuntime {
    pub fn new() -> Arc<Self> {
        Arc::new(Self {
            inner: TokioRuntime,
            timers: Arc::default(),
            shared_sockets: Mutex::default(),
            read_resume: Arc::default(),
            check_sources: Arc::default(),
            early_checks: Arc::default(),
        })
    }

    /// Sockets webrtc binds on these addresses' IPs become views of the shared sockets.
    pub fn use_shared_sockets(&self, addrs: Vec<SocketAddr>) {
        lock(&self.shared_sockets).addrs = addrs;
    }

    /// Routes STUN checks naming `ufrag` to this peer on the shared sockets.
    pub fn set_local_ufrag(&self, ufrag: &str) {
        let mut shared = lock(&self.shared_sockets);
        if shared.addrs.is_empty() || shared.local_ufrag.as_deref() == Some(ufrag) {
            return;
        }
        shared.local_ufrag = Some(ufrag.to_owned());
        shared.attached.retain(|socket| socket.strong_count() > 0);
        for socket in shared.attached.iter().filter_map(Weak::upgrade) {
            socket.route_ufrag(ufrag);
        }
    }

    fn shared_view(&self, socket: &std::net::UdpSocket) -> io::Result<Option<Arc<MuxedSocket>>> {
        let mut shared = lock(&self.shared_sockets);
        let placeholder = socket.local_addr()?;
        let Some(addr) = shared
            .addrs
            .iter()
            .find(|addr| addr.ip() == placeholder.ip())
            .copied()
        else {
            return Ok(None);
        };
        let view = MuxSocket::open(addr)?.attach(placeholder, shared.local_ufrag.as_deref());
        shared.attached.push(Arc::downgrade(&view));
        Ok(Some(view))
    }

    /// How many timed waits the driver has begun: what an idle peer's CPU is made of.
    pub fn driver_sleeps(&self) -> u64 {
        self.timers.sleeps.load(Ordering::Relaxed)
    }

    /// Makes the driver hand over messages SCTP parked while the application was behind.
    pub fn resume_reads(&self) {
        self.read_resume.request();
    }

    /// The remote description is about to be applied: checks read from now on reach a
    /// running ICE agent.
    pub fn remote_description_applying(&self) {
        *lock(&self.check_sources.agent_started) = Some(Instant::now());
    }

    /// The remote description is applied: ICE has the remote's credentials, so the checks
    /// that came before it can be answered now.
    pub fn remote_description_applied(&self) {
        if self.early_checks.replay() {
            self.read_resume.wake();
        }
    }

    /// Whether a connectivity check from `addr` has reached the ICE agent since the remote
    /// description was applied, making `addr` a peer-reflexive candidate unless it already
    /// was a remote candidate.
    pub fn checked_from(&self, addr: SocketAddr) -> bool {
        let Some(started) = *lock(&self.check_sources.agent_started) else {
            return false;
        };
        lock(&self.check_sources.recent)
            .iter()
            .any(|(from, at)| *from == addr && *at >= started)
    }

    /// Makes the driver run its timeout handling now.
    pub fn wake_driver(&self) {
        self.timers.fire_now.store(true, Ordering::Release);
        self.timers.wake_early.store(true, Ordering::Release);
        let sleeper = lock(&self.timers.sleeper).take();
        if let Some(waker) = sleeper {
            waker.wake();
        }
    }
}

impl Runtime for PeerRuntime {
    fn spawn(&self, future: Pin<Box<dyn Future<Output = ()> + Send>>) -> Box<dyn JoinHandle> {
        let _guard = tokio_runtime().enter();
        self.inner.spawn(future)
    }

    fn wrap_udp_socket(&self, socket: std::net::UdpSocket) -> io::Result<Arc<dyn AsyncUdpSocket>> {
        let inner: Arc<dyn AsyncUdpSocket> = match self.shared_view(&socket)? {
            Some(view) => view, // the placeholder closes here
            None => {
                enlarge_socket_buffers(&socket);
                let _guard = tokio_runtime().enter();
                self.inner.wrap_udp_socket(socket)?
            }
        };
        Ok(Arc::new(PeerSocket {
            local: inner.local_addr().ok(),
            inner,
            read_resume: self.read_resume.clone(),
            check_sources: self.check_sources.clone(),
            early_checks: self.early_checks.clone(),
        }))
    }

    fn wrap_tcp_listener(
        &self,
        listener: std::net::TcpListener,
    ) -> io::Result<Arc<dyn AsyncTcpListener>> {
        let _guard = tokio_runtime().enter();
        self.inner.wrap_tcp_listener(listener)
    }

    fn connect_tcp<'a>(
        &'a self,
        remote_addr: SocketAddr,
    ) -> Pin<Box<dyn Future<Output = io::Result<Arc<dyn AsyncTcpStream>>> + Send + 'a>> {
        self.inner.connect_tcp(remote_addr)
    }

    fn resolve_host<'a>(
        &'a self,
        host: &'a str,
    ) -> Pin<Box<dyn Future<Output = io::Result<Vec<SocketAddr>>> + Send + 'a>> {
        self.inner.resolve_host(host)
    }

    fn sleep(&self, duration: Duration) -> Pin<Box<dyn Future<Output = ()> + Send + 'static>> {
        let immediate = self.timers.wake_early.swap(false, Ordering::AcqRel);
        self.timers.sleeps.fetch_add(1, Ordering::Relaxed);
        let timer = if immediate || duration.is_zero() {
            None
        } else {
            let _guard = tokio_runtime().enter();
            Some(Box::pin(tokio::time::sleep(duration)))
        };
        Box::pin(EarlyWakeSleep {
            timer,
            fired: false,
            control: self.timers.clone(),
        })
    }

    fn interval(&self, period: Duration) -> Box<dyn AsyncInterval> {
        let _guard = tokio_runtime().enter();
        self.inner.interval(period)
    }

    fn block_on(&self, future: Pin<Box<dyn Future<Output = ()> + '_>>) {
        tokio_runtime().block_on(future)
    }

    fn yield_now(&self) -> Pin<Box<dyn Future<Output = ()> + Send + 'static>> {
        self.inner.yield_now()
    }

    fn name(&self) -> &'static str {
        "simple-peer-native"
    }
}

/// A sleep that fires early on `wake_driver()`, and that, when dropped before firing, asks
/// for the next sleep to fire at once.
struct EarlyWakeSleep {
    timer: Option<Pin<Box<tokio::time::Sleep>>>,
    fired: bool,
    control: Arc<TimerControl>,
}

impl Future for EarlyWakeSleep {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let fire_now = self.control.fire_now.swap(false, Ordering::AcqRel);
        if !fire_now {
            if let Some(timer) = self.timer.as_mut() {
                if timer.as_mut().poll(cx).is_pending() {
                    *lock(&self.control.sleeper) = Some(cx.waker().clone());
                    // A wake that landed before the waker was stored must not be lost.
                    if !self.control.fire_now.swap(false, Ordering::AcqRel) {
                        return Poll::Pending;
                    }
                }
            }
        }
        self.fired = true;
        Poll::Ready(())
    }
}

impl Drop for EarlyWakeSleep {
    fn drop(&mut self) {
        if !self.fired {
            self.control.wake_early.store(true, Ordering::Release);
        }
    }
}

/// webrtc sends a run of same-size datagrams with one GSO `sendmsg` only when the run is at
/// least 16 long, or as long as the socket's GSO limit if that is lower. SCTP's bursts are
/// mostly shorter, so almost every datagram cost a syscall. Reporting a limit of 6 makes runs
/// of 6 qualify: measured in one process on loopback, bulk data went from ~1.3 to ~0.7 CPU
/// seconds per 64 MiB (and ~100 to ~150 MB/s); 4, 7 and 10 measured worse than 6.
const GSO_SEGMENT_LIMIT: usize = 6;

/// The datagram `ReadResume` feeds the driver: one byte outside every RFC 7983 range, from
/// an address that is no candidate, so the ICE agent discards it (no consent, no stats on
/// the candidate pair; only the transport's received-packet count sees it).
const RESUME_DATAGRAM: u8 = 0xff;

/// A way to make the driver hand over data channel messages SCTP has parked.
///
/// The SCTP layer (rtc 0.21) stops moving messages out of its reassembly queue once 256
/// wait undelivered, and moves the rest only while handling an inbound datagram: webrtc's
/// driver drains with `poll_data_read`, which never asks SCTP for more. When a burst of
/// small messages ends, its tail stayed parked until the next ICE keepalive, 1 to 2 s later
/// (measured: 200,000 100-byte messages took ~2 s, half of it waiting for the last few
/// hundred). So once the channel task has taken a run of messages, it asks for a datagram
/// of our own making, which the driver reads like any other and which resumes SCTP.
#[derive(Debug, Default)]
struct ReadResume {
    requested: AtomicBool,
    waker: Mutex<Option<Waker>>,
}

impl ReadResume {
    fn request(&self) {
        self.requested.store(true, Ordering::Release);
        if let Some(waker) = lock(&self.waker).take() {
            waker.wake();
        }
    }

    /// Wakes a driver waiting on its sockets, which then reads them again.
    fn wake(&self) {
        if let Some(waker) = lock(&self.waker).take() {
            waker.wake();
        }
    }

    fn take_request(&self) -> bool {
        // Read first: this runs on every receive, and a swap would write the line each time.
        self.requested.load(Ordering::Acquire) && self.requested.swap(false, Ordering::AcqRel)
    }

    fn wait(&self, cx: &Context<'_>) {
        // The driver also probes sockets with a no-op waker (null data; `will_wake` cannot
        // tell, its vtable is a per-crate constant); keeping it would lose the real one.
        if cx.waker().data().is_null() {
            return;
        }
        let mut waker = lock(&self.waker);
        if !waker.as_ref().is_some_and(|w| w.will_wake(cx.waker())) {
            *waker = Some(cx.waker().clone());
        }
    }
}

/// The sources of the last few STUN binding requests (ICE checks) the driver read.
///
/// rtc-ice 0.21 makes a check from an unknown address a peer-reflexive candidate, and when
/// the same address is then signalled, adds it a second time: a second pair that is never
/// validated (responses are matched to the first), and while it ranks best the controlling
/// side nominates only on its next check tick. The remote's first check usually beats its
/// trickled candidate, so this slowed about one connect in twenty by ~5 ms.
#[derive(Debug, Default)]
struct CheckSources {
    recent: Mutex<VecDeque<(SocketAddr, Instant)>>,
    agent_started: Mutex<Option<Instant>>,
}

const CHECK_SOURCES_KEPT: usize = 16;

impl CheckSources {
    fn note(&self, from: SocketAddr) {
        let mut recent = lock(&self.recent);
        recent.retain(|(seen, _)| *seen != from);
        if recent.len() == CHECK_SOURCES_KEPT {
            recent.pop_front();
        }
        recent.push_back((from, Instant::now()));
    }
}

/// Connectivity checks that arrived before the remote description gave ICE the remote's
/// credentials. rtc-ice 0.21 drops them ("password is empty"), although answering a check
/// needs only our own (RFC 8445 §7.3); a remote that checks before our answer reaches it
/// (an answerer with trickle off, as aiortc does) then waits for its retransmission timer,
/// 500 ms in aiortc's case. So they are kept, and read again once the description is
/// applied: the agent answers them then and learns their sources as peer-reflexive.
#[derive(Debug, Default)]
struct EarlyChecks {
    /// HOLDING, REPLAYING or DONE. Read for every datagram, so an atomic rather than the lock.
    phase: AtomicU8,
    held: Mutex<Vec<HeldCheck>>,
}

#[derive(Debug)]
struct HeldCheck {
    /// The socket it arrived on, which must read it again: ICE pairs by local candidate.
    socket: Option<SocketAddr>,
    from: SocketAddr,
    dst_ip: Option<IpAddr>,
    datagram: Vec<u8>,
}

const HOLDING: u8 = 0;
const REPLAYING: u8 = 1;
const DONE: u8 = 2;
/// A remote sends a check per candidate pair every few tens of milliseconds; the first few
/// per pair are all that matter.
const EARLY_CHECKS_KEPT: usize = 32;

impl EarlyChecks {
    /// Keeps a check (a datagram already known to be a binding request) while holding.
    fn hold(
        &self,
        socket: Option<SocketAddr>,
        datagram: &[u8],
        from: SocketAddr,
        dst_ip: Option<IpAddr>,
    ) {
        if self.phase.load(Ordering::Acquire) != HOLDING {
            return;
        }
        let mut held = lock(&self.held);
        if held.len() < EARLY_CHECKS_KEPT {
            held.push(HeldCheck {
                socket,
                from,
                dst_ip,
                datagram: datagram.to_vec(),
            });
        }
    }

    /// Starts the replay; true when there is anything to read again.
    fn replay(&self) -> bool {
        let held = lock(&self.held);
        if self.phase.load(Ordering::Acquire) != HOLDING {
            return false;
        }
        let next = if held.is_empty() { DONE } else { REPLAYING };
        self.phase.store(next, Ordering::Release);
        next == REPLAYING
    }

    fn take(&self, socket: Option<SocketAddr>) -> Option<HeldCheck> {
        if self.phase.load(Ordering::Acquire) != REPLAYING {
            return None;
        }
        let mut held = lock(&self.held);
        let index = held.iter().position(|check| check.socket == socket)?;
        let check = held.remove(index);
        if held.is_empty() {
            self.phase.store(DONE, Ordering::Release);
        }
        Some(check)
    }
}

/// Every UDP socket a peer's driver reads: the OS socket or a view of the shared one, with
/// a lower GSO limit, the `ReadResume` datagram, check sources noted and early checks held.
#[derive(Debug)]
struct PeerSocket {
    inner: Arc<dyn AsyncUdpSocket>,
    local: Option<SocketAddr>,
    read_resume: Arc<ReadResume>,
    check_sources: Arc<CheckSources>,
    early_checks: Arc<EarlyChecks>,
}

impl PeerSocket {
    fn resume_datagram(
        bufs: &mut [IoSliceMut<'_>],
        meta: &mut [RecvMeta],
    ) -> Poll<io::Result<usize>> {
        let nowhere = SocketAddr::from(([0, 0, 0, 0], 0));
        deliver_datagram(bufs, meta, &[RESUME_DATAGRAM], nowhere, None)
    }
}

impl AsyncUdpSocket for PeerSocket {
    fn local_addr(&self) -> io::Result<SocketAddr> {
        self.inner.local_addr()
    }

    fn poll_send(&self, cx: &mut Context<'_>, transmit: &Transmit<'_>) -> Poll<io::Result<usize>> {
        self.inner.poll_send(cx, transmit)
    }

    fn poll_recv(
        &self,
        cx: &mut Context<'_>,
        bufs: &mut [IoSliceMut<'_>],
        meta: &mut [RecvMeta],
    ) -> Poll<io::Result<usize>> {
        if self.read_resume.take_request() {
            return Self::resume_datagram(bufs, meta);
        }
        if let Some(check) = self.early_checks.take(self.local) {
            self.check_sources.note(check.from);
            return deliver_datagram(bufs, meta, &check.datagram, check.from, check.dst_ip);
        }
        let polled = self.inner.poll_recv(cx, bufs, meta);
        if let (Poll::Ready(Ok(1..)), Some(buf), Some(slot)) = (&polled, bufs.first(), meta.first())
        {
            let first = &buf[..slot.len.min(slot.stride.max(1)).min(buf.len())];
            // One look at the header serves both: only ICE checks are noted and held.
            if StunMessage::parse(first).is_some_and(|message| message.is_binding_request()) {
                self.check_sources.note(slot.addr);
                self.early_checks
                    .hold(self.local, first, slot.addr, slot.dst_ip);
            }
        }
        if polled.is_pending() {
            self.read_resume.wait(cx);
            // A request made before the waker was stored must not wait for the next packet.
            if self.read_resume.take_request() {
                return Self::resume_datagram(bufs, meta);
            }
        }
        polled
    }

    fn max_gso_segments(&self) -> usize {
        self.inner.max_gso_segments().min(GSO_SEGMENT_LIMIT)
    }

    fn max_gro_segments(&self) -> usize {
        self.inner.max_gro_segments()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cancelled_sleep_makes_the_next_one_immediate() {
        let runtime = PeerRuntime::new();
        tokio_runtime().block_on(async {
            drop(runtime.sleep(Duration::from_secs(60)));
            let started = std::time::Instant::now();
            runtime.sleep(Duration::from_secs(60)).await;
            assert!(started.elapsed() < Duration::from_secs(1));
            // Having fired, the immediate sleep leaves the next one at its real length.
            let pending = tokio::time::timeout(
                Duration::from_millis(20),
                runtime.sleep(Duration::from_secs(60)),
            )
            .await;
            assert!(pending.is_err());
        });
    }

    #[test]
    fn wake_driver_fires_the_sleep_in_progress() {
        let runtime = PeerRuntime::new();
        tokio_runtime().block_on(async {
            runtime.sleep(Duration::ZERO).await; // clear the early wake left by the test setup
            let sleeper = runtime.sleep(Duration::from_secs(60));
            let waker = runtime.clone();
            tokio::spawn(async move {
                tokio::time::sleep(Duration::from_millis(10)).await;
                waker.wake_driver();
            });
            let woke = tokio::time::timeout(Duration::from_secs(5), sleeper).await;
            assert!(woke.is_ok());
        });
    }

    fn peer_socket(runtime: &PeerRuntime) -> Arc<dyn AsyncUdpSocket> {
        let socket = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        runtime.wrap_udp_socket(socket).unwrap()
    }

    fn recv(socket: &dyn AsyncUdpSocket, cx: &mut Context<'_>) -> Poll<(Vec<u8>, SocketAddr)> {
        let mut buf = [0u8; 64];
        let mut meta = [RecvMeta::default(); 1];
        let polled = socket.poll_recv(cx, &mut [IoSliceMut::new(&mut buf)], &mut meta);
        polled.map(|result| {
            result.unwrap();
            (buf[..meta[0].len].to_vec(), meta[0].addr)
        })
    }

    #[test]
    fn resume_reads_feeds_the_driver_one_discardable_datagram() {
        let runtime = PeerRuntime::new();
        let socket = peer_socket(&runtime);
        let mut cx = Context::from_waker(Waker::noop());
        assert!(recv(&*socket, &mut cx).is_pending());
        runtime.resume_reads();
        let Poll::Ready((datagram, from)) = recv(&*socket, &mut cx) else {
            panic!("the resume datagram was not delivered");
        };
        assert_eq!(datagram, [RESUME_DATAGRAM]);
        assert!(from.ip().is_unspecified());
        assert!(
            recv(&*socket, &mut cx).is_pending(),
            "one request, one datagram"
        );
    }

    #[test]
    fn resume_reads_wakes_a_driver_waiting_on_its_sockets() {
        let runtime = PeerRuntime::new();
        let socket = peer_socket(&runtime);
        tokio_runtime().block_on(async {
            let mut first_poll = true;
            let waiting = std::future::poll_fn(|cx| {
                let polled = recv(&*socket, cx);
                if std::mem::take(&mut first_poll) {
                    // The driver's no-op probes must not replace the waker of the real wait.
                    let probe = recv(&*socket, &mut Context::from_waker(Waker::noop()));
                    assert!(probe.is_pending());
                }
                polled
            });
            let resumer = runtime.clone();
            tokio::spawn(async move {
                tokio::time::sleep(Duration::from_millis(10)).await;
                resumer.resume_reads();
            });
            // Biased to the timer: a lost wake must fail, not be rescued by the timer's poll.
            tokio::select! {
                biased;
                _ = tokio::time::sleep(Duration::from_secs(5)) => panic!("the wait was not woken"),
                (datagram, _) = waiting => assert_eq!(datagram, [RESUME_DATAGRAM]),
            }
        });
    }

    #[test]
    fn checks_read_after_the_remote_description_mark_their_source() {
        let runtime = PeerRuntime::new();
        let socket = peer_socket(&runtime);
        let to = socket.local_addr().unwrap();
        let remote = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        let from = remote.local_addr().unwrap();
        let mut check = vec![0x00, 0x01, 0x00, 0x00, 0x21, 0x12, 0xa4, 0x42];
        check.extend_from_slice(&[7; 12]); // transaction id
        let read_one = |datagram: &[u8]| {
            remote.send_to(datagram, to).unwrap();
            tokio_runtime().block_on(std::future::poll_fn(|cx| recv(&*socket, cx)))
        };

        read_one(&check);
        assert!(
            !runtime.checked_from(from),
            "before the description: no agent to see it"
        );
        runtime.remote_description_applying();
        read_one(b"not a stun message at all");
        assert!(!runtime.checked_from(from));
        read_one(&check);
        assert!(runtime.checked_from(from));
        assert!(!runtime.checked_from(SocketAddr::from(([127, 0, 0, 1], 9))));
    }

    #[test]
    fn checks_before_the_remote_description_are_read_again_once_it_is_applied() {
        let runtime = PeerRuntime::new();
        let socket = peer_socket(&runtime);
        let to = socket.local_addr().unwrap();
        let remote = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        let from = remote.local_addr().unwrap();
        let check = crate::stun::tests::binding_request(b"ours:theirs");
        let read_one = |datagram: &[u8]| {
            remote.send_to(datagram, to).unwrap();
            tokio_runtime().block_on(std::future::poll_fn(|cx| recv(&*socket, cx)))
        };
        let mut cx = Context::from_waker(Waker::noop());

        assert_eq!(
            read_one(&check),
            (check.clone(), from),
            "delivered as it came"
        );
        read_one(b"not a check");
        runtime.remote_description_applied();
        let Poll::Ready(replayed) = recv(&*socket, &mut cx) else {
            panic!("the early check was not read again");
        };
        assert_eq!(replayed, (check.clone(), from));
        assert!(recv(&*socket, &mut cx).is_pending(), "only the check, once");
        // Once applied, checks reach a running agent: nothing more is held.
        read_one(&check);
        runtime.remote_description_applied();
        assert!(recv(&*socket, &mut cx).is_pending());
    }
}
