//! The programs the lab runs inside its namespaces: the socket tutorial's TCP echo server
//! and client, a refused connect, a UDP listener with SO_BROADCAST, a broadcaster and an
//! over-MTU datagram. The binary runs them by re-executing itself inside a namespace
//! (`ip netns exec NS wirelens lab-exec ROLE …`); each one prints one line per socket call
//! on standard output — capture time in nanoseconds, then what it did — so the lab can
//! print every call beside the packets it caused ("connect() → SYN").

use std::io::{self, Read, Write};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::os::fd::AsRawFd;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// One role a namespace can play.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Role {
    /// bind → listen → accept → recv → send → close, once.
    TcpServer {
        /// Address to bind.
        addr: SocketAddr,
    },
    /// connect → send → recv → close.
    TcpClient {
        /// The server.
        to: SocketAddr,
        /// What to send.
        message: String,
    },
    /// connect to a port where nothing listens.
    Refused {
        /// The closed port's address.
        to: SocketAddr,
    },
    /// Receives `count` UDP datagrams on `port` with SO_BROADCAST set.
    UdpListen {
        /// Port to bind on 0.0.0.0.
        port: u16,
        /// Datagrams to wait for.
        count: usize,
    },
    /// Sends one UDP datagram of `size` bytes to `to` (broadcast allowed), from `iface`.
    UdpSend {
        /// Destination (may be a broadcast address, IPv4 or IPv6).
        to: SocketAddr,
        /// Payload size in bytes.
        size: usize,
        /// Interface to leave by (SO_BINDTODEVICE), needed for 255.255.255.255.
        iface: String,
    },
}

/// The line format: `<unix time in ns> <text>`.
fn event(out: &mut impl Write, text: &str) -> io::Result<()> {
    let ns = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    writeln!(out, "{ns} {text}")?;
    out.flush()
}

/// How long any role waits for its peer before giving up.
const PATIENCE: Duration = Duration::from_secs(5);

impl Role {
    /// Parses a role from the words after `lab-exec`.
    pub fn parse(words: &[String]) -> Result<Role, String> {
        let addr = |s: Option<&String>| -> Result<SocketAddr, String> {
            s.ok_or("an address is missing")?
                .parse::<SocketAddr>()
                .map_err(|e| format!("bad address: {e}"))
        };
        let num = |s: Option<&String>| -> Result<usize, String> {
            s.ok_or("a number is missing")?
                .parse::<usize>()
                .map_err(|e| format!("bad number: {e}"))
        };
        match words.first().map(String::as_str) {
            Some("tcp-server") => Ok(Role::TcpServer {
                addr: addr(words.get(1))?,
            }),
            Some("tcp-client") => Ok(Role::TcpClient {
                to: addr(words.get(1))?,
                message: words.get(2).cloned().unwrap_or_else(|| "hello".into()),
            }),
            Some("refused") => Ok(Role::Refused {
                to: addr(words.get(1))?,
            }),
            Some("udp-listen") => Ok(Role::UdpListen {
                port: u16::try_from(num(words.get(1))?).map_err(|e| e.to_string())?,
                count: num(words.get(2))?,
            }),
            Some("udp-send") => Ok(Role::UdpSend {
                to: addr(words.get(1))?,
                size: num(words.get(2))?,
                iface: words.get(3).cloned().ok_or("an interface is missing")?,
            }),
            other => Err(format!("unknown lab role {other:?}")),
        }
    }

    /// The words that [`Role::parse`] reads back.
    pub fn to_args(&self) -> Vec<String> {
        match self {
            Role::TcpServer { addr } => vec!["tcp-server".into(), addr.to_string()],
            Role::TcpClient { to, message } => {
                vec!["tcp-client".into(), to.to_string(), message.clone()]
            }
            Role::Refused { to } => vec!["refused".into(), to.to_string()],
            Role::UdpListen { port, count } => {
                vec!["udp-listen".into(), port.to_string(), count.to_string()]
            }
            Role::UdpSend { to, size, iface } => vec![
                "udp-send".into(),
                to.to_string(),
                size.to_string(),
                iface.clone(),
            ],
        }
    }

