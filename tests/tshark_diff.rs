//! Differential test against tshark: every field `wirelens read --format json` prints must
//! equal tshark's, on every packet of every capture in `captures/`.
//!
//! For each `captures/*.pcap` and `captures/*.pcapng` the test runs wirelens and
//! `tshark -T json` and walks both outputs packet by packet. The mapping from our JSON to
//! tshark's fields is a table per layer ([`ETH`], [`IPV4`], [`TCP`]…): one [`Row`] per key
//! we print, naming the tshark field and how to normalise it. A key we print that no row
//! covers is itself a failure, so a new field cannot slip in untested; a row that never
//! met a value in any capture is a failure too, so a misspelt tshark field cannot pass
//! by being absent on both sides.
//!
//! tshark's JSON repeats keys (two `vlan` layers, one `tcp.options.nop` per NOP, one
//! `tcp.options.sack_le` per SACK block, one `icmpv6.opt` per neighbour discovery option,
//! one `icmpv6.mldr.mar` per MLDv2 record) and nests the headers an ICMP or ICMPv6 error
//! quotes inside its `icmp` or `icmpv6` layer, so it is read into [`Node`], which keeps
//! every entry in order. IPv6 extension headers are protocols nested in the `ipv6` layer
//! (`ipv6.hopopts`, `ipv6.fraghdr`…), read by [`ipv6_ext_headers`].
//!
//! tshark runs twice per capture. The header pass ([`TSHARK_HEADERS`]) does no analysis
//! and shows raw sequence numbers; every header field comes from it. The analysis pass
//! ([`TSHARK_ANALYSIS`]) gives what our TCP tracker adds: the stream number and relative
//! sequence numbers, and the flags (`tcp.analysis.*`) that [`Context::stage`] turns into
//! the stage we should print. ARP pairing ([`arp_answers`]) is also made from tshark's
//! fields, as tshark has none for it.
//!
//! Null, a missing key and an empty list are the same "nothing" on both sides (we omit
//! empty IPv4 options, tshark omits absent fields).
//!
//! Allowed differences, each checked narrowly:
//! - a TCP option tshark lists without its value (the capture's snap length cut it) is not
//!   expected from us when it is the last option;
//! - the teardown step numbers ("teardown 2/4") are ours alone; only "teardown" is checked;
//! - the stage of a segment tshark could not analyse (its header cut by the snap length)
//!   is checked only when its flags decide it (RST, a bare SYN);
//! - `notes` are ours alone; we only check that a packet tshark flags as short or
//!   malformed has at least one note.

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde::Deserialize;
use serde::de::{Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value, json};

/// tshark options for the header fields: each packet on its own, numbers as on the wire.
const TSHARK_HEADERS: &[&str] = &[
    // No name resolution: addresses and ports stay numbers.
    "-n",
    // Each packet on its own: we show per-packet fields, reassembly is a separate feature.
    "-o",
    "ip.defragment:FALSE",
    "-o",
    "ipv6.defragment:FALSE",
    "-o",
    "tcp.desegment_tcp_streams:FALSE",
    // Verify every checksum we verify (tshark's default is not to).
    "-o",
    "ip.check_checksum:TRUE",
    "-o",
    "tcp.check_checksum:TRUE",
    "-o",
    "udp.check_checksum:TRUE",
    // Raw sequence numbers everywhere, SACK edges included, like ours.
    "-o",
    "tcp.relative_sequence_numbers:FALSE",
    // No conversation analysis: the header fields must not depend on other packets.
    "-o",
    "tcp.analyze_sequence_numbers:FALSE",
    "-T",
    "json",
];

/// tshark options for what our TCP tracker adds (`stream`, `rel_seq`, `rel_ack`,
/// `stage`): tshark's own conversation analysis, with relative sequence numbers (which
/// need the analysis on). Checksums are not checked here, so that a bad checksum cannot
/// keep a segment out of the analysis; we track such segments too.
const TSHARK_ANALYSIS: &[&str] = &[
    "-n",
    "-o",
    "ip.defragment:FALSE",
    "-o",
    "ipv6.defragment:FALSE",
    "-o",
    "tcp.desegment_tcp_streams:FALSE",
    "-o",
    "tcp.relative_sequence_numbers:TRUE",
    "-o",
    "tcp.analyze_sequence_numbers:TRUE",
    "-T",
    "json",
];

/// The test must compare at least this many fields in all, or it proves nothing.
const MIN_FIELDS: usize = 1000;

// ---------------------------------------------------------------------------------------
// The tables: our key, tshark's field, normaliser.
// ---------------------------------------------------------------------------------------

/// How to turn tshark's text for a field into the JSON value we print.
#[derive(Clone, Copy, Debug)]
enum Norm {
    /// A number, decimal or `0x` hex: `"0x0800"` → 2048.
    Int,
    /// A number tshark shows in 8-byte units (IPv4 fragment offset); we print bytes.
    Units8,
    /// `"1"` → true, `"0"` → false.
    Bool,
    /// A decimal number with a fraction (tshark's response times in ms).
    Float,
    /// Text kept as it is (addresses).
    Text,
    /// A checksum status: 1 good → true, 0 bad → false, 4 illegal (a zero UDP checksum
    /// over IPv6, which RFC 8200 forbids) → false, 2 unverified and 3 not present (a zero
    /// UDP checksum over IPv4) → null.
    Status,
}

impl Norm {
    /// The value we should print, from tshark's text; absent is null.
    fn apply(self, raw: Option<&str>) -> Result<Value, String> {
        let Some(raw) = raw else {
            return Ok(Value::Null);
        };
        match self {
            Norm::Int => int(raw).map(Value::from),
            Norm::Units8 => int(raw).map(|n| Value::from(n * 8)),
            Norm::Bool => match raw {
                "1" | "True" | "true" => Ok(Value::Bool(true)),
                "0" | "False" | "false" => Ok(Value::Bool(false)),
                _ => Err(format!("{raw:?} is not a boolean")),
            },
            Norm::Text => Ok(Value::from(raw)),
            Norm::Float => raw
                .parse::<f64>()
                .map(Value::from)
                .map_err(|_| format!("{raw:?} is not a number")),
            Norm::Status => match raw {
                "1" => Ok(Value::Bool(true)),
                "0" | "4" => Ok(Value::Bool(false)),
                "2" | "3" => Ok(Value::Null),
                _ => Err(format!("{raw:?} is not a checksum status")),
            },
        }
    }
}

/// Where the expected value of one of our keys comes from.
#[derive(Clone, Copy)]
enum Theirs {
    /// One tshark field (its first occurrence in the layer), normalised.
    Field(&'static str, Norm),
    /// Computed from several tshark fields; the text says which, for messages.
    Derived(&'static str, fn(&Layer<'_>) -> Result<Value, String>),
}

impl Theirs {
    /// Which tshark fields, for messages.
    fn describe(self) -> &'static str {
        match self {
            Theirs::Field(f, _) | Theirs::Derived(f, _) => f,
        }
    }
}

/// One key of a layer of ours and how tshark says it.
#[derive(Clone, Copy)]
struct Row {
    /// The key in our layer object.
    ours: &'static str,
    /// tshark's side.
    theirs: Theirs,
    /// Applied to both sides before comparing, for keys whose spelling may differ
    /// without the meaning differing (names, the time zone suffix).
    canon: fn(&Value) -> Value,
}

const fn field(ours: &'static str, tshark: &'static str, norm: Norm) -> Row {
    Row {
        ours,
        theirs: Theirs::Field(tshark, norm),
        canon: same,
    }
}

const fn derived(
    ours: &'static str,
    what: &'static str,
    f: fn(&Layer<'_>) -> Result<Value, String>,
) -> Row {
    Row {
        ours,
        theirs: Theirs::Derived(what, f),
        canon: same,
    }
}

/// One layer of ours: its rows and the keys compared by code of their own.
struct Spec {
    /// Its key in our JSON, e.g. `"ipv4"`.
    name: &'static str,
    /// One row per scalar key.
    rows: &'static [Row],
    /// Keys compared outside the table (nested layers).
    special: &'static [&'static str],
}

use Norm::{Bool, Float, Int, Status, Text, Units8};

/// Top level: frame metadata from tshark's `frame` layer.
const FRAME: Spec = Spec {
    name: "frame",
    rows: &[
        field("n", "frame.number", Int),
        Row {
            canon: utc_z,
            ..derived(
                "ts",
                "frame.time_epoch truncated to µs, as RFC 3339",
                rfc3339,
            )
        },
        field("caplen", "frame.cap_len", Int),
        field("len", "frame.len", Int),
        derived(
            "link_type",
            "frame.encap_type, Wireshark's number for the LINKTYPE_",
            link_type,
        ),
    ],
    special: &[
        "sll", "null", "eth", "vlan", "arp", "ipv4", "ipv6", "tcp", "udp", "icmp", "icmpv6",
        "other", "notes",
    ],
};

/// A Linux cooked capture header (`tcpdump -i any`).
const SLL: Spec = Spec {
    name: "sll",
    rows: &[
        derived(
            "version",
            "2 when tshark shows sll.ifindex (only v2 has it), else 1",
            sll_version,
        ),
        field("packet_type", "sll.pkttype", Int),
        field("arphrd", "sll.hatype", Int),
        derived(
            "addr",
            "sll.src.eth, sll.src.ipv4 or sll.src.other; empty when sll.halen is 0",
            sll_addr,
        ),
        derived(
            "protocol",
            "sll.etype, sll.ltype or sll.gretype",
            sll_protocol,
        ),
        field("ifindex", "sll.ifindex", Int),
    ],
    special: &[],
};

/// A BSD loopback header.
const NULL: Spec = Spec {
    name: "null",
    rows: &[field("family", "null.family", Int)],
    special: &[],
};

