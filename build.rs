//! Build script for wirelens. It does two jobs:
//!
//! 1. It turns the human-editable tables in `data/` (`services.tsv`, `oui.tsv`) into
//!    static, sorted Rust arrays in `$OUT_DIR/lookup_tables.rs`, which `src/lookup.rs`
//!    includes and binary-searches. Every line is validated here, so a typo in a data
//!    file stops the build with the file name and line number instead of reaching users.
//! 2. On Linux it checks that libpcap's development files (the `pcap.h` header and a
//!    linkable `libpcap.so` or `libpcap.a`) are installed. Without this check a missing
//!    libpcap shows up as a long linker error at the very end of the build; with it the
//!    user gets one sentence saying what to install.
//!
//! Where the libpcap check looks, in this order:
//! * `$LIBPCAP_INCLUDE` (a directory holding `pcap.h`) and `$LIBPCAP_LIBDIR` (a directory
//!   holding the library; the `pcap` crate reads the same variable when it links);
//! * what `pkg-config libpcap` reports, if `pkg-config` (or `$PKG_CONFIG`) is installed;
//! * the usual system directories (`/usr/include`, `/usr/lib`, `/usr/lib/<arch>-linux-*`, …).
//!
//! `WIRELENS_PCAP_CHECK_ROOT=<dir>` is for testing the error message on a machine that has
//! libpcap: the system directories are then looked up under `<dir>` instead of `/`, and the
//! environment variables and pkg-config above are ignored. For example
//! `WIRELENS_PCAP_CHECK_ROOT=/nonexistent cargo build` must fail with the message.
//!
//! Errors are reported with `cargo::error=`, which Cargo supports since 1.84; the crate uses
//! edition 2024, which needs Cargo 1.85 or newer, so every Cargo that can build it has it.

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::env;
use std::fmt::Write as _;
use std::fs;
use std::hash::Hash;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The one sentence shown when libpcap's development files are missing.
const MISSING_LIBPCAP: &str = "wirelens needs libpcap to build: install it with \
`sudo apt-get install libpcap-dev` (Debian/Ubuntu) or `sudo dnf install libpcap-devel` (Fedora).";

/// Test hook: look for libpcap under this directory instead of `/` (see the top comment).
const CHECK_ROOT_VAR: &str = "WIRELENS_PCAP_CHECK_ROOT";

/// Data files, relative to the package root.
const SERVICES_FILE: &str = "data/services.tsv";
const OUI_FILE: &str = "data/oui.tsv";

/// Name of the generated file in `$OUT_DIR`.
const OUTPUT_FILE: &str = "lookup_tables.rs";

/// Transport codes used in the generated `SERVICES` table; `src/lookup.rs` uses the same.
const TCP_CODE: u8 = 0;
const UDP_CODE: u8 = 1;

/// Bit of the first byte of a MAC address that marks a group (multicast) address (IEEE 802).
const MAC_GROUP_BIT: u32 = 0x01;

fn main() {
    println!("cargo::rerun-if-changed=build.rs");
    println!("cargo::rerun-if-changed={SERVICES_FILE}");
    println!("cargo::rerun-if-changed={OUI_FILE}");
    for var in [
        CHECK_ROOT_VAR,
        "LIBPCAP_INCLUDE",
        "LIBPCAP_LIBDIR",
        "PKG_CONFIG",
        "PKG_CONFIG_PATH",
    ] {
        println!("cargo::rerun-if-env-changed={var}");
    }

    let mut errors = Vec::new();
    if !libpcap_is_installed() {
        errors.push(MISSING_LIBPCAP.to_string());
    }
    match generate_tables() {
        Ok(code) => {
            if let Err(message) = write_output(&code) {
                errors.push(message);
            }
        }
        Err(mut problems) => errors.append(&mut problems),
    }

    // `cargo::error` fails the build once the script ends and prints just these messages.
    // The script deliberately exits with success anyway: a non-zero exit would make Cargo
    // add a dump of the script's whole output around them, burying the one sentence that
    // tells the user what to do.
    for error in &errors {
        println!("cargo::error={error}");
    }
}

