//! The raw sockets the sender uses, as small owned types over libc:
//!
//! * [`PacketSocket`]: an `AF_PACKET`/`SOCK_RAW` socket bound to one interface. It sends
//!   whole Ethernet frames as we wrote them (ARP), and it sees every frame that crosses
//!   the interface, in both directions, with the direction the kernel gives it;
//! * [`RawIpSocket`]: an `AF_INET`/`SOCK_RAW` socket with `IP_HDRINCL`, or its IPv6 twin
//!   (`AF_INET6`/`SOCK_RAW`/`IPPROTO_RAW`, which Linux gives the same header-included
//!   behaviour). It sends IP datagrams whose header we wrote ourselves; the kernel only
//!   routes them and puts the Ethernet header in front (after resolving the next hop's
//!   MAC with ARP or NDP).
//!
//! Both need CAP_NET_RAW. Every file descriptor is an [`OwnedFd`], closed when dropped.

use std::ffi::CString;
use std::io;
use std::mem::{size_of, zeroed};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::time::Duration;

/// `sll_pkttype` of a frame the host itself sent (from linux/if_packet.h).
const PACKET_OUTGOING: u8 = 4;

/// Which way a frame crossed the interface.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    /// Arrived from the link (to this host, to everyone, or to another host).
    Incoming,
    /// Left this host (sent by the kernel or by any socket but the one watching).
    Outgoing,
}

/// Turns a failed call's `errno` into an error (a return value of -1 means failure).
fn check(ret: libc::c_int) -> io::Result<libc::c_int> {
    if ret < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(ret)
    }
}

/// Opens a socket and takes ownership of its descriptor.
fn socket(domain: libc::c_int, kind: libc::c_int, proto: libc::c_int) -> io::Result<OwnedFd> {
    // SAFETY: socket() has no memory arguments; a non-negative result is a new
    // descriptor that nothing else owns, so OwnedFd may close it.
    unsafe {
        let fd = check(libc::socket(domain, kind | libc::SOCK_CLOEXEC, proto))?;
        Ok(OwnedFd::from_raw_fd(fd))
    }
}

/// Sets an integer socket option.
fn set_int(
    fd: &OwnedFd,
    level: libc::c_int,
    name: libc::c_int,
    value: libc::c_int,
) -> io::Result<()> {
    // SAFETY: the option value points at a live c_int and its size is given exactly.
    check(unsafe {
        libc::setsockopt(
            fd.as_raw_fd(),
            level,
            name,
            (&value as *const libc::c_int).cast(),
            size_of::<libc::c_int>() as libc::socklen_t,
        )
    })
    .map(drop)
}

/// Waits until `fd` is readable or `timeout` passes; true when readable.
fn wait_readable(fd: &OwnedFd, timeout: Duration) -> io::Result<bool> {
    let mut pfd = libc::pollfd {
        fd: fd.as_raw_fd(),
        events: libc::POLLIN,
        revents: 0,
    };
    let ms = libc::c_int::try_from(timeout.as_millis()).unwrap_or(libc::c_int::MAX);
    loop {
        // SAFETY: pfd is one live pollfd and we pass a count of 1.
        let n = unsafe { libc::poll(&mut pfd, 1, ms) };
        match check(n) {
            Ok(n) => return Ok(n > 0),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        }
    }
}

/// An `AF_PACKET` raw socket bound to one interface.
#[derive(Debug)]
pub struct PacketSocket {
    fd: OwnedFd,
}

impl PacketSocket {
    /// Opens a packet socket that sees every frame on the interface with index
    /// `ifindex`, both ways. It is created listening to no protocol and only then bound
    /// to the interface with `ETH_P_ALL`, so no frame of another interface slips in
    /// between.
    pub fn open(ifindex: u32) -> io::Result<PacketSocket> {
        let fd = socket(libc::AF_PACKET, libc::SOCK_RAW, 0)?;
        // SAFETY: an all-zero sockaddr_ll is a valid value of this plain C struct.
        let mut sll: libc::sockaddr_ll = unsafe { zeroed() };
        sll.sll_family = libc::AF_PACKET as u16;
        sll.sll_protocol = (libc::ETH_P_ALL as u16).to_be();
        sll.sll_ifindex = i32::try_from(ifindex).map_err(|_| {
            io::Error::new(io::ErrorKind::InvalidInput, "interface index too large")
        })?;
        // SAFETY: the address points at a live sockaddr_ll and its exact size is given.
        check(unsafe {
            libc::bind(
                fd.as_raw_fd(),
                (&sll as *const libc::sockaddr_ll).cast(),
                size_of::<libc::sockaddr_ll>() as libc::socklen_t,
            )
        })?;
        Ok(PacketSocket { fd })
    }