const ETH: Spec = Spec {
    name: "eth",
    rows: &[
        field("src", "eth.src", Text),
        field("dst", "eth.dst", Text),
        field("type", "eth.type", Int),
    ],
    special: &[],
};

/// One VLAN tag. tshark names an 802.1ad (0x88a8) tag `ieee8021ad`; [`Layer::fields`]
/// translates these names for it.
const VLAN: Spec = Spec {
    name: "vlan",
    rows: &[
        field("id", "vlan.id", Int),
        field("pcp", "vlan.priority", Int),
        field("dei", "vlan.dei", Bool),
        field("type", "vlan.etype", Int),
    ],
    special: &[],
};

const ARP: Spec = Spec {
    name: "arp",
    rows: &[
        field("htype", "arp.hw.type", Int),
        field("ptype", "arp.proto.type", Int),
        field("hlen", "arp.hw.size", Int),
        field("plen", "arp.proto.size", Int),
        field("op", "arp.opcode", Int),
        field("sha", "arp.src.hw_mac", Text),
        field("spa", "arp.src.proto_ipv4", Text),
        field("tha", "arp.dst.hw_mac", Text),
        field("tpa", "arp.dst.proto_ipv4", Text),
        derived(
            "kind",
            "arp.isgratuitous, arp.isprobe, arp.opcode",
            arp_kind,
        ),
    ],
    special: &["answers", "latency_ms"],
};

const IPV4: Spec = Spec {
    name: "ipv4",
    rows: &[
        field("version", "ip.version", Int),
        field("ihl", "ip.hdr_len", Int),
        field("dscp", "ip.dsfield.dscp", Int),
        field("ecn", "ip.dsfield.ecn", Int),
        field("total_len", "ip.len", Int),
        field("id", "ip.id", Int),
        field("df", "ip.flags.df", Bool),
        field("mf", "ip.flags.mf", Bool),
        field("frag_offset", "ip.frag_offset", Units8),
        field("ttl", "ip.ttl", Int),
        field("proto", "ip.proto", Int),
        field("checksum", "ip.checksum", Int),
        field("checksum_ok", "ip.checksum.status", Status),
        field("src", "ip.src", Text),
        field("dst", "ip.dst", Text),
        Row {
            canon: option_names,
            ..derived(
                "options",
                "ip.opt.type, ip.opt.len and the option's field name, per option",
                ipv4_options,
            )
        },
    ],
    special: &[],
};

/// An IPv6 header. tshark shows each extension header as a protocol of its own nested in
/// the `ipv6` layer (`ipv6.hopopts`, `ipv6.fraghdr`…), which [`Layer::field`] does not look
/// into; [`ipv6_ext`] and [`ipv6_fragment`] read them.
const IPV6: Spec = Spec {
    name: "ipv6",
    rows: &[
        field("version", "ipv6.version", Int),
        field("traffic_class", "ipv6.tclass", Int),
        field("flow_label", "ipv6.flow", Int),
        field("payload_len", "ipv6.plen", Int),
        field("next_header", "ipv6.nxt", Int),
        field("hop_limit", "ipv6.hlim", Int),
        field("src", "ipv6.src", Text),
        field("dst", "ipv6.dst", Text),
        derived(
            "ext",
            "the extension header protocols in ipv6 and their <name>.len_oct",
            ipv6_ext,
        ),
        derived(
            "fragment",
            "ipv6.fraghdr.offset, .more and .ident",
            ipv6_fragment,
        ),
    ],
    special: &[],
};

const TCP: Spec = Spec {
    name: "tcp",
    rows: &[
        field("src_port", "tcp.srcport", Int),
        field("dst_port", "tcp.dstport", Int),
        field("seq", "tcp.seq_raw", Int),
        field("ack", "tcp.ack_raw", Int),
        derived("flags", "the bits of tcp.flags", tcp_flags),
        field("window", "tcp.window_size_value", Int),
        field("header_len", "tcp.hdr_len", Int),
        field("payload_len", "tcp.len", Int),
        field("checksum", "tcp.checksum", Int),
        field("checksum_ok", "tcp.checksum.status", Status),
        field("urgent", "tcp.urgent_pointer", Int),
        derived(
            "options",
            "tcp.option_kind and the option's values, per option",
            tcp_options,
        ),
    ],
    special: &["stream", "rel_seq", "rel_ack", "stage"],
};

/// What our TCP tracker adds, from tshark's analysis pass ([`TSHARK_ANALYSIS`]). `stage`
/// has no tshark field; [`Context::stage`] derives it from tshark's analysis.
const TCP_CONV: Spec = Spec {
    name: "tcp",
    rows: &[
        field("stream", "tcp.stream", Int),
        field("rel_seq", "tcp.seq", Int),
        derived("rel_ack", "tcp.ack, when the ACK flag is set", rel_ack),
    ],
    special: &["stage"],
};

const UDP: Spec = Spec {
    name: "udp",
    rows: &[
        field("src_port", "udp.srcport", Int),
        field("dst_port", "udp.dstport", Int),
        field("length", "udp.length", Int),
        field("checksum", "udp.checksum", Int),
        field("checksum_ok", "udp.checksum.status", Status),
    ],
    special: &[],
};

const ICMP: Spec = Spec {
    name: "icmp",
    rows: &[
        field("type", "icmp.type", Int),
        field("code", "icmp.code", Int),
        field("checksum", "icmp.checksum", Int),
        field("checksum_ok", "icmp.checksum.status", Status),
        field("id", "icmp.ident", Int),
        field("seq", "icmp.seq", Int),
        field("answers", "icmp.resp_to", Int),
        Row {
            canon: to_micros,
            ..field("latency_ms", "icmp.resptime", Float)
        },
    ],
    special: &["quoted"],
};

/// An ICMPv6 message. Its neighbour discovery and multicast listener parts are objects of
/// their own ([`NDP`], [`MLD`]), compared against the same tshark layer.
const ICMPV6: Spec = Spec {
    name: "icmpv6",
    rows: &[
        field("type", "icmpv6.type", Int),
        field("code", "icmpv6.code", Int),
        field("checksum", "icmpv6.checksum", Int),
        field("checksum_ok", "icmpv6.checksum.status", Status),
        field("id", "icmpv6.echo.identifier", Int),
        field("seq", "icmpv6.echo.sequence_number", Int),
        field("mtu", "icmpv6.mtu", Int),
        field("pointer", "icmpv6.pointer", Int),
    ],
    special: &["quoted", "ndp", "mld", "answers", "latency_ms"],
};

/// Neighbour discovery (RFC 4861, types 133–137), from tshark's `icmpv6` layer.
const NDP: Spec = Spec {
    name: "icmpv6.ndp",
    rows: &[
        derived(
            "target",
            "icmpv6.nd.ns.target_address, icmpv6.nd.na.target_address or \
             icmpv6.nd.rd.target_address",
            nd_target,
        ),
        field("destination", "icmpv6.rd.na.destination_address", Text),
        field("cur_hop_limit", "icmpv6.nd.ra.cur_hop_limit", Int),
        field("managed", "icmpv6.nd.ra.flag.m", Bool),
        field("other", "icmpv6.nd.ra.flag.o", Bool),
        field("router_lifetime", "icmpv6.nd.ra.router_lifetime", Int),
        field("reachable_time", "icmpv6.nd.ra.reachable_time", Int),
        field("retrans_timer", "icmpv6.nd.ra.retrans_timer", Int),
        field("router", "icmpv6.nd.na.flag.r", Bool),
        field("solicited", "icmpv6.nd.na.flag.s", Bool),
        field("override", "icmpv6.nd.na.flag.o", Bool),
        derived(
            "options",
            "icmpv6.opt.type, icmpv6.opt.length and the option's values, per option",
            nd_options,
        ),
    ],
    special: &[],
};

/// Multicast listener discovery (MLDv1, RFC 2710; MLDv2, RFC 3810), from tshark's
/// `icmpv6` layer.
const MLD: Spec = Spec {
    name: "icmpv6.mld",
    rows: &[
        derived(
            "max_response_delay",
            "icmpv6.mld.maximum_response_delay or icmpv6.mld.maximum_response_code",
            mld_max_response_delay,
        ),
        field("multicast_address", "icmpv6.mld.multicast_address", Text),
        field("num_sources", "icmpv6.mld.nb_sources", Int),
        derived("sources", "every icmpv6.mld.source_address", mld_sources),
        field("num_records", "icmpv6.mldr.nb_mcast_records", Int),
        derived(
            "records",
            "icmpv6.mldr.mar.record_type, .nb_sources, .multicast_address and \
             .source_address, per icmpv6.mldr.mar",
            mld_records,
        ),
    ],
    special: &[],
};

/// The headers an ICMP or ICMPv6 error quotes, nested in tshark's `icmp` or `icmpv6`
/// layer.
const QUOTED: Spec = Spec {
    name: "icmp.quoted",
    rows: &[],
    special: &["ipv4", "ipv6", "tcp", "udp", "icmp", "icmpv6"],
};

/// A protocol we name but do not decode; see [`expected_other`].
const OTHER: Spec = Spec {
    name: "other",
    rows: &[],
    special: &["by", "number", "name", "bytes"],
};

/// Keys compared by code of their own, which must meet a value in some capture too.
const CROSS_PACKET: &[(&str, &str)] = &[
    ("tcp", "stage"),
    ("arp", "answers"),
    ("arp", "latency_ms"),
    ("icmpv6", "answers"),
    ("icmpv6", "latency_ms"),
    ("other", "by"),
    ("other", "number"),
    ("other", "name"),
    ("other", "bytes"),
];

