//! Bytes → [`Dissection`]: one struct per layer, plus notes saying where and why parsing
//! stopped.
//!
//! etherparse's lax slicer walks the link and network layers (Ethernet, VLAN tags, ARP,
//! IPv4) and tells us where each header starts and, when a packet is cut short, which
//! length ran out. The transport layer is dispatched here so that a first fragment or a
//! truncated segment still shows what it has. The protocol files in [`crate::proto`] turn
//! each header into a struct with meanings.

use etherparse::err::{Layer as SliceLayer, LenError, packet::SliceError};
use etherparse::{LaxIpSlice, LaxLinkExtSlice, LaxNetSlice, LaxSlicedPacket, LenSource};
use serde::Serialize;
use serde::ser::SerializeMap;

use crate::capture::{Frame, LinkType, Timestamp};
use crate::context::PacketContext;
use crate::proto::arp::Arp;
use crate::proto::checksum::PseudoHeader;
use crate::proto::ethernet::{self, EtherType, Ethernet};
use crate::proto::icmp::{self, Icmp, Quoted};
use crate::proto::icmpv6::Icmpv6;
use crate::proto::ipv4::{IpProto, Ipv4};
use crate::proto::ipv6::{self, Ipv6};
use crate::proto::null::{self as bsd, Null};
use crate::proto::sll::Sll;
use crate::proto::tcp::{self, Tcp};
use crate::proto::udp::{self, Udp};
use crate::proto::vlan::Vlan;

pub mod lean;

pub use crate::proto::Span;
pub use crate::proto::undecoded::Other;
use crate::proto::undecoded::{Data, Padding};
use crate::proto::{Layer, Model};

/// Everything wirelens learned from one frame. Serialised as the JSON object the README
/// documents: each layer under its key, with what analysis adds merged into it.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Dissection {
    /// Frame number, from 1.
    pub n: u64,
    /// Capture time.
    pub ts: Timestamp,
    /// Bytes captured.
    pub caplen: u32,
    /// Bytes on the wire.
    pub len: u32,
    /// The capture's LINKTYPE_ number for this frame (1 Ethernet, 276 Linux cooked v2…).
    pub link_type: u32,
    /// Linux cooked capture header (`any` interface).
    pub sll: Option<Sll>,
    /// BSD loopback header (LINKTYPE_NULL or LOOP).
    pub null: Option<Null>,
    /// The name of the interface a Linux cooked v2 header's index names, when the
    /// capture is live on this host (`live -i any`): the pipeline sets it from the
    /// source's [`crate::capture::InterfaceNames`]. A file's indexes are another host's,
    /// so a file read leaves it empty. Not in the JSON (tshark has no such field).
    pub seen_on: Option<std::sync::Arc<str>>,
    /// The pcapng interface the packet was captured on: its number, `if_name` and
    /// `if_description`. Not in the JSON.
    pub interface: Option<crate::capture::InterfaceLabel>,
    /// Ethernet II header.
    pub eth: Option<Ethernet>,
    /// VLAN tags, outermost first.
    pub vlan: Vec<Vlan>,
    /// ARP packet.
    pub arp: Option<Arp>,
    /// IPv4 header.
    pub ipv4: Option<Ipv4>,
    /// IPv6 header, with its extension headers.
    pub ipv6: Option<Ipv6>,
    /// TCP header.
    pub tcp: Option<Tcp>,
    /// UDP header.
    pub udp: Option<Udp>,
    /// ICMP message.
    pub icmp: Option<Icmp>,
    /// ICMPv6 message.
    pub icmpv6: Option<Icmpv6>,
    /// A protocol named but not decoded.
    pub other: Option<Other>,
    /// Application data carried by TCP or UDP, as captured.
    pub payload: Option<Data>,
    /// Bytes after the IP datagram: Ethernet padding up to the 60-byte minimum.
    pub trailer: Option<Padding>,
    /// Plain-language notes: truncation, bad checksums, fragments.
    pub notes: Vec<String>,
    /// What analysis adds: TCP conversation, reassembly, ARP pairing (merged into the
    /// JSON objects of the layers they describe).
    pub ctx: PacketContext,
}

/// A layer's object with what analysis adds about it appended as more keys.
#[derive(Serialize)]
struct With<'a, L: Serialize, C: Serialize> {
    #[serde(flatten)]
    layer: &'a L,
    #[serde(flatten)]
    ctx: C,
}

/// The `reassembled` key of `ipv4` or `ipv6`.
#[derive(Clone, Copy, Serialize)]
struct ReassembledKey<'a> {
    reassembled: &'a crate::context::Reassembled,
}

/// Serialises `layer` under `key`, merged with `ctx` when there is one (only then is
/// serde's slower flattening used).
fn entry<M: SerializeMap, L: Serialize, C: Serialize>(
    m: &mut M,
    key: &'static str,
    layer: &L,
    ctx: Option<C>,
) -> Result<(), M::Error> {
    match ctx {
        None => m.serialize_entry(key, layer),
        Some(ctx) => m.serialize_entry(key, &With { layer, ctx }),
    }
}

/// The capture time as RFC 3339 text.
struct TsText<'a>(&'a Timestamp);

impl Serialize for TsText<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        crate::timestamp::ser_rfc3339(self.0, s)
    }
}

impl Serialize for Dissection {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(None)?;
        m.serialize_entry("n", &self.n)?;
        m.serialize_entry("ts", &TsText(&self.ts))?;
        m.serialize_entry("caplen", &self.caplen)?;
        m.serialize_entry("len", &self.len)?;
        m.serialize_entry("link_type", &self.link_type)?;
        if let Some(l) = &self.sll {
            m.serialize_entry("sll", l)?;
        }
        if let Some(l) = &self.null {
            m.serialize_entry("null", l)?;
        }
        if let Some(e) = &self.eth {
            m.serialize_entry("eth", e)?;
        }
        if !self.vlan.is_empty() {
            m.serialize_entry("vlan", &self.vlan)?;
        }
        if let Some(a) = &self.arp {
            entry(&mut m, "arp", a, self.ctx.answer)?;
        }
        // A reassembled datagram is told under whichever IP version carried it.
        let reassembled = self
            .ctx
            .reassembled
            .as_ref()
            .map(|reassembled| ReassembledKey { reassembled });
        if let Some(ip) = &self.ipv4 {
            entry(&mut m, "ipv4", ip, reassembled)?;
        }
        if let Some(ip) = &self.ipv6 {
            entry(&mut m, "ipv6", ip, reassembled)?;
        }
        if let Some(t) = &self.tcp {
            entry(&mut m, "tcp", t, self.ctx.tcp.as_ref())?;
        }
        if let Some(u) = &self.udp {
            m.serialize_entry("udp", u)?;
        }
        if let Some(i) = &self.icmp {
            entry(&mut m, "icmp", i, self.ctx.answer)?;
        }
        if let Some(i) = &self.icmpv6 {
            entry(&mut m, "icmpv6", i, self.ctx.answer)?;
        }
        if let Some(o) = &self.other {
            m.serialize_entry("other", o)?;
        }
        m.serialize_entry("notes", &self.notes)?;
        m.end()
    }
}

/// How a layer appears in its packet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// A header of this frame, at its offset in the frame.
    Frame,
    /// A header quoted inside an ICMP error (of the datagram that caused it).
    Quoted,
    /// A header decoded from a reassembled datagram: its offsets count from the
    /// datagram's first payload byte, not in this frame.
    Reassembled,
}