// ---------------------------------------------------------------------------------------------
// Lookup tables
// ---------------------------------------------------------------------------------------------

/// One row of `data/services.tsv`.
struct ServiceRow {
    port: u16,
    transport: u8,
    name: String,
    description: String,
    line: usize,
}

/// One row of `data/oui.tsv`.
struct OuiRow {
    prefix: u32,
    vendor: String,
    line: usize,
}

/// Reads, validates and sorts both data files and returns the Rust source of the tables,
/// or every problem found (each a full sentence naming the file and line).
fn generate_tables() -> Result<String, Vec<String>> {
    let services = read_data_file(SERVICES_FILE).and_then(|text| parse_services(&text));
    let oui = read_data_file(OUI_FILE).and_then(|text| parse_oui(&text));
    let (services, oui) = match (services, oui) {
        (Ok(services), Ok(oui)) => (services, oui),
        (services, oui) => {
            let mut problems = services.err().unwrap_or_default();
            problems.extend(oui.err().unwrap_or_default());
            return Err(problems);
        }
    };
    Ok(render_tables(&services, &oui))
}

/// Reads a data file given relative to the package root.
fn read_data_file(relative: &str) -> Result<String, Vec<String>> {
    let root = env::var_os("CARGO_MANIFEST_DIR").map_or_else(PathBuf::new, PathBuf::from);
    let text = fs::read_to_string(root.join(relative))
        .map_err(|e| vec![format!("{relative} could not be read: {e}.")])?;
    // An editor may have saved a byte-order mark; it is not part of the first line.
    Ok(text.strip_prefix('\u{feff}').unwrap_or(&text).to_string())
}

/// The lines of a data file that hold entries, with their 1-based line numbers:
/// comments (`#` in the first column) and blank lines are skipped, and a Windows line
/// ending is dropped.
fn entry_lines(text: &str) -> impl Iterator<Item = (usize, &str)> {
    text.lines()
        .enumerate()
        .map(|(index, line)| (index + 1, line.strip_suffix('\r').unwrap_or(line)))
        .filter(|(_, line)| !line.starts_with('#') && !line.trim().is_empty())
}

/// Splits an entry line into exactly `N` TAB-separated, non-empty fields named by `names`.
fn split_fields<'a, const N: usize>(
    file: &str,
    line_no: usize,
    line: &'a str,
    names: [&str; N],
) -> Result<[&'a str; N], String> {
    let fields: Vec<&str> = line.split('\t').collect();
    let found = fields.len();
    let Ok(fields) = <[&str; N]>::try_from(fields) else {
        let hint = if found == 1 && line.contains(' ') {
            " (the fields must be separated by TAB characters, not spaces)"
        } else {
            ""
        };
        return Err(format!(
            "{file} line {line_no}: expected {N} TAB-separated fields ({}) but found {found}{hint}.",
            names.join(", "),
        ));
    };
    for (field, name) in fields.iter().zip(names) {
        if field.trim().is_empty() {
            return Err(format!("{file} line {line_no}: the {name} field is empty."));
        }
        if field.trim() != *field {
            return Err(format!(
                "{file} line {line_no}: the {name} field `{field}` has spaces at its start or end."
            ));
        }
        if field.chars().any(char::is_control) {
            return Err(format!(
                "{file} line {line_no}: the {name} field contains a control character."
            ));
        }
    }
    Ok(fields)
}

/// One problem per entry whose key an earlier line of `file` already used. `entries` gives
/// each entry's key and line number in file order; `describe` names a key in the message.
fn duplicate_problems<K: Hash + Eq>(
    file: &str,
    entries: impl Iterator<Item = (K, usize)>,
    describe: impl Fn(&K) -> String,
) -> Vec<String> {
    let mut first_lines: HashMap<K, usize> = HashMap::new();
    let mut problems = Vec::new();
    for (key, line) in entries {
        match first_lines.entry(key) {
            Entry::Occupied(first) => problems.push(format!(
                "{file} line {line}: {} is already listed on line {}.",
                describe(first.key()),
                first.get()
            )),
            Entry::Vacant(slot) => {
                slot.insert(line);
            }
        }
    }
    problems
}