const ALL_SPECS: &[&Spec] = &[
    &FRAME, &SLL, &NULL, &ETH, &VLAN, &ARP, &IPV4, &IPV6, &TCP, &TCP_CONV, &UDP, &ICMP, &ICMPV6,
    &NDP, &MLD,
];

// ---------------------------------------------------------------------------------------
// Derived values.
// ---------------------------------------------------------------------------------------

fn same(v: &Value) -> Value {
    v.clone()
}

/// Milliseconds rounded to the microsecond, as we print a latency: tshark gives its
/// response times to the nanosecond when the capture has them.
fn to_micros(v: &Value) -> Value {
    match v.as_f64() {
        Some(ms) => Value::from((ms * 1e3).round() / 1e3),
        None => v.clone(),
    }
}

/// `+00:00` and `Z` are the same zone in RFC 3339.
fn utc_z(v: &Value) -> Value {
    match v.as_str() {
        Some(s) if s.ends_with("+00:00") => Value::from(format!("{}Z", &s[..s.len() - 6])),
        _ => v.clone(),
    }
}

/// Option names compared by their letters and digits only: tshark says "Time Stamp"
/// where we may say "Timestamp".
fn option_names(v: &Value) -> Value {
    let mut v = v.clone();
    if let Some(list) = v.as_array_mut() {
        for opt in list {
            if let Some(name) = opt.get_mut("name")
                && let Some(s) = name.as_str()
            {
                *name = Value::from(
                    s.chars()
                        .filter(char::is_ascii_alphanumeric)
                        .map(|c| c.to_ascii_lowercase())
                        .collect::<String>(),
                );
            }
        }
    }
    v
}

/// tshark's `frame.time_epoch` ("1795439935.615435123") as the RFC 3339 UTC time with
/// microseconds we print: truncated, not rounded, so that a time never moves into the
/// next second (or day) when it loses digits.
fn rfc3339(l: &Layer<'_>) -> Result<Value, String> {
    let ns = epoch_ns(l.field("frame.time_epoch").ok_or("no frame.time_epoch")?)?;
    let (secs, micros) = (
        ns.div_euclid(1_000_000_000),
        ns.rem_euclid(1_000_000_000) / 1000,
    );
    let secs = i64::try_from(secs).map_err(|_| format!("{secs} s is out of range"))?;
    let (y, m, d) = civil_from_days(secs.div_euclid(86_400));
    let t = secs.rem_euclid(86_400);
    Ok(Value::from(format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{micros:06}Z",
        t / 3600,
        t / 60 % 60,
        t % 60
    )))
}

/// Days since 1970-01-01 → (year, month, day), proleptic Gregorian (H. Hinnant's
/// `civil_from_days`).
fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

/// tshark marks a gratuitous ARP (sender IP = target IP) and a probe (sender IP 0.0.0.0)
/// with fields of their own; anything else is named by its opcode.
fn arp_kind(l: &Layer<'_>) -> Result<Value, String> {
    let set = |f| l.field(f) == Some("1");
    let kind = if set("arp.isgratuitous") {
        "gratuitous"
    } else if set("arp.isprobe") {
        "probe"
    } else {
        match l.field("arp.opcode").map(int).transpose()? {
            Some(1) => "request",
            Some(2) => "reply",
            Some(_) => "other",
            None => return Ok(Value::Null),
        }
    };
    Ok(Value::from(kind))
}

/// Our flag names, lowest bit first.
const TCP_FLAGS: [(u64, &str); 9] = [
    (FIN, "FIN"),
    (SYN, "SYN"),
    (RST, "RST"),
    (0x008, "PSH"),
    (ACK, "ACK"),
    (0x020, "URG"),
    (0x040, "ECE"),
    (0x080, "CWR"),
    (0x100, "AE"),
];

fn tcp_flags(l: &Layer<'_>) -> Result<Value, String> {
    let Some(raw) = l.field("tcp.flags") else {
        return Ok(Value::Null);
    };
    let bits = int(raw)?;
    Ok(TCP_FLAGS
        .iter()
        .filter(|(bit, _)| bits & bit != 0)
        .map(|(_, name)| Value::from(*name))
        .collect())
}

/// The flag bits of a TCP layer; 0 when tshark shows none.
fn flag_bits(l: &Layer<'_>) -> Result<u64, String> {
    l.field("tcp.flags").map_or(Ok(0), int)
}

/// tshark shows an acknowledgement number even when the ACK flag is clear; we print
/// null then, as the number means nothing.
fn rel_ack(l: &Layer<'_>) -> Result<Value, String> {
    if flag_bits(l)? & ACK == 0 {
        return Ok(Value::Null);
    }
    Norm::Int.apply(l.field("tcp.ack"))
}

const FIN: u64 = 0x001;
const SYN: u64 = 0x002;
const RST: u64 = 0x004;
const ACK: u64 = 0x010;

/// Our stage without the teardown step numbers ("teardown 2/4" → "teardown"): tshark
/// has nothing to say about them.
fn stage_family(v: &Value) -> Value {
    match v.as_str() {
        Some(s) if s.starts_with("teardown ") => Value::from("teardown"),
        _ => v.clone(),
    }
}

/// Every IPv4 option tshark lists, in order, as `{type, name, len}`. tshark gives EOL and
/// NOP no length field: they are one byte.
fn ipv4_options(l: &Layer<'_>) -> Result<Value, String> {
    let mut out = Vec::new();
    for (key, opt) in l.trees_with("ip.opt.type") {
        let leaf = |f| opt.iter().find(|(k, _)| k == f).and_then(|(_, v)| v.leaf());
        let kind = int(leaf("ip.opt.type").ok_or("no ip.opt.type")?)?;
        let len = leaf("ip.opt.len").map(int).transpose()?.unwrap_or(1);
        let abbrev = key.strip_suffix("_tree").unwrap_or(key);
        let name = l.info.option_name(abbrev);
        out.push(json!({"type": kind, "name": name, "len": len}));
    }
    Ok(Value::Array(out))
}

/// Every TCP option tshark lists, in order, shaped like ours. tshark lists an option the
/// snap length cut short without its values; we leave such an option out, so a last
/// option without its values is not expected.
fn tcp_options(l: &Layer<'_>) -> Result<Value, String> {
    let opts = l.trees_with("tcp.option_kind");
    let mut out = Vec::new();
    for (i, (_, opt)) in opts.iter().enumerate() {
        let leaf = |f: &str| opt.iter().find(|(k, _)| k == f).and_then(|(_, v)| v.leaf());
        let num = |f: &str| leaf(f).map(int).transpose();
        let kind = num("tcp.option_kind")?.ok_or("no tcp.option_kind")?;
        let value = match kind {
            0 => Some(json!({"kind": "eol"})),
            1 => Some(json!({"kind": "nop"})),
            2 => num("tcp.options.mss_val")?.map(|v| json!({"kind": "mss", "value": v})),
            3 => num("tcp.options.wscale.shift")?
                .map(|s| json!({"kind": "window_scale", "shift": s})),
            4 => Some(json!({"kind": "sack_permitted"})),
            5 => sack_blocks(opt)?.map(|b| json!({"kind": "sack", "blocks": b})),
            8 => match (
                num("tcp.options.timestamp.tsval")?,
                num("tcp.options.timestamp.tsecr")?,
            ) {
                (Some(tsval), Some(tsecr)) => {
                    Some(json!({"kind": "timestamps", "tsval": tsval, "tsecr": tsecr}))
                }
                _ => None,
            },
            _ => num("tcp.option_len")?
                .map(|len| json!({"kind": "unknown", "number": kind, "len": len})),
        };
        match value {
            Some(v) => out.push(v),
            None if i + 1 == opts.len() => {}
            None => return Err(format!("TCP option {i} (kind {kind}) has no value")),
        }
    }
    Ok(Value::Array(out))
}

/// The (left, right) edges of a SACK option, in order; a D-SACK block counts as one.
fn sack_blocks(opt: &[(String, Node)]) -> Result<Option<Value>, String> {
    let edges = |names: [&str; 2]| -> Result<Vec<u64>, String> {
        opt.iter()
            .filter(|(k, _)| names.contains(&k.as_str()))
            .filter_map(|(_, v)| v.leaf())
            .map(int)
            .collect()
    };
    let left = edges(["tcp.options.sack_le", "tcp.options.sack.dsack_le"])?;
    let right = edges(["tcp.options.sack_re", "tcp.options.sack.dsack_re"])?;
    if left.is_empty() || left.len() != right.len() {
        return Ok(None);
    }
    Ok(Some(
        left.into_iter()
            .zip(right)
            .map(|(l, r)| json!([l, r]))
            .collect(),
    ))
}

/// The extension headers tshark's IPv6 dissector nests in its layer, by protocol filter
/// name, with their next-header numbers. AH, the mobility header, HIP and shim6 are
/// layers of their own in tshark; no capture has them.
const IPV6_EXT: [(&str, u64); 4] = [
    ("ipv6.hopopts", 0),
    ("ipv6.routing", 43),
    ("ipv6.fraghdr", 44),
    ("ipv6.dstopts", 60),
];

/// The next-header number of a fragment header.
const IPV6_FRAGMENT: u64 = 44;

/// A fragment header's length in bytes: fixed, so tshark shows no length field for it.
const FRAGMENT_HEADER_LEN: u64 = 8;

/// The IPv6 base header's length in bytes.
const IPV6_HEADER_LEN: u64 = 40;

/// The extension headers of an `ipv6` layer, in order: filter name, next-header number
/// and the header's own layer. [`Layer::walk`] does not descend into them (tshark
/// registers each as a protocol), so the layer's entries are read here.
fn ipv6_ext_headers<'a>(l: &Layer<'a>) -> Vec<(&'a str, u64, Layer<'a>)> {
    l.entries
        .iter()
        .filter_map(|(key, node)| {
            let &(name, kind) = IPV6_EXT.iter().find(|(name, _)| name == key)?;
            Some((name, kind, l.sub(key, node.entries())))
        })
        .collect()
}