/// One layer of a packet, with how it appears.
#[derive(Clone, Copy)]
pub struct LayerRef<'a> {
    /// The layer.
    pub layer: &'a dyn Layer,
    /// Whether it is in the frame, quoted, or from a reassembled datagram.
    pub role: Role,
}

impl std::fmt::Debug for LayerRef<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({:?})", self.layer.name(), self.role)
    }
}

/// The words `--only` accepts: the key of every layer the dispatcher can produce.
pub const LAYER_KEYS: &[&str] = &[
    "sll", "null", "eth", "vlan", "arp", "ipv4", "ipv6", "tcp", "udp", "icmp", "icmpv6",
];

impl Dissection {
    /// Calls `f` with each layer of the packet, outermost first: link, network,
    /// transport (with the headers an ICMP error quotes right after the ICMP header),
    /// then data and padding. The one walk that renderers, filters and statistics use,
    /// so that none of them names a protocol.
    pub fn walk<'a>(&'a self, f: &mut dyn FnMut(LayerRef<'a>)) {
        let reassembled = self.ctx.datagram.is_some();
        let mut above_ip = false;
        let mut emit = |layer: &'a dyn Layer, role: Role| f(LayerRef { layer, role });
        if let Some(l) = &self.sll {
            emit(l, Role::Frame);
        }
        if let Some(l) = &self.null {
            emit(l, Role::Frame);
        }
        if let Some(e) = &self.eth {
            emit(e, Role::Frame);
        }
        for t in &self.vlan {
            emit(t, Role::Frame);
        }
        if let Some(a) = &self.arp {
            emit(a, Role::Frame);
        }
        if let Some(ip) = &self.ipv4 {
            emit(ip, Role::Frame);
            above_ip = reassembled;
        }
        if let Some(ip) = &self.ipv6 {
            emit(ip, Role::Frame);
            for e in &ip.ext {
                emit(e, Role::Frame);
            }
            above_ip = reassembled;
        }
        let upper = if above_ip {
            Role::Reassembled
        } else {
            Role::Frame
        };
        if let Some(t) = &self.tcp {
            emit(t, upper);
        }
        if let Some(u) = &self.udp {
            emit(u, upper);
        }
        if let Some(ic) = &self.icmp {
            emit(ic, upper);
            if let Some(q) = &ic.quoted {
                quoted_layers(q, &mut emit);
            }
        }
        if let Some(ic) = &self.icmpv6 {
            emit(ic, upper);
            if let Some(q) = &ic.quoted {
                quoted_layers(q, &mut emit);
            }
        }
        if let Some(o) = &self.other {
            emit(o, Role::Frame);
        }
        if let Some(p) = &self.payload {
            emit(p, Role::Frame);
        }
        if let Some(p) = &self.trailer {
            emit(p, Role::Frame);
        }
    }

    /// Every layer, as [`Dissection::walk`] visits them.
    pub fn layers(&self) -> Vec<LayerRef<'_>> {
        let mut v = Vec::with_capacity(8);
        self.walk(&mut |l| v.push(l));
        v
    }

    /// The highest header decoded in the frame itself (not quoted, not data or
    /// padding): the one the protocol column names.
    pub fn top(&self) -> Option<&dyn Layer> {
        let mut top = None;
        self.walk(&mut |l| {
            if l.role != Role::Quoted
                && l.layer.model() != Model::Application
                && l.layer.key() != "padding"
            {
                top = Some(l.layer);
            }
        });
        top
    }

    /// True when a layer with this key (see [`LAYER_KEYS`]) is in the frame, quoted
    /// headers aside.
    pub fn has(&self, key: &str) -> bool {
        let mut found = false;
        self.walk(&mut |l| found |= l.role != Role::Quoted && l.layer.key() == key);
        found
    }

    /// True for a piece of a fragmented IPv4 datagram or IPv6 packet: the only kind of
    /// frame whose bytes analysis reads (to reassemble it).
    pub fn is_fragment(&self) -> bool {
        self.ipv4.as_ref().is_some_and(|ip| ip.is_fragment())
            || self.ipv6.as_ref().is_some_and(|ip| ip.is_fragment())
    }

    /// The network layer's source and destination, for either IP version.
    pub fn ip_addrs(&self) -> Option<(std::net::IpAddr, std::net::IpAddr)> {
        match (&self.ipv4, &self.ipv6) {
            (Some(ip), _) => Some((ip.src.into(), ip.dst.into())),
            (None, Some(ip)) => Some((ip.src.into(), ip.dst.into())),
            _ => None,
        }
    }

    /// The name of the highest layer decoded, e.g. "TCP" or "ARP".
    pub fn top_protocol(&self) -> &'static str {
        self.top().map_or("?", |l| l.name())
    }
}

/// Offset of `part` within `base`, both slices of the same frame.
fn offset_in(base: &[u8], part: &[u8]) -> usize {
    (part.as_ptr() as usize).saturating_sub(base.as_ptr() as usize)
}

/// Dissects one frame. `n` is its number in the capture, from 1.
pub fn dissect(n: u64, frame: &Frame<'_>) -> Dissection {
    let mut d = Dissection::default();
    dissect_into(&mut d, n, frame);
    d
}

/// Dissects one frame into `d`, replacing everything it held: the result equals
/// [`dissect`]'s. Why: a caller that keeps its dissections in place (the two-thread
/// `flows` path fills batches of them) saves moving a 600-byte struct per frame, and
/// reuses the `Vec`s' memory.
pub fn dissect_into(d: &mut Dissection, n: u64, frame: &Frame<'_>) {
    dissect_into_with(d, n, frame, Checksums::Verify);
}

/// Whether the dissector verifies TCP and UDP checksums.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Checksums {
    /// Verify them, noting a wrong one (every mode that shows packets).
    Verify,
    /// Leave them unverified (`checksum_ok` is `None`, no checksum note), on every link
    /// type; only a datagram put back together from fragments is still verified. For
    /// callers that show nothing a checksum decides: `wirelens flows`, where summing
    /// every payload byte was a sixth of the reading thread's instructions.
    Skip,
}

