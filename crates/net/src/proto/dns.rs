//! DNS messages: the names asked for, and the addresses answered for them (following CNAME
//! chains), parsed with hickory-proto.

use hickory_proto::op::Message;
use hickory_proto::rr::RData;
use std::net::IpAddr;

/// What one DNS message says.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Dns {
    /// A response (rather than a query).
    pub response: bool,
    /// Names asked for (normalised: lower case, no trailing dot).
    pub questions: Vec<String>,
    /// (address, the question name it answers, TTL seconds).
    pub answers: Vec<(IpAddr, String, u32)>,
}

fn name(n: &hickory_proto::rr::Name) -> String {
    n.to_ascii().trim_end_matches('.').to_ascii_lowercase()
}

/// Parses a DNS message (UDP payload, or a TCP one after its 2-byte length).
pub fn parse(b: &[u8]) -> Option<Dns> {
    let m = Message::from_vec(b).ok()?;
    let mut d = Dns {
        response: m.metadata.message_type == hickory_proto::op::MessageType::Response,
        questions: m.queries.iter().map(|q| name(&q.name)).collect(),
        answers: Vec::new(),
    };
    // Map each answer owner back to the question through CNAMEs.
    let mut alias: Vec<(String, String)> = Vec::new();
    for r in &m.answers {
        if let RData::CNAME(c) = &r.data {
            alias.push((name(&c.0), name(&r.name)));
        }
    }
    let origin = |mut n: String| {
        for _ in 0..8 {
            match alias.iter().find(|(to, _)| *to == n) {
                Some((_, from)) => n = from.clone(),
                None => break,
            }
        }
        n
    };
    for r in &m.answers {
        let ip = match &r.data {
            RData::A(a) => IpAddr::V4(a.0),
            RData::AAAA(a) => IpAddr::V6(a.0),
            _ => continue,
        };
        d.answers.push((ip, origin(name(&r.name)), r.ttl));
    }
    Some(d)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::synth::dns::{query, response};

    #[test]
    fn questions_and_answers_through_cnames() {
        let q = parse(&query(7, "XMR.Pool.Example.")).unwrap();
        assert!(!q.response);
        assert_eq!(q.questions, vec!["xmr.pool.example"]);
        let r = parse(&response(
            7,
            "xmr.pool.example",
            Some("edge.cdn.example"),
            &["203.0.113.9".parse().unwrap()],
        ))
        .unwrap();
        assert!(r.response);
        assert_eq!(
            r.answers,
            vec![(
                "203.0.113.9".parse().unwrap(),
                "xmr.pool.example".to_string(),
                300
            )]
        );
    }

    #[test]
    fn junk_is_no_dns() {
        assert!(parse(b"").is_none());
        for n in 0..100 {
            let junk: Vec<u8> = (0..n).map(|i| (i * 13 + 1) as u8).collect();
            let _ = parse(&junk);
        }
    }
}