/// An extension header's length in bytes: `<name>.len_oct`, or 8 for a fragment header.
fn ipv6_ext_len(name: &str, kind: u64, ext: &Layer<'_>) -> Result<u64, String> {
    if kind == IPV6_FRAGMENT {
        return Ok(FRAGMENT_HEADER_LEN);
    }
    let f = format!("{name}.len_oct");
    int(ext.field(&f).ok_or(format!("no {f}"))?)
}

/// Our `ext`: `{type, len}` per extension header, `len` in bytes.
fn ipv6_ext(l: &Layer<'_>) -> Result<Value, String> {
    ipv6_ext_headers(l)
        .into_iter()
        .map(|(name, kind, ext)| Ok(json!({"type": kind, "len": ipv6_ext_len(name, kind, &ext)?})))
        .collect()
}

/// Our `fragment`, from the first fragment header: the offset in bytes (tshark shows
/// 8-byte units, as on the wire), the M flag and the identification.
fn ipv6_fragment(l: &Layer<'_>) -> Result<Value, String> {
    let Some((_, _, frag)) = ipv6_ext_headers(l)
        .into_iter()
        .find(|(_, kind, _)| *kind == IPV6_FRAGMENT)
    else {
        return Ok(Value::Null);
    };
    Ok(json!({
        "offset": Units8.apply(frag.field("ipv6.fraghdr.offset"))?,
        "more": Bool.apply(frag.field("ipv6.fraghdr.more"))?,
        "id": Int.apply(frag.field("ipv6.fraghdr.ident"))?,
    }))
}

/// The target address of a neighbour solicitation, advertisement or redirect: tshark
/// has one field per message type.
fn nd_target(l: &Layer<'_>) -> Result<Value, String> {
    let fields = [
        "icmpv6.nd.ns.target_address",
        "icmpv6.nd.na.target_address",
        "icmpv6.nd.rd.target_address",
    ];
    Text.apply(fields.iter().find_map(|f| l.field(f)))
}

/// The values of a neighbour discovery option we print, by our key and tshark's field.
/// An option has the keys of the values it carries: a link-layer address option
/// `lladdr`, a prefix information option the prefix keys, an MTU option `mtu`.
const ND_OPTION_VALUES: [(&str, &str, Norm); 8] = [
    ("lladdr", "icmpv6.opt.linkaddr", Text),
    ("prefix_len", "icmpv6.opt.prefix.length", Int),
    ("onlink", "icmpv6.opt.prefix.flag.l", Bool),
    ("autonomous", "icmpv6.opt.prefix.flag.a", Bool),
    ("valid_lifetime", "icmpv6.opt.prefix.valid_lifetime", Int),
    (
        "preferred_lifetime",
        "icmpv6.opt.prefix.preferred_lifetime",
        Int,
    ),
    ("prefix", "icmpv6.opt.prefix", Text),
    ("mtu", "icmpv6.opt.mtu", Int),
];

/// NDP options are 8-byte units long; tshark shows the length field as on the wire.
const ND_OPTION_UNIT: u64 = 8;

/// Every neighbour discovery option tshark lists (one `icmpv6.opt` subtree each), in
/// order, shaped like ours: `{type, len}` with `len` in bytes, and the option's values.
fn nd_options(l: &Layer<'_>) -> Result<Value, String> {
    let mut out = Vec::new();
    for (key, entries) in l.trees_with("icmpv6.opt.type") {
        let opt = l.sub(key, entries);
        let num = |f: &str| int(opt.field(f).ok_or(format!("no {f}"))?);
        let mut o = Map::new();
        o.insert("type".into(), Value::from(num("icmpv6.opt.type")?));
        o.insert(
            "len".into(),
            Value::from(num("icmpv6.opt.length")? * ND_OPTION_UNIT),
        );
        for (ours, theirs, norm) in ND_OPTION_VALUES {
            if let Some(raw) = opt.field(theirs) {
                o.insert(ours.into(), norm.apply(Some(raw))?);
            }
        }
        out.push(Value::Object(o));
    }
    Ok(Value::Array(out))
}

/// The maximum response delay in milliseconds: MLDv1 messages carry it as it is
/// (`icmpv6.mld.maximum_response_delay`); an MLDv2 query carries a maximum response code,
/// which tshark shows decoded (RFC 3810 §5.1.3: from 32768 on, a float with a 3-bit
/// exponent and a 12-bit mantissa) as `icmpv6.mld.maximum_response_code`.
fn mld_max_response_delay(l: &Layer<'_>) -> Result<Value, String> {
    let fields = [
        "icmpv6.mld.maximum_response_delay",
        "icmpv6.mld.maximum_response_code",
    ];
    Int.apply(fields.iter().find_map(|f| l.field(f)))
}

/// The source addresses of an MLDv2 query, in order.
fn mld_sources(l: &Layer<'_>) -> Result<Value, String> {
    Ok(l.fields("icmpv6.mld.source_address")
        .into_iter()
        .map(Value::from)
        .collect())
}

/// The address records of an MLDv2 report (one `icmpv6.mldr.mar` subtree each), in order.
fn mld_records(l: &Layer<'_>) -> Result<Value, String> {
    let mut out = Vec::new();
    for (key, entries) in l.trees_with("icmpv6.mldr.mar.record_type") {
        let rec = l.sub(key, entries);
        let sources: Vec<&str> = rec.fields("icmpv6.mldr.mar.source_address");
        out.push(json!({
            "type": Int.apply(rec.field("icmpv6.mldr.mar.record_type"))?,
            "num_sources": Int.apply(rec.field("icmpv6.mldr.mar.nb_sources"))?,
            "multicast_address": Text.apply(rec.field("icmpv6.mldr.mar.multicast_address"))?,
            "sources": sources,
        }));
    }
    Ok(Value::Array(out))
}

/// What our `other` should be: the protocol after the last layer we decode, when tshark
/// sees one we do not decode. Null when we decode the whole stack (or the packet is a
/// later IPv4 or IPv6 fragment, whose payload has no header to name). Over IPv6 the
/// number is the last next header of the extension header chain, the name is what tshark
/// decodes after the last of those headers, and the bytes are those after them.
fn expected_other(p: &Packet<'_>) -> Result<Value, String> {
    let frame = p.layer("frame").ok_or("no frame layer")?;
    let (sll, null) = (p.layer("sll"), p.layer("null"));
    let eth = p.layer("eth");
    // Raw IP has no link layer at all: the IP header starts the frame.
    let raw = eth.is_none() && sll.is_none() && null.is_none();
    if raw && p.layer("ip").is_none() && p.layer("ipv6").is_none() {
        return Ok(Value::Null);
    }
    let protocols: Vec<&str> = frame
        .field("frame.protocols")
        .unwrap_or("")
        .split(':')
        .collect();
    let cap_len = int(frame.field("frame.cap_len").ok_or("no frame.cap_len")?)?;
    let tags = p.vlans();
    let header_len = match (&eth, &sll, &null) {
        (Some(_), _, _) => 14,
        (None, Some(l), _) if l.field("sll.ifindex").is_some() => 20,
        (None, Some(_), _) => 16,
        (None, None, Some(_)) => 4,
        (None, None, None) => 0,
    };
    let link_len = header_len + 4 * tags.len() as u64;
    let name_after = |layer: &str| -> Value {
        let i = protocols.iter().rposition(|p| *p == layer);
        match i.and_then(|i| protocols.get(i + 1)) {
            None | Some(&"data") => Value::Null,
            Some(filter) => Value::from(p.info.short_name(filter)),
        }
    };
    if let Some(ip) = p.layer("ip") {
        let decoded = ["tcp", "udp", "icmp"].iter().any(|l| p.layer(l).is_some());
        let frag = ip.field("ip.frag_offset").map(int).transpose()?;
        if decoded || frag != Some(0) {
            return Ok(Value::Null);
        }
        let num = |f| ip.field(f).map(int).transpose()?.ok_or(format!("no {f}"));
        let (total, hdr) = (num("ip.len")?, num("ip.hdr_len")?);
        let bytes = total
            .min(cap_len.saturating_sub(link_len))
            .saturating_sub(hdr);
        return Ok(json!({
            "by": "ip_proto",
            "number": num("ip.proto")?,
            "name": name_after("ip"),
            "bytes": bytes,
        }));
    }
    if let Some(ip) = p.layer("ipv6") {
        let decoded = ["tcp", "udp", "icmp", "icmpv6"]
            .iter()
            .any(|l| p.layer(l).is_some());
        let ext = ipv6_ext_headers(&ip);
        let frag = ext
            .iter()
            .find(|(_, kind, _)| *kind == IPV6_FRAGMENT)
            .map(|(_, _, f)| f.field("ipv6.fraghdr.offset").map(int).transpose())
            .transpose()?;
        if decoded || frag.is_some_and(|offset| offset != Some(0)) {
            return Ok(Value::Null);
        }
        let num =
            |l: &Layer<'_>, f: &str| l.field(f).map(int).transpose()?.ok_or(format!("no {f}"));
        // The protocol is named by the last next header of the chain, and its bytes are
        // what the payload length leaves after the extension headers.
        let (last, number) = match ext.last() {
            Some((name, _, e)) => (*name, num(e, &format!("{name}.nxt"))?),
            None => ("ipv6", num(&ip, "ipv6.nxt")?),
        };
        let ext_len = ext
            .iter()
            .map(|(name, kind, e)| ipv6_ext_len(name, *kind, e))
            .sum::<Result<u64, String>>()?;
        let bytes = num(&ip, "ipv6.plen")?
            .min(cap_len.saturating_sub(link_len + IPV6_HEADER_LEN))
            .saturating_sub(ext_len);
        return Ok(json!({
            "by": "ip_proto",
            "number": number,
            "name": name_after(last),
            "bytes": bytes,
        }));
    }
    if p.layer("arp").is_some() {
        return Ok(Value::Null);
    }
    let ethertype = match (tags.last(), &eth, &sll) {
        (Some(tag), _, _) => tag.field("vlan.etype"),
        (None, Some(e), _) => e.field("eth.type"),
        (None, None, Some(l)) => ["sll.etype", "sll.ltype"].iter().find_map(|f| l.field(f)),
        (None, None, None) => None,
    };
    Ok(json!({
        "by": "ethertype",
        "number": ethertype.map(int).transpose()?,
        "name": name_after("ethertype"),
        "bytes": cap_len.saturating_sub(link_len),
    }))
}