    /// Plays the role, printing one event line per socket call on `out`.
    pub fn run(&self, out: &mut impl Write) -> io::Result<()> {
        match self {
            Role::TcpServer { addr } => {
                let listener = TcpListener::bind(addr)?;
                event(
                    out,
                    &format!(
                        "server: socket() + bind({addr}) + listen(): the port is open, nothing is sent"
                    ),
                )?;
                let (mut conn, peer) = listener.accept()?;
                event(
                    out,
                    &format!(
                        "server: accept() returns the connection from {peer}: the kernel finished the handshake on its own"
                    ),
                )?;
                conn.set_read_timeout(Some(PATIENCE))?;
                let mut buf = [0u8; 1024];
                let n = conn.read(&mut buf)?;
                let text = String::from_utf8_lossy(buf.get(..n).unwrap_or_default()).into_owned();
                event(
                    out,
                    &format!("server: recv() → {n} bytes {text:?} (the kernel already ACKed them)"),
                )?;
                event(out, &format!("server: send({text:?}) → a data segment"))?;
                conn.write_all(buf.get(..n).unwrap_or_default())?;
                // Wait for the client's FIN (recv returns 0) before closing, as the tutorial does.
                let n = conn.read(&mut buf)?;
                event(
                    out,
                    &format!("server: recv() → {n} bytes: the client closed its side (FIN)"),
                )?;
                event(out, "server: close() → FIN")?;
                drop(conn);
            }
            Role::TcpClient { to, message } => {
                event(out, &format!("client: connect({to}) → SYN"))?;
                let mut s = TcpStream::connect_timeout(to, PATIENCE)?;
                event(
                    out,
                    "client: connect() returns: SYN-ACK received, ACK sent, connection ESTABLISHED",
                )?;
                s.set_read_timeout(Some(PATIENCE))?;
                event(out, &format!("client: send({message:?}) → a data segment"))?;
                s.write_all(message.as_bytes())?;
                let mut buf = [0u8; 1024];
                let n = s.read(&mut buf)?;
                let text = String::from_utf8_lossy(buf.get(..n).unwrap_or_default()).into_owned();
                event(out, &format!("client: recv() → {n} bytes {text:?}"))?;
                event(out, "client: close() → FIN")?;
                drop(s);
                // Give the teardown time to finish before the process exits.
                std::thread::sleep(Duration::from_millis(200));
            }
            Role::Refused { to } => {
                event(out, &format!("client: connect({to}) → SYN"))?;
                match TcpStream::connect_timeout(to, PATIENCE) {
                    Err(e) if e.kind() == io::ErrorKind::ConnectionRefused => {
                        event(
                            out,
                            "client: connect() fails: Connection refused — the server's kernel answered with RST",
                        )?;
                    }
                    Err(e) => event(out, &format!("client: connect() fails: {e}"))?,
                    Ok(_) => event(out, "client: connect() succeeded: something listens there")?,
                }
            }
            Role::UdpListen { port, count } => {
                let s = UdpSocket::bind(SocketAddr::new(Ipv4Addr::UNSPECIFIED.into(), *port))?;
                s.set_broadcast(true)?;
                s.set_read_timeout(Some(PATIENCE))?;
                event(
                    out,
                    &format!(
                        "listener: socket(SOCK_DGRAM) + setsockopt(SO_BROADCAST) + bind(0.0.0.0:{port}): nothing is sent"
                    ),
                )?;
                let mut buf = [0u8; 65_536];
                for _ in 0..*count {
                    let (n, from) = s.recv_from(&mut buf)?;
                    event(
                        out,
                        &format!("listener: recvfrom() → {n} bytes from {from}"),
                    )?;
                }
            }
            Role::UdpSend { to, size, iface } => {
                let any: IpAddr = match to {
                    SocketAddr::V4(_) => Ipv4Addr::UNSPECIFIED.into(),
                    SocketAddr::V6(_) => Ipv6Addr::UNSPECIFIED.into(),
                };
                let s = UdpSocket::bind(SocketAddr::new(any, 0))?;
                let broadcast = match to.ip() {
                    IpAddr::V4(ip) => ip.is_broadcast() || ip.octets()[3] == 255,
                    IpAddr::V6(_) => false,
                };
                if broadcast {
                    s.set_broadcast(true)?;
                    bind_to_device(&s, iface)?;
                }
                if *size > 1472 && to.is_ipv4() {
                    dont_set_df(&s)?;
                }
                let payload: Vec<u8> = b"wirelens ".iter().copied().cycle().take(*size).collect();
                event(
                    out,
                    &format!(
                        "sender: sendto({to}, {size} bytes){} → {}",
                        if broadcast { " with SO_BROADCAST" } else { "" },
                        if *size > 1472 {
                            "the kernel cuts it into fragments that fit the 1500-byte MTU"
                        } else {
                            "one datagram"
                        }
                    ),
                )?;
                s.send_to(&payload, to)?;
            }
        }
        Ok(())
    }
}