    /// Sends one whole Ethernet frame (header included) on the bound interface.
    pub fn send(&self, frame: &[u8]) -> io::Result<()> {
        // SAFETY: the buffer pointer and length come from one live slice.
        let n = unsafe { libc::send(self.fd.as_raw_fd(), frame.as_ptr().cast(), frame.len(), 0) };
        if n < 0 {
            return Err(io::Error::last_os_error());
        }
        if usize::try_from(n).ok() != Some(frame.len()) {
            return Err(io::Error::other(format!(
                "the kernel took only {n} of the frame's {} bytes",
                frame.len()
            )));
        }
        Ok(())
    }

    /// Waits up to `timeout` for the next frame. Returns its captured length (at most
    /// `buf.len()`), its length on the wire and its direction, or `None` on timeout.
    pub fn recv(
        &self,
        buf: &mut [u8],
        timeout: Duration,
    ) -> io::Result<Option<(usize, usize, Direction)>> {
        if !wait_readable(&self.fd, timeout)? {
            return Ok(None);
        }
        // SAFETY: an all-zero sockaddr_ll is a valid value of this plain C struct.
        let mut from: libc::sockaddr_ll = unsafe { zeroed() };
        let mut from_len = size_of::<libc::sockaddr_ll>() as libc::socklen_t;
        // SAFETY: buf and from are live and writable for the lengths given; MSG_TRUNC
        // makes the kernel report the frame's real length without writing past buf.
        let n = unsafe {
            libc::recvfrom(
                self.fd.as_raw_fd(),
                buf.as_mut_ptr().cast(),
                buf.len(),
                libc::MSG_TRUNC | libc::MSG_DONTWAIT,
                (&mut from as *mut libc::sockaddr_ll).cast(),
                &mut from_len,
            )
        };
        if n < 0 {
            let e = io::Error::last_os_error();
            return match e.kind() {
                io::ErrorKind::WouldBlock | io::ErrorKind::Interrupted => Ok(None),
                _ => Err(e),
            };
        }
        let wire = usize::try_from(n).unwrap_or(0);
        let dir = if from.sll_pkttype == PACKET_OUTGOING {
            Direction::Outgoing
        } else {
            Direction::Incoming
        };
        Ok(Some((wire.min(buf.len()), wire, dir)))
    }
}

/// An `AF_INET` or `AF_INET6` raw socket that sends IP datagrams with our own header.
#[derive(Debug)]
pub struct RawIpSocket {
    fd: OwnedFd,
    /// For IPv6: the interface index, the scope of link-local and multicast
    /// destinations (ff02::1 exists on every link; this says which one).
    scope: u32,
}

/// Binds `fd` to interface `iface` with `SO_BINDTODEVICE`.
fn bind_to_device(fd: &OwnedFd, iface: &str) -> io::Result<()> {
    let name = CString::new(iface).map_err(|_| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            "interface name holds a NUL byte",
        )
    })?;
    let bytes = name.as_bytes_with_nul();
    // SAFETY: the option value is the NUL-terminated name, live for the call, and
    // its exact length is given.
    check(unsafe {
        libc::setsockopt(
            fd.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_BINDTODEVICE,
            bytes.as_ptr().cast(),
            bytes.len() as libc::socklen_t,
        )
    })
    .map(drop)
}

impl RawIpSocket {
    /// Opens a send-only raw IPv4 socket (`IPPROTO_RAW`, which implies `IP_HDRINCL`; we
    /// set it anyway to say so) bound to interface `iface` with `SO_BINDTODEVICE`, so
    /// that even 255.255.255.255 leaves through it. `broadcast` sets `SO_BROADCAST`,
    /// without which the kernel refuses broadcast destinations.
    pub fn open(iface: &str, broadcast: bool) -> io::Result<RawIpSocket> {
        let fd = socket(libc::AF_INET, libc::SOCK_RAW, libc::IPPROTO_RAW)?;
        set_int(&fd, libc::IPPROTO_IP, libc::IP_HDRINCL, 1)?;
        if broadcast {
            set_int(&fd, libc::SOL_SOCKET, libc::SO_BROADCAST, 1)?;
        }
        bind_to_device(&fd, iface)?;
        Ok(RawIpSocket { fd, scope: 0 })
    }