/// The name a transport code stands for in `data/services.tsv`.
fn transport_name(code: u8) -> &'static str {
    if code == TCP_CODE { "tcp" } else { "udp" }
}

/// Parses `data/services.tsv`: `port<TAB>proto<TAB>name<TAB>description`.
fn parse_services(text: &str) -> Result<Vec<ServiceRow>, Vec<String>> {
    const FILE: &str = SERVICES_FILE;
    let mut rows = Vec::new();
    let mut problems = Vec::new();
    for (line_no, line) in entry_lines(text) {
        match parse_service_line(line_no, line) {
            Ok(row) => rows.push(row),
            Err(problem) => problems.push(problem),
        }
    }

    problems.extend(duplicate_problems(
        FILE,
        rows.iter().map(|row| ((row.port, row.transport), row.line)),
        |&(port, transport)| format!("port {port}/{}", transport_name(transport)),
    ));
    rows.sort_by_key(|row| (row.port, row.transport));

    if problems.is_empty() {
        Ok(rows)
    } else {
        Err(problems)
    }
}

/// Parses and checks one entry line of `data/services.tsv`.
fn parse_service_line(line_no: usize, line: &str) -> Result<ServiceRow, String> {
    const FILE: &str = SERVICES_FILE;
    let [port, proto, name, description] = split_fields(
        FILE,
        line_no,
        line,
        ["port", "proto", "name", "description"],
    )?;

    let port = port
        .parse::<u16>()
        .ok()
        .filter(|_| port.bytes().all(|b| b.is_ascii_digit()))
        .ok_or_else(|| {
            format!("{FILE} line {line_no}: port `{port}` is not a whole number from 0 to 65535.")
        })?;
    let transport = match proto {
        "tcp" => TCP_CODE,
        "udp" => UDP_CODE,
        other => {
            return Err(format!(
                "{FILE} line {line_no}: protocol `{other}` must be `tcp` or `udp` (lower case)."
            ));
        }
    };
    // Service names in the IANA registry use letters, digits and hyphens only.
    if !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
        return Err(format!(
            "{FILE} line {line_no}: service name `{name}` may only contain letters, digits and `-`."
        ));
    }
    Ok(ServiceRow {
        port,
        transport,
        name: name.to_string(),
        description: description.to_string(),
        line: line_no,
    })
}

/// Parses `data/oui.tsv`: `aa:bb:cc<TAB>vendor`.
fn parse_oui(text: &str) -> Result<Vec<OuiRow>, Vec<String>> {
    const FILE: &str = OUI_FILE;
    let mut rows = Vec::new();
    let mut problems = Vec::new();
    for (line_no, line) in entry_lines(text) {
        match parse_oui_line(line_no, line) {
            Ok(row) => rows.push(row),
            Err(problem) => problems.push(problem),
        }
    }

    problems.extend(duplicate_problems(
        FILE,
        rows.iter().map(|row| (row.prefix, row.line)),
        |&prefix| format!("prefix {}", format_prefix(prefix)),
    ));
    rows.sort_by_key(|row| row.prefix);

    if problems.is_empty() {
        Ok(rows)
    } else {
        Err(problems)
    }
}

/// Parses and checks one entry line of `data/oui.tsv`.
fn parse_oui_line(line_no: usize, line: &str) -> Result<OuiRow, String> {
    const FILE: &str = OUI_FILE;
    let [prefix_text, vendor] = split_fields(FILE, line_no, line, ["prefix", "vendor"])?;

    let prefix = parse_prefix(prefix_text).ok_or_else(|| {
        format!(
            "{FILE} line {line_no}: prefix `{prefix_text}` must be three lower-case hex bytes \
             separated by colons, like `00:50:56`."
        )
    })?;
    // Group (multicast) addresses name a group of receivers, never a maker. Locally
    // administered prefixes are allowed: the file lists a few that software uses by
    // convention (QEMU's 52:54:00), and they are not vendor assignments, so nothing clashes.
    if (prefix >> 16) & MAC_GROUP_BIT != 0 {
        return Err(format!(
            "{FILE} line {line_no}: prefix {prefix_text} has the group (multicast) bit set, \
             so it cannot name a vendor."
        ));
    }
    Ok(OuiRow {
        prefix,
        vendor: vendor.to_string(),
        line: line_no,
    })
}

