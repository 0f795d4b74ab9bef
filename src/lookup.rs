//! TEMPORARY stub until build.rs lands.
#![allow(missing_docs)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Transport {
    Tcp,
    Udp,
}
#[derive(Clone, Copy, Debug)]
pub struct Service {
    pub name: &'static str,
    pub description: &'static str,
}
pub fn service(_p: u16, _t: Transport) -> Option<Service> {
    None
}
pub fn oui_vendor(_m: [u8; 6]) -> Option<&'static str> {
    None
}
