//! TEMPORARY stub until the reader lands.
#![allow(missing_docs)]
pub mod file {
    use super::*;
    use std::io::Read;
    #[derive(Debug, thiserror::Error)]
    #[error("stub error {0}")]
    pub struct CaptureError(pub String);
    pub struct FileSource {
        data: Vec<u8>,
        pos: usize,
        name: String,
        notes: Vec<String>,
    }
    impl FileSource {
        pub fn open(p: &std::path::Path) -> Result<FileSource, CaptureError> {
            let mut data = Vec::new();
            std::fs::File::open(p)
                .map_err(|e| CaptureError(e.to_string()))?
                .read_to_end(&mut data)
                .map_err(|e| CaptureError(e.to_string()))?;
            Ok(FileSource {
                data,
                pos: 24,
                name: p.display().to_string(),
                notes: vec![],
            })
        }
        pub fn name(&self) -> &str {
            &self.name
        }
        pub fn link_type(&self) -> Option<LinkType> {
            Some(LinkType::ETHERNET)
        }
        pub fn next_frame_with_notes(
            &mut self,
            notes: &mut Vec<String>,
        ) -> Result<Option<Frame<'_>>, CaptureError> {
            notes.append(&mut self.notes);
            let Some(h) = self.data.get(self.pos..self.pos + 16) else {
                return Ok(None);
            };
            let u = |i: usize| u32::from_le_bytes([h[i], h[i + 1], h[i + 2], h[i + 3]]);
            let (s, us, cl, l) = (u(0), u(4), u(8) as usize, u(12));
            let b = self
                .data
                .get(self.pos + 16..self.pos + 16 + cl)
                .ok_or(CaptureError("trunc".into()))?;
            self.pos += 16 + cl;
            Ok(Some(Frame {
                ts: Timestamp {
                    secs: s as i64,
                    nanos: us * 1000,
                },
                caplen: cl as u32,
                len: l,
                link: LinkType::ETHERNET,
                bytes: b,
            }))
        }
    }
}
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct Timestamp {
    pub secs: i64,
    pub nanos: u32,
}
impl Timestamp {
    pub fn to_rfc3339_micros(&self) -> String {
        format!("{}.{:06}", self.secs, self.nanos / 1000)
    }
    pub fn as_secs_f64(&self) -> f64 {
        self.secs as f64 + self.nanos as f64 * 1e-9
    }
}
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LinkType(pub u32);
impl LinkType {
    pub const ETHERNET: LinkType = LinkType(1);
    pub const LINUX_SLL: LinkType = LinkType(113);
    pub fn name(&self) -> &'static str {
        match self.0 {
            1 => "Ethernet",
            113 => "Linux cooked",
            _ => "unknown",
        }
    }
}
#[derive(Clone, Copy, Debug)]
pub struct Frame<'a> {
    pub ts: Timestamp,
    pub caplen: u32,
    pub len: u32,
    pub link: LinkType,
    pub bytes: &'a [u8],
}
