//! Parquet output (`read --format parquet`, `flows --format parquet`, `export`):
//!
//! * the schema is pinned, and every file carries its version in its key-value metadata;
//! * with DuckDB's Python package, every column of every row of every bundled capture
//!   equals `--format json` of the same capture (same reassembly setting);
//! * with Spark (pyspark, local mode), conversations per `conn_state` over the export of
//!   all bundled captures equal those of `flows --format json`;
//! * `export` of a directory holding a corrupt capture exports the others, keeps the
//!   corrupt one's good packets, names it, and exits non-zero.
//!
//! The DuckDB and Spark tests skip with a printed reason when python3, its packages or
//! Java are missing, except under CI=true, where they must run (`.ci/run` installs them).

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use arrow_schema::{DataType, TimeUnit};
use parquet::file::reader::{FileReader, SerializedFileReader};
use wirelens::render::parquet::{SCHEMA_VERSION, SCHEMA_VERSION_KEY, flows_schema, packets_schema};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn wirelens(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_wirelens"))
        .args(args)
        .current_dir(root())
        .output()
        .expect("runs wirelens")
}

/// A fresh, empty directory for one test.
fn tmp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("wirelens-parquet-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).expect("creates a temporary directory");
    d
}

/// Every bundled capture, as a path relative to the repository (as the tests pass it).
fn captures() -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(root().join("captures"))
        .expect("lists captures/")
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".pcap") || n.ends_with(".pcapng"))
        .map(|n| format!("captures/{n}"))
        .collect();
    v.sort();
    v
}

fn file_name(capture: &str) -> &str {
    capture.rsplit('/').next().unwrap_or(capture)
}

/// Ok when `python3` can import every one of `modules`.
fn python_modules(modules: &[&str]) -> Result<(), String> {
    let code = modules
        .iter()
        .map(|m| format!("import {m}"))
        .collect::<Vec<_>>()
        .join("; ");
    match Command::new("python3").args(["-c", &code]).output() {
        Ok(o) if o.status.success() => Ok(()),
        Ok(_) => Err(format!(
            "python3 cannot import {} (pip install {})",
            modules.join(", "),
            modules.join(" ")
        )),
        Err(e) => Err(format!("python3 is not installed: {e}")),
    }
}

fn java() -> Result<(), String> {
    match Command::new("java").arg("-version").output() {
        Ok(o) if o.status.success() => Ok(()),
        _ => Err("java is not installed (apt-get install openjdk-17-jre-headless)".into()),
    }
}

fn rows(path: &Path) -> i64 {
    let file = std::fs::File::open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let reader = SerializedFileReader::new(file).expect("a Parquet file");
    reader.metadata().file_metadata().num_rows()
}

