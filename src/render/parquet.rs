//! Parquet: packets and conversations as typed columns, for DuckDB, Spark and ClickHouse.
//!
//! The columns are the JSON schema flattened (`ipv4_src`, `tcp_stage`…; README, "Parquet
//! schema"). They are filled straight from the typed [`Dissection`] and
//! [`FlowSummary`], never through `serde_json`, except for the few nested lists that are
//! stored as JSON text (VLAN tags, IP options, IPv6 extension headers, NDP and MLD
//! bodies, the headers an ICMP error quotes): those are rare, or small. TCP options,
//! which nearly every segment has, are JSON text written by hand.
//!
//! Rows are gathered in Arrow builders, [`BATCH_ROWS`] at a time, the texts that repeat
//! (addresses, stages) as Arrow dictionaries keyed by the value they stand for, so that
//! each distinct text is written and hashed once a batch. Each full batch goes
//! to a thread of its own that encodes and compresses it (zstd, dictionary pages for
//! repeated values) into row groups of [`ROW_GROUP_ROWS`] rows. Memory therefore stays
//! bounded by about two batches and one row group, whatever the size of the capture.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hash, Hasher};
use std::io::{self, BufWriter};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::mpsc::{SyncSender, sync_channel};
use std::thread::JoinHandle;

use arrow_array::builder::{
    ArrayBuilder, BooleanBuilder, Float64Builder, ListBuilder, StringBuilder,
    TimestampMicrosecondBuilder, UInt8Builder, UInt16Builder, UInt32Builder, UInt64Builder,
};
use arrow_array::cast::AsArray;
use arrow_array::types::UInt16Type;
use arrow_array::{ArrayRef, DictionaryArray, RecordBatch};
use arrow_schema::{DataType, Field, Schema, SchemaRef, TimeUnit};
use parquet::arrow::arrow_writer::ArrowWriterOptions;
use parquet::arrow::{ArrowWriter, add_encoded_arrow_schema_to_metadata};
use parquet::basic::{Compression, Encoding, ZstdLevel};
use parquet::errors::ParquetError;
use parquet::file::metadata::KeyValue;
use parquet::file::properties::{EnabledStatistics, WriterProperties};
use parquet::schema::types::ColumnPath;
use serde::Serialize;

use crate::analysis::flowtable::SummarySink;
use crate::analysis::{ClosedBy, FlowSummary};
use crate::capture::Timestamp;
use crate::context::Stage;
use crate::dissect::Dissection;
use crate::proto::arp::ArpKind;
use crate::proto::tcp::{TcpOption, TcpOptions};

/// The key of the Parquet key-value metadata entry that holds [`SCHEMA_VERSION`].
pub const SCHEMA_VERSION_KEY: &str = "wirelens.schema_version";

/// The version of the columns written. Raised whenever a column is added, removed,
/// renamed or changes type, so that a query can tell files of two versions apart.
pub const SCHEMA_VERSION: &str = "1";

/// The key of the metadata entry naming the table: `packets` or `flows`.
pub const TABLE_KEY: &str = "wirelens.table";

/// Rows gathered before they are handed to the writing thread. Three batches are alive
/// at once (being filled, waiting, being encoded), at about 700 bytes a row.
pub const BATCH_ROWS: usize = 8 * 1024;

/// Rows per Parquet row group: the unit engines read in parallel and skip by statistics.
pub const ROW_GROUP_ROWS: usize = 64 * 1024;

/// Rows per data page, at most: half a row group.
pub const PAGE_ROWS: usize = ROW_GROUP_ROWS / 2;

/// Text columns whose values repeat: addresses, stages, flags, notes. Only these are
/// dictionary-encoded: for numbers and for text that rarely repeats, building a
/// dictionary cost more time (a third of the encoding, by perf) than it saved room,
/// zstd doing most of the work. Most of them arrive as Arrow dictionaries
/// ([`DictColumn`]), whose texts the writer takes as they are.
const DICTIONARY_COLUMNS: &[&str] = &[
    "capture",
    "eth_src",
    "eth_dst",
    "vlan",
    "arp_sha",
    "arp_spa",
    "arp_tha",
    "arp_tpa",
    "arp_kind",
    "ipv4_src",
    "ipv4_dst",
    "ipv6_src",
    "ipv6_dst",
    "tcp_flags.list.item",
    "tcp_stage",
    "other_by",
    "other_name",
    "notes.list.item",
];

/// Text columns without minimum and maximum statistics: JSON text and words, whose
/// range over a row group excludes nothing a query asks for, and MAC addresses.
/// Comparing every row's text with the running minimum and maximum was 6% of the
/// export's instructions. Numbers, timestamps, `capture` and IP addresses keep theirs.
const NO_STATISTICS_COLUMNS: &[&str] = &[
    "eth_src",
    "eth_dst",
    "vlan",
    "arp_sha",
    "arp_tha",
    "ipv4_options",
    "ipv6_ext",
    "tcp_flags.list.item",
    "tcp_options",
    "tcp_stage",
    "icmp_quoted",
    "icmpv6_ndp",
    "icmpv6_mld",
    "icmpv6_quoted",
    "notes.list.item",
];

/// Packet columns that grow steadily: stored as deltas, a few bits a row.
const DELTA_COLUMNS: &[&str] = &["n", "ts"];

/// zstd level: 1 compresses these columns almost as well as 3, in less time.
const ZSTD_LEVEL: i32 = 1;

/// Why a Parquet file could not be written.
#[derive(Debug, thiserror::Error)]
pub enum TableError {
    /// The file could not be created.
    #[error("{path}: could not create the Parquet file: {source}")]
    Create {
        /// The file.
        path: String,
        /// Why.
        #[source]
        source: io::Error,
    },
    /// Encoding or writing failed (a full disk, for one).
    #[error("{path}: could not write the Parquet file: {source}")]
    Write {
        /// The file.
        path: String,
        /// Why.
        #[source]
        source: ParquetError,
    },
}

/// An Arrow builder for one column: how to make it (with room for a batch, so that it
/// never grows by copying), its type in the batches, `n` null rows, and the array of the
/// rows so far.
trait Column: Sized {
    fn make() -> Self;
    fn data_type() -> DataType;
    fn nulls(&mut self, n: usize);
    fn finish(&mut self) -> ArrayRef;
}

macro_rules! primitive_column {
    ($($builder:ty => $dt:expr),* $(,)?) => {$(
        impl Column for $builder {
            fn make() -> Self {
                <$builder>::with_capacity(BATCH_ROWS)
            }
            fn data_type() -> DataType {
                $dt
            }
            fn nulls(&mut self, n: usize) {
                self.append_nulls(n);
            }
            fn finish(&mut self) -> ArrayRef {
                ArrayBuilder::finish(self)
            }
        }
    )*};
}

