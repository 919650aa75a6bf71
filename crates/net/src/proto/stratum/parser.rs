//! One line of JSON-RPC to messages.
//!
//! Stratum is JSON-RPC 1.0 in practice (some pools add `"jsonrpc":"2.0"`), one object per line,
//! any key order and spacing (docs/FACTS.md §N1, §N5). Lines are parsed as JSON rather than matched
//! as bytes, so spacing, key order and escapes cannot hide a method name. A line may also hold a
//! batch (a JSON array of objects).

use super::json::Json;
use super::syntax::{Fail, Reader, Res};
use bumpalo::Bump;
use thiserror::Error;

/// The longest line accepted; Equihash submits are ~2.7 KB, block templates can be large.
pub const MAX_LINE: usize = 1 << 20;

/// A JSON-RPC request id as the peer wrote it.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Id {
    /// No `id` member.
    Absent,
    /// `"id": null`.
    Null,
    /// A whole number from 0 up, as nearly every miner numbers its requests (kept as the number:
    /// printing it to text for every message was an allocation per line).
    Int(u64),
    /// Any other number, stored as its text, so 1 and 1.0 stay distinct as the peer sent them
    /// (a whole number is never stored here, so the two never meet).
    Num(String),
    /// A string.
    Str(String),
}

impl Id {
    fn from_json(v: Option<&Json<'_>>) -> Id {
        match v {
            None => Id::Absent,
            Some(Json::Null) => Id::Null,
            Some(Json::Num(n)) => Id::of_number(n),
            Some(Json::Str(s)) => Id::Str(s.to_string()),
            Some(other) => Id::Str(other.to_value().to_string()),
        }
    }

    /// The id a number makes.
    pub fn of_number(n: &serde_json::Number) -> Id {
        match n.as_u64() {
            Some(i) => Id::Int(i),
            None => Id::Num(n.to_string()),
        }
    }

    /// True for `0`, `null` or no id: how pools mark unsolicited pushes.
    pub fn is_push(&self) -> bool {
        matches!(self, Id::Absent | Id::Null | Id::Int(0))
    }
}

/// One JSON-RPC message, borrowing its strings from the line where it can.
#[derive(Clone, Debug, PartialEq)]
pub struct Message<'a> {
    /// The id.
    pub id: Id,
    /// The method, for requests and notifications.
    pub method: Option<&'a str>,
    /// The params (`Json::Null` when absent).
    pub params: Json<'a>,
    /// The result, for responses (`Some(Json::Null)` when the member is present and null).
    pub result: Option<Json<'a>>,
    /// The error, for responses.
    pub error: Option<Json<'a>>,
    /// eth-proxy's non-standard top-level `worker` member.
    pub worker: Option<String>,
}

/// Why a line is not JSON-RPC.
#[derive(Clone, Debug, Error, PartialEq, Eq)]
pub enum ParseError {
    /// Empty or whitespace only.
    #[error("empty line")]
    Empty,
    /// Longer than [`MAX_LINE`].
    #[error("line of {0} bytes is too long")]
    TooLong(usize),
    /// Not JSON.
    #[error("not JSON: {0}")]
    NotJson(String),
    /// JSON, but not an object (or a batch of objects) with JSON-RPC members.
    #[error("JSON but not JSON-RPC")]
    NotRpc,
}

/// The members of one object that make a message, the last of a name winning as in a JSON map;
/// the rest are skipped without building values. Read straight from the parser: building a map
/// of every member first (keys allocated), then taking five out of it, was about a tenth of a
/// scan of real traffic (docs/PERFORMANCE.md).
#[derive(Default)]
struct Members<'a> {
    id: Option<Json<'a>>,
    method: Option<Json<'a>>,
    params: Option<Json<'a>>,
    result: Option<Json<'a>>,
    error: Option<Json<'a>>,
    worker: Option<Json<'a>>,
}

