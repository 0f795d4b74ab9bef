//! `wirelens lab` for real: each scenario builds its two namespaces, plays real socket
//! programs, and must show the expected stages in JSON; afterwards no namespace of the
//! lab's remains — also when it is interrupted with SIGINT, and after `--keep` +
//! `lab down`. Needs root: skipped with a reason otherwise, except under `CI=true`.
//! The tests run one at a time (`lab down` removes every lab's namespaces).

mod common;

use std::process::{Command, Output, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde_json::Value;

static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

fn lab_namespaces() -> Vec<String> {
    let out = Command::new("ip").args(["netns", "list"]).output();
    out.map(|o| {
        String::from_utf8_lossy(&o.stdout)
            .lines()
            .filter_map(|l| l.split_whitespace().next())
            .filter(|n| n.starts_with("wirelens-lab-"))
            .map(str::to_string)
            .collect()
    })
    .unwrap_or_default()
}

fn lab(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_wirelens"))
        .arg("lab")
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("could not run wirelens lab: {e}"))
}

/// Runs a scenario in JSON and returns (packets, socket calls).
fn scenario(name: &str) -> (Vec<Value>, Vec<String>) {
    scenario_with(name, &[])
}

/// As [`scenario`], with more arguments.
fn scenario_with(name: &str, more: &[&str]) -> (Vec<Value>, Vec<String>) {
    let mut args = vec![name, "--format", "json"];
    args.extend_from_slice(more);
    let out = lab(&args);
    assert!(
        out.status.success(),
        "lab {name} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        lab_namespaces().is_empty(),
        "lab {name} left {:?}",
        lab_namespaces()
    );
    let mut packets = Vec::new();
    let mut calls = Vec::new();
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        let v: Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"));
        match v["call"].as_str() {
            Some(c) => calls.push(c.to_string()),
            None => packets.push(v),
        }
    }
    (packets, calls)
}

fn stages(packets: &[Value]) -> Vec<String> {
    packets
        .iter()
        .filter_map(|p| p["tcp"]["stage"].as_str().map(str::to_string))
        .collect()
}

#[test]
fn handshake_shows_every_stage_and_the_socket_calls() {
    let _one = ONE_AT_A_TIME.lock();
    if !common::may_run() {
        return;
    }
    let (packets, calls) = scenario("handshake");
    let s = stages(&packets);
    for want in [
        "handshake 1/3",
        "handshake 2/3",
        "handshake 3/3",
        "data",
        "ack",
    ] {
        assert!(s.iter().any(|x| x == want), "no {want} in {s:?}");
    }
    assert_eq!(
        s.iter().filter(|x| *x == "handshake 3/3").count(),
        1,
        "{s:?}"
    );
    assert!(s.first().is_some_and(|x| x == "handshake 1/3"), "{s:?}");
    let last = s.last().cloned().unwrap_or_default();
    assert_eq!(last, "teardown 4/4", "the teardown is not complete: {s:?}");
    // Every teardown label counts out of the same 4 steps.
    assert!(
        s.iter()
            .filter(|x| x.starts_with("teardown "))
            .all(|x| x.ends_with("/4")),
        "{s:?}"
    );
    for call in ["connect(", "accept()", "recv()", "send(", "close() → FIN"] {
        assert!(
            calls.iter().any(|c| c.contains(call)),
            "no {call} in {calls:?}"
        );
    }
}

#[test]
fn refused_shows_a_reset() {
    let _one = ONE_AT_A_TIME.lock();
    if !common::may_run() {
        return;
    }
    let (packets, calls) = scenario("refused");
    assert_eq!(stages(&packets), ["handshake 1/3", "reset"]);
    assert!(
        calls.iter().any(|c| c.contains("Connection refused")),
        "{calls:?}"
    );
}

#[test]
fn arp_shows_request_reply_and_gratuitous() {
    let _one = ONE_AT_A_TIME.lock();
    if !common::may_run() {
        return;
    }
    let (packets, _) = scenario("arp");
    let kinds: Vec<&str> = packets
        .iter()
        .filter_map(|p| p["arp"]["kind"].as_str())
        .collect();
    for want in ["request", "reply", "gratuitous"] {
        assert!(kinds.contains(&want), "no ARP {want} in {kinds:?}");
    }
    assert!(
        packets
            .iter()
            .any(|p| p["arp"]["answers"].as_u64().is_some()),
        "no reply names its request"
    );
}

#[test]
fn broadcast_reaches_the_listener_both_ways() {
    let _one = ONE_AT_A_TIME.lock();
    if !common::may_run() {
        return;
    }
    let (packets, calls) = scenario("broadcast");
    let dsts: Vec<&str> = packets
        .iter()
        .filter(|p| p["udp"]["dst_port"] == 10_000)
        .filter_map(|p| p["ipv4"]["dst"].as_str())
        .collect();
    assert!(
        dsts.contains(&"10.0.0.255") && dsts.contains(&"255.255.255.255"),
        "{dsts:?}"
    );
    assert_eq!(
        calls.iter().filter(|c| c.contains("recvfrom()")).count(),
        2,
        "{calls:?}"
    );
}

#[test]
fn fragments_are_reassembled() {
    let _one = ONE_AT_A_TIME.lock();
    if !common::may_run() {
        return;
    }
    let (packets, _) = scenario("fragments");
    let done: Vec<&Value> = packets
        .iter()
        .filter(|p| !p["ipv4"]["reassembled"].is_null())
        .collect();
    assert_eq!(done.len(), 1, "one datagram should be reassembled");
    assert_eq!(done[0]["ipv4"]["reassembled"]["length"], 4008);
    assert_eq!(
        done[0]["ipv4"]["reassembled"]["fragments"]
            .as_array()
            .map(Vec::len),
        Some(3)
    );
    assert_eq!(done[0]["udp"]["checksum_ok"], true);
}

