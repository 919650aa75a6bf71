//! One line of JSON-RPC to messages.
//!
//! Stratum is JSON-RPC 1.0 in practice (some pools add `"jsonrpc":"2.0"`), one object per line,
//! any key order and spacing (NETWORK.md §1, §10). Lines are parsed as JSON rather than matched
//! as bytes, so spacing, key order and escapes cannot hide a method name. A line may also hold a
//! batch (a JSON array of objects).

use serde_json::{Map, Value};
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
    /// A number (stored as its text, so 1 and 1.0 stay distinct as the peer sent them).
    Num(String),
    /// A string.
    Str(String),
}

impl Id {
    fn from_value(v: Option<&Value>) -> Id {
        match v {
            None => Id::Absent,
            Some(Value::Null) => Id::Null,
            Some(Value::Number(n)) => Id::Num(n.to_string()),
            Some(Value::String(s)) => Id::Str(s.clone()),
            Some(other) => Id::Str(other.to_string()),
        }
    }

    /// True for `0`, `null` or no id: how pools mark unsolicited pushes.
    pub fn is_push(&self) -> bool {
        matches!(self, Id::Absent | Id::Null) || *self == Id::Num("0".into())
    }
}

/// One JSON-RPC message.
#[derive(Clone, Debug, PartialEq)]
pub struct Message {
    /// The id.
    pub id: Id,
    /// The method, for requests and notifications.
    pub method: Option<String>,
    /// The params (`Value::Null` when absent).
    pub params: Value,
    /// The result, for responses (`Some(Value::Null)` when the member is present and null).
    pub result: Option<Value>,
    /// The error, for responses.
    pub error: Option<Value>,
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

fn from_object(mut o: Map<String, Value>) -> Result<Message, ParseError> {
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
    Ok(Message {
        id: Id::from_value(o.get("id")),
        method,
        params: o.remove("params").unwrap_or(Value::Null),
        result,
        error,
        worker: match o.remove("worker") {
            Some(Value::String(s)) => Some(s),
            _ => None,
        },
    })
}

/// Parses one line (without its line ending) into JSON-RPC messages.
pub fn parse_line(line: &[u8]) -> Result<Vec<Message>, ParseError> {
    let trimmed = line.trim_ascii();
    if trimmed.is_empty() {
        return Err(ParseError::Empty);
    }
    if trimmed.len() > MAX_LINE {
        return Err(ParseError::TooLong(trimmed.len()));
    }
    if !matches!(trimmed[0], b'{' | b'[') {
        return Err(ParseError::NotJson("does not start with { or [".into()));
    }
    let v: Value =
        serde_json::from_slice(trimmed).map_err(|e| ParseError::NotJson(e.to_string()))?;
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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn compact_and_spaced_forms_are_equal() {
        let a = parse_line(br#"{"id":1,"method":"mining.subscribe","params":["cgminer/4.10"]}"#)
            .unwrap();
        let b = parse_line(b"{ \"params\" : [ \"cgminer/4.10\" ] , \"method\" : \"mining.subscribe\", \"id\" : 1 }\r").unwrap();
        assert_eq!(a, b);
        assert_eq!(a[0].method.as_deref(), Some("mining.subscribe"));
        assert_eq!(a[0].id, Id::Num("1".into()));
    }

    #[test]
    fn escapes_do_not_hide_methods() {
        let m =
            parse_line(br#"{"id":2,"method":"mining\u002eauthorize","params":["w","x"]}"#).unwrap();
        assert_eq!(m[0].method.as_deref(), Some("mining.authorize"));
    }

    #[test]
    fn responses_pushes_and_eth_worker() {
        let r = parse_line(br#"{"id":4,"result":true,"error":null}"#).unwrap();
        assert_eq!(r[0].result, Some(json!(true)));
        assert_eq!(r[0].error, None);
        let p = parse_line(br#"{"id":null,"method":"mining.notify","params":[]}"#).unwrap();
        assert!(p[0].id.is_push());
        let e = parse_line(br#"{"worker": "eth1.0", "jsonrpc": "2.0", "params": ["0xabc", "x"], "id": 2, "method": "eth_submitLogin"}"#).unwrap();
        assert_eq!(e[0].worker.as_deref(), Some("eth1.0"));
    }

    #[test]
    fn batches() {
        let b = parse_line(br#"[{"id":1,"method":"a"},{"id":2,"result":null}]"#).unwrap();
        assert_eq!(b.len(), 2);
    }

    #[test]
    fn not_rpc() {
        assert_eq!(parse_line(b"   "), Err(ParseError::Empty));
        assert_eq!(parse_line(b"{\"a\":1}"), Err(ParseError::NotRpc));
        assert_eq!(parse_line(b"[1,2]"), Err(ParseError::NotRpc));
        assert!(matches!(
            parse_line(b"{\"method\":"),
            Err(ParseError::NotJson(_))
        ));
        assert!(matches!(
            parse_line(b"GET / HTTP/1.1"),
            Err(ParseError::NotJson(_))
        ));
        assert_eq!(parse_line(br#"{"method":5}"#), Err(ParseError::NotRpc));
    }
}