impl<'a> Members<'a> {
    fn into_message(self) -> Result<Message<'a>, ParseError> {
        let method = match self.method {
            Some(Json::Str(s)) => Some(s),
            Some(_) => return Err(ParseError::NotRpc),
            None => None,
        };
        let result = self.result;
        let error = self.error.filter(|e| !e.is_null());
        if method.is_none() && result.is_none() && error.is_none() {
            return Err(ParseError::NotRpc);
        }
        Ok(Message {
            id: Id::from_json(self.id.as_ref()),
            method,
            params: self.params.unwrap_or(Json::Null),
            result,
            error,
            worker: match self.worker {
                Some(Json::Str(s)) => Some(s.to_string()),
                _ => None,
            },
        })
    }
}

/// Reads a top-level object's members at `depth`; members other than the six are walked over.
fn members<'a>(r: &mut Reader<'a>, depth: usize) -> Res<Members<'a>> {
    let mut m = Members::default();
    members_into(r, depth, &mut m)?;
    Ok(m)
}

/// [`members`] into `m`, which the caller made: the line's one object is read where it stays.
fn members_into<'a>(r: &mut Reader<'a>, depth: usize, m: &mut Members<'a>) -> Res<()> {
    r.nest(depth)?;
    if r.open(b'{', b'}')? {
        return Ok(());
    }
    loop {
        let slot = match r.key()? {
            "id" => Some(&mut m.id),
            "method" => Some(&mut m.method),
            "params" => Some(&mut m.params),
            "result" => Some(&mut m.result),
            "error" => Some(&mut m.error),
            "worker" => Some(&mut m.worker),
            _ => None,
        };
        match slot {
            Some(slot) => *slot = Some(r.value(depth + 1)?),
            // Another member: walked over without building its value.
            None => r.skip()?,
        }
        if !r.more(b'}')? {
            return Ok(());
        }
    }
}

/// One item of a batch: its members when it is an object; anything else is read (as
/// serde_json reads it, containers without a depth limit inside) and is no message.
fn batch_item<'a>(r: &mut Reader<'a>) -> Res<Option<Members<'a>>> {
    match r.ws() {
        Some(b'{') => members(r, 2).map(Some),
        Some(b'[') => {
            r.nest(2)?;
            r.skip().map(|()| None)
        }
        // A scalar is read as a kept value would be (strings UTF-8 checked, numbers in range),
        // as serde_json reads it; it builds nothing that needs keeping.
        _ => r.value(2).map(|_| None),
    }
}

/// Reads a batch: the items of the array the line holds.
fn batch<'a>(r: &mut Reader<'a>) -> Res<Vec<Option<Members<'a>>>> {
    r.nest(1)?;
    let mut items = Vec::new();
    if !r.open(b'[', b']')? {
        loop {
            items.push(batch_item(r)?);
            if !r.more(b']')? {
                break;
            }
        }
    }
    r.end()?;
    Ok(items)
}

/// The line without surrounding whitespace, when it can be JSON-RPC at all.
fn candidate(line: &[u8]) -> Result<&[u8], ParseError> {
    let trimmed = line.trim_ascii();
    if trimmed.is_empty() {
        return Err(ParseError::Empty);
    }
    if trimmed.len() > MAX_LINE {
        return Err(ParseError::TooLong(trimmed.len()));
    }
    if !matches!(trimmed.first(), Some(b'{' | b'[')) {
        return Err(ParseError::NotJson("does not start with { or [".into()));
    }
    Ok(trimmed)
}

/// A line's messages, kept in its arena.
pub type Messages<'a> = bumpalo::collections::Vec<'a, Message<'a>>;