    /// Opens a send-only raw IPv6 socket (`IPPROTO_RAW`: Linux then takes the IPv6
    /// header from us, hop limit included) bound to interface `iface`, whose index
    /// `ifindex` scopes link-local and multicast destinations.
    pub fn open_v6(iface: &str, ifindex: u32) -> io::Result<RawIpSocket> {
        let fd = socket(libc::AF_INET6, libc::SOCK_RAW, libc::IPPROTO_RAW)?;
        bind_to_device(&fd, iface)?;
        Ok(RawIpSocket { fd, scope: ifindex })
    }

    /// Sends one IP datagram (header included) to `dst`, which the kernel routes on.
    pub fn send_to(&self, datagram: &[u8], dst: IpAddr) -> io::Result<()> {
        match dst {
            IpAddr::V4(v4) => self.send_to_v4(datagram, v4),
            IpAddr::V6(v6) => self.send_to_v6(datagram, v6),
        }
    }

    fn send_to_v6(&self, datagram: &[u8], dst: Ipv6Addr) -> io::Result<()> {
        // SAFETY: an all-zero sockaddr_in6 is a valid value of this plain C struct.
        let mut sin6: libc::sockaddr_in6 = unsafe { zeroed() };
        sin6.sin6_family = libc::AF_INET6 as libc::sa_family_t;
        sin6.sin6_addr.s6_addr = dst.octets();
        sin6.sin6_scope_id = self.scope;
        // SAFETY: the buffer and the address point at live memory of the sizes given.
        let n = unsafe {
            libc::sendto(
                self.fd.as_raw_fd(),
                datagram.as_ptr().cast(),
                datagram.len(),
                0,
                (&sin6 as *const libc::sockaddr_in6).cast(),
                size_of::<libc::sockaddr_in6>() as libc::socklen_t,
            )
        };
        if n < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(())
    }

    fn send_to_v4(&self, datagram: &[u8], dst: Ipv4Addr) -> io::Result<()> {
        // SAFETY: an all-zero sockaddr_in is a valid value of this plain C struct.
        let mut sin: libc::sockaddr_in = unsafe { zeroed() };
        sin.sin_family = libc::AF_INET as libc::sa_family_t;
        sin.sin_addr.s_addr = u32::from(dst).to_be();
        // SAFETY: the buffer and the address point at live memory of the sizes given.
        let n = unsafe {
            libc::sendto(
                self.fd.as_raw_fd(),
                datagram.as_ptr().cast(),
                datagram.len(),
                0,
                (&sin as *const libc::sockaddr_in).cast(),
                size_of::<libc::sockaddr_in>() as libc::socklen_t,
            )
        };
        if n < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(())
    }
}

/// The MTU of interface `iface`, in bytes: the largest IPv4 datagram it carries. Asked
/// with `SIOCGIFMTU` on an ordinary UDP socket, which needs no privilege.
pub fn mtu(iface: &str) -> io::Result<u32> {
    let fd = socket(libc::AF_INET, libc::SOCK_DGRAM, 0)?;
    // SAFETY: an all-zero ifreq is a valid value of this plain C struct.
    let mut ifr: libc::ifreq = unsafe { zeroed() };
    let name = iface.as_bytes();
    if name.len() >= ifr.ifr_name.len() || name.contains(&0) {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "not an interface name",
        ));
    }
    for (dst, &src) in ifr.ifr_name.iter_mut().zip(name) {
        *dst = src as libc::c_char;
    }
    // SAFETY: SIOCGIFMTU reads the NUL-terminated name in ifr (zero-filled after it) and
    // writes an int into its union; ifr is live and writable.
    check(unsafe { libc::ioctl(fd.as_raw_fd(), libc::SIOCGIFMTU as _, &mut ifr) })?;
    // SAFETY: after a successful SIOCGIFMTU the union holds ifru_mtu.
    let mtu = unsafe { ifr.ifr_ifru.ifru_mtu };
    u32::try_from(mtu).map_err(|_| io::Error::other("the kernel gave a negative MTU"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_has_an_mtu() {
        // lo exists in every network namespace, and asking needs no privilege.
        let m = mtu("lo").unwrap_or_else(|e| panic!("{e}"));
        assert!(m >= 1500, "{m}");
    }

    #[test]
    fn a_missing_interface_has_no_mtu() {
        assert!(mtu("no-such-if0").is_err());
        assert!(mtu("a-name-far-too-long-for-linux").is_err());
        assert!(mtu("nul\0byte").is_err());
    }
}