/// SO_BINDTODEVICE: send out of `iface` (needed for 255.255.255.255, which no route
/// names).
fn bind_to_device(s: &UdpSocket, iface: &str) -> io::Result<()> {
    let name = iface.as_bytes();
    // SAFETY: the pointer and length describe `name`, which outlives the call; the
    // descriptor is a valid socket owned by `s`.
    let r = unsafe {
        libc::setsockopt(
            s.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_BINDTODEVICE,
            name.as_ptr().cast(),
            name.len() as libc::socklen_t,
        )
    };
    if r == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// IP_MTU_DISCOVER = IP_PMTUDISC_DONT: let the kernel fragment instead of refusing.
fn dont_set_df(s: &UdpSocket) -> io::Result<()> {
    let v: libc::c_int = libc::IP_PMTUDISC_DONT;
    // SAFETY: the pointer and length describe `v`, which outlives the call.
    let r = unsafe {
        libc::setsockopt(
            s.as_raw_fd(),
            libc::IPPROTO_IP,
            libc::IP_MTU_DISCOVER,
            (&v as *const libc::c_int).cast(),
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    if r == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// Reads one event line: (time, text).
pub fn parse_event(line: &str) -> Option<(crate::capture::Timestamp, String)> {
    let (ns, text) = line.split_once(' ')?;
    let ns: u128 = ns.parse().ok()?;
    let ts = crate::capture::Timestamp {
        secs: i64::try_from(ns / 1_000_000_000).ok()?,
        nanos: u32::try_from(ns % 1_000_000_000).ok()?,
    };
    Some((ts, text.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_round_trip_through_their_arguments() {
        let roles = [
            Role::TcpServer {
                addr: "10.0.0.2:8090".parse().unwrap_or_else(|e| panic!("{e}")),
            },
            Role::TcpClient {
                to: "10.0.0.2:8090".parse().unwrap_or_else(|e| panic!("{e}")),
                message: "hi".into(),
            },
            Role::Refused {
                to: "10.0.0.2:9".parse().unwrap_or_else(|e| panic!("{e}")),
            },
            Role::TcpClient {
                to: "[fd77::2]:8090".parse().unwrap_or_else(|e| panic!("{e}")),
                message: "hi".into(),
            },
            Role::UdpListen {
                port: 10000,
                count: 2,
            },
            Role::UdpSend {
                to: "255.255.255.255:10000"
                    .parse()
                    .unwrap_or_else(|e| panic!("{e}")),
                size: 4000,
                iface: "lc".into(),
            },
        ];
        for r in roles {
            assert_eq!(Role::parse(&r.to_args()), Ok(r));
        }
        assert!(Role::parse(&["nope".to_string()]).is_err());
    }

    #[test]
    fn echo_over_loopback_prints_every_call() {
        // Loopback only: the server and client talk on 127.0.0.1.
        let listener = TcpListener::bind("127.0.0.1:0").unwrap_or_else(|e| panic!("{e}"));
        let port = listener
            .local_addr()
            .map(|a| a.port())
            .unwrap_or_else(|e| panic!("{e}"));
        drop(listener);
        let addr = SocketAddr::new(Ipv4Addr::LOCALHOST.into(), port);
        let server = std::thread::spawn(move || {
            let mut out = Vec::new();
            Role::TcpServer { addr }.run(&mut out).map(|_| out)
        });
        std::thread::sleep(Duration::from_millis(100));
        let mut out = Vec::new();
        Role::TcpClient {
            to: addr,
            message: "hello".into(),
        }
        .run(&mut out)
        .unwrap_or_else(|e| panic!("{e}"));
        let server_out = server
            .join()
            .unwrap_or_else(|_| panic!("server thread"))
            .unwrap_or_else(|e| panic!("{e}"));
        let client = String::from_utf8_lossy(&out);
        let server = String::from_utf8_lossy(&server_out);
        assert!(
            client.contains("connect(") && client.contains("recv() → 5 bytes \"hello\""),
            "{client}"
        );
        assert!(
            server.contains("accept()") && server.contains("close() → FIN"),
            "{server}"
        );
        let (ts, text) = parse_event(client.lines().next().unwrap_or_default())
            .unwrap_or_else(|| panic!("{client}"));
        assert!(ts.secs > 1_600_000_000 && text.starts_with("client: connect("));
    }
}