/// Wireshark's encapsulation number (`frame.encap_type`) as the LINKTYPE_ number we
/// print.
fn link_type(l: &Layer<'_>) -> Result<Value, String> {
    let encap = l.field("frame.encap_type").map(int).transpose()?;
    let linktype = match encap {
        Some(1) => 1,
        Some(25) => 113,
        Some(210) => 276,
        Some(7) => 101,
        Some(15) => 0,
        Some(129) => 228,
        Some(130) => 229,
        other => return Err(format!("no LINKTYPE_ known for encapsulation {other:?}")),
    };
    Ok(Value::from(linktype))
}

fn sll_version(l: &Layer<'_>) -> Result<Value, String> {
    Ok(Value::from(if l.field("sll.ifindex").is_some() {
        2
    } else {
        1
    }))
}

fn sll_addr(l: &Layer<'_>) -> Result<Value, String> {
    if l.field("sll.halen").map(int).transpose()? == Some(0) {
        return Ok(Value::from(""));
    }
    let addr = ["sll.src.eth", "sll.src.ipv4", "sll.src.other"]
        .iter()
        .find_map(|f| l.field(f));
    Ok(addr.map_or(Value::Null, Value::from))
}

fn sll_protocol(l: &Layer<'_>) -> Result<Value, String> {
    let proto = ["sll.etype", "sll.ltype", "sll.gretype"]
        .iter()
        .find_map(|f| l.field(f));
    Norm::Int.apply(proto)
}

/// A number, decimal or `0x` hex.
fn int(raw: &str) -> Result<u64, String> {
    let parsed = match raw.strip_prefix("0x") {
        Some(hex) => u64::from_str_radix(hex, 16),
        None => raw.parse(),
    };
    parsed.map_err(|_| format!("{raw:?} is not a number"))
}

// ---------------------------------------------------------------------------------------
// tshark's JSON.
// ---------------------------------------------------------------------------------------

/// One value of tshark's `-T json` output, keeping repeated keys and their order.
#[derive(Debug)]
enum Node {
    Leaf(String),
    Tree(Vec<(String, Node)>),
    List(Vec<Node>),
}

impl Node {
    fn leaf(&self) -> Option<&str> {
        match self {
            Node::Leaf(s) => Some(s),
            _ => None,
        }
    }

    fn entries(&self) -> &[(String, Node)] {
        match self {
            Node::Tree(e) => e,
            _ => &[],
        }
    }

    fn get(&self, key: &str) -> Option<&Node> {
        self.entries()
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v)
    }
}

impl<'de> Deserialize<'de> for Node {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(NodeVisitor)
    }
}

struct NodeVisitor;

impl<'de> Visitor<'de> for NodeVisitor {
    type Value = Node;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("tshark JSON")
    }

    fn visit_str<E>(self, v: &str) -> Result<Node, E> {
        Ok(Node::Leaf(v.to_owned()))
    }

    fn visit_string<E>(self, v: String) -> Result<Node, E> {
        Ok(Node::Leaf(v))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Node, E> {
        Ok(Node::Leaf(v.to_string()))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Node, E> {
        Ok(Node::Leaf(v.to_string()))
    }

    fn visit_f64<E>(self, v: f64) -> Result<Node, E> {
        Ok(Node::Leaf(v.to_string()))
    }

    fn visit_bool<E>(self, v: bool) -> Result<Node, E> {
        Ok(Node::Leaf(v.to_string()))
    }

    fn visit_unit<E>(self) -> Result<Node, E> {
        Ok(Node::Leaf(String::new()))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Node, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(Node::List(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Node, A::Error> {
        let mut entries = Vec::new();
        while let Some(entry) = map.next_entry()? {
            entries.push(entry);
        }
        Ok(Node::Tree(entries))
    }
}

/// What tshark knows about itself, read once from `tshark -G`.
struct Tshark {
    /// Protocol filter name → short name: `"ipv6"` → `"IPv6"`,
    /// `"ip.options.eol"` → `"End of Options List (EOL)"` (tshark registers each IPv4
    /// option as a protocol). Its keys also tell a protocol nested in a layer (`"ip"` in
    /// `icmp`) from a subtree (`"ip.flags_tree"`).
    protocols: HashMap<String, String>,
}

impl Tshark {
    fn load() -> Tshark {
        let protocols = tshark_lines(&["-G", "protocols"])
            .filter_map(|l| {
                let mut cols = l.split('\t');
                let (_, short, filter) = (cols.next()?, cols.next()?, cols.next()?);
                Some((filter.to_owned(), short.to_owned()))
            })
            .collect();
        Tshark { protocols }
    }

    /// True for a protocol layer nested in another. tshark's pseudo-protocols (`_ws.expert`
    /// holds the analysis flags, `_ws.short`, `_ws.malformed`) belong to the layer.
    fn is_nested_layer(&self, key: &str) -> bool {
        !key.starts_with("_ws.") && self.protocols.contains_key(key)
    }

    fn short_name<'a>(&'a self, filter: &'a str) -> &'a str {
        self.protocols.get(filter).map_or(filter, String::as_str)
    }

    /// `"ip.options.eol"` → "End of Options List", without tshark's abbreviation.
    fn option_name<'a>(&'a self, abbrev: &'a str) -> &'a str {
        let name = self.short_name(abbrev);
        match name.rfind(" (") {
            Some(i) if name.ends_with(')') => &name[..i],
            _ => name,
        }
    }
}

/// One protocol layer of a tshark packet.
#[derive(Clone, Copy)]
struct Layer<'a> {
    /// tshark's name for it: `"ip"`, `"vlan"`…
    name: &'a str,
    entries: &'a [(String, Node)],
    info: &'a Tshark,
}

impl<'a> Layer<'a> {
    /// tshark calls the fields of an 802.1ad tag `ieee8021ad.*`, except its EtherType,
    /// which it calls `ieee8021ah.etype`; the VLAN table uses the `vlan.*` names.
    fn translate<'f>(&self, field: &'f str) -> std::borrow::Cow<'f, str> {
        match (self.name, field.strip_prefix("vlan.")) {
            ("ieee8021ad", Some("etype")) => "ieee8021ah.etype".into(),
            ("ieee8021ad", Some(rest)) => format!("ieee8021ad.{rest}").into(),
            _ => field.into(),
        }
    }

    /// Every value of `field` in this layer, in order, not looking into nested protocols.
    fn fields(&self, field: &str) -> Vec<&'a str> {
        let field = self.translate(field);
        let mut out = Vec::new();
        self.walk(self.entries, &mut |key, node| {
            if key == field
                && let Some(v) = node.leaf()
            {
                out.push(v);
            }
        });
        out
    }

    fn field(&self, field: &str) -> Option<&'a str> {
        self.fields(field).into_iter().next()
    }

    /// Every subtree that holds `field` directly, with its key, in order.
    fn trees_with(&self, field: &str) -> Vec<(&'a str, &'a [(String, Node)])> {
        let mut out = Vec::new();
        self.walk(self.entries, &mut |key, node| {
            let e = node.entries();
            if e.iter().any(|(k, _)| k == field) {
                out.push((key, e));
            }
        });
        out
    }

    /// A subtree of this layer (an option, an extension header) as a layer of its own, so
    /// that [`Layer::field`] looks only inside it.
    fn sub(&self, name: &'a str, entries: &'a [(String, Node)]) -> Layer<'a> {
        Layer {
            name,
            entries,
            info: self.info,
        }
    }

    /// The protocol layers nested directly in this one (the headers an ICMP error quotes).
    fn child(&self, proto: &str) -> Option<Layer<'a>> {
        self.entries
            .iter()
            .find(|(k, _)| k == proto)
            .map(|(k, v)| Layer {
                name: k,
                entries: v.entries(),
                info: self.info,
            })
    }

    fn walk(&self, entries: &'a [(String, Node)], visit: &mut dyn FnMut(&'a str, &'a Node)) {
        for (key, node) in entries {
            visit(key, node);
            if let Node::Tree(inner) = node
                && !self.info.is_nested_layer(key)
            {
                self.walk(inner, visit);
            }
        }
    }
}

/// One packet of tshark's output: its layers in order.
struct Packet<'a> {
    layers: &'a [(String, Node)],
    info: &'a Tshark,
}

