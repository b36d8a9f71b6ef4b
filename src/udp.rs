//! UDP helpers the per-peer sockets and the shared socket both use.

use std::io::{self, IoSliceMut};
use std::net::{IpAddr, SocketAddr};
use std::task::Poll;

use webrtc::runtime::RecvMeta;

/// Large UDP buffers: the kernel default (~208 KiB) overflows during bulk SCTP bursts and
/// every dropped datagram costs an SCTP retransmission round trip.
const UDP_SOCKET_BUFFER_BYTES: usize = 4 * 1024 * 1024;

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

/// Hands one datagram to a `poll_recv` caller: into its first buffer (truncated to fit),
/// described by its first `RecvMeta`.
pub fn deliver_datagram(
    bufs: &mut [IoSliceMut<'_>],
    meta: &mut [RecvMeta],
    datagram: &[u8],
    from: SocketAddr,
    dst_ip: Option<IpAddr>,
) -> Poll<io::Result<usize>> {
    let (Some(buf), Some(slot)) = (bufs.first_mut(), meta.first_mut()) else {
        return Poll::Ready(Ok(0));
    };
    let len = datagram.len().min(buf.len());
    buf[..len].copy_from_slice(&datagram[..len]);
    let mut filled = RecvMeta::default();
    filled.addr = from;
    filled.len = len;
    filled.stride = len.max(1);
    filled.dst_ip = dst_ip;
    *slot = filled;
    Poll::Ready(Ok(1))
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

    #[test]
    fn a_datagram_is_truncated_to_the_callers_buffer() {
        let mut small = [0u8; 3];
        let mut meta = [RecvMeta::default(); 1];
        let from = SocketAddr::from(([10, 0, 0, 1], 9));
        let polled = deliver_datagram(
            &mut [IoSliceMut::new(&mut small)],
            &mut meta,
            b"hello",
            from,
            None,
        );
        assert!(matches!(polled, Poll::Ready(Ok(1))));
        assert_eq!(&small, b"hel");
        assert_eq!((meta[0].len, meta[0].addr), (3, from));
        let nothing = deliver_datagram(&mut [], &mut meta, b"x", from, None);
        assert!(matches!(nothing, Poll::Ready(Ok(0))));
    }
}