/// Parses one line (without its line ending) into JSON-RPC messages, they and their arrays and
/// objects kept in `arena` (which the caller may reset once the messages are gone).
pub fn parse_line<'a>(line: &'a [u8], arena: &'a Bump) -> Result<Messages<'a>, ParseError> {
    let trimmed = candidate(line)?;
    let mut r = Reader::new(trimmed, arena);
    let not_json = |r: &Reader<'_>| ParseError::NotJson(r.error().to_string());
    if trimmed.first() == Some(&b'[') {
        let items = batch(&mut r).map_err(|Fail| not_json(&r))?;
        if items.is_empty() {
            return Err(ParseError::NotRpc);
        }
        let mut out = Messages::with_capacity_in(items.len(), arena);
        for i in items {
            out.push(i.ok_or(ParseError::NotRpc)?.into_message()?);
        }
        return Ok(out);
    }
    // The usual line, one object: its members are read into the place they stay, not handed
    // up by value (moving them was a fifth of reading a short line, docs/PERFORMANCE.md).
    let mut m = Members::default();
    let read = members_into(&mut r, 1, &mut m).and_then(|()| r.end());
    read.map_err(|Fail| not_json(&r))?;
    let mut out = Messages::with_capacity_in(1, arena);
    out.push(m.into_message()?);
    Ok(out)
}

/// serde_json's reading of a line, kept as the reference the one-pass reader is held to.
#[cfg(test)]
mod serde_reference {
    use super::{Id, ParseError};
    use serde_json::Value;

    /// A message as plain values: id, method, params, result, error, worker.
    pub(super) type Plain = (
        Id,
        Option<String>,
        Value,
        Option<Value>,
        Option<Value>,
        Option<String>,
    );

    /// The six members, as serde_json builds them.
    #[derive(Default)]
    struct Members {
        id: Option<Value>,
        method: Option<Value>,
        params: Option<Value>,
        result: Option<Value>,
        error: Option<Value>,
        worker: Option<Value>,
    }

    impl Members {
        fn into_message(self) -> Result<Plain, ParseError> {
            let method = match self.method {
                Some(Value::String(s)) => Some(s),
                Some(_) => return Err(ParseError::NotRpc),
                None => None,
            };
            let error = self.error.filter(|e| !e.is_null());
            if method.is_none() && self.result.is_none() && error.is_none() {
                return Err(ParseError::NotRpc);
            }
            let id = match self.id {
                None => Id::Absent,
                Some(Value::Null) => Id::Null,
                Some(Value::Number(n)) => Id::of_number(&n),
                Some(Value::String(s)) => Id::Str(s),
                Some(other) => Id::Str(other.to_string()),
            };
            let worker = match self.worker {
                Some(Value::String(s)) => Some(s),
                _ => None,
            };
            Ok((
                id,
                method,
                self.params.unwrap_or(Value::Null),
                self.result,
                error,
                worker,
            ))
        }
    }

    /// A member name: one of the six that matter, or another.
    enum Key {
        Id,
        Method,
        Params,
        Result,
        Error,
        Worker,
        Other,
    }

