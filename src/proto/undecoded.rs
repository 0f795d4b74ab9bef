//! The parts of a frame that are not a decoded header: a protocol wirelens names but does
//! not decode, the application data, and the link layer's padding. They are layers too,
//! so that the table and the hex dump show them like the others.

use serde::Serialize;

use super::{Field, FieldText, Hue, Layer, Model, Span, ftext};

/// A protocol wirelens names but does not decode (LLDP, IGMP, OSPF…).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Other {
    /// Which number names it: `"ethertype"` or `"ip_proto"`.
    pub by: &'static str,
    /// The EtherType or IP protocol number.
    pub number: u16,
    /// Its name, when known.
    pub name: Option<&'static str>,
    /// Offset of its first byte in the frame.
    #[serde(skip)]
    pub offset: usize,
    /// How many of its bytes were captured.
    pub bytes: usize,
    /// The name of the layer that carries it ("Ethernet", "IPv4", "IPv6"), which the
    /// protocol column shows when this one has no name.
    #[serde(skip)]
    pub within: &'static str,
}

impl Layer for Other {
    fn name(&self) -> &'static str {
        self.name.unwrap_or(self.within)
    }

    fn explain(&self, _around: &super::Around, out: &mut Vec<u8>) -> bool {
        use crate::text::Text;
        out.u(self.bytes as u64);
        match self.name {
            Some(name) => out.s(" bytes of ").s(name).s(" (not decoded)"),
            None if self.by == "ip_proto" => out
                .s(" bytes of IP protocol ")
                .u(self.number.into())
                .s(", which wirelens does not know"),
            None => out
                .s(" bytes of EtherType ")
                .hex4(self.number)
                .s(", which wirelens does not know"),
        };
        true
    }

    fn key(&self) -> &'static str {
        "other"
    }

    fn mark(&self) -> char {
        'O'
    }

    fn hue(&self) -> Hue {
        Hue::Dim
    }

    fn model(&self) -> Model {
        if self.by == "ethertype" {
            Model::Network
        } else {
            Model::Transport
        }
    }

    /// None: what an EtherType or IP protocol number names sits at many layers (LLDP on
    /// the link, IGMP and OSPF beside IP, SCTP in transport, GRE carrying whole
    /// networks), and wirelens does not decode it to know which.
    fn heading_model(&self) -> Option<Model> {
        None
    }

    fn span(&self) -> Span {
        Span {
            offset: self.offset,
            len: self.bytes,
        }
    }

    fn title(&self) -> FieldText {
        ftext!("{} (not decoded)", self.name.unwrap_or("Unknown protocol"))
    }

    fn hierarchy_name(&self) -> FieldText {
        match self.name {
            Some(n) => n.into(),
            None if self.by == "ip_proto" => ftext!("IP protocol {}", self.number),
            None => ftext!("EtherType 0x{:04x}", self.number),
        }
    }

    fn fields(&self) -> Vec<Field> {
        Vec::new()
    }
}

/// Bytes above the last header decoded, as captured.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Data {
    /// Where they are in the frame.
    pub span: Span,
    /// What they are.
    pub kind: DataKind,
}

/// What the bytes of a [`Data`] layer are.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DataKind {
    /// Application data carried by TCP or UDP.
    Application,
    /// A share of an IP datagram's payload carried by a fragment that shows no transport
    /// header: its bytes belong to whatever the whole datagram carries, so no one layer
    /// of the models can be named for them.
    Fragment,
}

impl Data {
    /// Application data carried by TCP or UDP at `span`.
    pub fn application(span: Span) -> Data {
        Data {
            span,
            kind: DataKind::Application,
        }
    }

    /// A fragment's share of a datagram's payload at `span`.
    pub fn fragment(span: Span) -> Data {
        Data {
            span,
            kind: DataKind::Fragment,
        }
    }
}

impl Layer for Data {
    fn name(&self) -> &'static str {
        "Data"
    }

    fn key(&self) -> &'static str {
        "data"
    }

    fn mark(&self) -> char {
        'P'
    }

    fn hue(&self) -> Hue {
        Hue::Plain
    }

    fn model(&self) -> Model {
        Model::Application
    }

    fn heading_model(&self) -> Option<Model> {
        match self.kind {
            DataKind::Application => Some(Model::Application),
            DataKind::Fragment => None,
        }
    }

    fn span(&self) -> Span {
        self.span
    }

    fn title(&self) -> FieldText {
        match self.kind {
            DataKind::Application => "Data".into(),
            DataKind::Fragment => "Fragment data (part of the datagram's payload)".into(),
        }
    }

    fn fields(&self) -> Vec<Field> {
        Vec::new()
    }
}

/// Bytes after the IP datagram: Ethernet padding up to the 60-byte minimum frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Padding(pub Span);

impl Layer for Padding {
    fn name(&self) -> &'static str {
        "Ethernet padding"
    }

    fn key(&self) -> &'static str {
        "padding"
    }

    fn mark(&self) -> char {
        '-'
    }

    fn hue(&self) -> Hue {
        Hue::Dim
    }

    fn model(&self) -> Model {
        Model::Link
    }

    fn span(&self) -> Span {
        self.0
    }

    fn fields(&self) -> Vec<Field> {
        Vec::new()
    }
}