/// [`dissect_into`], verifying checksums or not as `checksums` says.
pub fn dissect_into_with(d: &mut Dissection, n: u64, frame: &Frame<'_>, checksums: Checksums) {
    // Every field named, so that a new one cannot be forgotten here.
    let Dissection {
        n: number,
        ts,
        caplen,
        len,
        link_type,
        sll,
        null,
        seen_on,
        interface,
        eth,
        vlan,
        arp,
        ipv4,
        ipv6,
        tcp,
        udp,
        icmp,
        icmpv6,
        other,
        payload,
        trailer,
        notes,
        ctx,
    } = d;
    (*number, *ts, *caplen, *len) = (n, frame.ts, frame.caplen, frame.len);
    (*link_type, *sll, *null, *seen_on) = (frame.link.0, None, None, None);
    if interface.as_ref() != frame.interface {
        *interface = frame.interface.cloned();
    }
    (*eth, *arp, *ipv4, *tcp, *udp, *icmp) = (None, None, None, None, None, None);
    (*ipv6, *icmpv6, *other, *payload, *trailer) = (None, None, None, None, None);
    ctx.clear();
    vlan.clear();
    notes.clear();
    let bytes = frame.bytes;
    match frame.link {
        LinkType::ETHERNET => dissect_ethernet(d, bytes, checksums),
        LinkType::LINUX_SLL | LinkType::LINUX_SLL2 => {
            let (parsed, need) = if frame.link == LinkType::LINUX_SLL {
                (Sll::parse_v1(bytes), crate::proto::sll::V1_LEN)
            } else {
                (Sll::parse_v2(bytes), crate::proto::sll::V2_LEN)
            };
            match parsed {
                Some(h) => {
                    let (at, proto) = (h.len(), h.protocol);
                    d.sll = Some(h);
                    let rest = bytes.get(at..).unwrap_or_default();
                    let sliced = LaxSlicedPacket::from_ether_type(etherparse::EtherType(proto), rest);
                    dissect_link_payload(d, bytes, &sliced, at, proto, "Linux cooked", checksums);
                }
                None => d.notes.push(short_link(bytes.len(), need, "Linux cooked capture")),
            }
        }
        LinkType::NULL | LinkType::LOOP => {
            match Null::parse(bytes, frame.link == LinkType::LOOP) {
                Some(h) => {
                    let at = bsd::HEADER_LEN;
                    let ethertype = match h.family() {
                        bsd::Family::Ipv4 => Some(EtherType::IPV4),
                        bsd::Family::Ipv6 => Some(EtherType::IPV6),
                        bsd::Family::Other => None,
                    };
                    let family = h.family;
                    d.null = Some(h);
                    let rest = bytes.get(at..).unwrap_or_default();
                    match ethertype {
                        Some(t) => {
                            let sliced = LaxSlicedPacket::from_ether_type(etherparse::EtherType(t.0), rest);
                            let within = "BSD loopback";
                            dissect_link_payload(d, bytes, &sliced, at, t.0, within, checksums);
                        }
                        None => d.notes.push(format!(
                            "Address family {family} at offset 0 is neither IPv4 nor IPv6: the {} bytes after it are not decoded.",
                            rest.len()
                        )),
                    }
                }
                None => d.notes.push(short_link(bytes.len(), bsd::HEADER_LEN, "BSD loopback header")),
            }
        }
        // Raw IP: no link header at all; the version nibble decides.
        LinkType::RAW | LinkType::IPV4 | LinkType::IPV6 | LinkType(12) | LinkType(14) => {
            let ethertype = match bytes.first().map(|b| b >> 4) {
                Some(4) => EtherType::IPV4,
                Some(6) => EtherType::IPV6,
                Some(v) => {
                    d.notes.push(format!(
                        "The packet starts with IP version {v} at offset 0: raw IP carries IPv4 or IPv6 only, so it is not decoded."
                    ));
                    return;
                }
                None => {
                    d.notes.push("The packet is empty: raw IP needs at least an IP header.".into());
                    return;
                }
            };
            let sliced = LaxSlicedPacket::from_ether_type(etherparse::EtherType(ethertype.0), bytes);
            dissect_link_payload(d, bytes, &sliced, 0, ethertype.0, "raw IP", checksums);
        }
        other => d.notes.push(format!(
            "Link type {} ({}) is not supported: wirelens decodes Ethernet (1), Linux cooked (113, 276), raw IP (101, 228, 229) and BSD loopback (0, 108).",
            other.0,
            other.name()
        )),
    }
}

/// The note for a frame shorter than its link-layer header.
fn short_link(have: usize, need: usize, what: &str) -> String {
    format!("The frame is only {have} bytes long: a {what} needs {need}.")
}

fn dissect_ethernet(d: &mut Dissection, bytes: &[u8], checksums: Checksums) {
    if !dissect_common(d, bytes, checksums) && !dissect_common_v6(d, bytes, checksums) {
        general_ethernet(d, bytes, checksums);
    }
}

/// Any Ethernet frame, sliced by etherparse.
fn general_ethernet(d: &mut Dissection, bytes: &[u8], checksums: Checksums) {
    let sliced = match LaxSlicedPacket::from_ethernet(bytes) {
        Ok(s) => s,
        Err(_) => {
            d.notes.push(format!(
                "The frame is only {} bytes long: an Ethernet header needs {}.",
                bytes.len(),
                ethernet::HEADER_LEN
            ));
            return;
        }
    };
    d.eth = Ethernet::parse(bytes);
    let Some(eth) = &d.eth else { return };
    let ethertype = eth.ethertype;
    dissect_link_payload(
        d,
        bytes,
        &sliced,
        ethernet::HEADER_LEN,
        ethertype,
        "Ethernet",
        checksums,
    );
}

/// Decodes what follows a link-layer header (Ethernet's, a cooked capture's, a loopback
/// header, or nothing for raw IP): VLAN tags, then ARP, IPv4 or IPv6 and what they
/// carry. `sliced` is etherparse's view of the frame from `start`, where a payload of
/// EtherType `ethertype` begins; `within` names the link for undecoded payloads.
fn dissect_link_payload(
    d: &mut Dissection,
    bytes: &[u8],
    sliced: &LaxSlicedPacket<'_>,
    start: usize,
    ethertype: u16,
    within: &'static str,
    checksums: Checksums,
) {
    let mut tpid = ethertype;
    // Where the payload of the last header parsed begins, and its EtherType.
    let mut next = start;
    let mut next_type = ethertype;
    for ext in &sliced.link_exts {
        match ext {
            LaxLinkExtSlice::Vlan(v) => {
                let off = offset_in(bytes, v.slice());
                if let Some(tag) = Vlan::parse(v.slice(), off, tpid) {
                    tpid = tag.ethertype;
                    next = off + crate::proto::vlan::TAG_LEN;
                    next_type = tag.ethertype;
                    d.vlan.push(tag);
                }
            }
            LaxLinkExtSlice::Macsec(m) => {
                next = offset_in(bytes, m.header.slice());
                next_type = EtherType::MACSEC.0;
                break;
            }
        }
    }
    if EtherType(next_type).is_vlan_tag() && sliced.stop_err.is_none() && sliced.net.is_none() {
        d.notes.push(format!(
            "More than {} VLAN tags: the rest of the frame is not decoded.",
            LaxSlicedPacket::LINK_EXTS_CAP
        ));
    }
    match &sliced.net {
        Some(LaxNetSlice::Arp(a)) => {
            let off = offset_in(bytes, a.slice());
            d.arp = Arp::parse(a.slice(), off);
            next = off + a.slice().len();
            d.trailer = trailer(bytes, next);
        }
        Some(LaxNetSlice::Ipv4(ip)) => {
            let hdr = ip.header();
            let off = offset_in(bytes, hdr.slice());
            let payload = ip.payload();
            dissect_ipv4_payload(
                d,
                bytes,
                off,
                hdr.slice(),
                payload.payload,
                false,
                checksums,
            );
            if payload.len_source == LenSource::Ipv4HeaderTotalLen {
                d.trailer = trailer(
                    bytes,
                    offset_in(bytes, payload.payload) + payload.payload.len(),
                );
            }
        }
        Some(LaxNetSlice::Ipv6(ip)) => {
            let off = offset_in(bytes, ip.header().slice());
            dissect_ipv6(d, bytes, off, checksums);
        }
        None => match &sliced.stop_err {
            // IPv6 is read by our own parser, which says itself where a packet is cut.
            Some(_) if next_type == EtherType::IPV6.0 => {
                dissect_ipv6(d, bytes, next, checksums);
            }
            Some((err, layer)) => {
                d.notes.push(describe_stop(err, *layer));
                // A broken IPv4 header still shows the fields it has.
                if next_type == EtherType::IPV4.0
                    && let Some(rest) = bytes.get(next..)
                {
                    d.ipv4 = Ipv4::parse(rest, next);
                }
            }
            None if EtherType(next_type).is_length() => {
                d.other = Some(Other {
                    by: "ethertype",
                    number: next_type,
                    name: Some("IEEE 802.3 LLC"),
                    offset: next,
                    bytes: bytes.len().saturating_sub(next),
                    within,
                });
            }
            None => {
                d.other = Some(Other {
                    by: "ethertype",
                    number: next_type,
                    name: EtherType(next_type).name(),
                    offset: next,
                    bytes: bytes.len().saturating_sub(next),
                    within,
                });
            }
        },
    }
    // A stop after the network layer (e.g. an IPsec header cut short) is still worth
    // saying; the transport layer is decoded (and its truncation told) by us, below.
    if sliced.net.is_some()
        && let Some((err, layer)) = &sliced.stop_err
        && !matches!(
            layer,
            SliceLayer::TcpHeader
                | SliceLayer::UdpHeader
                | SliceLayer::UdpPayload
                | SliceLayer::Icmpv4
                | SliceLayer::Icmpv4Timestamp
                | SliceLayer::Icmpv4TimestampReply
                | SliceLayer::Icmpv6
                | SliceLayer::Igmp
        )
    {
        d.notes.push(describe_stop(err, *layer));
    }
}