fn write(path: &Path, bytes: &[u8]) {
    std::fs::write(path, bytes).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// The column names and types, one `name type` line each, as the README lists them.
fn describe(schema: &arrow_schema::Schema) -> Vec<String> {
    schema
        .fields()
        .iter()
        .map(|f| {
            let t = match f.data_type() {
                DataType::UInt8 => "UINT8".to_string(),
                DataType::UInt16 => "UINT16".into(),
                DataType::UInt32 => "UINT32".into(),
                DataType::UInt64 => "UINT64".into(),
                DataType::Float64 => "DOUBLE".into(),
                DataType::Boolean => "BOOLEAN".into(),
                DataType::Utf8 => "STRING".into(),
                DataType::Timestamp(TimeUnit::Microsecond, Some(tz)) if &**tz == "UTC" => {
                    "TIMESTAMP_US_UTC".into()
                }
                DataType::List(item) => match item.data_type() {
                    DataType::Utf8 => "LIST<STRING>".into(),
                    DataType::UInt64 => "LIST<UINT64>".into(),
                    other => format!("LIST<{other}>"),
                },
                other => format!("{other}"),
            };
            format!("{} {t}", f.name())
        })
        .collect()
}

/// Regression pin: a column renamed, retyped, added or removed must change
/// SCHEMA_VERSION and the README together with this list.
#[test]
fn schema_is_pinned() {
    assert_eq!(SCHEMA_VERSION, "1");
    let packets = "capture STRING, n UINT64, ts TIMESTAMP_US_UTC, caplen UINT32, len UINT32, \
        link_type UINT32, sll_version UINT8, sll_packet_type UINT16, sll_arphrd UINT16, \
        sll_addr STRING, sll_protocol UINT16, sll_ifindex UINT32, null_family UINT32, \
        eth_src STRING, eth_dst STRING, eth_type UINT16, vlan STRING, \
        arp_htype UINT16, arp_ptype UINT16, arp_hlen UINT8, arp_plen UINT8, arp_op UINT16, \
        arp_sha STRING, arp_spa STRING, arp_tha STRING, arp_tpa STRING, arp_kind STRING, \
        arp_answers UINT64, arp_latency_ms DOUBLE, \
        ipv4_version UINT8, ipv4_ihl UINT8, ipv4_dscp UINT8, ipv4_ecn UINT8, \
        ipv4_total_len UINT16, ipv4_id UINT16, ipv4_df BOOLEAN, ipv4_mf BOOLEAN, \
        ipv4_frag_offset UINT16, ipv4_ttl UINT8, ipv4_proto UINT8, ipv4_checksum UINT16, \
        ipv4_checksum_ok BOOLEAN, ipv4_src STRING, ipv4_dst STRING, ipv4_options STRING, \
        ipv4_reassembled_fragments LIST<UINT64>, ipv4_reassembled_length UINT64, \
        ipv6_version UINT8, ipv6_traffic_class UINT8, ipv6_flow_label UINT32, \
        ipv6_payload_len UINT16, ipv6_next_header UINT8, ipv6_hop_limit UINT8, \
        ipv6_src STRING, ipv6_dst STRING, ipv6_ext STRING, ipv6_fragment_offset UINT16, \
        ipv6_fragment_more BOOLEAN, ipv6_fragment_id UINT32, \
        ipv6_reassembled_fragments LIST<UINT64>, ipv6_reassembled_length UINT64, \
        tcp_src_port UINT16, tcp_dst_port UINT16, tcp_seq UINT32, tcp_ack UINT32, \
        tcp_flags LIST<STRING>, tcp_window UINT16, tcp_header_len UINT8, \
        tcp_payload_len UINT32, tcp_checksum UINT16, tcp_checksum_ok BOOLEAN, \
        tcp_urgent UINT16, tcp_options STRING, tcp_stage STRING, tcp_stream UINT64, \
        tcp_rel_seq UINT32, tcp_rel_ack UINT32, \
        udp_src_port UINT16, udp_dst_port UINT16, udp_length UINT16, udp_checksum UINT16, \
        udp_checksum_ok BOOLEAN, \
        icmp_type UINT8, icmp_code UINT8, icmp_checksum UINT16, icmp_checksum_ok BOOLEAN, \
        icmp_id UINT16, icmp_seq UINT16, icmp_quoted STRING, icmp_answers UINT64, \
        icmp_latency_ms DOUBLE, \
        icmpv6_type UINT8, icmpv6_code UINT8, icmpv6_checksum UINT16, \
        icmpv6_checksum_ok BOOLEAN, icmpv6_id UINT16, icmpv6_seq UINT16, icmpv6_mtu UINT32, \
        icmpv6_pointer UINT32, icmpv6_ndp STRING, icmpv6_mld STRING, icmpv6_quoted STRING, \
        icmpv6_answers UINT64, icmpv6_latency_ms DOUBLE, \
        other_by STRING, other_number UINT16, other_name STRING, other_bytes UINT64, \
        notes LIST<STRING>";
    let flows = "capture STRING, proto STRING, stream UINT64, client STRING, server STRING, \
        service STRING, packets UINT64, bytes UINT64, client_packets UINT64, \
        server_packets UINT64, client_bytes UINT64, server_bytes UINT64, \
        client_payload UINT64, server_payload UINT64, start TIMESTAMP_US_UTC, \
        duration DOUBLE, handshake STRING, closed_by STRING, state STRING, \
        conn_state STRING, history STRING";
    assert_eq!(describe(&packets_schema()).join(", "), packets);
    assert_eq!(describe(&flows_schema()).join(", "), flows);
}

/// `read --format parquet` and `flows --format parquet` write the pinned schemas, the
/// version in the metadata, and one row per JSON line.
#[test]
fn files_carry_schema_and_version() {
    let dir = tmp("version");
    for (cmd, schema) in [("read", packets_schema()), ("flows", flows_schema())] {
        let out = dir.join(format!("{cmd}.parquet"));
        let o = wirelens(&[
            cmd,
            "captures/tcp-echo.pcap",
            "--format",
            "parquet",
            "-w",
            out.to_str().expect("UTF-8 path"),
        ]);
        assert!(o.status.success(), "{cmd}: {}", text(&o.stderr));
        let json = wirelens(&[cmd, "captures/tcp-echo.pcap", "--format", "json"]);
        let lines = text(&json.stdout).lines().count() as i64;
        assert_eq!(rows(&out), lines, "{cmd}: rows against JSON lines");

        let file = std::fs::File::open(&out).expect("opens the file");
        let reader = SerializedFileReader::new(file).expect("a Parquet file");
        let kv = reader
            .metadata()
            .file_metadata()
            .key_value_metadata()
            .cloned()
            .unwrap_or_default();
        let version = kv.iter().find(|k| k.key == SCHEMA_VERSION_KEY);
        assert_eq!(
            version.and_then(|k| k.value.as_deref()),
            Some(SCHEMA_VERSION),
            "{cmd}: {kv:?}"
        );
        let file = std::fs::File::open(&out).expect("opens the file");
        let builder = parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(file)
            .expect("reads the Arrow schema");
        assert_eq!(
            describe(builder.schema()),
            describe(&schema),
            "{cmd}: schema read back"
        );
    }
    let o = wirelens(&["read", "captures/tcp-echo.pcap", "--format", "parquet"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        text(&o.stderr).contains("-w FILE.parquet"),
        "{}",
        text(&o.stderr)
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// Every column of every row, for every bundled capture, against `--format json`:
/// `read --format parquet` against `read --format json` (no reassembly, both), `export`
/// against `read --format json --reassemble`, and both flows files against `flows
/// --format json`.
#[test]
fn every_column_of_every_row_equals_the_json() {
    if !common::may("the DuckDB check", python_modules(&["duckdb"])) {
        return;
    }
    let dir = tmp("duckdb");
    let lake = dir.join("lake");
    let all = captures();
    let mut args = vec!["export".to_string()];
    args.extend(all.iter().cloned());
    args.extend([
        "--out".into(),
        lake.display().to_string(),
        "-j".into(),
        "2".into(),
    ]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let export = wirelens(&args);
    let stderr = text(&export.stderr);
    // corrupt.pcap and truncated.pcap stop early: named, and the exit code says so.
    assert_eq!(export.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("captures/corrupt.pcap"), "{stderr}");

    let mut packets = vec!["packets".to_string()];
    let mut flows = vec!["flows".to_string()];
    for c in &all {
        let name = file_name(c);
        let json = dir.join(format!("{name}.jsonl"));
        let reassembled = dir.join(format!("{name}.reassembled.jsonl"));
        let flows_json = dir.join(format!("{name}.flows.jsonl"));
        let read_parquet = dir.join(format!("{name}.parquet"));
        let flows_parquet = dir.join(format!("{name}.flows.parquet"));
        // Captures damaged part-way print their good packets, then fail: both forms do.
        write(&json, &wirelens(&["read", c, "--format", "json"]).stdout);
        let r = &wirelens(&["read", c, "--format", "json", "--reassemble"]);
        write(&reassembled, &r.stdout);
        let p = wirelens(&[
            "read",
            c,
            "--format",
            "parquet",
            "-w",
            &read_parquet.display().to_string(),
        ]);
        assert_eq!(p.status.code(), r.status.code(), "{c}: {}", text(&p.stderr));
        packets.extend([
            read_parquet.display().to_string(),
            json.display().to_string(),
            c.clone(),
        ]);
        packets.extend([
            lake.join("packets")
                .join(format!("{name}.parquet"))
                .display()
                .to_string(),
            reassembled.display().to_string(),
            c.clone(),
        ]);
        let f = wirelens(&["flows", c, "--format", "json"]);
        if f.status.success() {
            write(&flows_json, &f.stdout);
            let o = wirelens(&[
                "flows",
                c,
                "--format",
                "parquet",
                "-w",
                &flows_parquet.display().to_string(),
            ]);
            assert!(o.status.success(), "{c}: {}", text(&o.stderr));
            flows.extend([
                flows_parquet.display().to_string(),
                flows_json.display().to_string(),
                c.clone(),
            ]);
            flows.extend([
                lake.join("flows")
                    .join(format!("{name}.parquet"))
                    .display()
                    .to_string(),
                flows_json.display().to_string(),
                c.clone(),
            ]);
        }
    }
    let script = root().join("tests/parquet/check_duckdb.py");
    for args in [packets, flows] {
        let o = Command::new("python3")
            .arg(&script)
            .args(&args)
            .output()
            .expect("runs python3");
        let out = text(&o.stdout);
        let _ = std::io::Write::write_all(&mut std::io::stderr(), out.as_bytes());
        assert!(o.status.success(), "{out}{}", text(&o.stderr));
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// Spark reads the export of all bundled captures (those that read to their end) as
/// one table: conversations per conn_state equal `flows --format json`'s.
#[test]
fn spark_counts_conn_states_as_flows_json_does() {
    let ready = python_modules(&["pyspark"]).and_then(|()| java());
    if !common::may("the Spark check", ready) {
        return;
    }
    let dir = tmp("spark");
    let lake = dir.join("lake");
    let mut jsonls = Vec::new();
    let mut inputs = Vec::new();
    for c in captures() {
        let f = wirelens(&["flows", &c, "--format", "json"]);
        if !f.status.success() {
            continue;
        }
        let path = dir.join(format!("{}.flows.jsonl", file_name(&c)));
        write(&path, &f.stdout);
        jsonls.push(path.display().to_string());
        inputs.push(c);
    }
    let mut args = vec!["export".to_string()];
    args.extend(inputs);
    args.extend(["--out".into(), lake.display().to_string()]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let o = wirelens(&args);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let o = Command::new("python3")
        .arg(root().join("tests/parquet/check_spark.py"))
        .arg(&lake)
        .args(&jsonls)
        .output()
        .expect("runs python3");
    let out = text(&o.stdout);
    let _ = std::io::Write::write_all(&mut std::io::stderr(), out.as_bytes());
    assert!(o.status.success(), "{out}{}", text(&o.stderr));
    let _ = std::fs::remove_dir_all(&dir);
}

/// One bad file never loses the others: `export` of a directory with a corrupt capture
/// and a file that is no capture at all exports the good ones whole and the corrupt
/// one's first packets, names both bad files, leaves no partial file, exits 2.
#[test]
fn export_skips_a_corrupt_capture_and_names_it() {
    let dir = tmp("corrupt");
    let input = dir.join("in");
    std::fs::create_dir_all(input.join("sub")).expect("creates in/sub");
    for (from, to) in [
        ("tcp-echo.pcap", "tcp-echo.pcap"),
        ("udp.pcap", "sub/udp.pcap"),
        ("corrupt.pcap", "bad.pcap"),
    ] {
        std::fs::copy(root().join("captures").join(from), input.join(to)).expect("copies");
    }
    write(&input.join("garbage.pcap"), b"this is not a capture file\n");
    write(&input.join("notes.txt"), b"not a capture name: skipped\n");
    let out = dir.join("out");
    let o = wirelens(&[
        "export",
        &input.display().to_string(),
        "--out",
        &out.display().to_string(),
        "-j",
        "2",
    ]);
    let stderr = text(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{stderr}");
    for bad in ["bad.pcap", "garbage.pcap"] {
        assert!(
            stderr
                .lines()
                .any(|l| l.contains(bad) && l.contains("FAILED")),
            "{bad} is not named: {stderr}"
        );
    }
    assert!(stderr.contains("2 of 4 captures"), "{stderr}");
    for (name, packets) in [("tcp-echo.pcap", 10), ("udp.pcap", 5), ("bad.pcap", 3)] {
        assert_eq!(
            rows(&out.join("packets").join(format!("{name}.parquet"))),
            packets,
            "{name}"
        );
        assert!(out.join("flows").join(format!("{name}.parquet")).exists());
    }
    assert!(!out.join("packets/garbage.pcap.parquet").exists());
    for sub in ["packets", "flows"] {
        for e in std::fs::read_dir(out.join(sub)).expect("lists the output") {
            let name = e.expect("an entry").file_name();
            assert!(
                !name.to_string_lossy().ends_with(".partial"),
                "{name:?} left behind"
            );
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}
