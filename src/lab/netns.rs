//! A pair of network namespaces joined by a veth pair, as an RAII guard.

use std::net::{Ipv4Addr, Ipv6Addr};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicU32, Ordering};

/// Why the network could not be built.
#[derive(Debug, thiserror::Error)]
pub enum NetnsError {
    /// `ip` could not be run at all.
    #[error("could not run `ip` from iproute2 ({0}); install it with `apt-get install iproute2`.")]
    NoIp(std::io::Error),
    /// `ip` ran and refused.
    #[error("`ip {args}` failed: {stderr}")]
    Failed {
        /// The arguments given.
        args: String,
        /// What it printed.
        stderr: String,
    },
    /// IPv6 did not start working between the two namespaces in time.
    #[error(
        "IPv6 between {from} and {to} did not work within {secs} seconds of the link coming up: {why}."
    )]
    Ipv6NotReady {
        /// The address probed from.
        from: String,
        /// The address probed.
        to: String,
        /// How long we waited, in seconds.
        secs: u64,
        /// What the last probe saw.
        why: String,
    },
    /// A kernel setting of a namespace could not be written.
    #[error("could not write {value} to {path} in network namespace {ns}: {source}.")]
    Setting {
        /// The namespace.
        ns: String,
        /// The file under /proc/sys.
        path: String,
        /// What was to be written.
        value: String,
        /// The operating system's error.
        source: std::io::Error,
    },
}

/// One side of the pair.
#[derive(Clone, Debug)]
pub struct Host {
    /// Namespace name.
    pub ns: String,
    /// Interface name inside it.
    pub iface: String,
    /// Its IPv4 address (with a /24 prefix).
    pub ip: Ipv4Addr,
    /// Its MAC address.
    pub mac: [u8; 6],
    /// Its IPv6 address (with a /64 prefix), when IPv6 is on in the pair.
    pub ip6: Option<Ipv6Addr>,
}

/// The IPv6 addresses a pair gets by default when IPv6 is on: fd77::1 and fd77::2.
pub const IPV6_ADDRS: (Ipv6Addr, Ipv6Addr) = (
    Ipv6Addr::new(0xfd77, 0, 0, 0, 0, 0, 0, 1),
    Ipv6Addr::new(0xfd77, 0, 0, 0, 0, 0, 0, 2),
);

/// Two namespaces joined by a veth pair; dropped, it deletes both namespaces (which
/// deletes the veth with them).
#[derive(Debug)]
pub struct NetnsPair {
    /// The first host.
    pub a: Host,
    /// The second host.
    pub b: Host,
    keep: bool,
}

static COUNTER: AtomicU32 = AtomicU32::new(0);

fn ip(args: &[&str]) -> Result<Output, NetnsError> {
    let out = Command::new("ip")
        .args(args)
        .output()
        .map_err(NetnsError::NoIp)?;
    if out.status.success() {
        Ok(out)
    } else {
        Err(NetnsError::Failed {
            args: args.join(" "),
            stderr: String::from_utf8_lossy(&out.stderr).trim().to_string(),
        })
    }
}

impl NetnsPair {
    /// Creates `PREFIX-a-PID-N` and `PREFIX-b-PID-N` joined by a veth pair (`iface_a` in
    /// the first, `iface_b` in the second), with 10.77.0.1/24 and 10.77.0.2/24 unless
    /// other addresses are given, links up, IPv6 off (no noise) and checksum offload left
    /// as the kernel sets it.
    pub fn create(
        prefix: &str,
        iface_a: &str,
        iface_b: &str,
        ips: Option<(Ipv4Addr, Ipv4Addr)>,
    ) -> Result<NetnsPair, NetnsError> {
        let n = COUNTER.fetch_add(1, Ordering::SeqCst);
        let id = format!("{}-{n}", std::process::id());
        Self::create_named(
            &format!("{prefix}-a-{id}"),
            &format!("{prefix}-b-{id}"),
            iface_a,
            iface_b,
            ips,
        )
    }

    /// As [`NetnsPair::create`], but with IPv6 on and fd77::1/64 and fd77::2/64 on the
    /// two ends (see [`NetnsPair::create_named_v6`]).
    pub fn create_v6(prefix: &str, iface_a: &str, iface_b: &str) -> Result<NetnsPair, NetnsError> {
        let n = COUNTER.fetch_add(1, Ordering::SeqCst);
        let id = format!("{}-{n}", std::process::id());
        Self::create_named_v6(
            &format!("{prefix}-a-{id}"),
            &format!("{prefix}-b-{id}"),
            iface_a,
            iface_b,
            None,
            Some(IPV6_ADDRS),
        )
    }

    /// As [`NetnsPair::create`], with the two namespaces' names given.
    pub fn create_named(
        ns_a: &str,
        ns_b: &str,
        iface_a: &str,
        iface_b: &str,
        ips: Option<(Ipv4Addr, Ipv4Addr)>,
    ) -> Result<NetnsPair, NetnsError> {
        Self::create_named_v6(ns_a, ns_b, iface_a, iface_b, ips, None)
    }