/// The common case, without etherparse: an untagged Ethernet frame carrying a whole,
/// unfragmented IPv4 datagram with a 20-byte header and a TCP segment, UDP datagram or
/// ICMP message that etherparse would slice without complaint. Fills `d` exactly as the
/// general path would (a test compares the two on real, generated and damaged frames)
/// and returns true; returns false, touching nothing, for anything else.
///
/// Why: perf showed etherparse's lax slicer, and the copies of the structs it returns,
/// as a quarter of the dissector's time, though for these frames it only confirms
/// lengths that the checks below confirm too.
fn dissect_common(d: &mut Dissection, bytes: &[u8], checksums: Checksums) -> bool {
    let Some((header, payload)) = common_ipv4(bytes) else {
        return false;
    };
    let proto = IpProto(crate::proto::be8(
        header,
        crate::proto::ipv4::field::PROTOCOL,
    ));
    if !sliceable(proto, payload) {
        return false;
    }
    let at = ethernet::HEADER_LEN;
    d.eth = Ethernet::parse(bytes);
    dissect_ipv4_payload(d, bytes, at, header, payload, false, checksums);
    d.trailer = trailer(bytes, at + header.len() + payload.len());
    true
}

/// The 20-byte header and the payload (per the total length, all captured) of the IPv4
/// datagram in an untagged Ethernet frame, when it is the common case: a 20-byte header
/// and no fragmenting. `None` for anything else. Shared by [`dissect_common`] and the
/// lean reader of `flows` ([`lean::flow_packet`]), so that both take the same frames.
fn common_ipv4(bytes: &[u8]) -> Option<(&[u8], &[u8])> {
    use crate::proto::ipv4::{MIN_HEADER_LEN, field as ip};
    const IP_AT: usize = ethernet::HEADER_LEN;
    if crate::proto::be16(bytes, ethernet::field::TYPE.start) != EtherType::IPV4.0
        || crate::proto::be8(bytes, IP_AT + ip::VER_IHL) != 0x45
    {
        return None;
    }
    let total = usize::from(crate::proto::be16(bytes, IP_AT + ip::TOTAL_LEN.start));
    let flags_frag = crate::proto::be16(bytes, IP_AT + ip::FLAGS_FRAG.start);
    if total < MIN_HEADER_LEN || flags_frag & (ip::MF_BIT | ip::OFFSET_MASK) != 0 {
        return None;
    }
    Some((
        bytes.get(IP_AT..IP_AT + MIN_HEADER_LEN)?,
        bytes.get(IP_AT + MIN_HEADER_LEN..IP_AT + total)?,
    ))
}

/// The next header and the payload (per the payload length, all captured) of the IPv6
/// packet in an untagged Ethernet frame, when its base header is followed directly by
/// TCP, UDP or ICMPv6. `None` for anything else, a jumbogram's payload length of 0 among
/// it. Shared by [`dissect_common_v6`] and the lean reader of `flows`.
fn common_ipv6(bytes: &[u8]) -> Option<(IpProto, &[u8])> {
    use crate::proto::ipv6::{HEADER_LEN, field as ip};
    const IP_AT: usize = ethernet::HEADER_LEN;
    if crate::proto::be16(bytes, ethernet::field::TYPE.start) != EtherType::IPV6.0
        || crate::proto::be8(bytes, IP_AT) >> 4 != 6
    {
        return None;
    }
    let payload_len = usize::from(crate::proto::be16(bytes, IP_AT + ip::PAYLOAD_LEN.start));
    let next = IpProto(crate::proto::be8(bytes, IP_AT + ip::NEXT_HEADER));
    if payload_len == 0 || !matches!(next, IpProto::TCP | IpProto::UDP | IpProto::ICMPV6) {
        return None;
    }
    Some((
        next,
        bytes.get(IP_AT + HEADER_LEN..IP_AT + HEADER_LEN + payload_len)?,
    ))
}

/// Whether etherparse's transport slicer would take `payload` as protocol `proto`
/// without a note (anything it would stop at goes the general way, so its note is not
/// lost): TCP with a data offset inside the payload, UDP whose length field is the
/// payload's length, and ICMP with its 8-byte header.
fn sliceable(proto: IpProto, payload: &[u8]) -> bool {
    match proto {
        IpProto::TCP => {
            let data_off = usize::from(crate::proto::be8(payload, tcp::field::DATA_OFF) >> 4) * 4;
            payload.len() >= tcp::MIN_HEADER_LEN
                && data_off >= tcp::MIN_HEADER_LEN
                && data_off <= payload.len()
        }
        IpProto::UDP => {
            payload.len() >= udp::HEADER_LEN
                && usize::from(crate::proto::be16(payload, udp::field::LENGTH.start))
                    == payload.len()
        }
        IpProto::ICMP => payload.len() >= icmp::HEADER_LEN,
        _ => false,
    }
}

/// The common IPv6 case, without etherparse: an untagged Ethernet frame carrying a whole
/// IPv6 packet whose base header is followed directly by TCP, UDP or ICMPv6. Fills `d`
/// exactly as the general path would (the same test as [`dissect_common`]'s compares the
/// two) and returns true; returns false, touching nothing, for anything else.
///
/// Why: the general path sliced these frames with etherparse only to learn that the IPv6
/// header starts at offset 14, which our own parser then reads again; on the real-traffic
/// corpus (45% IPv6) that slicing and the copies of its result were a tenth of the
/// reading thread of `flows`. Only frames with no extension header come here, so the
/// general path would note nothing about them that this one leaves out.
fn dissect_common_v6(d: &mut Dissection, bytes: &[u8], checksums: Checksums) -> bool {
    if common_ipv6(bytes).is_none() {
        return false;
    }
    d.eth = Ethernet::parse(bytes);
    dissect_ipv6(d, bytes, ethernet::HEADER_LEN, checksums);
    true
}

/// The bytes after the end of the network layer, if any: Ethernet padding.
fn trailer(bytes: &[u8], end: usize) -> Option<Padding> {
    (end < bytes.len()).then(|| {
        Padding(Span {
            offset: end,
            len: bytes.len() - end,
        })
    })
}