    impl<'de> serde::Deserialize<'de> for Key {
        fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Key, D::Error> {
            struct V;
            impl serde::de::Visitor<'_> for V {
                type Value = Key;
                fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                    f.write_str("a member name")
                }
                fn visit_str<E: serde::de::Error>(self, k: &str) -> Result<Key, E> {
                    Ok(match k {
                        "id" => Key::Id,
                        "method" => Key::Method,
                        "params" => Key::Params,
                        "result" => Key::Result,
                        "error" => Key::Error,
                        "worker" => Key::Worker,
                        _ => Key::Other,
                    })
                }
            }
            d.deserialize_str(V)
        }
    }

    /// A line's JSON as what it means here: an object's message members, a batch of values, or
    /// anything else (JSON, but not JSON-RPC: read and dropped).
    enum Top {
        Object(Members),
        Batch(Vec<Top>),
        Other,
    }

    impl<'de> serde::Deserialize<'de> for Top {
        fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Top, D::Error> {
            d.deserialize_any(TopVisitor { in_batch: false })
        }
    }

    /// Reads a [`Top`]; inside a batch an array is just another value that is not an object.
    struct TopVisitor {
        in_batch: bool,
    }

    impl<'de> serde::de::Visitor<'de> for TopVisitor {
        type Value = Top;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("JSON")
        }
        fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Top, A::Error> {
            let mut m = Members::default();
            while let Some(k) = map.next_key::<Key>()? {
                let slot = match k {
                    Key::Id => &mut m.id,
                    Key::Method => &mut m.method,
                    Key::Params => &mut m.params,
                    Key::Result => &mut m.result,
                    Key::Error => &mut m.error,
                    Key::Worker => &mut m.worker,
                    Key::Other => {
                        map.next_value::<serde::de::IgnoredAny>()?;
                        continue;
                    }
                };
                *slot = Some(map.next_value::<Value>()?);
            }
            Ok(Top::Object(m))
        }
        fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Top, A::Error> {
            if self.in_batch {
                while seq.next_element::<serde::de::IgnoredAny>()?.is_some() {}
                return Ok(Top::Other);
            }
            let mut items = Vec::new();
            while let Some(item) = seq.next_element_seed(BatchItem)? {
                items.push(item);
            }
            Ok(Top::Batch(items))
        }
        fn visit_bool<E>(self, _: bool) -> Result<Top, E> {
            Ok(Top::Other)
        }
        fn visit_i64<E>(self, _: i64) -> Result<Top, E> {
            Ok(Top::Other)
        }
        fn visit_u64<E>(self, _: u64) -> Result<Top, E> {
            Ok(Top::Other)
        }
        fn visit_f64<E>(self, _: f64) -> Result<Top, E> {
            Ok(Top::Other)
        }
        fn visit_str<E>(self, _: &str) -> Result<Top, E> {
            Ok(Top::Other)
        }
        fn visit_unit<E>(self) -> Result<Top, E> {
            Ok(Top::Other)
        }
    }

    /// One item of a batch.
    struct BatchItem;

    impl<'de> serde::de::DeserializeSeed<'de> for BatchItem {
        type Value = Top;
        fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<Top, D::Error> {
            d.deserialize_any(TopVisitor { in_batch: true })
        }
    }

    /// The parse as serde_json did it before [`super::parse_line`]: the reference it is held to.
    pub(super) fn serde_parse_line(line: &[u8]) -> Result<Vec<Plain>, ParseError> {
        let trimmed = super::candidate(line)?;
        let v: Top =
            serde_json::from_slice(trimmed).map_err(|e| ParseError::NotJson(e.to_string()))?;
        match v {
            Top::Object(m) => Ok(vec![m.into_message()?]),
            Top::Batch(items) if !items.is_empty() => items
                .into_iter()
                .map(|i| match i {
                    Top::Object(m) => m.into_message(),
                    _ => Err(ParseError::NotRpc),
                })
                .collect(),
            _ => Err(ParseError::NotRpc),
        }
    }
}
#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    use super::serde_reference::Plain;

    fn plain(m: &Message<'_>) -> Plain {
        (
            m.id.clone(),
            m.method.map(str::to_string),
            m.params.to_value(),
            m.result.as_ref().map(Json::to_value),
            m.error.as_ref().map(Json::to_value),
            m.worker.clone(),
        )
    }

    /// A parse's result with the wording of its error left out (serde_json words them by line
    /// and column, the one-pass reader by byte).
    fn kind(r: Result<Messages<'_>, ParseError>) -> Result<Vec<Plain>, ParseError> {
        r.map(|ms| ms.iter().map(plain).collect())
            .map_err(|e| match e {
                ParseError::NotJson(_) => ParseError::NotJson(String::new()),
                e => e,
            })
    }

    fn streaming(line: &[u8]) -> Result<Vec<Plain>, ParseError> {
        let arena = Bump::new();
        kind(parse_line(line, &arena))
    }

    /// The one-pass reader against serde_json's reading, on one line.
    fn same_as_serde(line: &[u8]) {
        let theirs = serde_reference::serde_parse_line(line).map_err(|e| match e {
            ParseError::NotJson(_) => ParseError::NotJson(String::new()),
            e => e,
        });
        assert_eq!(streaming(line), theirs, "{}", String::from_utf8_lossy(line));
    }

    /// Lines of every dialect, and the corners of JSON's grammar.
    const CORPUS: &[&str] = &[
        r#"{"id":1,"method":"mining.subscribe","params":["cgminer/4.10.0"]}"#,
        r#"{"id":1,"result":[[["mining.set_difficulty","deadbeef"],["mining.notify","deadbeef"]],"08000002",4],"error":null}"#,
        r#"{"params":["58af8d4c","7cb2a7f6e2b3d2c9","01000000010000000000000000000000000000000000000000000000000000000000000000ffffffff2703a3b80b","ffffffff0100f2052a010000001976a914000000000000000000000000000000000000000088ac00000000",["8d7f","aa01"],"20000000","1a0fffff","5a2c3b1d",true],"id":null,"method":"mining.notify"}"#,
        r#"{"id":4,"method":"mining.submit","params":["worker.1","58af8d4c","00000000","5a2c3b1d","a1b2c3d4"]}"#,
        r#"{"id":4,"result":true,"error":null}"#,
        r#"{"id":5,"result":null,"error":[23,"Low difficulty share",null]}"#,
        r#"{"id":null,"method":"mining.set_difficulty","params":[16384]}"#,
        r#"{"id":null,"method":"mining.set_difficulty","params":[0.015625]}"#,
        r#"{"method":"login","params":{"login":"44AFFq5kSiGBoZ","pass":"x","agent":"XMRig/6.21.0","algo":["rx/0"]},"id":1,"jsonrpc":"2.0"}"#,
        r#"{"jsonrpc":"2.0","method":"job","params":{"blob":"0707f2","job_id":"jq2","target":"b88d0600","height":3000000,"seed_hash":"aa"}}"#,
        r#"{"worker": "eth1.0", "jsonrpc": "2.0", "params": ["0x9c99d212f7e5daa18ab50810e0fd255d1f04303b", "x"], "id": 2, "method": "eth_submitLogin"}"#,
        r#"{"id":3,"jsonrpc":"2.0","result":["0xabc","0xdef","0x00000000dbe6fecebdedd5beb573440e5a884d1b2fbf06fcce912adcb8d8422e"]}"#,
        r#"[{"id":1,"result":true},{"method":"mining.notify","params":[]}]"#,
        r#"[{"id":1,"result":true},[1,[2,{"a":[]}]],2,"s",null,true,false,-1.5e3]"#,
        r#"{"id":-0,"method":"m","params":[-0.0,1E+2,1e-2,0.5,18446744073709551615,18446744073709551616,123456789012345678901234567890,-9223372036854775808,-9223372036854775809]}"#,
        r#"{"id":"\u00e9\ud83d\ude00\n\t\"\\\/","method":"mining\u002esubscribe","params":["\u0000"]}"#,
        r#"{"id":1,"method":"é中文","params":["⛏"],"x":"\ud800"}"#,
        r#"{"id":1,"method":"m","params":[],"x":{"y":[1,2,{"z":null}],"":""}}"#,
        r#"{ "id" : 1 , "method" : "m" , "params" : [ 1 , 2 ] }"#,
        "{\t\"id\"\r:\n1,\"method\":\"m\"}",
        r#"{"method":"a","method":"mining.notify","params":[1],"params":[2]}"#,
        r#"{"id":1e400,"method":"m"}"#,
        r#"{"id":1,"method":"m","x":1e400}"#,
        r#"[1e400]"#,
        r#"[{"x":1e400}]"#,
        r#"[{"x":[1e400]}]"#,
        r#"[[1e400]]"#,
        r#"{"id":1,"method":"m","params":["\ud800"]}"#,
        r#"{"id":1,"method":"m","x":"\ud800"}"#,
        r#"["\ud800"]"#,
        r#"{}"#,
        r#"[]"#,
        r#"[{}]"#,
        r#"{"idx":1,"i":2,"id ":3,"methods":"x","method":"m","paramsx":[],"params":[1],"r":0}"#,
        r#"{"i\u0064":7,"meth\u006fd":"mining.notify","id":"\u0069d","params":["id"],"jsonrpc":"2.0"}"#,
        r#"{"id":1,"result":true,"error":null,"worker":"w","e":1,"j":2,"w":3,"resultx":4}"#,
    ];

    #[test]
    fn the_one_pass_reader_means_what_serde_json_means() {
        for l in CORPUS {
            same_as_serde(l.as_bytes());
        }
        // Each line mutated where JSON is most fragile: a byte replaced by one of JSON's own,
        // inserted, removed, or the line cut short; and invalid UTF-8 inside and outside strings.
        let alphabet =
            b"{}[]:,\\\"' -+.0123456789eEtrufalsnu\x00\x1f\t\n\r\xc3\xa9\xff\xed\xa0\x80";
        // The synthetic corpora's generator, so that the test is the same every run.
        let mut rng = crate::synth::rng::Rng::new(0x9e37_79b9_7f4a_7c15);
        let mut mix = |n: usize| rng.between(0, n - 1);
        for l in CORPUS {
            let l = l.as_bytes();
            for _ in 0..1500 {
                let mut m = l.to_vec();
                for _ in 0..1 + mix(3) {
                    let at = mix(m.len() + 1);
                    let c = alphabet[mix(alphabet.len())];
                    match mix(4) {
                        0 if at < m.len() => m[at] = c,
                        1 => m.insert(at, c),
                        2 if at < m.len() => {
                            m.remove(at);
                        }
                        _ => m.truncate(at),
                    }
                }
                same_as_serde(&m);
            }
        }
    }

    #[test]
    fn nesting_is_refused_where_serde_json_refuses_it() {
        let nest = |open: &str, close: &str, n: usize| open.repeat(n) + "0" + &close.repeat(n);
        for depth in 120..=132 {
            let lines = [
                format!(
                    r#"{{"id":1,"method":"m","params":{}}}"#,
                    nest("[", "]", depth)
                ),
                format!(
                    r#"{{"id":1,"method":"m","params":{}}}"#,
                    nest(r#"{"a":"#, "}", depth)
                ),
                format!(r#"{{"id":1,"result":true,"x":{}}}"#, nest("[", "]", depth)),
                format!(r#"[{{"id":1,"result":{}}}]"#, nest("[", "]", depth)),
                format!("[{}]", nest("[", "]", depth)),
                format!(
                    "{}{{\"id\":1,\"result\":true}}{}",
                    "[".repeat(depth),
                    "]".repeat(depth)
                ),
            ];
            for l in &lines {
                same_as_serde(l.as_bytes());
            }
        }
    }

    /// Every line of the real captures in `../shared/data/net/pcap` that is whole inside one
    /// packet.
    #[test]
    fn the_one_pass_reader_reads_real_lines_as_serde_json_does() {
        let dir =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/net/pcap");
        let Ok(entries) = std::fs::read_dir(&dir) else {
            eprintln!("skipped: {} is not there", dir.display());
            return;
        };
        let mut lines = 0;
        for e in entries.flatten() {
            let bytes = std::fs::read(e.path()).unwrap();
            let _ = crate::source::read_packets(&e.path(), &bytes, |p| {
                if let Ok(crate::decode::Decoding::Packet(d)) =
                    crate::decode::decode_full(p.linktype, p.data)
                {
                    for l in d.payload.split(|&b| b == b'\n') {
                        if matches!(l.trim_ascii().first(), Some(b'{' | b'[')) {
                            same_as_serde(l);
                            lines += 1;
                        }
                    }
                }
            });
        }
        assert!(lines > 1000, "{lines} lines");
    }

    /// The parse as it was written first: the whole line to a `Value`, members taken out of
    /// its map. The streaming parse is held to it.
    fn by_value(line: &[u8]) -> Result<Vec<Plain>, ParseError> {
        fn from_object(mut o: serde_json::Map<String, Value>) -> Result<Plain, ParseError> {
            let method = match o.remove("method") {
                Some(Value::String(s)) => Some(s),
                Some(_) => return Err(ParseError::NotRpc),
                None => None,
            };
            let result = o.remove("result");
            let error = o.remove("error").filter(|e| !e.is_null());
            if method.is_none() && result.is_none() && error.is_none() {
                return Err(ParseError::NotRpc);
            }
            let id = match o.remove("id") {
                None => Id::Absent,
                Some(Value::Null) => Id::Null,
                Some(Value::Number(n)) => Id::of_number(&n),
                Some(Value::String(s)) => Id::Str(s),
                Some(other) => Id::Str(other.to_string()),
            };
            let worker = match o.remove("worker") {
                Some(Value::String(s)) => Some(s),
                _ => None,
            };
            let params = o.remove("params").unwrap_or(Value::Null);
            Ok((id, method, params, result, error, worker))
        }
        let v: Value = serde_json::from_slice(line.trim_ascii())
            .map_err(|_| ParseError::NotJson(String::new()))?;
        match v {
            Value::Object(o) => Ok(vec![from_object(o)?]),
            Value::Array(items) if !items.is_empty() => items
                .into_iter()
                .map(|i| match i {
                    Value::Object(o) => from_object(o),
                    _ => Err(ParseError::NotRpc),
                })
                .collect(),
            _ => Err(ParseError::NotRpc),
        }
    }

    #[test]
    fn streaming_parse_means_what_the_map_parse_meant() {
        let lines: [&[u8]; 16] = [
            br#"{"id":1,"method":"mining.subscribe","params":["a"],"x":{"y":[1,2,{"z":null}]}}"#,
            br#"{"method":"a","method":"mining.notify","params":[1],"params":[2]}"#,
            br#"{"id":1.0,"result":null,"error":null}"#,
            br#"{"id":"7","result":true,"error":[20,"x",null],"worker":"w1"}"#,
            br#"{"id":{"a":1},"result":[],"worker":5}"#,
            br#"{"method":"mining.submit","params":["w","j","e","t","n"]}"#,
            br#"{"a":1}"#,
            br#"{"method":5}"#,
            br#"{"method":null,"result":1}"#,
            br#"[{"id":1,"result":true},{"method":"mining.notify"}]"#,
            br#"[{"id":1,"result":true},[1],2,"s",null]"#,
            br#"[[{"method":"x"}]]"#,
            br#"[]"#,
            br#"{"id":1,"result":true} x"#,
            br#"{"id":1,"result":tru}"#,
            br#"{"id":1e5,"method":"m","params":{"a":"b"}}"#,
        ];
        for l in lines {
            assert_eq!(streaming(l), by_value(l), "{}", String::from_utf8_lossy(l));
        }
    }

    #[test]
    fn compact_and_spaced_forms_are_equal() {
        let arena = Bump::new();
        let a = parse_line(
            br#"{"id":1,"method":"mining.subscribe","params":["cgminer/4.10"]}"#,
            &arena,
        )
        .unwrap();
        let b = parse_line(b"{ \"params\" : [ \"cgminer/4.10\" ] , \"method\" : \"mining.subscribe\", \"id\" : 1 }\r", &arena).unwrap();
        assert_eq!(a, b);
        assert_eq!(a[0].method, Some("mining.subscribe"));
        assert_eq!(a[0].id, Id::Int(1));
    }

    #[test]
    fn ids_keep_what_the_peer_wrote_apart() {
        let arena = Bump::new();
        let id = |l: &str| parse_line(l.as_bytes(), &arena).unwrap()[0].id.clone();
        let ids = [
            id(r#"{"id":1,"result":true}"#),
            id(r#"{"id":1.0,"result":true}"#),
            id(r#"{"id":"1","result":true}"#),
            id(r#"{"id":-1,"result":true}"#),
            id(r#"{"id":2,"result":true}"#),
        ];
        for (i, a) in ids.iter().enumerate() {
            for b in &ids[i + 1..] {
                assert_ne!(a, b);
            }
        }
        assert_eq!(ids[0], Id::Int(1));
        assert!(id(r#"{"id":0,"method":"mining.notify"}"#).is_push());
        assert!(!id(r#"{"id":0.0,"method":"mining.notify"}"#).is_push());
    }

    #[test]
    fn escapes_do_not_hide_methods() {
        let arena = Bump::new();
        let m = parse_line(
            br#"{"id":2,"method":"mining\u002eauthorize","params":["w","x"]}"#,
            &arena,
        )
        .unwrap();
        assert_eq!(m[0].method, Some("mining.authorize"));
    }

    #[test]
    fn responses_pushes_and_eth_worker() {
        let arena = Bump::new();
        let r = parse_line(br#"{"id":4,"result":true,"error":null}"#, &arena).unwrap();
        assert_eq!(r[0].result, Some(Json::Bool(true)));
        assert_eq!(r[0].error, None);
        let p = parse_line(
            br#"{"id":null,"method":"mining.notify","params":[]}"#,
            &arena,
        )
        .unwrap();
        assert!(p[0].id.is_push());
        let e = parse_line(br#"{"worker": "eth1.0", "jsonrpc": "2.0", "params": ["0xabc", "x"], "id": 2, "method": "eth_submitLogin"}"#, &arena).unwrap();
        assert_eq!(e[0].worker.as_deref(), Some("eth1.0"));
    }

    #[test]
    fn batches() {
        let arena = Bump::new();
        let b = parse_line(br#"[{"id":1,"method":"a"},{"id":2,"result":null}]"#, &arena).unwrap();
        assert_eq!(b.len(), 2);
    }

    #[test]
    fn deep_nesting_is_refused_not_a_stack_overflow() {
        let arena = Bump::new();
        // Within MAX_LINE, nested 66,000 to 200,000 deep: in a skipped member, in a kept one, and as a
        // batch. serde_json's recursion limit must hold on every path the parse takes.
        let deep = |open: &str, close: &str| {
            let n = 400_000 / (open.len() + close.len());
            open.repeat(n) + "0" + &close.repeat(n)
        };
        let lines = [
            format!(r#"{{"id":1,"result":true,"x":{}}}"#, deep("[", "]")),
            format!(r#"{{"id":1,"result":true,"params":{}}}"#, deep("[", "]")),
            format!("[{}]", deep("[", "]")),
            format!(r#"[{{"x":{}}}]"#, deep(r#"{"a":"#, "}")),
        ];
        for (i, l) in lines.iter().enumerate() {
            assert!(l.len() <= MAX_LINE);
            let got = parse_line(l.as_bytes(), &arena);
            match i {
                // A member nobody reads is skipped without recursion (serde_json's
                // `IgnoredAny` walks it with a loop): the message around it stands.
                0 => assert_eq!(got.map(|m| m.len()), Ok(1)),
                // A kept member is built as a value: the recursion limit refuses it.
                1 => assert!(matches!(got, Err(ParseError::NotJson(_))), "{got:?}"),
                // Batch items that are not messages are skipped the same way.
                _ => assert_eq!(got, Err(ParseError::NotRpc), "{i}"),
            }
        }
    }

    #[test]
    fn not_rpc() {
        let arena = Bump::new();
        assert_eq!(parse_line(b"   ", &arena), Err(ParseError::Empty));
        assert_eq!(parse_line(b"{\"a\":1}", &arena), Err(ParseError::NotRpc));
        assert_eq!(parse_line(b"[1,2]", &arena), Err(ParseError::NotRpc));
        assert!(matches!(
            parse_line(b"{\"method\":", &arena),
            Err(ParseError::NotJson(_))
        ));
        assert!(matches!(
            parse_line(b"GET / HTTP/1.1", &arena),
            Err(ParseError::NotJson(_))
        ));
        assert_eq!(
            parse_line(br#"{"method":5}"#, &arena),
            Err(ParseError::NotRpc)
        );
    }
}