impl<'a> Packet<'a> {
    fn from_node(node: &'a Node, info: &'a Tshark) -> Packet<'a> {
        let layers = node
            .get("_source")
            .and_then(|s| s.get("layers"))
            .map_or(&[][..], Node::entries);
        Packet { layers, info }
    }

    fn layers_named(&self, names: &[&str]) -> Vec<Layer<'a>> {
        self.layers
            .iter()
            .filter(|(k, _)| names.contains(&k.as_str()))
            .map(|(k, v)| Layer {
                name: k,
                entries: v.entries(),
                info: self.info,
            })
            .collect()
    }

    fn layer(&self, name: &str) -> Option<Layer<'a>> {
        self.layers_named(&[name]).into_iter().next()
    }

    /// The VLAN tags, outermost first.
    fn vlans(&self) -> Vec<Layer<'a>> {
        self.layers_named(&["vlan", "ieee8021ad"])
    }

    /// True when tshark says the packet is cut short or malformed, anywhere.
    fn flagged(&self) -> bool {
        fn any(entries: &[(String, Node)]) -> bool {
            entries.iter().any(|(k, v)| {
                k.starts_with("_ws.short") || k.starts_with("_ws.malformed") || any(v.entries())
            })
        }
        any(self.layers)
    }
}

/// What takes more than one packet to know: tshark's analysis pass ([`TSHARK_ANALYSIS`])
/// for the TCP tracker's keys, and ARP replies paired with their requests.
struct Context<'a> {
    /// The analysis pass, packet by packet.
    analysis: Vec<Packet<'a>>,
    /// Index of the first packet of each `tcp.stream`.
    first_of_stream: HashMap<u64, usize>,
    /// Index of an ARP reply → (frame number of the request it answers, latency in ms).
    arp_answers: HashMap<usize, (u64, f64)>,
    /// Index of a neighbour advertisement → (frame of the solicitation it answers,
    /// latency in ms).
    ndp_answers: HashMap<usize, (u64, f64)>,
}

impl<'a> Context<'a> {
    fn new(headers: &[Packet<'a>], analysis: Vec<Packet<'a>>) -> Result<Context<'a>, String> {
        let mut first_of_stream = HashMap::new();
        for (i, p) in analysis.iter().enumerate() {
            let stream = p.layer("tcp").and_then(|t| t.field("tcp.stream"));
            if let Some(stream) = stream.map(int).transpose()? {
                first_of_stream.entry(stream).or_insert(i);
            }
        }
        Ok(Context {
            analysis,
            first_of_stream,
            arp_answers: arp_answers(headers)?,
            ndp_answers: ndp_answers(headers)?,
        })
    }

    fn tcp(&self, i: usize) -> Option<Layer<'a>> {
        self.analysis.get(i).and_then(|p| p.layer("tcp"))
    }

    /// The stage tshark's analysis implies for packet `i`, in our words and in the order
    /// our tracker decides (a reset first, then the handshake, then what tshark flags…):
    /// - `handshake 3/3`: the ACK tshark says first acknowledges a SYN-ACK
    ///   (`tcp.analysis.acks_frame`);
    /// - `teardown`: a FIN, or an empty ACK tshark says first acknowledges a FIN;
    /// - `retransmission`, `out-of-order`, `keep-alive`, `zero window`: tshark's
    ///   `tcp.analysis.*` flags of the same names;
    /// - `mid-stream`: the first packet of a `tcp.stream` without SYN;
    /// - otherwise `data` or `ack` by `tcp.len`.
    ///
    /// None when tshark cannot tell: it does not analyse a segment whose header the
    /// snap length cut, so only RST and a bare SYN, which decide the stage before
    /// anything else, speak for such a segment.
    fn stage(&self, i: usize) -> Result<Option<Value>, String> {
        let Some(tcp) = self.tcp(i) else {
            return Ok(Some(Value::Null));
        };
        let flags = flag_bits(&tcp)?;
        let by_flags = if flags & RST != 0 {
            Some("reset")
        } else if flags & (SYN | ACK) == SYN {
            Some("handshake 1/3")
        } else {
            None
        };
        if by_flags.is_some() || self.analysis.get(i).is_some_and(Packet::flagged) {
            return Ok(by_flags.map(Value::from));
        }
        let has = |f: &str| tcp.field(f).is_some();
        let retransmission = has("tcp.analysis.retransmission")
            || has("tcp.analysis.fast_retransmission")
            || has("tcp.analysis.spurious_retransmission");
        let acked_flags = match tcp.field("tcp.analysis.acks_frame").map(int).transpose()? {
            Some(frame) => {
                let acked = usize::try_from(frame)
                    .ok()
                    .and_then(|f| self.tcp(f.checked_sub(1)?));
                acked.map(|l| flag_bits(&l)).transpose()?.unwrap_or(0)
            }
            None => 0,
        };
        let len = tcp.field("tcp.len").map(int).transpose()?.unwrap_or(0);
        let stream = tcp.field("tcp.stream").map(int).transpose()?;
        let first = stream.and_then(|s| self.first_of_stream.get(&s)) == Some(&i);
        let stage = if flags & SYN != 0 {
            if retransmission {
                "retransmission"
            } else {
                "handshake 2/3"
            }
        } else if flags & (ACK | FIN) == ACK && acked_flags & (SYN | ACK) == SYN | ACK {
            "handshake 3/3"
        } else if retransmission {
            "retransmission"
        } else if has("tcp.analysis.out_of_order") {
            "out-of-order"
        } else if has("tcp.analysis.keep_alive") {
            "keep-alive"
        } else if flags & FIN != 0 || (len == 0 && acked_flags & FIN != 0) {
            "teardown"
        } else if has("tcp.analysis.zero_window") {
            "zero window"
        } else if first {
            "mid-stream"
        } else if len > 0 {
            "data"
        } else {
            "ack"
        };
        Ok(Some(Value::from(stage)))
    }
}