primitive_column! {
    UInt8Builder => DataType::UInt8,
    UInt16Builder => DataType::UInt16,
    UInt32Builder => DataType::UInt32,
    UInt64Builder => DataType::UInt64,
    Float64Builder => DataType::Float64,
    BooleanBuilder => DataType::Boolean,
}

/// Bytes of text per row a string column makes room for.
const TEXT_BYTES: usize = 16;

impl Column for StringBuilder {
    fn make() -> Self {
        StringBuilder::with_capacity(BATCH_ROWS, BATCH_ROWS * TEXT_BYTES)
    }
    fn data_type() -> DataType {
        DataType::Utf8
    }
    fn nulls(&mut self, n: usize) {
        self.append_nulls(n);
    }
    fn finish(&mut self) -> ArrayRef {
        ArrayBuilder::finish(self)
    }
}

/// The element field Arrow's list builders use.
fn list_of(dt: DataType) -> DataType {
    DataType::List(Arc::new(Field::new("item", dt, true)))
}

impl Column for ListBuilder<StringBuilder> {
    fn make() -> Self {
        ListBuilder::with_capacity(StringBuilder::make(), BATCH_ROWS)
    }
    fn data_type() -> DataType {
        list_of(DataType::Utf8)
    }
    fn nulls(&mut self, n: usize) {
        self.append_nulls(n);
    }
    fn finish(&mut self) -> ArrayRef {
        ArrayBuilder::finish(self)
    }
}

impl Column for ListBuilder<UInt64Builder> {
    fn make() -> Self {
        ListBuilder::with_capacity(UInt64Builder::make(), BATCH_ROWS)
    }
    fn data_type() -> DataType {
        list_of(DataType::UInt64)
    }
    fn nulls(&mut self, n: usize) {
        self.append_nulls(n);
    }
    fn finish(&mut self) -> ArrayRef {
        ArrayBuilder::finish(self)
    }
}

/// Timestamps are microseconds since 1970 in UTC, as the JSON's RFC 3339 text.
const UTC: &str = "UTC";

impl Column for TimestampMicrosecondBuilder {
    fn make() -> Self {
        TimestampMicrosecondBuilder::with_capacity(BATCH_ROWS).with_timezone(UTC)
    }
    fn data_type() -> DataType {
        DataType::Timestamp(TimeUnit::Microsecond, Some(UTC.into()))
    }
    fn nulls(&mut self, n: usize) {
        self.append_nulls(n);
    }
    fn finish(&mut self) -> ArrayRef {
        ArrayBuilder::finish(self)
    }
}

/// A text column whose values repeat (addresses, stages, the capture's path), built as
/// an Arrow dictionary: each row holds the number of its text in the batch's list of
/// distinct texts, found from the value it stands for (`K`: an address as a number, a
/// stage) without writing the text again.
///
/// Why: writing every row's text, then having the Parquet writer hash it back into a
/// dictionary page, was a fifth of the export's instructions. The Parquet writer takes
/// an Arrow dictionary's texts as its own dictionary, each once per batch. In the file
/// the column is a dictionary-encoded `STRING` like any other: the file's schema is
/// [`file_type`]'s, not the batch's.
struct DictColumn<K> {
    keys: UInt16Builder,
    /// The number of each distinct value in `texts`.
    index: HashMap<K, u16, BuildHasherDefault<FxHasher>>,
    texts: StringBuilder,
    scratch: String,
}

impl<K: Hash + Eq + Copy> DictColumn<K> {
    /// Appends `value`, whose text `text` writes when the batch has not seen it yet.
    fn push(&mut self, value: K, text: impl FnOnce(&mut String)) {
        let next = self.index.len();
        let key = *self.index.entry(value).or_insert_with(|| {
            self.scratch.clear();
            text(&mut self.scratch);
            self.texts.append_value(&self.scratch);
            // A batch has at most BATCH_ROWS (< 2^16) rows, hence as many texts.
            u16::try_from(next).unwrap_or(u16::MAX)
        });
        self.keys.append_value(key);
    }

    /// Appends a null.
    fn append_null(&mut self) {
        self.keys.append_null();
    }

    /// Appends `value` when present, else null.
    fn push_option(&mut self, value: Option<K>, text: impl FnOnce(K, &mut String)) {
        match value {
            Some(v) => self.push(v, |s| text(v, s)),
            None => self.keys.append_null(),
        }
    }
}

impl<K: Hash + Eq + Copy> Column for DictColumn<K> {
    fn make() -> Self {
        DictColumn {
            keys: UInt16Builder::with_capacity(BATCH_ROWS),
            index: HashMap::default(),
            texts: StringBuilder::new(),
            scratch: String::new(),
        }
    }
    fn data_type() -> DataType {
        DataType::Dictionary(Box::new(DataType::UInt16), Box::new(DataType::Utf8))
    }
    fn nulls(&mut self, n: usize) {
        self.keys.append_nulls(n);
    }
    fn finish(&mut self) -> ArrayRef {
        self.index.clear();
        let keys = ArrayBuilder::finish(&mut self.keys);
        let keys = keys.as_primitive::<UInt16Type>().clone();
        let texts = Arc::new(
            ArrayBuilder::finish(&mut self.texts)
                .as_string::<i32>()
                .clone(),
        );
        // Every key was handed out for a text appended to `texts`.
        Arc::new(DictionaryArray::new(keys, texts))
    }
}

/// The schema of the file (and the Arrow schema stored with it) whose batches have
/// `batch`.
fn file_schema(batch: &Schema) -> Schema {
    Schema::new(
        batch
            .fields()
            .iter()
            .map(|f| Field::new(f.name(), file_type(f.data_type()), f.is_nullable()))
            .collect::<Vec<_>>(),
    )
}

/// The type a column has in the file (and in the Arrow schema stored with it): a
/// dictionary built in memory is a `STRING` there.
fn file_type(dt: &DataType) -> DataType {
    match dt {
        DataType::Dictionary(_, value) => (**value).clone(),
        other => other.clone(),
    }
}

/// The multiply-and-rotate hash of rustc (`FxHasher`): the keys of a [`DictColumn`] are
/// small numbers, and SipHash, the standard one, cost more than the lookup it serves.
#[derive(Default)]
struct FxHasher(u64);

impl FxHasher {
    fn add(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
}

impl Hasher for FxHasher {
    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8) {
            let mut word = [0; 8];
            word[..chunk.len()].copy_from_slice(chunk);
            self.add(u64::from_le_bytes(word));
        }
    }
    fn write_u8(&mut self, n: u8) {
        self.add(u64::from(n));
    }
    fn write_u16(&mut self, n: u16) {
        self.add(u64::from(n));
    }
    fn write_u32(&mut self, n: u32) {
        self.add(u64::from(n));
    }
    fn write_u64(&mut self, n: u64) {
        self.add(n);
    }
    fn write_u128(&mut self, n: u128) {
        self.add(n as u64);
        self.add((n >> 64) as u64);
    }
    fn write_usize(&mut self, n: usize) {
        self.add(n as u64);
    }
    fn finish(&self) -> u64 {
        self.0
    }
}

