//! The one tokio runtime every peer shares, and the per-peer `webrtc::runtime::Runtime`
//! that tunes what the crate leaves to its runtime: socket buffer sizes and timer wake-ups.

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock, Weak};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use crate::mux::{MuxSocket, MuxedSocket};
use webrtc::runtime::{
    AsyncInterval, AsyncTcpListener, AsyncTcpStream, AsyncUdpSocket, JoinHandle, Runtime,
    TokioRuntime,
};

/// Large UDP buffers: the kernel default (~208 KiB) overflows during bulk SCTP bursts and
/// every dropped datagram costs an SCTP retransmission round trip.
const UDP_SOCKET_BUFFER_BYTES: usize = 4 * 1024 * 1024;

/// The process-wide tokio runtime. Never shut down: its threads hold no libuv handle, so
/// they do not keep Node alive, and they die with the process.
pub fn tokio_runtime() -> &'static tokio::runtime::Runtime {
    static RUNTIME: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RUNTIME.get_or_init(|| {
        let workers = std::thread::available_parallelism()
            .map(|n| n.get().clamp(2, 4))
            .unwrap_or(2);
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(workers)
            .thread_name("simple-peer-native")
            .enable_all()
            .build()
            .expect("the tokio runtime must start")
    })
}

/// Spawns onto the shared runtime from any thread, including Node's main thread.
pub fn spawn<F>(future: F) -> tokio::task::JoinHandle<F::Output>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    tokio_runtime().spawn(future)
}

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
#[derive(Debug)]
pub struct PeerRuntime {
    inner: TokioRuntime,
    timers: Arc<TimerControl>,
    shared_sockets: Mutex<SharedSockets>,
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
}

impl PeerRuntime {
    pub fn new() -> Arc<Self> {
        Arc::new(Self {
            inner: TokioRuntime,
            timers: Arc::default(),
            shared_sockets: Mutex::default(),
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
        if let Some(view) = self.shared_view(&socket)? {
            return Ok(view); // the placeholder closes here
        }
        enlarge_socket_buffers(&socket);
        let _guard = tokio_runtime().enter();
        self.inner.wrap_udp_socket(socket)
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

/// Locks, taking over a poisoned lock: a panic elsewhere must not cascade.
pub fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

pub fn enlarge_socket_buffers(socket: &std::net::UdpSocket) {
    use std::os::fd::AsRawFd;
    let fd = socket.as_raw_fd();
    let size = UDP_SOCKET_BUFFER_BYTES as libc::c_int;
    // The *FORCE variants pass net.core.{r,w}mem_max when we have CAP_NET_ADMIN; otherwise
    // the plain options are clamped to those limits, which is still better than the default.
    for (forced, plain) in [
        (libc::SO_RCVBUFFORCE, libc::SO_RCVBUF),
        (libc::SO_SNDBUFFORCE, libc::SO_SNDBUF),
    ] {
        if set_socket_option(fd, forced, size).is_err() {
            let _ = set_socket_option(fd, plain, size);
        }
    }
}

fn set_socket_option(fd: libc::c_int, option: libc::c_int, value: libc::c_int) -> io::Result<()> {
    // SAFETY: `fd` is a live socket owned by the caller and `value` outlives the call.
    let rc = unsafe {
        libc::setsockopt(
            fd,
            libc::SOL_SOCKET,
            option,
            (&value as *const libc::c_int).cast(),
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
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

    #[test]
    fn udp_buffers_grow_beyond_the_default() {
        let socket = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        enlarge_socket_buffers(&socket);
        let mut value: libc::c_int = 0;
        let mut len = std::mem::size_of::<libc::c_int>() as libc::socklen_t;
        use std::os::fd::AsRawFd;
        // SAFETY: valid fd and out-pointers sized for a c_int.
        let rc = unsafe {
            libc::getsockopt(
                socket.as_raw_fd(),
                libc::SOL_SOCKET,
                libc::SO_RCVBUF,
                (&mut value as *mut libc::c_int).cast(),
                &mut len,
            )
        };
        assert_eq!(rc, 0);
        assert!(value >= 256 * 1024, "SO_RCVBUF is {value}");
    }
}