/// Decodes an IPv4 header at `off` and what it carries. `quoted` is true inside an ICMP
/// error, where the quoted datagram is cut short by design and not itself dissected
/// further into another ICMP error's quote.
fn dissect_ipv4_payload(
    d: &mut Dissection,
    frame: &[u8],
    off: usize,
    header: &[u8],
    payload: &[u8],
    quoted: bool,
    checksums: Checksums,
) {
    let Some(parsed) = Ipv4::parse(header, off) else {
        return;
    };
    // Every layer is built in its place in `d`: perf showed copies of these structs
    // (through `memcpy`) as a large part of the dissector's time.
    let Dissection {
        ipv4,
        tcp,
        udp,
        icmp,
        icmpv6,
        other,
        payload: data,
        notes,
        ..
    } = d;
    let ip = ipv4.insert(parsed);
    (*tcp, *udp, *icmp, *data) = (None, None, None, None);
    let t = Transport {
        tcp,
        udp,
        icmp,
        icmpv6,
        other,
        payload: data,
    };
    decode_transport(
        &IpView::v4(ip, payload.len()).checking(checksums),
        frame,
        payload,
        quoted,
        notes,
        t,
    );
    if !quoted {
        if usize::from(ip.total_len) > frame.len().saturating_sub(off) {
            notes.push(format!(
                "The IPv4 total length says {} bytes but only {} were captured from offset {off}.",
                ip.total_len,
                frame.len().saturating_sub(off)
            ));
        }
        if ip.checksum_ok == Some(false) {
            notes.push(format!(
                "The IPv4 header checksum 0x{:04x} is wrong.",
                ip.checksum
            ));
        }
    }
}

/// How the note on a first fragment ends when its transport header is decoded from it.
const FIRST_FRAGMENT_TAIL: &str = ", but its checksum covers the whole datagram.";

/// Takes the transport layer off a fragment that did not complete its datagram: with
/// reassembly on, that layer is decoded once, from the whole datagram, on the frame that
/// completes it (as Wireshark shows it). The fragment's bytes are shown as data.
pub fn hold_fragment(d: &mut Dissection) {
    let (start, end) = match (&d.ipv4, &d.ipv6) {
        (Some(ip), _) => (
            ip.offset + usize::from(ip.ihl),
            ip.offset + usize::from(ip.total_len),
        ),
        (None, Some(ip)) => {
            let Some((at, _)) = ip.fragmentable() else {
                return;
            };
            (
                ip.offset + at,
                ip.offset + ipv6::HEADER_LEN + usize::from(ip.payload_len),
            )
        }
        (None, None) => return,
    };
    if d.tcp.is_none() && d.udp.is_none() && d.icmp.is_none() && d.icmpv6.is_none() {
        return;
    }
    (d.tcp, d.udp, d.icmp, d.icmpv6) = (None, None, None, None);
    for n in &mut d.notes {
        if let Some(head) = n.strip_suffix(FIRST_FRAGMENT_TAIL)
            && let Some(head) = head.strip_suffix(" is decoded")
        {
            *n = format!("{head} is shown with the whole datagram, once it is reassembled.");
        }
    }
    let end = end.min(d.caplen as usize);
    // `then`, not `then_some`: the length may only be computed when end > start.
    d.payload = (end > start).then(|| {
        Data::fragment(Span {
            offset: start,
            len: end - start,
        })
    });
}

/// Decodes the transport layer of a datagram the reassembler completed on this frame
/// from `payload` (the whole datagram's payload), replacing the one decoded from the
/// fragment alone. Offsets of the new layers count from the datagram's first payload
/// byte.
pub fn decode_reassembled(d: &mut Dissection, payload: &[u8]) {
    // The header as if the datagram had never been cut: offset 0, no more fragments,
    // the whole payload.
    let mut whole = match (&d.ipv4, &d.ipv6) {
        (Some(ip), _) => IpView::v4(ip, payload.len()),
        (None, Some(ip)) => IpView::v6(ip, payload.len()),
        (None, None) => return,
    };
    (whole.frag_offset, whole.mf, whole.msg_len) = (0, false, payload.len());
    // An IPv6 packet's fragmentable part starts right after the fragment header, with
    // the protocol that header names.
    if let Some((_, next)) = d.ipv6.as_ref().and_then(Ipv6::fragmentable) {
        whole.proto = IpProto(next);
    }
    (d.tcp, d.udp, d.icmp, d.icmpv6) = (None, None, None, None);
    let mut no_payload = None;
    let t = Transport {
        tcp: &mut d.tcp,
        udp: &mut d.udp,
        icmp: &mut d.icmp,
        icmpv6: &mut d.icmpv6,
        other: &mut d.other,
        payload: &mut no_payload,
    };
    decode_transport(&whole, payload, payload, false, &mut d.notes, t);
    d.payload = None;
}

/// Decodes an IPv6 header at `off` in `frame`, its extension headers and what they
/// carry.
fn dissect_ipv6(d: &mut Dissection, frame: &[u8], off: usize, checksums: Checksums) {
    let b = frame.get(off..).unwrap_or_default();
    let parsed = match Ipv6::parse(b, off) {
        Ok(ip) => ip,
        Err(e) => {
            d.notes.push(e.to_string());
            return;
        }
    };
    let Dissection {
        ipv6,
        tcp,
        udp,
        icmp,
        icmpv6,
        other,
        payload: data,
        trailer: padding,
        notes,
        ..
    } = d;
    let ip = ipv6.insert(parsed);
    if let Some(why) = &ip.stopped {
        notes.push(why.clone());
    }
    // A payload length of 0 is a jumbogram's: its data runs to the end of the capture.
    let declared_end = match ip.payload_len {
        0 => frame.len(),
        n => off + ipv6::HEADER_LEN + usize::from(n),
    };
    if declared_end > frame.len() {
        notes.push(format!(
            "The IPv6 payload length says {} bytes but only {} were captured after the header at offset {off}.",
            ip.payload_len,
            frame.len().saturating_sub(off + ipv6::HEADER_LEN)
        ));
    } else {
        *padding = trailer(frame, declared_end);
    }
    if ip.stopped.is_some() {
        return;
    }
    let (_, at) = ip.upper_layer();
    let payload = frame
        .get(off + at..declared_end.min(frame.len()))
        .unwrap_or_default();
    let t = Transport {
        tcp,
        udp,
        icmp,
        icmpv6,
        other,
        payload: data,
    };
    decode_transport(
        &IpView::v6(ip, payload.len()).checking(checksums),
        frame,
        payload,
        false,
        notes,
        t,
    );
}

/// Where the transport layer of one IP datagram goes. `decode_transport` only
/// writes the layer it finds (the others are left as they are).
struct Transport<'a> {
    tcp: &'a mut Option<Tcp>,
    udp: &'a mut Option<Udp>,
    icmp: &'a mut Option<Icmp>,
    icmpv6: &'a mut Option<Icmpv6>,
    other: &'a mut Option<Other>,
    payload: &'a mut Option<Data>,
}

/// What the transport layer needs to know of the IP header that carries it, for either
/// IP version.
struct IpView {
    /// "IPv4" or "IPv6", for notes.
    version: &'static str,
    /// The addresses the transport checksum covers.
    ph: PseudoHeader,
    /// The protocol carried (IPv4's protocol field, IPv6's last next header).
    proto: IpProto,
    /// Where this fragment's data goes in the datagram, in bytes (0 when not a fragment).
    frag_offset: usize,
    /// More fragments follow.
    mf: bool,
    /// The fragment identification, as shown in notes ("0x52dd").
    id: String,
    /// Bytes of the transport message per the IP header (the capture may hold fewer).
    msg_len: usize,
    /// Whether TCP and UDP checksums are verified.
    checksums: Checksums,
}