/// A MAC address as the key of a [`DictColumn`].
fn mac_key(m: crate::proto::MacAddr) -> u64 {
    let [a, b, c, d, e, f] = m.0;
    u64::from_be_bytes([0, 0, a, b, c, d, e, f])
}

/// A stage as the key of a [`DictColumn`]: one number per distinct text.
fn stage_key(s: Stage) -> u32 {
    match s {
        Stage::Handshake(k) => u32::from(k),
        Stage::Teardown(first, last) => 0x1_0000 | u32::from(first) << 8 | u32::from(last),
        Stage::Data => 0x2_0000,
        Stage::Ack => 0x2_0001,
        Stage::Reset => 0x2_0002,
        Stage::KeepAlive => 0x2_0003,
        Stage::Retransmission => 0x2_0004,
        Stage::OutOfOrder => 0x2_0005,
        Stage::ZeroWindow => 0x2_0006,
        Stage::MidStream => 0x2_0007,
    }
}

/// A group of columns: one builder per column, named once here so that the schema and
/// the arrays always come out in the same order.
macro_rules! columns {
    ($(#[$m:meta])* struct $name:ident { $($field:ident: $ty:ty = $col:literal,)* }) => {
        $(#[$m])*
        struct $name {
            $($field: $ty,)*
            /// Rows without this layer not yet appended: appended as one run of nulls
            /// per column when the layer next appears, or at the end of the batch.
            pending: usize,
        }

        impl $name {
            fn new() -> Self {
                $name { $($field: <$ty as Column>::make(),)* pending: 0 }
            }

            fn fields(out: &mut Vec<Field>) {
                $(out.push(Field::new($col, <$ty as Column>::data_type(), true));)*
            }

            /// The batch's arrays; the builders start again with room for a batch.
            fn finish(&mut self, out: &mut Vec<ArrayRef>) {
                self.catch_up();
                $(out.push(Column::finish(&mut self.$field));)*
                *self = Self::new();
            }

            /// A row in which the layer is absent: null in every column.
            #[allow(dead_code)]
            fn nulls(&mut self) {
                self.pending += 1;
            }

            /// Appends the pending null rows; called before a row with the layer.
            #[allow(dead_code)]
            fn catch_up(&mut self) {
                if self.pending > 0 {
                    $(Column::nulls(&mut self.$field, self.pending);)*
                    self.pending = 0;
                }
            }
        }
    };
}

columns! {
    /// What every frame has.
    struct FrameCols {
        capture: DictColumn<()> = "capture",
        n: UInt64Builder = "n",
        ts: TimestampMicrosecondBuilder = "ts",
        caplen: UInt32Builder = "caplen",
        len: UInt32Builder = "len",
        link_type: UInt32Builder = "link_type",
    }
}

columns! {
    /// `sll` (a Linux cooked header) and `null` (a BSD loopback header).
    struct LinkCols {
        version: UInt8Builder = "sll_version",
        packet_type: UInt16Builder = "sll_packet_type",
        arphrd: UInt16Builder = "sll_arphrd",
        addr: StringBuilder = "sll_addr",
        protocol: UInt16Builder = "sll_protocol",
        ifindex: UInt32Builder = "sll_ifindex",
        family: UInt32Builder = "null_family",
    }
}

columns! {
    /// `eth` and `vlan`.
    struct EthCols {
        src: DictColumn<u64> = "eth_src",
        dst: DictColumn<u64> = "eth_dst",
        ethertype: UInt16Builder = "eth_type",
        vlan: StringBuilder = "vlan",
    }
}

columns! {
    /// `arp`, with the request a reply answers.
    struct ArpCols {
        htype: UInt16Builder = "arp_htype",
        ptype: UInt16Builder = "arp_ptype",
        hlen: UInt8Builder = "arp_hlen",
        plen: UInt8Builder = "arp_plen",
        op: UInt16Builder = "arp_op",
        sha: DictColumn<u64> = "arp_sha",
        spa: DictColumn<u32> = "arp_spa",
        tha: DictColumn<u64> = "arp_tha",
        tpa: DictColumn<u32> = "arp_tpa",
        kind: DictColumn<&'static str> = "arp_kind",
        answers: UInt64Builder = "arp_answers",
        latency_ms: Float64Builder = "arp_latency_ms",
    }
}

columns! {
    /// `ipv4`, with the reassembly it completes.
    struct Ipv4Cols {
        version: UInt8Builder = "ipv4_version",
        ihl: UInt8Builder = "ipv4_ihl",
        dscp: UInt8Builder = "ipv4_dscp",
        ecn: UInt8Builder = "ipv4_ecn",
        total_len: UInt16Builder = "ipv4_total_len",
        id: UInt16Builder = "ipv4_id",
        df: BooleanBuilder = "ipv4_df",
        mf: BooleanBuilder = "ipv4_mf",
        frag_offset: UInt16Builder = "ipv4_frag_offset",
        ttl: UInt8Builder = "ipv4_ttl",
        proto: UInt8Builder = "ipv4_proto",
        checksum: UInt16Builder = "ipv4_checksum",
        checksum_ok: BooleanBuilder = "ipv4_checksum_ok",
        src: DictColumn<u32> = "ipv4_src",
        dst: DictColumn<u32> = "ipv4_dst",
        options: StringBuilder = "ipv4_options",
        fragments: ListBuilder<UInt64Builder> = "ipv4_reassembled_fragments",
        length: UInt64Builder = "ipv4_reassembled_length",
    }
}

columns! {
    /// `ipv6`, with its fragment header and the reassembly it completes.
    struct Ipv6Cols {
        version: UInt8Builder = "ipv6_version",
        traffic_class: UInt8Builder = "ipv6_traffic_class",
        flow_label: UInt32Builder = "ipv6_flow_label",
        payload_len: UInt16Builder = "ipv6_payload_len",
        next_header: UInt8Builder = "ipv6_next_header",
        hop_limit: UInt8Builder = "ipv6_hop_limit",
        src: DictColumn<u128> = "ipv6_src",
        dst: DictColumn<u128> = "ipv6_dst",
        ext: StringBuilder = "ipv6_ext",
        frag_offset: UInt16Builder = "ipv6_fragment_offset",
        frag_more: BooleanBuilder = "ipv6_fragment_more",
        frag_id: UInt32Builder = "ipv6_fragment_id",
        fragments: ListBuilder<UInt64Builder> = "ipv6_reassembled_fragments",
        length: UInt64Builder = "ipv6_reassembled_length",
    }
}

columns! {
    /// `tcp`, with the conversation it belongs to.
    struct TcpCols {
        src_port: UInt16Builder = "tcp_src_port",
        dst_port: UInt16Builder = "tcp_dst_port",
        seq: UInt32Builder = "tcp_seq",
        ack: UInt32Builder = "tcp_ack",
        flags: ListBuilder<StringBuilder> = "tcp_flags",
        window: UInt16Builder = "tcp_window",
        header_len: UInt8Builder = "tcp_header_len",
        payload_len: UInt32Builder = "tcp_payload_len",
        checksum: UInt16Builder = "tcp_checksum",
        checksum_ok: BooleanBuilder = "tcp_checksum_ok",
        urgent: UInt16Builder = "tcp_urgent",
        options: StringBuilder = "tcp_options",
        stage: DictColumn<u32> = "tcp_stage",
        stream: UInt64Builder = "tcp_stream",
        rel_seq: UInt32Builder = "tcp_rel_seq",
        rel_ack: UInt32Builder = "tcp_rel_ack",
    }
}

columns! {
    /// `udp`.
    struct UdpCols {
        src_port: UInt16Builder = "udp_src_port",
        dst_port: UInt16Builder = "udp_dst_port",
        length: UInt16Builder = "udp_length",
        checksum: UInt16Builder = "udp_checksum",
        checksum_ok: BooleanBuilder = "udp_checksum_ok",
    }
}

columns! {
    /// `icmp`, with the request a reply answers.
    struct IcmpCols {
        icmp_type: UInt8Builder = "icmp_type",
        code: UInt8Builder = "icmp_code",
        checksum: UInt16Builder = "icmp_checksum",
        checksum_ok: BooleanBuilder = "icmp_checksum_ok",
        id: UInt16Builder = "icmp_id",
        seq: UInt16Builder = "icmp_seq",
        quoted: StringBuilder = "icmp_quoted",
        answers: UInt64Builder = "icmp_answers",
        latency_ms: Float64Builder = "icmp_latency_ms",
    }
}

columns! {
    /// `icmpv6`, with the request a reply answers.
    struct Icmpv6Cols {
        icmp_type: UInt8Builder = "icmpv6_type",
        code: UInt8Builder = "icmpv6_code",
        checksum: UInt16Builder = "icmpv6_checksum",
        checksum_ok: BooleanBuilder = "icmpv6_checksum_ok",
        id: UInt16Builder = "icmpv6_id",
        seq: UInt16Builder = "icmpv6_seq",
        mtu: UInt32Builder = "icmpv6_mtu",
        pointer: UInt32Builder = "icmpv6_pointer",
        ndp: StringBuilder = "icmpv6_ndp",
        mld: StringBuilder = "icmpv6_mld",
        quoted: StringBuilder = "icmpv6_quoted",
        answers: UInt64Builder = "icmpv6_answers",
        latency_ms: Float64Builder = "icmpv6_latency_ms",
    }
}

columns! {
    /// `other` (a protocol named but not decoded) and the notes.
    struct TailCols {
        by: DictColumn<&'static str> = "other_by",
        number: UInt16Builder = "other_number",
        name: DictColumn<&'static str> = "other_name",
        bytes: UInt64Builder = "other_bytes",
        notes: ListBuilder<StringBuilder> = "notes",
    }
}

columns! {
    /// One conversation, with the keys of `flows --format json`.
    struct FlowCols {
        capture: StringBuilder = "capture",
        proto: StringBuilder = "proto",
        stream: UInt64Builder = "stream",
        client: StringBuilder = "client",
        server: StringBuilder = "server",
        service: StringBuilder = "service",
        packets: UInt64Builder = "packets",
        bytes: UInt64Builder = "bytes",
        client_packets: UInt64Builder = "client_packets",
        server_packets: UInt64Builder = "server_packets",
        client_bytes: UInt64Builder = "client_bytes",
        server_bytes: UInt64Builder = "server_bytes",
        client_payload: UInt64Builder = "client_payload",
        server_payload: UInt64Builder = "server_payload",
        start: TimestampMicrosecondBuilder = "start",
        duration: Float64Builder = "duration",
        handshake: StringBuilder = "handshake",
        closed_by: StringBuilder = "closed_by",
        state: StringBuilder = "state",
        conn_state: StringBuilder = "conn_state",
        history: StringBuilder = "history",
    }
}

/// Every column of the packets table.
struct PacketCols {
    frame: FrameCols,
    link: LinkCols,
    eth: EthCols,
    arp: ArpCols,
    ipv4: Ipv4Cols,
    ipv6: Ipv6Cols,
    tcp: TcpCols,
    udp: UdpCols,
    icmp: IcmpCols,
    icmpv6: Icmpv6Cols,
    tail: TailCols,
}

/// The schema of the packets table (README, "Parquet schema").
pub fn packets_schema() -> SchemaRef {
    Arc::new(file_schema(&packets_batch_schema()))
}

/// The schema of the batches of the packets table: [`packets_schema`], with the text
/// columns built as dictionaries ([`DictColumn`]) typed as such.
fn packets_batch_schema() -> SchemaRef {
    let mut f = Vec::new();
    FrameCols::fields(&mut f);
    LinkCols::fields(&mut f);
    EthCols::fields(&mut f);
    ArpCols::fields(&mut f);
    Ipv4Cols::fields(&mut f);
    Ipv6Cols::fields(&mut f);
    TcpCols::fields(&mut f);
    UdpCols::fields(&mut f);
    IcmpCols::fields(&mut f);
    Icmpv6Cols::fields(&mut f);
    TailCols::fields(&mut f);
    Arc::new(Schema::new(f))
}

/// The schema of the flows table (README, "Parquet schema").
pub fn flows_schema() -> SchemaRef {
    let mut f = Vec::new();
    FlowCols::fields(&mut f);
    Arc::new(Schema::new(f))
}

/// Microseconds since 1970, truncated as the JSON's six decimals are.
fn micros(ts: Timestamp) -> i64 {
    ts.secs
        .saturating_mul(1_000_000)
        .saturating_add(i64::from(ts.nanos / 1000))
}

/// Writes `m` as the JSON does (`02:77:00:00:00:01`).
fn write_mac(t: &mut String, m: crate::proto::MacAddr) {
    for (i, b) in m.0.into_iter().enumerate() {
        if i > 0 {
            t.push(':');
        }
        t.push(char::from_digit(u32::from(b >> 4), 16).unwrap_or('0'));
        t.push(char::from_digit(u32::from(b & 0x0f), 16).unwrap_or('0'));
    }
}

/// Writes `v` formatted by `Display` (IP addresses, stages), as the JSON does.
fn write_display(t: &mut String, v: impl std::fmt::Display) {
    use std::fmt::Write as _;
    // Writing to a String cannot fail.
    let _ = write!(t, "{v}");
}

/// Appends `v` as JSON text.
fn put_json<T: Serialize + ?Sized>(col: &mut StringBuilder, scratch: &mut Vec<u8>, v: &T) {
    scratch.clear();
    match serde_json::to_writer(&mut *scratch, v) {
        // serde_json writes UTF-8.
        Ok(()) => col.append_value(std::str::from_utf8(scratch).unwrap_or_default()),
        Err(_) => col.append_null(),
    }
}

/// Appends `options` as the JSON text serde writes for them (`[]` when there are none),
/// built by hand: through serde it took a tenth of the export's instructions, for a
/// column every TCP segment fills. `tests::tcp_options_text_is_the_json` pins the two.
fn put_tcp_options(col: &mut StringBuilder, t: &mut String, options: &TcpOptions) {
    t.clear();
    t.push('[');
    let mut digits = itoa::Buffer::new();
    for (i, o) in options.iter().enumerate() {
        if i > 0 {
            t.push(',');
        }
        t.push_str(r#"{"kind":""#);
        match o {
            TcpOption::Eol => t.push_str(r#"eol"}"#),
            TcpOption::Nop => t.push_str(r#"nop"}"#),
            TcpOption::SackPermitted => t.push_str(r#"sack_permitted"}"#),
            TcpOption::Mss { value } => {
                t.push_str(r#"mss","value":"#);
                t.push_str(digits.format(value));
                t.push('}');
            }
            TcpOption::WindowScale { shift } => {
                t.push_str(r#"window_scale","shift":"#);
                t.push_str(digits.format(shift));
                t.push('}');
            }
            TcpOption::Sack { blocks } => {
                t.push_str(r#"sack","blocks":["#);
                for (k, (left, right)) in blocks.into_iter().enumerate() {
                    if k > 0 {
                        t.push(',');
                    }
                    t.push('[');
                    t.push_str(digits.format(left));
                    t.push(',');
                    t.push_str(digits.format(right));
                    t.push(']');
                }
                t.push_str("]}");
            }
            TcpOption::Timestamps { tsval, tsecr } => {
                t.push_str(r#"timestamps","tsval":"#);
                t.push_str(digits.format(tsval));
                t.push_str(r#","tsecr":"#);
                t.push_str(digits.format(tsecr));
                t.push('}');
            }
            TcpOption::Unknown { number, len } => {
                t.push_str(r#"unknown","number":"#);
                t.push_str(digits.format(number));
                t.push_str(r#","len":"#);
                t.push_str(digits.format(len));
                t.push('}');
            }
        }
    }
    t.push(']');
    col.append_value(&*t);
}

/// Appends `v` formatted by `Display` (IPv6 addresses).
fn put_display(col: &mut StringBuilder, scratch: &mut Vec<u8>, v: impl std::fmt::Display) {
    use std::io::Write as _;
    scratch.clear();
    match write!(scratch, "{v}") {
        Ok(()) => col.append_value(std::str::from_utf8(scratch).unwrap_or_default()),
        Err(_) => col.append_null(),
    }
}

/// The word `arp.kind` has in the JSON.
fn arp_kind(k: ArpKind) -> &'static str {
    match k {
        ArpKind::Request => "request",
        ArpKind::Reply => "reply",
        ArpKind::Gratuitous => "gratuitous",
        ArpKind::Probe => "probe",
        ArpKind::Other => "other",
    }
}

impl PacketCols {
    fn new() -> PacketCols {
        PacketCols {
            frame: FrameCols::new(),
            link: LinkCols::new(),
            eth: EthCols::new(),
            arp: ArpCols::new(),
            ipv4: Ipv4Cols::new(),
            ipv6: Ipv6Cols::new(),
            tcp: TcpCols::new(),
            udp: UdpCols::new(),
            icmp: IcmpCols::new(),
            icmpv6: Icmpv6Cols::new(),
            tail: TailCols::new(),
        }
    }

    fn finish(&mut self) -> Vec<ArrayRef> {
        let mut a = Vec::new();
        self.frame.finish(&mut a);
        self.link.finish(&mut a);
        self.eth.finish(&mut a);
        self.arp.finish(&mut a);
        self.ipv4.finish(&mut a);
        self.ipv6.finish(&mut a);
        self.tcp.finish(&mut a);
        self.udp.finish(&mut a);
        self.icmp.finish(&mut a);
        self.icmpv6.finish(&mut a);
        self.tail.finish(&mut a);
        a
    }

    /// Appends one row: `d` as the JSON shows it, with `capture` naming its file.
    fn push(&mut self, capture: &str, d: &Dissection, s: &mut Vec<u8>, t: &mut String) {
        let f = &mut self.frame;
        f.capture.push((), |t| t.push_str(capture));
        f.n.append_value(d.n);
        f.ts.append_value(micros(d.ts));
        f.caplen.append_value(d.caplen);
        f.len.append_value(d.len);
        f.link_type.append_value(d.link_type);

        let c = &mut self.link;
        if d.sll.is_none() && d.null.is_none() {
            c.nulls();
        } else {
            c.catch_up();
            match &d.sll {
                Some(l) => {
                    c.version.append_value(l.version);
                    c.packet_type.append_value(l.packet_type);
                    c.arphrd.append_value(l.arphrd);
                    put_display(&mut c.addr, s, crate::proto::sll::AddrText(&l.addr));
                    c.protocol.append_value(l.protocol);
                    c.ifindex.append_option(l.ifindex);
                }
                None => {
                    c.version.append_null();
                    c.packet_type.append_null();
                    c.arphrd.append_null();
                    c.addr.append_null();
                    c.protocol.append_null();
                    c.ifindex.append_null();
                }
            }
            c.family.append_option(d.null.as_ref().map(|n| n.family));
        }

        let c = &mut self.eth;
        match &d.eth {
            Some(e) => {
                c.src.push(mac_key(e.src), |t| write_mac(t, e.src));
                c.dst.push(mac_key(e.dst), |t| write_mac(t, e.dst));
                c.ethertype.append_value(e.ethertype);
            }
            None => {
                c.src.append_null();
                c.dst.append_null();
                c.ethertype.append_null();
            }
        }
        if d.vlan.is_empty() {
            c.vlan.append_null();
        } else {
            put_json(&mut c.vlan, s, &d.vlan);
        }

        let answer = d.ctx.answer;
        let c = &mut self.arp;
        match &d.arp {
            Some(a) => {
                c.catch_up();
                c.htype.append_value(a.htype);
                c.ptype.append_value(a.ptype);
                c.hlen.append_value(a.hlen);
                c.plen.append_value(a.plen);
                c.op.append_value(a.op);
                for (col, mac) in [(&mut c.sha, a.sha), (&mut c.tha, a.tha)] {
                    col.push_option(mac.map(mac_key), |_, t| {
                        if let Some(m) = mac {
                            write_mac(t, m);
                        }
                    });
                }
                for (col, ip) in [(&mut c.spa, a.spa), (&mut c.tpa, a.tpa)] {
                    col.push_option(ip.map(u32::from), |_, t| {
                        if let Some(ip) = ip {
                            write_display(t, ip);
                        }
                    });
                }
                let kind = arp_kind(a.kind);
                c.kind.push(kind, |t| t.push_str(kind));
                c.answers.append_option(answer.map(|a| a.answers));
                c.latency_ms.append_option(answer.map(|a| a.latency_ms));
            }
            None => c.nulls(),
        }

        let reassembled = d.ctx.reassembled.as_ref();
        let c = &mut self.ipv4;
        match &d.ipv4 {
            Some(ip) => {
                c.catch_up();
                c.version.append_value(ip.version);
                c.ihl.append_value(ip.ihl);
                c.dscp.append_value(ip.dscp);
                c.ecn.append_value(ip.ecn);
                c.total_len.append_value(ip.total_len);
                c.id.append_value(ip.id);
                c.df.append_value(ip.df);
                c.mf.append_value(ip.mf);
                c.frag_offset.append_value(ip.frag_offset);
                c.ttl.append_value(ip.ttl);
                c.proto.append_value(ip.proto);
                c.checksum.append_value(ip.checksum);
                c.checksum_ok.append_option(ip.checksum_ok);
                c.src.push(u32::from(ip.src), |t| write_display(t, ip.src));
                c.dst.push(u32::from(ip.dst), |t| write_display(t, ip.dst));
                if ip.options.is_empty() {
                    c.options.append_null();
                } else {
                    put_json(&mut c.options, s, &ip.options);
                }
                push_reassembled(&mut c.fragments, &mut c.length, reassembled);
            }
            None => c.nulls(),
        }

        let c = &mut self.ipv6;
        match &d.ipv6 {
            Some(ip) => {
                c.catch_up();
                c.version.append_value(ip.version);
                c.traffic_class.append_value(ip.traffic_class);
                c.flow_label.append_value(ip.flow_label);
                c.payload_len.append_value(ip.payload_len);
                c.next_header.append_value(ip.next_header);
                c.hop_limit.append_value(ip.hop_limit);
                c.src.push(u128::from(ip.src), |t| write_display(t, ip.src));
                c.dst.push(u128::from(ip.dst), |t| write_display(t, ip.dst));
                if ip.ext.is_empty() {
                    c.ext.append_null();
                } else {
                    put_json(&mut c.ext, s, &ip.ext);
                }
                c.frag_offset.append_option(ip.fragment.map(|f| f.offset));
                c.frag_more.append_option(ip.fragment.map(|f| f.more));
                c.frag_id.append_option(ip.fragment.map(|f| f.id));
                push_reassembled(&mut c.fragments, &mut c.length, reassembled);
            }
            None => c.nulls(),
        }

        let c = &mut self.tcp;
        match &d.tcp {
            Some(tcp) => {
                c.catch_up();
                c.src_port.append_value(tcp.src_port);
                c.dst_port.append_value(tcp.dst_port);
                c.seq.append_value(tcp.seq);
                c.ack.append_value(tcp.ack);
                for name in tcp.flags.names() {
                    c.flags.values().append_value(name);
                }
                c.flags.append(true);
                c.window.append_value(tcp.window);
                c.header_len.append_value(tcp.header_len);
                c.payload_len.append_value(tcp.payload_len);
                c.checksum.append_value(tcp.checksum);
                c.checksum_ok.append_option(tcp.checksum_ok);
                c.urgent.append_value(tcp.urgent);
                put_tcp_options(&mut c.options, t, &tcp.options);
                match &d.ctx.tcp {
                    Some(conv) => {
                        let stage = conv.stage;
                        c.stage.push(stage_key(stage), |t| write_display(t, stage));
                        c.stream.append_value(conv.stream);
                        c.rel_seq.append_value(conv.rel_seq);
                        c.rel_ack.append_option(conv.rel_ack);
                    }
                    None => {
                        c.stage.append_null();
                        c.stream.append_null();
                        c.rel_seq.append_null();
                        c.rel_ack.append_null();
                    }
                }
            }
            None => c.nulls(),
        }

        let c = &mut self.udp;
        match &d.udp {
            Some(u) => {
                c.catch_up();
                c.src_port.append_value(u.src_port);
                c.dst_port.append_value(u.dst_port);
                c.length.append_value(u.length);
                c.checksum.append_value(u.checksum);
                c.checksum_ok.append_option(u.checksum_ok);
            }
            None => c.nulls(),
        }

        let c = &mut self.icmp;
        match &d.icmp {
            Some(i) => {
                c.catch_up();
                c.icmp_type.append_value(i.icmp_type);
                c.code.append_value(i.code);
                c.checksum.append_value(i.checksum);
                c.checksum_ok.append_option(i.checksum_ok);
                c.id.append_option(i.id);
                c.seq.append_option(i.seq);
                match &i.quoted {
                    Some(q) => put_json(&mut c.quoted, s, q),
                    None => c.quoted.append_null(),
                }
                c.answers.append_option(answer.map(|a| a.answers));
                c.latency_ms.append_option(answer.map(|a| a.latency_ms));
            }
            None => c.nulls(),
        }

        let c = &mut self.icmpv6;
        match &d.icmpv6 {
            Some(i) => {
                c.catch_up();
                c.icmp_type.append_value(i.icmp_type);
                c.code.append_value(i.code);
                c.checksum.append_value(i.checksum);
                c.checksum_ok.append_option(i.checksum_ok);
                c.id.append_option(i.id);
                c.seq.append_option(i.seq);
                c.mtu.append_option(i.mtu);
                c.pointer.append_option(i.pointer);
                match &i.ndp {
                    Some(n) => put_json(&mut c.ndp, s, n),
                    None => c.ndp.append_null(),
                }
                match &i.mld {
                    Some(m) => put_json(&mut c.mld, s, m),
                    None => c.mld.append_null(),
                }
                match &i.quoted {
                    Some(q) => put_json(&mut c.quoted, s, q),
                    None => c.quoted.append_null(),
                }
                c.answers.append_option(answer.map(|a| a.answers));
                c.latency_ms.append_option(answer.map(|a| a.latency_ms));
            }
            None => c.nulls(),
        }

        let c = &mut self.tail;
        match &d.other {
            Some(o) => {
                c.by.push(o.by, |t| t.push_str(o.by));
                c.number.append_value(o.number);
                c.name.push_option(o.name, |name, t| t.push_str(name));
                c.bytes.append_value(o.bytes as u64);
            }
            None => {
                c.by.append_null();
                c.number.append_null();
                c.name.append_null();
                c.bytes.append_null();
            }
        }
        for note in &d.notes {
            c.notes.values().append_value(note);
        }
        c.notes.append(true);
    }
}

/// The `reassembled` object of an IP layer, as two columns.
fn push_reassembled(
    fragments: &mut ListBuilder<UInt64Builder>,
    length: &mut UInt64Builder,
    r: Option<&crate::context::Reassembled>,
) {
    match r {
        Some(r) => {
            fragments.values().append_slice(&r.fragments);
            fragments.append(true);
            length.append_value(r.length as u64);
        }
        None => {
            fragments.append_null();
            length.append_null();
        }
    }
}

impl FlowCols {
    fn push(&mut self, capture: &str, f: &FlowSummary) {
        self.capture.append_value(capture);
        self.proto.append_value(f.proto);
        self.stream.append_value(f.stream);
        self.client.append_value(&f.client);
        self.server.append_value(&f.server);
        self.service.append_option(f.service);
        self.packets.append_value(f.packets);
        self.bytes.append_value(f.bytes);
        self.client_packets.append_value(f.client_packets);
        self.server_packets.append_value(f.server_packets);
        self.client_bytes.append_value(f.client_bytes);
        self.server_bytes.append_value(f.server_bytes);
        self.client_payload.append_value(f.client_payload);
        self.server_payload.append_value(f.server_payload);
        self.start.append_value(micros(f.start));
        self.duration.append_value(f.duration);
        self.handshake.append_option(f.handshake);
        self.closed_by.append_option(f.closed_by.map(|c| match c {
            ClosedBy::Fin => "fin",
            ClosedBy::Rst => "rst",
        }));
        self.state.append_option(f.state.map(|s| s.to_string()));
        self.conn_state.append_value(f.conn_state);
        self.history.append_value(&f.history);
    }
}

/// A Parquet file whose row groups are encoded and written on a thread of its own.
#[derive(Debug)]
struct FileWriter {
    /// The file, for messages.
    path: PathBuf,
    schema: SchemaRef,
    to_worker: Option<SyncSender<RecordBatch>>,
    worker: Option<JoinHandle<Result<(), ParquetError>>>,
}

impl FileWriter {
    /// Creates `path` for `table` (`packets` or `flows`), to be sent batches of `schema`.
    fn create(path: &Path, schema: SchemaRef, table: &str) -> Result<FileWriter, TableError> {
        let name = || path.display().to_string();
        let file = std::fs::File::create(path).map_err(|source| TableError::Create {
            path: name(),
            source,
        })?;
        let mut props = WriterProperties::builder()
            .set_compression(Compression::ZSTD(
                ZstdLevel::try_new(ZSTD_LEVEL).unwrap_or_default(),
            ))
            .set_max_row_group_row_count(Some(ROW_GROUP_ROWS))
            // Two pages per column chunk (unless one passes 1 MiB), not the default of a
            // page per 20,000 rows: fewer calls to zstd, and the real-traffic file 17%
            // smaller. One page per chunk made it 27% smaller, but the pages being
            // filled, held uncompressed, raised the peak RSS of `export` to 123 MiB.
            .set_data_page_row_count_limit(PAGE_ROWS)
            // Minimum and maximum per row group, which engines use to skip row groups;
            // per page they would cost time and say little more.
            .set_statistics_enabled(EnabledStatistics::Chunk);
        if table == "packets" {
            props = props.set_dictionary_enabled(false);
            for &col in DICTIONARY_COLUMNS {
                let path = ColumnPath::new(col.split('.').map(str::to_string).collect());
                props = props.set_column_dictionary_enabled(path, true);
            }
            for &col in NO_STATISTICS_COLUMNS {
                let path = ColumnPath::new(col.split('.').map(str::to_string).collect());
                props = props.set_column_statistics_enabled(path, EnabledStatistics::None);
            }
            for &col in DELTA_COLUMNS {
                props =
                    props.set_column_encoding(ColumnPath::from(col), Encoding::DELTA_BINARY_PACKED);
            }
        }
        let mut props = props
            .set_key_value_metadata(Some(vec![
                KeyValue::new(SCHEMA_VERSION_KEY.to_string(), SCHEMA_VERSION.to_string()),
                KeyValue::new(TABLE_KEY.to_string(), table.to_string()),
            ]))
            .build();
        // The Arrow schema stored for Arrow readers (pyarrow, polars, arrow-rs) is the
        // file's: text columns built as dictionaries read back as plain strings.
        add_encoded_arrow_schema_to_metadata(&file_schema(&schema), &mut props);
        let mut writer = ArrowWriter::try_new_with_options(
            BufWriter::with_capacity(1 << 20, file),
            schema.clone(),
            ArrowWriterOptions::new()
                .with_properties(props)
                .with_skip_arrow_metadata(true),
        )
        .map_err(|source| TableError::Write {
            path: name(),
            source,
        })?;
        // One batch waits while the thread encodes another.
        let (to_worker, batches) = sync_channel::<RecordBatch>(1);
        let worker = std::thread::spawn(move || {
            for batch in batches {
                writer.write(&batch)?;
            }
            // Flushes the buffer, so that a full disk is reported here.
            writer
                .into_inner()?
                .into_inner()
                .map(drop)
                .map_err(|e| ParquetError::External(Box::new(e.into_error())))
        });
        Ok(FileWriter {
            path: path.to_path_buf(),
            schema,
            to_worker: Some(to_worker),
            worker: Some(worker),
        })
    }

    /// Hands `columns` (one row group's worth or less) to the writing thread.
    fn send(&mut self, columns: Vec<ArrayRef>) -> Result<(), TableError> {
        let batch =
            RecordBatch::try_new(self.schema.clone(), columns).map_err(|e| TableError::Write {
                path: self.path.display().to_string(),
                source: ParquetError::from(e),
            })?;
        let sent = self.to_worker.as_ref().map(|tx| tx.send(batch));
        match sent {
            Some(Ok(())) => Ok(()),
            // The thread stopped: its error says why.
            _ => self.close(),
        }
    }

    /// Waits for the thread to write what it was sent and close the file.
    fn close(&mut self) -> Result<(), TableError> {
        self.to_worker = None;
        let result = match self.worker.take().map(JoinHandle::join) {
            Some(Ok(r)) => r,
            Some(Err(panic)) => std::panic::resume_unwind(panic),
            None => Err(ParquetError::General("the file was already closed".into())),
        };
        result.map_err(|source| TableError::Write {
            path: self.path.display().to_string(),
            source,
        })
    }
}

/// The packets table being written: one row per [`Dissection`].
pub struct PacketTable {
    capture: String,
    cols: PacketCols,
    rows: usize,
    written: u64,
    scratch: Vec<u8>,
    text: String,
    file: FileWriter,
}

impl std::fmt::Debug for PacketTable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "PacketTable({})", self.file.path.display())
    }
}

impl PacketTable {
    /// Rows handed to the file so far.
    pub fn written(&self) -> u64 {
        self.written + self.rows as u64
    }

    /// Creates the file `path`, whose rows will name `capture` in their `capture` column.
    pub fn create(path: &Path, capture: &str) -> Result<PacketTable, TableError> {
        Ok(PacketTable {
            capture: capture.to_string(),
            cols: PacketCols::new(),
            rows: 0,
            written: 0,
            scratch: Vec::with_capacity(256),
            text: String::with_capacity(64),
            file: FileWriter::create(path, packets_batch_schema(), "packets")?,
        })
    }

    /// Adds one packet.
    pub fn push(&mut self, d: &Dissection) -> Result<(), TableError> {
        self.cols
            .push(&self.capture, d, &mut self.scratch, &mut self.text);
        self.rows += 1;
        if self.rows >= BATCH_ROWS {
            self.flush()?;
        }
        Ok(())
    }

    fn flush(&mut self) -> Result<(), TableError> {
        if self.rows > 0 {
            self.written += self.rows as u64;
            self.rows = 0;
            let columns = self.cols.finish();
            self.file.send(columns)?;
        }
        Ok(())
    }

    /// Writes the last rows and closes the file; returns how many rows it holds.
    pub fn finish(&mut self) -> Result<u64, TableError> {
        self.flush()?;
        self.file.close()?;
        Ok(self.written)
    }
}

/// The flows table being written: one row per conversation, as it is retired.
#[derive(Debug)]
pub struct FlowTable {
    capture: String,
    cols: FlowCols,
    rows: usize,
    written: u64,
    file: FileWriter,
    /// The first error writing, reported by [`FlowTable::finish`] (a retiring
    /// conversation has no way to report it).
    error: Option<TableError>,
}

impl std::fmt::Debug for FlowCols {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("FlowCols")
    }
}

impl FlowTable {
    /// Rows handed to the file so far.
    pub fn written(&self) -> u64 {
        self.written + self.rows as u64
    }

    /// Creates the file `path`, whose rows will name `capture` in their `capture` column.
    pub fn create(path: &Path, capture: &str) -> Result<FlowTable, TableError> {
        Ok(FlowTable {
            capture: capture.to_string(),
            cols: FlowCols::new(),
            rows: 0,
            written: 0,
            file: FileWriter::create(path, flows_schema(), "flows")?,
            error: None,
        })
    }

    fn flush(&mut self) -> Result<(), TableError> {
        if self.rows > 0 {
            self.written += self.rows as u64;
            self.rows = 0;
            let mut columns = Vec::new();
            self.cols.finish(&mut columns);
            self.file.send(columns)?;
        }
        Ok(())
    }

    /// Writes the last rows and closes the file; returns how many rows it holds.
    pub fn finish(&mut self) -> Result<u64, TableError> {
        if let Some(e) = self.error.take() {
            return Err(e);
        }
        self.flush()?;
        self.file.close()?;
        Ok(self.written)
    }
}

impl SummarySink for FlowTable {
    fn retire(&mut self, summary: FlowSummary) {
        if self.error.is_some() {
            return;
        }
        self.cols.push(&self.capture, &summary);
        self.rows += 1;
        if self.rows >= BATCH_ROWS
            && let Err(e) = self.flush()
        {
            self.error = Some(e);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow_array::cast::AsArray;

    /// The text [`put_tcp_options`] builds for `bytes`, read back from the column.
    fn options_text(bytes: &[u8]) -> String {
        let mut col = StringBuilder::new();
        put_tcp_options(&mut col, &mut String::new(), &TcpOptions::from_bytes(bytes));
        let array = ArrayBuilder::finish(&mut col);
        array.as_string::<i32>().value(0).to_string()
    }

    /// The texts of a dictionary column, row by row, as a reader sees them.
    fn texts(array: &ArrayRef) -> Vec<Option<String>> {
        let dict = array.as_dictionary::<UInt16Type>();
        let values = dict.values().as_string::<i32>();
        dict.keys()
            .iter()
            .map(|k| k.map(|k| values.value(usize::from(k)).to_string()))
            .collect()
    }

    /// Each batch of a [`DictColumn`] starts a dictionary of its own: keys from the
    /// previous batch never leak into the next, nulls stay null, and every row reads
    /// back as the text of its value.
    #[test]
    fn dictionary_column_restarts_each_batch() {
        let mut col = DictColumn::<u32>::make();
        let ip = |n: u32| std::net::Ipv4Addr::from(n);
        for n in [7, 9, 7] {
            col.push(n, |t| write_display(t, ip(n)));
        }
        col.nulls(2);
        col.push_option(Some(9), |n, t| write_display(t, ip(n)));
        let first = Column::finish(&mut col);
        let some = |s: &str| Some(s.to_string());
        assert_eq!(
            texts(&first),
            [
                some("0.0.0.7"),
                some("0.0.0.9"),
                some("0.0.0.7"),
                None,
                None,
                some("0.0.0.9")
            ]
        );
        for n in [9, 11] {
            col.push(n, |t| write_display(t, ip(n)));
        }
        col.append_null();
        let second = Column::finish(&mut col);
        assert_eq!(texts(&second), [some("0.0.0.9"), some("0.0.0.11"), None]);
        assert_eq!(second.as_dictionary::<UInt16Type>().values().len(), 2);
    }

    /// The file's schema has no dictionaries: text built as one is `STRING` there.
    #[test]
    fn file_schema_has_no_dictionaries() {
        let batch = packets_batch_schema();
        assert!(
            batch
                .fields()
                .iter()
                .any(|f| matches!(f.data_type(), DataType::Dictionary(..)))
        );
        for f in packets_schema().fields() {
            assert!(
                !matches!(f.data_type(), DataType::Dictionary(..)),
                "{} is a dictionary",
                f.name()
            );
        }
        assert_eq!(packets_schema().fields().len(), batch.fields().len());
    }

    /// Regression pin: the hand-built text of `tcp_options` is serde's, byte for byte,
    /// for every kind of option, for lists cut short, and for option bytes of every
    /// value at every place of a short header.
    #[test]
    fn tcp_options_text_is_the_json() {
        let fixtures: &[&[u8]] = &[
            &[],
            // MSS 1460, SACK permitted, timestamps, NOP, window scale 7 (a SYN).
            &[
                2, 4, 0x05, 0xb4, 4, 2, 8, 10, 0, 0, 0, 1, 0, 0, 0, 2, 1, 3, 3, 7,
            ],
            // NOP, NOP, SACK with two blocks.
            &[
                1, 1, 5, 18, 0, 0, 0, 1, 0, 0, 0, 2, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 9,
            ],
            // An unknown option (kind 30, 4 bytes), then end of list and padding.
            &[30, 4, 0xaa, 0xbb, 0, 0, 0, 0],
            // A length of 1 stops the walk; an option cut short by the header.
            &[1, 8, 1],
            &[8, 10, 0, 0],
        ];
        for bytes in fixtures {
            for end in 0..=bytes.len() {
                let options = TcpOptions::from_bytes(&bytes[..end]);
                let json = serde_json::to_string(&options).expect("serialises");
                assert_eq!(options_text(&bytes[..end]), json, "{:?}", &bytes[..end]);
            }
        }
        for a in 0..=255u8 {
            for b in [0, 1, 2, 3, 4, 10, 255] {
                let bytes = [a, b, 0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc, 0xde, 0xf0];
                let json =
                    serde_json::to_string(&TcpOptions::from_bytes(&bytes)).expect("serialises");
                assert_eq!(options_text(&bytes), json, "{bytes:?}");
            }
        }
    }
}