/// Pairs each ARP reply with the request it answers, as a host would: a reply from B to
/// A answers A's latest unanswered request for B. A gratuitous ARP neither asks nor
/// answers. tshark does not pair ARP, so the pairs are made here from tshark's fields
/// (`arp.opcode`, `arp.isgratuitous`, the addresses, `frame.time_epoch`), and the latency
/// is rounded to the microsecond, as we print it.
fn arp_answers(packets: &[Packet<'_>]) -> Result<HashMap<usize, (u64, f64)>, String> {
    let mut pending: HashMap<(&str, &str), (u64, i128)> = HashMap::new();
    let mut answers = HashMap::new();
    for (i, p) in packets.iter().enumerate() {
        let (Some(frame), Some(arp)) = (p.layer("frame"), p.layer("arp")) else {
            continue;
        };
        let (Some(spa), Some(tpa)) = (
            arp.field("arp.src.proto_ipv4"),
            arp.field("arp.dst.proto_ipv4"),
        ) else {
            continue;
        };
        if arp.field("arp.isgratuitous") == Some("1") {
            continue;
        }
        let n = int(frame.field("frame.number").ok_or("no frame.number")?)?;
        let t = epoch_ns(
            frame
                .field("frame.time_epoch")
                .ok_or("no frame.time_epoch")?,
        )?;
        match arp.field("arp.opcode").map(int).transpose()? {
            Some(1) => {
                pending.insert((spa, tpa), (n, t));
            }
            Some(2) => {
                if let Some((req, at)) = pending.remove(&(tpa, spa)) {
                    let micros = ((t - at) as f64 / 1e3).round();
                    answers.insert(i, (req, micros / 1e3));
                }
            }
            _ => {}
        }
    }
    Ok(answers)
}

/// Pairs each neighbour advertisement with the latest solicitation for its target, as
/// an ARP reply with its request (tshark pairs neither), from `icmpv6.nd.ns.target_address`,
/// `icmpv6.nd.na.target_address` and `frame.time_epoch`; a solicitation older than 10 s
/// (our tracker's timeout) is answered by nothing.
fn ndp_answers(packets: &[Packet<'_>]) -> Result<HashMap<usize, (u64, f64)>, String> {
    let mut pending: HashMap<&str, (u64, i128)> = HashMap::new();
    let mut answers = HashMap::new();
    for (i, p) in packets.iter().enumerate() {
        let (Some(frame), Some(ic)) = (p.layer("frame"), p.layer("icmpv6")) else {
            continue;
        };
        let n = int(frame.field("frame.number").ok_or("no frame.number")?)?;
        let t = epoch_ns(
            frame
                .field("frame.time_epoch")
                .ok_or("no frame.time_epoch")?,
        )?;
        if let Some(target) = ic.field("icmpv6.nd.ns.target_address") {
            pending.insert(target, (n, t));
        } else if let Some(target) = ic.field("icmpv6.nd.na.target_address")
            && let Some((req, at)) = pending.remove(target)
            && t - at <= 10_000_000_000
        {
            let micros = ((t - at) as f64 / 1e3).round();
            answers.insert(i, (req, micros / 1e3));
        }
    }
    Ok(answers)
}

/// `frame.time_epoch` ("1795439935.615435123") in nanoseconds.
fn epoch_ns(raw: &str) -> Result<i128, String> {
    let (secs, frac) = raw.split_once('.').unwrap_or((raw, ""));
    let nanos: String = frac.chars().chain(std::iter::repeat('0')).take(9).collect();
    match (secs.parse::<i128>(), nanos.parse::<i128>()) {
        (Ok(s), Ok(n)) => Ok(s * 1_000_000_000 + n),
        _ => Err(format!("frame.time_epoch {raw:?} is not a time")),
    }
}

// ---------------------------------------------------------------------------------------
// The comparison.
// ---------------------------------------------------------------------------------------

/// Mismatches and counts of one capture.
struct Diff<'a> {
    capture: &'a str,
    frame: u64,
    mismatches: Vec<String>,
    fields: usize,
    /// (layer, key) of every row that met a value, over all captures.
    used: &'a mut HashSet<(&'static str, &'static str)>,
}

impl Diff<'_> {
    fn mismatch(&mut self, path: &str, what: impl fmt::Display) {
        self.mismatches.push(format!(
            "{} frame {}: {path}: {what}",
            self.capture, self.frame
        ));
    }

    /// Compares one value; null, a missing key and an empty list are the same "nothing".
    fn check(&mut self, path: &str, ours: &Value, theirs: &Value, canon: fn(&Value) -> Value) {
        let (o, t) = (canon(ours), canon(theirs));
        if is_empty(&o) && is_empty(&t) {
            return;
        }
        self.fields += leaves(&o).max(leaves(&t));
        if o != t {
            self.mismatch(path, format_args!("ours {ours}, tshark {theirs}"));
        }
    }

    /// Compares one of our layer objects with tshark's layer, row by row. Returns our
    /// object when both sides have the layer, for the keys compared outside the table.
    fn layer<'v>(
        &mut self,
        path: &str,
        spec: &Spec,
        ours: &'v Value,
        theirs: Option<Layer<'_>>,
    ) -> Option<&'v Map<String, Value>> {
        let (obj, theirs) = match (ours, theirs) {
            (Value::Null, None) => return None,
            (Value::Null, Some(l)) => {
                self.mismatch(path, format_args!("ours absent, tshark decodes {}", l.name));
                return None;
            }
            (_, None) => {
                self.mismatch(path, format_args!("ours {ours}, tshark absent"));
                return None;
            }
            (Value::Object(obj), Some(l)) => (obj, l),
            (_, Some(_)) => {
                self.mismatch(path, format_args!("ours {ours} is no object"));
                return None;
            }
        };
        self.unmapped(path, spec, obj);
        self.rows(path, spec, obj, &theirs);
        Some(obj)
    }

    /// Compares the keys of `spec`'s rows.
    fn rows(&mut self, path: &str, spec: &Spec, obj: &Map<String, Value>, theirs: &Layer<'_>) {
        for row in spec.rows {
            let ours = obj.get(row.ours).unwrap_or(&Value::Null);
            let expected = match row.theirs {
                Theirs::Field(f, norm) => norm.apply(theirs.field(f)),
                Theirs::Derived(_, f) => f(theirs),
            };
            let sub = if path.is_empty() {
                row.ours.to_owned()
            } else {
                format!("{path}.{}", row.ours)
            };
            match expected {
                Ok(t) => {
                    if !is_empty(ours) || !is_empty(&t) {
                        self.used.insert((spec.name, row.ours));
                    }
                    self.check(&sub, ours, &t, row.canon);
                }
                Err(e) => self.mismatch(
                    &sub,
                    format_args!("tshark's {} is unusable: {e}", row.theirs.describe()),
                ),
            }
        }
    }

    /// Every key we print must be compared: one no row or code covers is a failure.
    fn unmapped(&mut self, path: &str, spec: &Spec, obj: &Map<String, Value>) {
        for key in obj.keys() {
            let mapped = spec.rows.iter().any(|r| r.ours == key) || spec.special.contains(&&**key);
            if !mapped {
                self.mismatch(
                    &format!("{path}.{key}"),
                    "ours prints it, but this test maps it to no tshark field",
                );
            }
        }
    }

    /// Compares packet `i`: `p` from the header pass, `cx` for what takes more packets.
    fn packet(&mut self, ours: &Value, p: &Packet<'_>, i: usize, cx: &Context<'_>) {
        let Some(frame) = p.layer("frame") else {
            return self.mismatch("frame", "tshark printed no frame layer");
        };
        let Value::Object(top) = ours else {
            return self.mismatch("packet", format_args!("ours {ours} is no object"));
        };
        self.unmapped("packet", &FRAME, top);
        self.rows("", &FRAME, top, &frame);
        let get = |k: &str| top.get(k).unwrap_or(&Value::Null);
        self.layer("sll", &SLL, get("sll"), p.layer("sll"));
        self.layer("null", &NULL, get("null"), p.layer("null"));
        self.layer("eth", &ETH, get("eth"), p.layer("eth"));
        self.vlans(get("vlan"), &p.vlans());
        if let Some(arp) = self.layer("arp", &ARP, get("arp"), p.layer("arp")) {
            let (answers, latency) = match cx.arp_answers.get(&i) {
                Some((req, ms)) => (Value::from(*req), Value::from(*ms)),
                None => (Value::Null, Value::Null),
            };
            self.cross("arp", "answers", arp, &answers, same);
            self.cross("arp", "latency_ms", arp, &latency, same);
        }
        self.layer("ipv4", &IPV4, get("ipv4"), p.layer("ip"));
        self.layer("ipv6", &IPV6, get("ipv6"), p.layer("ipv6"));
        self.tcp("tcp", get("tcp"), p.layer("tcp"), Some((cx, i)));
        self.layer("udp", &UDP, get("udp"), p.layer("udp"));
        self.icmp("icmp", get("icmp"), p.layer("icmp"));
        self.icmpv6("icmpv6", get("icmpv6"), p.layer("icmpv6"));
        if let (Value::Object(ic), Some(theirs)) = (get("icmpv6"), p.layer("icmpv6")) {
            // An advertisement answers a solicitation (paired here); an echo reply its
            // request (paired by tshark).
            let (answers, latency) = match cx.ndp_answers.get(&i) {
                Some((req, ms)) => (Value::from(*req), Value::from(*ms)),
                None => (
                    Norm::Int
                        .apply(theirs.field("icmpv6.resp_to"))
                        .unwrap_or(Value::Null),
                    Norm::Float
                        .apply(theirs.field("icmpv6.resptime"))
                        .unwrap_or(Value::Null),
                ),
            };
            self.cross("icmpv6", "answers", ic, &answers, same);
            self.cross("icmpv6", "latency_ms", ic, &latency, to_micros);
        }
        self.other(get("other"), p);
        if p.flagged() {
            let notes = get("notes").as_array().map_or(0, Vec::len);
            self.fields += 1;
            if notes == 0 {
                self.mismatch(
                    "notes",
                    "tshark flags the packet as short or malformed, ours has no note",
                );
            }
        }
    }

    /// A TCP header, and what our tracker says of it when `cx` has the segment (a
    /// header quoted in an ICMP error is not part of any connection).
    fn tcp(
        &mut self,
        path: &str,
        ours: &Value,
        theirs: Option<Layer<'_>>,
        cx: Option<(&Context<'_>, usize)>,
    ) {
        let Some(obj) = self.layer(path, &TCP, ours, theirs) else {
            return;
        };
        match cx.and_then(|(cx, i)| cx.tcp(i)) {
            Some(twin) => self.rows(path, &TCP_CONV, obj, &twin),
            None => {
                for key in TCP.special {
                    let ours = obj.get(*key).unwrap_or(&Value::Null);
                    self.check(&format!("{path}.{key}"), ours, &Value::Null, same);
                }
                return;
            }
        }
        match cx.map(|(cx, i)| cx.stage(i)) {
            Some(Ok(Some(stage))) => self.cross(path, "stage", obj, &stage, stage_family),
            Some(Ok(None)) | None => {}
            Some(Err(e)) => self.mismatch(
                &format!("{path}.stage"),
                format_args!("tshark's analysis is unusable: {e}"),
            ),
        }
    }

    /// Compares a key whose expected value takes more than one packet to know.
    fn cross(
        &mut self,
        path: &str,
        key: &'static str,
        obj: &Map<String, Value>,
        expected: &Value,
        canon: fn(&Value) -> Value,
    ) {
        let ours = obj.get(key).unwrap_or(&Value::Null);
        if let Some(&(layer, key)) = CROSS_PACKET.iter().find(|(l, k)| path == *l && key == *k)
            && (!is_empty(ours) || !is_empty(expected))
        {
            self.used.insert((layer, key));
        }
        self.check(&format!("{path}.{key}"), ours, expected, canon);
    }

    fn vlans(&mut self, ours: &Value, theirs: &[Layer<'_>]) {
        let ours: &[Value] = ours.as_array().map_or(&[], Vec::as_slice);
        if ours.len() != theirs.len() {
            self.mismatch(
                "vlan",
                format_args!("ours {} tags, tshark {}", ours.len(), theirs.len()),
            );
        }
        for (i, (o, t)) in ours.iter().zip(theirs).enumerate() {
            self.layer(&format!("vlan[{i}]"), &VLAN, o, Some(*t));
        }
    }

    fn icmp(&mut self, path: &str, ours: &Value, theirs: Option<Layer<'_>>) {
        let Some(obj) = self.layer(path, &ICMP, ours, theirs) else {
            return;
        };
        if let Some(theirs) = theirs {
            self.quoted(path, obj, theirs);
        }
    }

    /// An ICMPv6 message, with its neighbour discovery or multicast listener part, which
    /// tshark's type says it must have (types 133–137 and 130–132, 143).
    fn icmpv6(&mut self, path: &str, ours: &Value, theirs: Option<Layer<'_>>) {
        let Some(obj) = self.layer(path, &ICMPV6, ours, theirs) else {
            return;
        };
        let Some(theirs) = theirs else { return };
        let kind = match theirs.field("icmpv6.type").map(int).transpose() {
            Ok(kind) => kind,
            Err(e) => {
                return self.mismatch(path, format_args!("tshark's icmpv6.type is unusable: {e}"));
            }
        };
        let get = |k: &str| obj.get(k).unwrap_or(&Value::Null);
        let ndp = kind.is_some_and(|t| (133..=137).contains(&t));
        let mld = kind.is_some_and(|t| matches!(t, 130..=132 | 143));
        self.layer(
            &format!("{path}.ndp"),
            &NDP,
            get("ndp"),
            ndp.then_some(theirs),
        );
        self.layer(
            &format!("{path}.mld"),
            &MLD,
            get("mld"),
            mld.then_some(theirs),
        );
        self.quoted(path, obj, theirs);
    }

    /// The headers an ICMP or ICMPv6 error quotes: ours under `quoted`, tshark's as
    /// protocol layers nested in its `icmp` or `icmpv6` layer.
    fn quoted(&mut self, path: &str, obj: &Map<String, Value>, theirs: Layer<'_>) {
        let path = format!("{path}.quoted");
        let ours = obj.get("quoted").unwrap_or(&Value::Null);
        let quoted_ip = theirs.child("ip").or_else(|| theirs.child("ipv6"));
        match (ours, quoted_ip) {
            (Value::Null, None) => {}
            (Value::Null, Some(ip)) => {
                let name = theirs.info.short_name(ip.name);
                self.mismatch(
                    &path,
                    format_args!("ours null, tshark decodes a quoted {name} header"),
                );
            }
            (_, None) => self.mismatch(&path, format_args!("ours {ours}, tshark quotes nothing")),
            (Value::Object(q), Some(_)) => {
                self.unmapped(&path, &QUOTED, q);
                let get = |k: &str| q.get(k).unwrap_or(&Value::Null);
                let sub = |k: &str| format!("{path}.{k}");
                self.layer(&sub("ipv4"), &IPV4, get("ipv4"), theirs.child("ip"));
                self.layer(&sub("ipv6"), &IPV6, get("ipv6"), theirs.child("ipv6"));
                self.tcp(&sub("tcp"), get("tcp"), theirs.child("tcp"), None);
                self.layer(&sub("udp"), &UDP, get("udp"), theirs.child("udp"));
                self.icmp(&sub("icmp"), get("icmp"), theirs.child("icmp"));
                self.icmpv6(&sub("icmpv6"), get("icmpv6"), theirs.child("icmpv6"));
            }
            (_, Some(_)) => self.mismatch(&path, format_args!("ours {ours} is no object")),
        }
    }

    fn other(&mut self, ours: &Value, p: &Packet<'_>) {
        let expected = match expected_other(p) {
            Ok(v) => v,
            Err(e) => {
                return self.mismatch("other", format_args!("tshark's stack is unusable: {e}"));
            }
        };
        if let Value::Object(obj) = ours {
            self.unmapped("other", &OTHER, obj);
        }
        match (ours, &expected) {
            (Value::Object(o), Value::Object(t)) => {
                for key in OTHER.special {
                    let theirs = t.get(*key).unwrap_or(&Value::Null);
                    self.cross("other", key, o, theirs, same);
                }
            }
            _ => self.check("other", ours, &expected, same),
        }
    }
}

fn is_empty(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::Array(a) => a.is_empty(),
        _ => false,
    }
}