impl IpView {
    fn v4(ip: &Ipv4, captured: usize) -> IpView {
        IpView {
            version: "IPv4",
            ph: PseudoHeader::V4 {
                src: ip.src,
                dst: ip.dst,
            },
            proto: ip.protocol(),
            frag_offset: usize::from(ip.frag_offset),
            mf: ip.mf,
            id: if ip.is_fragment() {
                format!("0x{:04x}", ip.id)
            } else {
                String::new()
            },
            msg_len: if usize::from(ip.total_len) >= usize::from(ip.ihl) {
                ip.payload_len()
            } else {
                captured
            },
            checksums: Checksums::Verify,
        }
    }

    /// This view, verifying TCP and UDP checksums or not.
    fn checking(mut self, checksums: Checksums) -> IpView {
        self.checksums = checksums;
        self
    }

    /// The pseudo-header to verify TCP and UDP checksums with; `None` when they are
    /// left unverified.
    fn verifying(&self) -> Option<&PseudoHeader> {
        (self.checksums == Checksums::Verify).then_some(&self.ph)
    }

    fn v6(ip: &Ipv6, captured: usize) -> IpView {
        let (next, at) = ip.upper_layer();
        let frag = ip.fragment();
        IpView {
            version: "IPv6",
            ph: PseudoHeader::V6 {
                src: ip.src,
                dst: ip.dst,
            },
            proto: IpProto(next),
            frag_offset: frag.map_or(0, |f| usize::from(f.offset)),
            mf: frag.is_some_and(|f| f.more),
            id: frag.map_or(String::new(), |f| format!("0x{:08x}", f.id)),
            msg_len: match ip.payload_len {
                // A jumbogram: only the capture tells.
                0 => captured,
                n => (usize::from(n) + ipv6::HEADER_LEN).saturating_sub(at),
            },
            checksums: Checksums::Verify,
        }
    }
}

fn decode_transport(
    ip: &IpView,
    frame: &[u8],
    payload: &[u8],
    quoted: bool,
    notes: &mut Vec<String>,
    t: Transport<'_>,
) {
    let off = offset_in(frame, payload);
    let proto = ip.proto;
    let name = proto.name().unwrap_or("the payload");
    let version = ip.version;
    if ip.frag_offset > 0 {
        if !quoted {
            notes.push(format!(
                "{version} fragment: bytes {}–{} of datagram ID {}{}; the {name} header is in the first fragment.",
                ip.frag_offset,
                ip.frag_offset + ip.msg_len.saturating_sub(1),
                ip.id,
                if ip.mf { ", more follow" } else { " (the last one)" }
            ));
        }
        *t.payload = (!payload.is_empty()).then_some(Data::fragment(Span {
            offset: off,
            len: payload.len(),
        }));
        return;
    }
    let first_fragment = ip.mf;
    if first_fragment && !quoted {
        notes.push(format!(
            "{version} fragment: bytes 0–{} of datagram ID {}, more follow; the {name} header is decoded{FIRST_FRAGMENT_TAIL}",
            ip.msg_len.saturating_sub(1),
            ip.id
        ));
    }
    // Length of the transport message per the IP header (the captured slice may be shorter).
    let msg_len = ip.msg_len;
    // A first fragment's checksum covers bytes it does not carry. Inside an ICMP error,
    // TCP and ICMP checksums are left unverified (as tshark does); a quoted UDP datagram
    // is verified when it was quoted whole.
    let verifiable = !first_fragment && !quoted;
    let truncated = |what: &str, need: usize| {
        format!(
            "The {what} header is cut short: it needs {need} bytes from offset {off} but only {} were captured.",
            payload.len()
        )
    };
    match proto {
        IpProto::TCP => {
            // Parsed straight into its place: no copy of the 136-byte struct.
            *t.tcp = Tcp::parse_with(payload, off, ip.verifying(), msg_len);
            match t.tcp.as_mut() {
                Some(tcp) => {
                    if !verifiable {
                        tcp.checksum_ok = None;
                    }
                    let hl = usize::from(tcp.header_len);
                    if hl < tcp::MIN_HEADER_LEN {
                        notes.push(format!(
                        "The TCP header length field says {hl} bytes, less than the 20-byte minimum."
                    ));
                    } else if payload.len() < hl && !quoted {
                        notes.push(truncated("TCP", hl));
                    } else if payload.len() > hl {
                        *t.payload = Some(Data::application(Span {
                            offset: off + hl,
                            len: payload.len() - hl,
                        }));
                    }
                    if tcp.checksum_ok == Some(false) {
                        notes.push(wrong_checksum("TCP", tcp.checksum, ip, msg_len));
                    }
                }
                None if !quoted => notes.push(truncated("TCP", tcp::MIN_HEADER_LEN)),
                None => {}
            }
        }
        IpProto::UDP => match Udp::parse_with(payload, off, ip.verifying()) {
            Some(mut udp) => {
                if first_fragment {
                    udp.checksum_ok = None;
                }
                let end = usize::from(udp.length).min(payload.len());
                if end > udp::HEADER_LEN {
                    *t.payload = Some(Data::application(Span {
                        offset: off + udp::HEADER_LEN,
                        len: end - udp::HEADER_LEN,
                    }));
                }
                if !quoted {
                    if udp.checksum == 0 && version == "IPv6" {
                        notes.push(
                            "The UDP checksum is zero, which IPv6 forbids (RFC 8200, section 8.1): a receiver discards the datagram."
                                .into(),
                        );
                    } else if udp.checksum == 0 {
                        notes.push(
                            "The UDP checksum is zero: the sender did not compute one (allowed over IPv4)."
                                .into(),
                        );
                    } else if udp.checksum_ok == Some(false) {
                        notes.push(wrong_checksum("UDP", udp.checksum, ip, msg_len));
                    }
                    if usize::from(udp.length) < udp::HEADER_LEN {
                        notes.push(format!(
                            "The UDP length field says {} bytes, less than its own 8-byte header.",
                            udp.length
                        ));
                    } else if !first_fragment && usize::from(udp.length) > msg_len {
                        notes.push(format!(
                            "The UDP length field says {} bytes but the IP datagram carries only {msg_len}.",
                            udp.length
                        ));
                    }
                }
                *t.udp = Some(udp);
            }
            None if !quoted => notes.push(truncated("UDP", udp::HEADER_LEN)),
            None => {}
        },
        IpProto::ICMP => match Icmp::parse(payload, off, msg_len) {
            Some(mut ic) => {
                if !verifiable {
                    ic.checksum_ok = None;
                }
                if ic.checksum_ok == Some(false) {
                    notes.push(format!("The ICMP checksum 0x{:04x} is wrong.", ic.checksum));
                }
                if ic.is_error() && !quoted {
                    ic.quoted = payload
                        .get(icmp::HEADER_LEN..)
                        .map(|q| Box::new(dissect_quoted(frame, q, "ICMP", notes)));
                }
                *t.icmp = Some(ic);
            }
            None if !quoted => notes.push(truncated("ICMP", icmp::HEADER_LEN)),
            None => {}
        },
        IpProto::ICMPV6 => match Icmpv6::parse(payload, off, msg_len, &ip.ph) {
            Ok(mut ic) => {
                if !verifiable {
                    ic.checksum_ok = None;
                }
                if !quoted {
                    if ic.checksum_ok == Some(false) {
                        notes.push(format!(
                            "The ICMPv6 checksum 0x{:04x} is wrong.",
                            ic.checksum
                        ));
                    }
                    if let Some(why) = &ic.stopped {
                        notes.push(why.clone());
                    }
                    if let Some(at) = ic.quoted_at() {
                        ic.quoted = payload
                            .get(at..)
                            .map(|q| Box::new(dissect_quoted(frame, q, "ICMPv6", notes)));
                    }
                }
                *t.icmpv6 = Some(ic);
            }
            Err(e) if !quoted => notes.push(e.to_string()),
            Err(_) => {}
        },
        other => {
            *t.other = Some(Other {
                by: "ip_proto",
                number: u16::from(other.0),
                name: other.name(),
                offset: off,
                bytes: payload.len(),
                within: version,
            });
        }
    }
}

