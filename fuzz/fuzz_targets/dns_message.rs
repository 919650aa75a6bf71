//! DNS messages built from fields (section counts, labels, compression pointers anywhere,
//! record lengths at their edges), over UDP and over TCP with the two-byte length prefix.
#![no_main]
#[path = "common.rs"]
mod common;
use arbitrary::Arbitrary;
use common::Len;
use libfuzzer_sys::fuzz_target;

#[derive(Arbitrary, Debug)]
enum Label {
    Text(Vec<u8>),
    Pointer(u16),
    BadLength(u8),
}

#[derive(Arbitrary, Debug)]
struct Record {
    name: Vec<Label>,
    rtype: u8,
    ttl: u32,
    rdlength: Len,
    rdata: Vec<u8>,
}

#[derive(Arbitrary, Debug)]
struct Message {
    id: u16,
    flags: u16,
    counts: [Len; 4],
    questions: Vec<(Vec<Label>, u8)>,
    records: Vec<Record>,
    tcp_length: Len,
}

const TYPES: [u16; 6] = [1, 5, 28, 2, 16, 41];

fn name(out: &mut Vec<u8>, labels: &[Label]) {
    for l in labels {
        match l {
            Label::Text(t) => {
                let t = &t[..t.len().min(63)];
                out.push(t.len() as u8);
                out.extend_from_slice(t);
            }
            Label::Pointer(p) => {
                out.extend_from_slice(&(0xc000 | (p & 0x3fff)).to_be_bytes());
                return;
            }
            Label::BadLength(b) => out.push(*b),
        }
    }
    out.push(0);
}

fuzz_target!(|m: Message| {
    let mut b = Vec::new();
    b.extend_from_slice(&m.id.to_be_bytes());
    b.extend_from_slice(&m.flags.to_be_bytes());
    let actual = [m.questions.len(), m.records.len(), 0, 0];
    for (c, n) in m.counts.iter().zip(actual) {
        b.extend_from_slice(&(c.value(n, 16) as u16).to_be_bytes());
    }
    for (q, t) in &m.questions {
        name(&mut b, q);
        b.extend_from_slice(&TYPES[usize::from(*t) % TYPES.len()].to_be_bytes());
        b.extend_from_slice(&1u16.to_be_bytes());
    }
    for r in &m.records {
        name(&mut b, &r.name);
        b.extend_from_slice(&TYPES[usize::from(r.rtype) % TYPES.len()].to_be_bytes());
        b.extend_from_slice(&1u16.to_be_bytes());
        b.extend_from_slice(&r.ttl.to_be_bytes());
        b.extend_from_slice(&(r.rdlength.value(r.rdata.len(), 16) as u16).to_be_bytes());
        b.extend_from_slice(&r.rdata);
    }
    let _ = minewatch_net::proto::dns::parse(&b);
    // One state for the whole run (its tables are bounded): making one per input would
    // spend the run allocating them.
    static STATE: std::sync::OnceLock<std::sync::Mutex<minewatch_net::intelflow::IntelState>> =
        std::sync::OnceLock::new();
    let mut st = STATE
        .get_or_init(|| {
            std::sync::Mutex::new(minewatch_net::intelflow::IntelState::new(
                minewatch_net::intelflow::built_in(),
            ))
        })
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    let (a, s) = ("192.0.2.1".parse().unwrap(), "192.0.2.53".parse().unwrap());
    st.dns(&b, s, a, true, 1);
    let mut tcp = (m.tcp_length.value(b.len(), 16) as u16).to_be_bytes().to_vec();
    tcp.extend_from_slice(&b);
    tcp.extend_from_slice(&tcp.clone());
    st.dns_tcp(&tcp, s, a, true, 2);
});