#[test]
fn all_runs_every_scenario_and_leaves_nothing() {
    let _one = ONE_AT_A_TIME.lock();
    if !common::may_run() {
        return;
    }
    let (packets, calls) = scenario("all");
    for s in ["arp", "handshake", "broadcast", "fragments", "refused"] {
        assert!(
            calls.iter().any(|c| c == &format!("— scenario: {s} —")),
            "scenario {s} did not run: {calls:?}"
        );
    }
    let s = stages(&packets);
    assert!(s.iter().any(|x| x == "reset") && s.iter().any(|x| x == "handshake 3/3"));
}

#[test]
fn sigint_mid_run_still_removes_the_network() {
    let _one = ONE_AT_A_TIME.lock();
    if !common::may_run() {
        return;
    }
    let child = Command::new(env!("CARGO_BIN_EXE_wirelens"))
        .args(["lab", "all"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("{e}"));
    let pid = child.id();
    // Wait until its namespaces exist, then interrupt it.
    let deadline = Instant::now() + Duration::from_secs(20);
    while !lab_namespaces()
        .iter()
        .any(|n| n.ends_with(&format!("-{pid}")))
    {
        assert!(Instant::now() < deadline, "the lab never built its network");
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(Duration::from_millis(200));
    // SAFETY: kill sends a signal to our own child, whose pid we hold.
    let r = unsafe { libc::kill(pid as libc::pid_t, libc::SIGINT) };
    assert_eq!(r, 0);
    let out = child.wait_with_output().unwrap_or_else(|e| panic!("{e}"));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(err.contains("stopped by SIGINT"), "{err}");
    assert!(
        lab_namespaces().is_empty(),
        "left behind: {:?}",
        lab_namespaces()
    );
}

#[test]
fn keep_leaves_the_network_up_and_down_removes_it() {
    let _one = ONE_AT_A_TIME.lock();
    if !common::may_run() {
        return;
    }
    let out = lab(&["refused", "--keep"]);
    assert!(out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("ip netns exec") && err.contains("wirelens lab down"),
        "{err}"
    );
    assert_eq!(lab_namespaces().len(), 2);
    let down = lab(&["down"]);
    assert!(down.status.success());
    assert!(String::from_utf8_lossy(&down.stdout).starts_with("Removed "));
    assert!(lab_namespaces().is_empty());
}

#[test]
fn handshake_over_ipv6_shows_the_three_steps_between_fd77_addresses() {
    let _one = ONE_AT_A_TIME.lock();
    if !common::may_run() {
        return;
    }
    let out = lab(&["handshake", "--ipv6", "--color", "never", "--width", "200"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(lab_namespaces().is_empty(), "left {:?}", lab_namespaces());
    for step in ["handshake 1/3", "handshake 2/3", "handshake 3/3"] {
        let line = text.lines().find(|l| l.contains(step));
        let line = line.unwrap_or_else(|| panic!("no {step} in:\n{text}"));
        assert!(
            line.contains("[fd77::1]:") && line.contains("[fd77::2]:8090"),
            "{step} is not between [fd77::1]:port and [fd77::2]:8090: {line}"
        );
    }
    assert!(text.contains("connect([fd77::2]:8090) → SYN"), "{text}");
    assert!(text.contains("client [fd77::1]:"), "no ladder: {text}");
    // The same run in JSON: every stage, over IPv6.
    let (packets, _) = scenario_with("handshake", &["--ipv6"]);
    let s = stages(&packets);
    assert!(s.first().is_some_and(|x| x == "handshake 1/3"), "{s:?}");
    assert!(
        packets
            .iter()
            .filter(|p| !p["tcp"].is_null())
            .all(|p| p["ipv6"]["src"].is_string()),
        "a TCP segment was not over IPv6"
    );
    let o = lab(&["arp", "--ipv6"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&o.stderr)
            .starts_with("wirelens: --ipv6 plays the handshake and refused scenarios over IPv6"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
}

#[test]
fn ndp_shows_a_solicitation_and_its_advertisement() {
    let _one = ONE_AT_A_TIME.lock();
    if !common::may_run() {
        return;
    }
    let (packets, calls) = scenario("ndp");
    let ndp: Vec<(u64, String)> = packets
        .iter()
        .filter_map(|p| {
            let t = p["icmpv6"]["type"].as_u64()?;
            let target = p["icmpv6"]["ndp"]["target"].as_str()?.to_string();
            Some((t, target))
        })
        .collect();
    let ns = ndp
        .iter()
        .filter(|n| n == &&(135, "fd77::2".into()))
        .count();
    let na = ndp
        .iter()
        .filter(|n| n == &&(136, "fd77::2".into()))
        .count();
    assert!(ns >= 2 && na >= 2, "the kernel's and wirelens's: {ndp:?}");
    // Each solicitation is followed by its advertisement.
    let first_ns = ndp.iter().position(|n| n.0 == 135);
    let first_na = ndp.iter().position(|n| n.0 == 136);
    assert!(first_ns < first_na, "{ndp:?}");
    assert!(
        calls.iter().any(|c| c.contains("wirelens send ndp")),
        "{calls:?}"
    );
}