/// The note for a wrong TCP or UDP checksum. When the checksum field holds just the
/// folded pseudo-header sum, the sender's network card was meant to finish it
/// (checksum offload) and the capture was taken on the sending host: say so.
fn wrong_checksum(what: &str, checksum: u16, ip: &IpView, len: usize) -> String {
    let partial = u32::try_from(len).ok().map(|l| {
        crate::proto::checksum::Sum::default()
            .add_pseudo(&ip.ph, ip.proto.0, l)
            .fold()
    });
    if partial == Some(checksum) {
        format!(
            "The {what} checksum 0x{checksum:04x} is only the pseudo-header sum: the sender left it for its network card to finish (checksum offload), and it was captured before any card did: on the sending host, or on a virtual link such as veth that never finishes it."
        )
    } else {
        format!("The {what} checksum 0x{checksum:04x} is wrong.")
    }
}

/// Decodes the datagram an ICMP or ICMPv6 error (`what`) quotes: its IP header and the
/// start of its transport header.
fn dissect_quoted(frame: &[u8], quoted: &[u8], what: &str, notes: &mut Vec<String>) -> Quoted {
    let mut q = Quoted::default();
    let (mut tcp, mut udp, mut icmp, mut icmpv6, mut other, mut data) =
        (None, None, None, None, None, None);
    let t = Transport {
        tcp: &mut tcp,
        udp: &mut udp,
        icmp: &mut icmp,
        icmpv6: &mut icmpv6,
        other: &mut other,
        payload: &mut data,
    };
    let version = crate::proto::be8(quoted, 0) >> 4;
    match LaxIpSlice::from_slice(quoted) {
        Ok((LaxIpSlice::Ipv4(ip), _)) => {
            let hdr = ip.header();
            let off = offset_in(frame, hdr.slice());
            if let Some(ipv4) = Ipv4::parse(hdr.slice(), off) {
                let view = IpView::v4(&ipv4, ip.payload().payload.len());
                decode_transport(&view, frame, ip.payload().payload, true, notes, t);
                q.ipv4 = Some(ipv4);
            }
        }
        _ if version == 6 => {
            let off = offset_in(frame, quoted);
            match Ipv6::parse(quoted, off) {
                Ok(ipv6) => {
                    let (_, at) = ipv6.upper_layer();
                    let end = (ipv6::HEADER_LEN + usize::from(ipv6.payload_len)).min(quoted.len());
                    let rest = quoted.get(at..end).unwrap_or_default();
                    if ipv6.stopped.is_none() {
                        let view = IpView::v6(&ipv6, rest.len());
                        decode_transport(&view, frame, rest, true, notes, t);
                    }
                    q.ipv6 = Some(ipv6);
                }
                Err(_) => notes.push(format!(
                    "The {what} error quotes {} bytes, too few for the IPv6 header of the packet that caused it.",
                    quoted.len()
                )),
            }
        }
        Ok(_) => notes.push(format!(
            "The {what} error quotes a datagram that is neither IPv4 nor IPv6."
        )),
        Err(_) => notes.push(format!(
            "The {what} error quotes {} bytes, too few for the IP header of the datagram that caused it.",
            quoted.len()
        )),
    }
    q.tcp = tcp;
    q.udp = udp;
    q.icmp = icmp.map(Box::new);
    q.icmpv6 = icmpv6.map(Box::new);
    q
}

/// Calls `emit` with each header an ICMP or ICMPv6 error quotes.
fn quoted_layers<'a>(q: &'a Quoted, emit: &mut dyn FnMut(&'a dyn Layer, Role)) {
    if let Some(ip) = &q.ipv4 {
        emit(ip, Role::Quoted);
    }
    if let Some(ip) = &q.ipv6 {
        emit(ip, Role::Quoted);
    }
    if let Some(t) = &q.tcp {
        emit(t, Role::Quoted);
    }
    if let Some(u) = &q.udp {
        emit(u, Role::Quoted);
    }
}

fn layer_name(layer: SliceLayer) -> &'static str {
    match layer {
        SliceLayer::Ethernet2Header => "Ethernet header",
        SliceLayer::VlanHeader => "802.1Q VLAN tag",
        SliceLayer::MacsecHeader | SliceLayer::MacsecPacket => "MACsec header",
        SliceLayer::IpHeader | SliceLayer::Ipv4Header => "IPv4 header",
        SliceLayer::Ipv4Packet => "IPv4 datagram",
        SliceLayer::IpAuthHeader => "IPsec authentication header",
        SliceLayer::Ipv6Header | SliceLayer::Ipv6Packet | SliceLayer::Ipv6ExtHeader => {
            "IPv6 header"
        }
        SliceLayer::UdpHeader | SliceLayer::UdpPayload => "UDP header",
        SliceLayer::TcpHeader => "TCP header",
        SliceLayer::Icmpv4 | SliceLayer::Icmpv4Timestamp | SliceLayer::Icmpv4TimestampReply => {
            "ICMP header"
        }
        SliceLayer::Arp => "ARP packet",
        _ => "header",
    }
}

fn describe_len(e: &LenError) -> String {
    let what = layer_name(e.layer);
    let source = match e.len_source {
        LenSource::Slice => "were captured",
        LenSource::Ipv4HeaderTotalLen => "are left inside the IPv4 total length",
        LenSource::ArpAddrLengths => "were captured (the address sizes ask for more)",
        LenSource::UdpHeaderLen => "are left inside the UDP length",
        LenSource::TcpHeaderLen => "are left inside the TCP header length",
        _ => "are available",
    };
    format!(
        "The {what} is cut short: it needs {} bytes from offset {} but only {} {source}.",
        e.required_len, e.layer_start_offset, e.len
    )
}