/// Parses `aa:bb:cc` (lower-case hex, exactly two digits per byte) into a 24-bit number.
fn parse_prefix(text: &str) -> Option<u32> {
    let mut value = 0u32;
    let mut bytes = 0;
    for part in text.split(':') {
        let well_formed = part.len() == 2
            && part
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
        if !well_formed {
            return None;
        }
        value = (value << 8) | u32::from_str_radix(part, 16).ok()?;
        bytes += 1;
    }
    (bytes == 3).then_some(value)
}

/// Formats a 24-bit prefix as `aa:bb:cc`.
fn format_prefix(prefix: u32) -> String {
    format!(
        "{:02x}:{:02x}:{:02x}",
        (prefix >> 16) & 0xff,
        (prefix >> 8) & 0xff,
        prefix & 0xff
    )
}

/// Writes the Rust source of both tables. Strings go through `{:?}`, which always yields a
/// valid Rust string literal (quotes, backslashes and unusual characters are escaped).
fn render_tables(services: &[ServiceRow], oui: &[OuiRow]) -> String {
    let mut out = String::new();
    // `write!` into a String cannot fail, so its results are ignored below.
    let _ = writeln!(
        out,
        "// @generated by build.rs from {SERVICES_FILE} and {OUI_FILE}. Do not edit.\n"
    );
    let _ = writeln!(
        out,
        "/// Well-known services: (port, transport, name, description), sorted by\n\
         /// (port, transport) with no repeated pair. Transport {TCP_CODE} is TCP, {UDP_CODE} is UDP.\n\
         static SERVICES: &[(u16, u8, &str, &str)] = &["
    );
    for row in services {
        let _ = writeln!(
            out,
            "    ({}, {}, {:?}, {:?}),",
            row.port, row.transport, row.name, row.description
        );
    }
    let _ = writeln!(out, "];\n");
    let _ = writeln!(
        out,
        "/// Ethernet OUIs: (first three bytes of the MAC as a 24-bit number, vendor),\n\
         /// sorted by prefix with no repeats.\n\
         static OUI: &[(u32, &str)] = &["
    );
    for row in oui {
        let _ = writeln!(out, "    (0x{:06x}, {:?}),", row.prefix, row.vendor);
    }
    let _ = writeln!(out, "];");
    out
}

/// Writes the generated source to `$OUT_DIR`.
fn write_output(code: &str) -> Result<(), String> {
    let out_dir = env::var_os("OUT_DIR")
        .ok_or_else(|| "OUT_DIR is not set; build.rs must be run by Cargo.".to_string())?;
    let path = Path::new(&out_dir).join(OUTPUT_FILE);
    fs::write(&path, code).map_err(|e| format!("{} could not be written: {e}.", path.display()))
}

// ---------------------------------------------------------------------------------------------
// libpcap check
// ---------------------------------------------------------------------------------------------