/// How many scalar values `v` holds: the number of fields a comparison of it covers.
fn leaves(v: &Value) -> usize {
    match v {
        Value::Array(a) => a.iter().map(leaves).sum(),
        Value::Object(o) => o.values().map(leaves).sum(),
        Value::Null => 0,
        _ => 1,
    }
}

// ---------------------------------------------------------------------------------------
// Running the two programs.
// ---------------------------------------------------------------------------------------

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// `tshark` with a fresh, empty profile: a user's preferences cannot change its fields.
fn tshark(args: &[&str]) -> std::io::Result<Output> {
    let home = Path::new(env!("CARGO_TARGET_TMPDIR")).join("tshark-home");
    std::fs::create_dir_all(&home)?;
    Command::new("tshark")
        .args(args)
        .env("HOME", &home)
        .env("XDG_CONFIG_HOME", &home)
        .env_remove("WIRESHARK_CONFIG_DIR")
        .output()
}

fn tshark_lines(args: &[&str]) -> impl Iterator<Item = String> {
    let out = tshark(args).expect("tshark runs");
    assert!(out.status.success(), "tshark {args:?} failed");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_owned)
        .collect::<Vec<_>>()
        .into_iter()
}

/// `captures/*.pcap` and `captures/*.pcapng`, sorted.
fn captures() -> Vec<PathBuf> {
    let dir = repo().join("captures");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.is_file()
                && matches!(
                    p.extension().and_then(|e| e.to_str()),
                    Some("pcap" | "pcapng")
                )
        })
        .collect();
    files.sort();
    files
}

/// First line of a program's standard error, for messages.
fn first_line(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes)
        .lines()
        .find(|l| !l.starts_with("Running as user"))
        .unwrap_or("")
        .to_owned()
}

/// Runs tshark on a capture and reads its JSON. The flag is true when tshark found the
/// file damaged: it then prints the packets before the damage and exits 2.
fn tshark_json(name: &str, path: &str, options: &[&str]) -> (Node, bool) {
    let mut args = vec!["-r", path];
    args.extend_from_slice(options);
    let out = tshark(&args).expect("tshark runs");
    let damaged = match out.status.code() {
        Some(0) => false,
        Some(2) => true,
        _ => panic!(
            "{name}: tshark failed ({}): {}",
            out.status,
            first_line(&out.stderr)
        ),
    };
    let tree = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{name}: tshark's JSON does not parse: {e}"));
    (tree, damaged)
}

fn read_packets<'a>(name: &str, tree: &'a Node, info: &'a Tshark) -> Vec<Packet<'a>> {
    match tree {
        Node::List(items) => items.iter().map(|n| Packet::from_node(n, info)).collect(),
        _ => panic!("{name}: tshark's JSON is not a list of packets"),
    }
}

/// What one capture yielded.
struct Outcome {
    packets: usize,
    fields: usize,
    mismatches: Vec<String>,
}

fn compare_capture(
    path: &Path,
    info: &Tshark,
    used: &mut HashSet<(&'static str, &'static str)>,
) -> Outcome {
    let rel = path.strip_prefix(repo()).unwrap_or(path);
    let name = rel.display().to_string();
    let path_str = path.to_str().expect("capture paths are UTF-8");
    let mut diff = Diff {
        capture: &name,
        frame: 0,
        mismatches: Vec::new(),
        fields: 0,
        used,
    };

    let (header_tree, damaged) = tshark_json(&name, path_str, TSHARK_HEADERS);
    let (analysis_tree, _) = tshark_json(&name, path_str, TSHARK_ANALYSIS);
    let packets = read_packets(&name, &header_tree, info);
    let analysis = read_packets(&name, &analysis_tree, info);
    assert_eq!(
        packets.len(),
        analysis.len(),
        "{name}: tshark's two passes saw different packets"
    );
    let cx = Context::new(&packets, analysis)
        .unwrap_or_else(|e| panic!("{name}: tshark's output is unusable: {e}"));

    let ours = Command::new(env!("CARGO_BIN_EXE_wirelens"))
        .args(["read", path_str, "--format", "json"])
        .output()
        .expect("wirelens runs");
    // We must treat a damaged capture as tshark does: its good packets, then exit code 2.
    let want_code = if damaged { 2 } else { 0 };
    if ours.status.code() != Some(want_code) {
        diff.mismatch(
            "exit code",
            format_args!(
                "ours {} ({}), tshark's verdict means {want_code}",
                ours.status,
                first_line(&ours.stderr)
            ),
        );
    }
    let mut lines = Vec::new();
    for (i, line) in String::from_utf8_lossy(&ours.stdout).lines().enumerate() {
        match serde_json::from_str::<Value>(line) {
            Ok(v) => lines.push(v),
            Err(e) => {
                diff.frame = i as u64 + 1;
                diff.mismatch("json", format_args!("ours does not parse: {e}"));
            }
        }
    }
    if lines.len() != packets.len() {
        diff.frame = 0;
        diff.mismatch(
            "packets",
            format_args!("ours {}, tshark {}", lines.len(), packets.len()),
        );
    }
    let mut compared = 0;
    for (i, (o, t)) in lines.iter().zip(&packets).enumerate() {
        diff.frame = i as u64 + 1;
        diff.packet(o, t, i, &cx);
        compared += 1;
    }
    if compared == 0 {
        diff.frame = 0;
        diff.mismatch("packets", "no packet compared");
    }
    Outcome {
        packets: compared,
        fields: diff.fields,
        mismatches: diff.mismatches,
    }
}

fn tshark_available() -> bool {
    tshark(&["--version"]).is_ok_and(|o| o.status.success())
}

#[test]
fn every_json_field_matches_tshark() {
    if !tshark_available() {
        assert!(
            !matches!(std::env::var("CI").as_deref(), Ok("true" | "1")),
            "tshark not found, and CI must run the differential test (apt-get install tshark)"
        );
        eprintln!("skipping: tshark not found");
        return;
    }
    let info = Tshark::load();
    let files = captures();
    assert!(!files.is_empty(), "no capture in captures/");

    let mut used = HashSet::new();
    let mut mismatches = Vec::new();
    let mut total_fields = 0;
    for path in &files {
        let out = compare_capture(path, &info, &mut used);
        println!(
            "{}: {} packets, {} fields compared, {} mismatches",
            path.strip_prefix(repo()).unwrap_or(path).display(),
            out.packets,
            out.fields,
            out.mismatches.len()
        );
        total_fields += out.fields;
        mismatches.extend(out.mismatches);
    }
    println!(
        "total: {} captures, {total_fields} fields compared",
        files.len()
    );

    let never: Vec<String> = ALL_SPECS
        .iter()
        .flat_map(|s| s.rows.iter().map(move |r| (s.name, r.ours)))
        .chain(CROSS_PACKET.iter().copied())
        .filter(|k| !used.contains(k))
        .map(|(layer, key)| format!("{layer}.{key}"))
        .collect();
    assert!(
        never.is_empty(),
        "these keys never met a value on either side in any capture, so nothing shows their \
         tshark field is the right one: {never:?}"
    );
    assert!(
        total_fields >= MIN_FIELDS,
        "only {total_fields} fields compared; the test needs at least {MIN_FIELDS} to prove anything"
    );
    assert!(
        mismatches.is_empty(),
        "{} fields differ from tshark:\n{}",
        mismatches.len(),
        mismatches.join("\n")
    );
}