fn describe_stop(err: &SliceError, layer: SliceLayer) -> String {
    match err {
        SliceError::Len(l) => describe_len(l),
        other => format!("The {} is malformed: {other}.", layer_name(layer)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::testing::ethernet_frame as frame;

    /// A UDP datagram in an 802.1Q-tagged frame (checksums computed by `tagged_udp`).
    const TAGGED_UDP: [u8; 48] = [
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, // destination MAC: broadcast
        0x02, 0x77, 0x00, 0x00, 0x00, 0x01, // source MAC
        0x81, 0x00, // EtherType: 802.1Q
        0xa0, 0x64, // PCP 5, DEI 0, VID 100
        0x08, 0x00, // EtherType: IPv4
        0x45, 0x00, 0x00, 0x1e, // IPv4, IHL 5, total length 30
        0x00, 0x01, 0x00, 0x00, // ID 1, no flags
        0x40, 0x11, 0x00, 0x00, // TTL 64, UDP, checksum
        0x0a, 0x4d, 0x00, 0x01, // 10.77.0.1
        0x0a, 0x4d, 0x00, 0xff, // 10.77.0.255
        0xc3, 0x50, 0x27, 0x10, // ports 50000 → 10000
        0x00, 0x0a, 0x00, 0x00, // length 10, checksum
        b'h', b'i', // payload
    ];

    fn tagged_udp() -> Vec<u8> {
        use crate::proto::checksum::Sum;
        let mut b = TAGGED_UDP.to_vec();
        let c = Sum::default().add_bytes(&b[18..38]).checksum();
        b[28..30].copy_from_slice(&c.to_be_bytes());
        let c = Sum::default()
            .add_pseudo_header(
                std::net::Ipv4Addr::new(10, 77, 0, 1),
                std::net::Ipv4Addr::new(10, 77, 0, 255),
                17,
                10,
            )
            .add_bytes(&b[38..48])
            .checksum();
        b[44..46].copy_from_slice(&c.to_be_bytes());
        b
    }

    #[test]
    fn tagged_udp_dissects_fully() {
        let b = tagged_udp();
        let d = dissect(1, &frame(&b));
        assert_eq!(d.eth.as_ref().map(|e| e.ethertype), Some(0x8100));
        assert_eq!(d.vlan.len(), 1);
        assert_eq!(d.vlan[0].id, 100);
        assert_eq!(d.vlan[0].offset, 14);
        let ip = d.ipv4.as_ref().expect("ipv4");
        assert_eq!((ip.offset, ip.checksum_ok), (18, Some(true)));
        let u = d.udp.as_ref().expect("udp");
        assert_eq!((u.offset, u.checksum_ok), (38, Some(true)));
        assert_eq!(
            d.payload,
            Some(Data::application(Span { offset: 46, len: 2 }))
        );
        assert!(d.notes.is_empty(), "{:?}", d.notes);
    }

    #[test]
    fn every_prefix_gives_a_note_and_never_panics() {
        let b = tagged_udp();
        for n in 0..b.len() {
            let d = dissect(1, &frame(&b[..n]));
            assert!(!d.notes.is_empty(), "prefix {n} gave no note: {d:?}");
            let _ = serde_json::to_string(&d);
        }
    }

    /// The general path alone (etherparse), for comparing with the common-case one.
    fn dissect_general(bytes: &[u8]) -> Dissection {
        let mut d = Dissection {
            n: 1,
            caplen: bytes.len() as u32,
            len: bytes.len() as u32,
            ..Dissection::default()
        };
        general_ethernet(&mut d, bytes, Checksums::Verify);
        d
    }

    /// Frames to compare on: the bundled captures, every prefix of their frames, and
    /// copies with one byte changed at every offset of the headers.
    pub(super) fn frames() -> Vec<Vec<u8>> {
        use crate::capture::file::FileSource;
        let mut v = vec![tagged_udp()];
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("captures");
        let mut files: Vec<_> = std::fs::read_dir(&dir)
            .map(|d| d.filter_map(Result::ok).map(|e| e.path()).collect())
            .unwrap_or_default();
        files.sort();
        for f in files
            .iter()
            .filter(|f| f.extension().is_some_and(|e| e == "pcap"))
        {
            if let Ok(mut src) = FileSource::open(f) {
                while let Ok(Some(fr)) = src.next_frame() {
                    v.push(fr.bytes.to_vec());
                }
            }
        }
        let mut out = Vec::new();
        for b in &v {
            for n in 0..=b.len() {
                out.push(b[..n].to_vec());
            }
            for at in 0..b.len().min(70) {
                for x in [0x01u8, 0x10, 0x40, 0x80, 0xff] {
                    let mut m = b.clone();
                    m[at] ^= x;
                    out.push(m);
                }
            }
        }
        // And the recorded real traffic the benchmarks replicate, as it is.
        let seed = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("bench/real-seed.pcap");
        if let Ok(mut src) = FileSource::open(&seed) {
            while let Ok(Some(fr)) = src.next_frame() {
                out.push(fr.bytes.to_vec());
            }
        }
        out
    }

    /// Every frame that the fast path `path` takes comes out as the general path makes it;
    /// more than a thousand of them take it.
    fn fast_path_matches_the_general_path(
        path: fn(&mut Dissection, &[u8], Checksums) -> bool,
        what: &str,
    ) {
        let mut fast = 0;
        for b in frames() {
            let mut d = Dissection {
                n: 1,
                caplen: b.len() as u32,
                len: b.len() as u32,
                ..Dissection::default()
            };
            if path(&mut d, &b, Checksums::Verify) {
                fast += 1;
                assert_eq!(d, dissect_general(&b), "frame {b:02x?}");
            }
        }
        assert!(fast > 1000, "only {fast} frames took the {what}");
    }

    #[test]
    fn common_case_path_matches_the_general_path() {
        fast_path_matches_the_general_path(dissect_common, "common path");
    }

    #[test]
    fn common_ipv6_path_matches_the_general_path() {
        fast_path_matches_the_general_path(dissect_common_v6, "common IPv6 path");
    }

    #[test]
    fn dissecting_into_a_used_dissection_equals_a_fresh_one() {
        let frames = frames();
        // One reused value, walked forwards then backwards so every kind of frame
        // follows every other kind at least once in either order.
        let mut reused = dissect(7, &frame(&tagged_udp()));
        reused.notes.push("left over".into());
        for (i, b) in frames.iter().chain(frames.iter().rev()).enumerate() {
            let f = frame(b);
            dissect_into(&mut reused, i as u64 + 1, &f);
            assert_eq!(reused, dissect(i as u64 + 1, &f), "frame {b:02x?}");
        }
    }

    #[test]
    fn other_link_types_are_named_not_misparsed() {
        let b = tagged_udp();
        let mut f = frame(&b);
        f.link = LinkType::IEEE802_11;
        let d = dissect(1, &f);
        assert!(d.eth.is_none());
        assert!(
            d.notes[0].contains("Link type 105 (IEEE 802.11 wireless) is not supported"),
            "{:?}",
            d.notes
        );
    }

    /// The same IPv4 packet behind each link header decodes to the same layers above it.
    #[test]
    fn every_link_header_leads_to_the_same_ip_layers() {
        let eth = tagged_udp();
        let on_eth = dissect(1, &frame(&eth));
        // The IP packet after the Ethernet header and the VLAN tag.
        let ip = &eth[18..];
        let mut sll2 = vec![0x08, 0x00, 0, 0, 0, 0, 0, 2, 0, 1, 0, 6];
        sll2.extend_from_slice(&[2, 0x77, 0, 0, 0, 1, 0, 0]);
        sll2.extend_from_slice(ip);
        let mut sll1 = vec![0, 4, 0, 1, 0, 6, 2, 0x77, 0, 0, 0, 1, 0, 0, 0x08, 0x00];
        sll1.extend_from_slice(ip);
        let mut null = vec![2, 0, 0, 0];
        null.extend_from_slice(ip);
        for (link, bytes) in [
            (LinkType::LINUX_SLL2, sll2),
            (LinkType::LINUX_SLL, sll1),
            (LinkType::NULL, null),
            (LinkType::RAW, ip.to_vec()),
        ] {
            let mut f = frame(&bytes);
            f.link = link;
            let d = dissect(1, &f);
            assert!(d.eth.is_none(), "{link:?}");
            let (a, b) = (d.ipv4.as_ref(), on_eth.ipv4.as_ref());
            assert_eq!(
                a.map(|i| (i.src, i.dst, i.id)),
                b.map(|i| (i.src, i.dst, i.id)),
                "{link:?}"
            );
            assert_eq!(
                d.udp.as_ref().map(|u| u.dst_port),
                on_eth.udp.as_ref().map(|u| u.dst_port),
                "{link:?}"
            );
            assert_eq!(d.link_type, link.0);
        }
    }
}