    /// As [`NetnsPair::create_named`]; with `ips6`, IPv6 is on in both namespaces instead
    /// of off, and the two ends get these addresses (/64). Duplicate address detection
    /// is off on both ends (the addresses are added `nodad`, and the link-local ones
    /// come up without it), so every address is usable at once instead of after a second
    /// or more; router solicitations are off, as no router is there to answer.
    pub fn create_named_v6(
        ns_a: &str,
        ns_b: &str,
        iface_a: &str,
        iface_b: &str,
        ips: Option<(Ipv4Addr, Ipv4Addr)>,
        ips6: Option<(Ipv6Addr, Ipv6Addr)>,
    ) -> Result<NetnsPair, NetnsError> {
        let (ip_a, ip_b) =
            ips.unwrap_or((Ipv4Addr::new(10, 77, 0, 1), Ipv4Addr::new(10, 77, 0, 2)));
        let pair = NetnsPair {
            a: Host {
                ns: ns_a.to_string(),
                iface: iface_a.to_string(),
                ip: ip_a,
                mac: [0x02, 0x77, 0, 0, 0, 0x01],
                ip6: ips6.map(|v| v.0),
            },
            b: Host {
                ns: ns_b.to_string(),
                iface: iface_b.to_string(),
                ip: ip_b,
                mac: [0x02, 0x77, 0, 0, 0, 0x02],
                ip6: ips6.map(|v| v.1),
            },
            keep: false,
        };
        // From here on, a failure drops `pair`, which removes whatever was created.
        for h in [&pair.a, &pair.b] {
            ip(&["netns", "add", &h.ns])?;
        }
        ip(&[
            "link", "add", iface_a, "netns", &pair.a.ns, "type", "veth", "peer", "name", iface_b,
            "netns", &pair.b.ns,
        ])?;
        for h in [&pair.a, &pair.b] {
            let mac = crate::proto::MacAddr(h.mac).to_string();
            let addr = format!("{}/24", h.ip);
            let ns = h.ns.as_str();
            let conf = |name: &str, key: &str| format!("/proc/sys/net/ipv6/conf/{name}/{key}");
            match h.ip6 {
                None => {
                    for name in ["all", "default"] {
                        set_in(ns, &conf(name, "disable_ipv6"), "1")?;
                    }
                }
                Some(_) => {
                    // The interface's own settings before "all", so that turning IPv6
                    // on (which starts the link-local address) finds DAD already off.
                    for name in [h.iface.as_str(), "all", "default"] {
                        set_in(ns, &conf(name, "accept_dad"), "0")?;
                        set_in(ns, &conf(name, "router_solicitations"), "0")?;
                    }
                    for name in [h.iface.as_str(), "all", "default"] {
                        set_in(ns, &conf(name, "disable_ipv6"), "0")?;
                    }
                }
            }
            ip(&["-n", ns, "link", "set", &h.iface, "address", &mac])?;
            ip(&["-n", ns, "addr", "add", &addr, "dev", &h.iface])?;
            if let Some(v6) = h.ip6 {
                let addr6 = format!("{v6}/64");
                ip(&[
                    "-n", ns, "-6", "addr", "add", &addr6, "dev", &h.iface, "nodad",
                ])?;
            }
            ip(&["-n", ns, "link", "set", &h.iface, "up"])?;
            ip(&["-n", ns, "link", "set", "lo", "up"])?;
        }
        if let (Some(a6), Some(b6)) = (pair.a.ip6, pair.b.ip6) {
            pair.wait_for_ipv6(a6, b6)?;
        }
        Ok(pair)
    }

