//! The layer model: what every protocol file says about its own header, so that the
//! renderers, filters and statistics can walk a packet's layers without naming any
//! protocol.
//!
//! A protocol file implements [`Layer`] for its wire struct: its name and key, the mark
//! and hue of its bytes, where it sits in the TCP/IP and OSI models, the bytes it covers,
//! its fields and a title. Adding a protocol is one file in `proto/` implementing this
//! trait, plus one arm in the dispatcher of [`crate::dissect`].

use super::{Field, FieldText};

/// A byte range in the frame, for marking the hex dump.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Span {
    /// First byte, as an offset in the frame.
    pub offset: usize,
    /// Number of bytes.
    pub len: usize,
}

/// A layer of the TCP/IP five-layer model the lessons teach, which also names its OSI
/// layer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Model {
    /// Layer 2 of both models: frames between stations on one link (Ethernet, VLAN tags,
    /// Linux cooked headers).
    Link,
    /// ARP. In the TCP/IP model it belongs to the link layer: RFC 1122 describes it in
    /// its link-layer chapter (section 2.3.2), and it travels straight in a link frame
    /// under its own EtherType, never inside IP. In OSI it fits neither layer cleanly: it
    /// exists only to serve the network layer (it maps IPv4 addresses to MAC addresses),
    /// so textbooks draw it on the boundary between layers 2 and 3, and so does the
    /// heading.
    LinkNetwork,
    /// Layer 3 of both models: datagrams between hosts across networks (IPv4, IPv6,
    /// their extension headers, ICMP, ICMPv6).
    Network,
    /// Layer 4 of both models: ports, conversations between programs (TCP, UDP).
    Transport,
    /// Layer 5 of the TCP/IP model, layers 5–7 of OSI: what the programs say.
    Application,
}

impl Model {
    /// The words a heading shows, e.g. "network layer (OSI 3)".
    pub fn describe(self) -> &'static str {
        match self {
            Model::Link => "link layer (OSI 2)",
            Model::LinkNetwork => "link layer (between OSI 2 and 3)",
            Model::Network => "network layer (OSI 3)",
            Model::Transport => "transport layer (OSI 4)",
            Model::Application => "application layer (OSI 5–7)",
        }
    }
}

/// The colour family a layer is drawn in, wherever it appears (summary line, table
/// heading and borders, hex-dump bytes). The renderer turns a hue into terminal escapes;
/// the protocol file only chooses which one is its own.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Hue {
    /// Ethernet and other link headers.
    Blue,
    /// VLAN tags.
    BoldBlue,
    /// ARP.
    Magenta,
    /// IPv4.
    Green,
    /// IPv6 and its extension headers.
    BoldGreen,
    /// TCP.
    Cyan,
    /// UDP.
    BoldMagenta,
    /// ICMP and ICMPv6.
    BoldCyan,
    /// Network headers quoted inside an ICMP error.
    DimGreen,
    /// TCP headers quoted inside an ICMP error.
    DimCyan,
    /// UDP headers quoted inside an ICMP error.
    DimMagenta,
    /// Bytes not decoded: other protocols and padding.
    Dim,
    /// Application data.
    Plain,
}

/// What every protocol header tells about itself. Implemented by each wire struct in
/// `proto/`; the renderers, `--only`, the statistics and the colours use only this.
pub trait Layer {
    /// The protocol's name as the summary line's protocol column and the statistics
    /// show it, e.g. "IPv4".
    fn name(&self) -> &'static str;

    /// The lower-case word that selects it in `--only` and in the display filter, and
    /// its key in the JSON object, e.g. "ipv4".
    fn key(&self) -> &'static str;

    /// The letter that marks this layer's bytes in the hex dump.
    fn mark(&self) -> char;

    /// The colour family it is drawn in.
    fn hue(&self) -> Hue;

    /// Where it sits in the TCP/IP and OSI models.
    fn model(&self) -> Model;

    /// Where the table heading places it in the models: [`Layer::model`] by default, or
    /// `None` where naming one layer would be false (bytes wirelens does not decode, a
    /// fragment's share of a datagram's payload).
    fn heading_model(&self) -> Option<Model> {
        Some(self.model())
    }

    /// The bytes the header covers, as offsets in the frame (or in the reassembled
    /// datagram, for the transport layer of a reassembled packet).
    fn span(&self) -> Span;

    /// The table heading, e.g. "IPv4" or "IPv6 fragment header". Defaults to the name.
    fn title(&self) -> FieldText {
        self.name().into()
    }

    /// Its name in the protocol hierarchy of `wirelens stats`. Defaults to the name.
    fn hierarchy_name(&self) -> FieldText {
        self.name().into()
    }

    /// Its fields, in wire order, with their offsets, values and meanings.
    fn fields(&self) -> Vec<Field>;

    /// Appends what this layer means for the packet, in words (the summary line ends
    /// with the top layer's): `false`, with nothing appended, when it has nothing to say.
    fn explain(&self, _around: &Around, _out: &mut Vec<u8>) -> bool {
        false
    }
}

/// What a layer's explanation may need from the layers around it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Around {
    /// The network layer's source address.
    pub src: Option<std::net::IpAddr>,
    /// The network layer's destination address.
    pub dst: Option<std::net::IpAddr>,
    /// True when the link-layer destination is the broadcast address.
    pub link_broadcast: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_model_layer_names_its_osi_number() {
        for m in [
            Model::Link,
            Model::LinkNetwork,
            Model::Network,
            Model::Transport,
            Model::Application,
        ] {
            assert!(m.describe().contains("OSI "), "{m:?}");
        }
    }
}
