//! The viewer's display filter: the words of `--only` (a layer's key), `stream N`,
//! `host ADDR` and `port N`, joined with `and`.

use std::net::IpAddr;

use crate::dissect::{Dissection, LAYER_KEYS};

/// One condition of a filter.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Term {
    /// The packet has this layer (a key of [`LAYER_KEYS`]), not only quoted.
    Layer(&'static str),
    /// The packet is a segment of this TCP stream.
    Stream(u64),
    /// The packet comes from or goes to this address.
    Host(IpAddr),
    /// The packet's TCP or UDP source or destination port is this.
    Port(u16),
}

/// Conditions that must all hold.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Filter {
    /// The conditions.
    pub terms: Vec<Term>,
    /// The text typed.
    pub text: String,
}

impl Filter {
    /// Reads a filter such as `tcp and port 8090`; an error says which word is wrong.
    pub fn parse(text: &str) -> Result<Filter, String> {
        let mut terms = Vec::new();
        let mut words = text.split_whitespace().peekable();
        loop {
            let Some(w) = words.next() else {
                if terms.is_empty() {
                    return Err(
                        "an empty filter: type a protocol, stream N, host ADDR or port N.".into(),
                    );
                }
                return Err("the filter ends with `and`: add what must also hold.".into());
            };
            let lower = w.to_ascii_lowercase();
            let mut arg = |what: &str| {
                words
                    .next()
                    .ok_or_else(|| format!("`{w}` needs {what} after it."))
            };
            let term = match lower.as_str() {
                "stream" => {
                    let a = arg("a stream number")?;
                    Term::Stream(
                        a.parse()
                            .map_err(|_| format!("`{a}` is not a stream number."))?,
                    )
                }
                "host" => {
                    let a = arg("an IPv4 or IPv6 address")?;
                    Term::Host(
                        a.parse()
                            .map_err(|_| format!("`{a}` is not an IP address."))?,
                    )
                }
                "port" => {
                    let a = arg("a port number")?;
                    Term::Port(
                        a.parse()
                            .map_err(|_| format!("`{a}` is not a port number (0-65535)."))?,
                    )
                }
                _ => match LAYER_KEYS.iter().find(|k| **k == lower) {
                    Some(k) => Term::Layer(k),
                    None => {
                        return Err(format!(
                            "`{w}` is not a filter word; use {}, stream N, host ADDR or port N, joined with and.",
                            LAYER_KEYS.join(", ")
                        ));
                    }
                },
            };
            terms.push(term);
            match words.next() {
                None => break,
                Some(a) if a.eq_ignore_ascii_case("and") => {}
                Some(other) => {
                    return Err(format!(
                        "`{other}` after a condition: join conditions with `and`."
                    ));
                }
            }
        }
        Ok(Filter {
            terms,
            text: text.trim().to_string(),
        })
    }

    /// True when every condition holds for `d`.
    pub fn matches(&self, d: &Dissection) -> bool {
        self.terms.iter().all(|t| match t {
            Term::Layer(k) => d.has(k),
            Term::Stream(s) => d.ctx.tcp.as_ref().is_some_and(|c| c.stream == *s),
            Term::Host(a) => d
                .ip_addrs()
                .is_some_and(|(src, dst)| src == *a || dst == *a),
            Term::Port(p) => {
                let ports = match (&d.tcp, &d.udp) {
                    (Some(t), _) => Some((t.src_port, t.dst_port)),
                    (_, Some(u)) => Some((u.src_port, u.dst_port)),
                    _ => None,
                };
                ports.is_some_and(|(s, d)| s == *p || d == *p)
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_words_of_only_and_the_others() {
        let f = Filter::parse("TCP and port 8090 and host 10.0.0.1 and stream 3").unwrap();
        assert_eq!(
            f.terms,
            vec![
                Term::Layer("tcp"),
                Term::Port(8090),
                Term::Host("10.0.0.1".parse().unwrap()),
                Term::Stream(3)
            ]
        );
        for bad in ["", "tcp and", "tcp udp", "port x", "host", "foo"] {
            assert!(Filter::parse(bad).is_err(), "{bad}");
        }
    }
}