    /// Waits until IPv6 works both ways, then empties both neighbour caches so that the
    /// first exchange after this shows its neighbour discovery. Right after the link
    /// comes up the kernel drops incoming multicast (and so every neighbour solicitation)
    /// for up to a second, until its link watcher has run: a test or lesson that sent at
    /// once would see no answer. The probe is a UDP datagram to port 9 (discard), where
    /// nothing listens: the peer's "port unreachable" proves the solicitation, the
    /// advertisement and the datagram all got through.
    fn wait_for_ipv6(&self, a6: Ipv6Addr, b6: Ipv6Addr) -> Result<(), NetnsError> {
        const PATIENCE: std::time::Duration = std::time::Duration::from_secs(5);
        for (ns, from, to) in [(&self.a.ns, a6, b6), (&self.b.ns, b6, a6)] {
            let probe = in_netns(ns, move || {
                let s = std::net::UdpSocket::bind((from, 0))?;
                s.connect((to, 9))?;
                s.set_read_timeout(Some(std::time::Duration::from_millis(100)))?;
                let start = std::time::Instant::now();
                let mut last = String::new();
                while start.elapsed() < PATIENCE {
                    s.send(b"wirelens: is IPv6 up?")?;
                    let mut buf = [0u8; 64];
                    match s.recv(&mut buf) {
                        Err(e) if e.kind() == std::io::ErrorKind::ConnectionRefused => {
                            return Ok(Ok(()));
                        }
                        Err(e) => last = e.to_string(),
                        Ok(_) => return Ok(Ok(())),
                    }
                }
                Ok(Err(last))
            });
            let outcome = probe
                .join()
                .unwrap_or_else(|_| Err(std::io::Error::other("the probe thread panicked")));
            let why = match outcome {
                Ok(Ok(())) => continue,
                Ok(Err(last)) => format!("no answer to a UDP probe (last: {last})"),
                Err(e) => e.to_string(),
            };
            return Err(NetnsError::Ipv6NotReady {
                from: from.to_string(),
                to: to.to_string(),
                secs: PATIENCE.as_secs(),
                why,
            });
        }
        for h in [&self.a, &self.b] {
            ip(&["-n", &h.ns, "neigh", "flush", "all"])?;
        }
        Ok(())
    }

    /// A command that runs `args` inside namespace `ns`.
    pub fn command(&self, ns: &str, args: &[&str]) -> Command {
        let mut c = Command::new("ip");
        c.args(["netns", "exec", ns]).args(args);
        c
    }

    /// Runs `args` inside `ns` and fails unless it succeeds.
    pub fn exec_ok(&self, ns: &str, args: &[&str]) -> Result<Output, NetnsError> {
        let out = self.command(ns, args).output().map_err(NetnsError::NoIp)?;
        if out.status.success() {
            Ok(out)
        } else {
            Err(NetnsError::Failed {
                args: format!("netns exec {ns} {}", args.join(" ")),
                stderr: String::from_utf8_lossy(&out.stderr).trim().to_string(),
            })
        }
    }

    /// Leave the namespaces in place when dropped (for `lab --keep`).
    pub fn keep(&mut self) {
        self.keep = true;
    }
}

impl Drop for NetnsPair {
    fn drop(&mut self) {
        if self.keep {
            return;
        }
        for h in [&self.a, &self.b] {
            let _ = Command::new("ip").args(["netns", "del", &h.ns]).output();
        }
    }
}

/// Writes `value` to the kernel setting `path` (a file under /proc/sys/net) of network
/// namespace `ns`, as `ip netns exec NS sysctl -w` would, but without running `sysctl`
/// (procps is not on a minimal system). /proc/sys/net shows the settings of the
/// namespace of the thread that opens it, so the file is opened on a thread that has
/// entered `ns`; the process's own namespace, and so the host's settings, are never
/// touched. A setting the kernel does not have (no IPv6 in this kernel: no
/// /proc/sys/net/ipv6) is skipped: there is nothing to turn off.
pub fn set_in(ns: &str, path: &str, value: &str) -> Result<(), NetnsError> {
    let (file, text) = (path.to_string(), value.to_string());
    let joined = in_netns(ns, move || match std::fs::write(&file, text) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        r => r,
    })
    .join();
    let result = joined.unwrap_or_else(|_| Err(std::io::Error::other("the thread panicked")));
    result.map_err(|source| NetnsError::Setting {
        ns: ns.to_string(),
        path: path.to_string(),
        value: value.to_string(),
        source,
    })
}

/// Runs `f` on a new thread that has entered network namespace `ns` (created with `ip
/// netns add`): sockets it opens live in that namespace, so their packets cross the veth
/// pair and nothing else. The thread's namespace is its own; the process's is unchanged.
pub fn in_netns<T: Send + 'static>(
    ns: &str,
    f: impl FnOnce() -> std::io::Result<T> + Send + 'static,
) -> std::thread::JoinHandle<std::io::Result<T>> {
    let path = format!("/run/netns/{ns}");
    std::thread::spawn(move || {
        let file = std::fs::File::open(&path)?;
        // SAFETY: setns with an open namespace descriptor and CLONE_NEWNET changes only the
        // network namespace of this thread; the descriptor stays open during the call.
        if unsafe { libc::setns(std::os::fd::AsRawFd::as_raw_fd(&file), libc::CLONE_NEWNET) } != 0 {
            return Err(std::io::Error::last_os_error());
        }
        f()
    })
}

/// Whether this process may create namespaces; `Err` says why not, for a skip message.
pub fn can_create_namespaces() -> Result<(), String> {
    if !crate::privilege::is_root() {
        return Err(
            "creating network namespaces needs root (or CAP_NET_ADMIN + CAP_SYS_ADMIN)".into(),
        );
    }
    match Command::new("ip").arg("-V").output() {
        Ok(o) if o.status.success() => Ok(()),
        _ => Err("`ip` from iproute2 is not installed".into()),
    }
}