/// Whether libpcap's header and a linkable library can be found. Only checked when building
/// natively for Linux: other systems ship or locate libpcap differently (the macOS SDK, the
/// Npcap SDK on Windows), and a cross build cannot judge the target's files from the host's.
fn libpcap_is_installed() -> bool {
    let target_os = env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    let native = env::var("HOST").ok() == env::var("TARGET").ok();
    if target_os != "linux" || !native || env::var_os("DOCS_RS").is_some() {
        return true;
    }

    let (include_dirs, lib_dirs) = match env::var_os(CHECK_ROOT_VAR) {
        Some(root) => system_dirs(Path::new(&root)),
        None => {
            let mut include_dirs = Vec::new();
            let mut lib_dirs = Vec::new();
            include_dirs.extend(env::var_os("LIBPCAP_INCLUDE").map(PathBuf::from));
            lib_dirs.extend(env::var_os("LIBPCAP_LIBDIR").map(PathBuf::from));
            let (pc_include, pc_lib) = pkg_config_dirs();
            include_dirs.extend(pc_include);
            lib_dirs.extend(pc_lib);
            let (sys_include, sys_lib) = system_dirs(Path::new("/"));
            include_dirs.extend(sys_include);
            lib_dirs.extend(sys_lib);
            (include_dirs, lib_dirs)
        }
    };

    let header = include_dirs
        .iter()
        .flat_map(|dir| [dir.join("pcap.h"), dir.join("pcap").join("pcap.h")])
        .find(|path| path.is_file());
    // `libpcap.so` (without a version) comes with the development package; the runtime
    // package only has `libpcap.so.0.8` and the like, which the linker does not pick up.
    // `is_file` follows symbolic links, so a dangling `libpcap.so` does not count.
    let library = lib_dirs
        .iter()
        .flat_map(|dir| [dir.join("libpcap.so"), dir.join("libpcap.a")])
        .find(|path| path.is_file());

    match (header, library) {
        (Some(header), Some(library)) => {
            // Check again if either goes away, so removing libpcap later gives the same
            // clear message instead of a linker error. (A failed check always reruns.)
            println!("cargo::rerun-if-changed={}", header.display());
            println!("cargo::rerun-if-changed={}", library.display());
            true
        }
        _ => false,
    }
}

/// The usual include and library directories, under `root` (normally `/`).
fn system_dirs(root: &Path) -> (Vec<PathBuf>, Vec<PathBuf>) {
    let include_dirs = ["usr/include", "usr/local/include"]
        .iter()
        .map(|dir| root.join(dir))
        .collect();

    let mut lib_dirs: Vec<PathBuf> = [
        "usr/lib",
        "usr/lib64",
        "usr/local/lib",
        "usr/local/lib64",
        "lib",
        "lib64",
    ]
    .iter()
    .map(|dir| root.join(dir))
    .collect();
    // Debian-style multiarch directories such as /usr/lib/x86_64-linux-gnu. Debian calls
    // Rust's `x86` architecture `i386`.
    let arch = env::var("CARGO_CFG_TARGET_ARCH").unwrap_or_default();
    let arch = if arch == "x86" { "i386" } else { arch.as_str() };
    let multiarch_prefix = format!("{arch}-linux-");
    for parent in ["usr/lib", "lib"] {
        if let Ok(entries) = fs::read_dir(root.join(parent)) {
            lib_dirs.extend(
                entries
                    .flatten()
                    .filter(|entry| {
                        entry
                            .file_name()
                            .to_string_lossy()
                            .starts_with(&multiarch_prefix)
                    })
                    .map(|entry| entry.path()),
            );
        }
    }
    (include_dirs, lib_dirs)
}

/// Include and library directories that `pkg-config libpcap` reports; empty if pkg-config
/// is not installed or does not know libpcap.
fn pkg_config_dirs() -> (Vec<PathBuf>, Vec<PathBuf>) {
    let program = env::var_os("PKG_CONFIG").unwrap_or_else(|| "pkg-config".into());
    let query = |args: &[&str]| -> Vec<String> {
        Command::new(&program)
            .args(args)
            .arg("libpcap")
            .output()
            .ok()
            .filter(|output| output.status.success())
            .map(|output| {
                String::from_utf8_lossy(&output.stdout)
                    .split_whitespace()
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default()
    };

    let mut include_dirs: Vec<PathBuf> = query(&["--variable=includedir"])
        .into_iter()
        .map(PathBuf::from)
        .collect();
    include_dirs.extend(
        query(&["--cflags-only-I"])
            .iter()
            .filter_map(|flag| flag.strip_prefix("-I"))
            .map(PathBuf::from),
    );
    let mut lib_dirs: Vec<PathBuf> = query(&["--variable=libdir"])
        .into_iter()
        .map(PathBuf::from)
        .collect();
    lib_dirs.extend(
        query(&["--libs-only-L"])
            .iter()
            .filter_map(|flag| flag.strip_prefix("-L"))
            .map(PathBuf::from),
    );
    (include_dirs, lib_dirs)
}
