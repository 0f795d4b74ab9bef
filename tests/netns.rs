//! The namespace guard itself: two namespaces that can reach each other, and nothing
//! left behind afterwards. Needs root; skipped with a reason otherwise, except under
//! `CI=true`, where it must run.

mod common;

use std::process::Command;

use wirelens::lab::netns::NetnsPair;

fn namespaces() -> String {
    let out = Command::new("ip").args(["netns", "list"]).output();
    out.map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
        .unwrap_or_default()
}

#[test]
fn two_namespaces_talk_over_the_veth_and_vanish_afterwards() {
    if !common::may_run() {
        return;
    }
    let host_before =
        std::fs::read_to_string("/proc/sys/net/ipv6/conf/all/disable_ipv6").unwrap_or_default();
    let names;
    {
        let pair = NetnsPair::create("wlt", "va", "vb", None).unwrap_or_else(|e| panic!("{e}"));
        names = (pair.a.ns.clone(), pair.b.ns.clone());
        let ping = pair
            .exec_ok(&pair.a.ns, &["ping", "-c", "1", "-W", "2", "10.77.0.2"])
            .map(|o| String::from_utf8_lossy(&o.stdout).into_owned());
        assert!(ping.is_ok(), "{ping:?}");
        assert!(namespaces().contains(&names.0));
        // IPv6 is off inside both namespaces (written to /proc/sys from a thread in each,
        // no `sysctl` run), and the host's own setting is what it was.
        let setting = "/proc/sys/net/ipv6/conf/all/disable_ipv6";
        if std::path::Path::new(setting).exists() {
            for ns in [&pair.a.ns, &pair.b.ns] {
                let inside =
                    wirelens::lab::netns::in_netns(ns, move || std::fs::read_to_string(setting))
                        .join()
                        .unwrap_or_else(|_| panic!("thread panicked"))
                        .unwrap_or_else(|e| panic!("{e}"));
                assert_eq!(inside.trim(), "1", "in {ns}");
            }
            let host = std::fs::read_to_string(setting).unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(host, host_before, "the host's setting must not change");
        }
    }
    let left = namespaces();
    assert!(
        !left.contains(&names.0) && !left.contains(&names.1),
        "{left}"
    );
}

#[test]
fn namespaces_are_removed_even_when_the_test_panics() {
    if !common::may_run() {
        return;
    }
    let result = std::panic::catch_unwind(|| {
        let pair = NetnsPair::create("wlt", "va", "vb", None).unwrap_or_else(|e| panic!("{e}"));
        let name = pair.a.ns.clone();
        panic!("{name}");
    });
    let name = result
        .err()
        .and_then(|e| e.downcast_ref::<String>().cloned())
        .unwrap_or_default();
    assert!(name.starts_with("wlt-a-"), "{name}");
    assert!(!namespaces().contains(&name));
}

#[test]
fn an_ipv6_pair_has_its_addresses_usable_at_once_and_vanishes_afterwards() {
    if !common::may_run() {
        return;
    }
    let host_before =
        std::fs::read_to_string("/proc/sys/net/ipv6/conf/all/disable_ipv6").unwrap_or_default();
    let name;
    {
        let pair = NetnsPair::create_v6("wlt6", "va", "vb").unwrap_or_else(|e| panic!("{e}"));
        name = pair.a.ns.clone();
        assert_eq!(
            pair.b.ip6.map(|a| a.to_string()).as_deref(),
            Some("fd77::2")
        );
        // Usable at once: no DAD, so not "tentative"; the readiness probe left the
        // neighbour caches empty.
        let addrs = pair
            .exec_ok(&pair.a.ns, &["ip", "-6", "addr", "show", "dev", "va"])
            .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(addrs.contains("inet6 fd77::1/64"), "{addrs}");
        assert!(addrs.contains("inet6 fe80::"), "{addrs}");
        assert!(!addrs.contains("tentative"), "{addrs}");
        let neigh = pair
            .exec_ok(&pair.a.ns, &["ip", "-6", "neigh", "show", "dev", "va"])
            .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(!neigh.contains("REACHABLE"), "{neigh}");
    }
    assert!(!namespaces().contains(&name));
    let host =
        std::fs::read_to_string("/proc/sys/net/ipv6/conf/all/disable_ipv6").unwrap_or_default();
    assert_eq!(host, host_before, "the host's setting must not change");
}
