//! A JSON value that borrows its strings from the line it was read from, and its arrays and
//! objects from an arena that lives as long as the line's messages.
//!
//! Stratum lines are mostly strings of hex (job ids, coinbase halves, nonces, an Equihash
//! solution of 2,694 digits). `serde_json::Value` copies every one of them into a `String` and
//! every object into a B-tree map, and the classifier reads a handful and drops the rest: that
//! was about a tenth of a scan of real traffic (docs/PERFORMANCE.md). Here a string without
//! escapes is a slice of the line, an object is its members in order, and nothing is built that
//! the classifier does not read. Arrays and objects live in a `bumpalo` arena that the scanner
//! resets line by line: allocating and freeing every array of every line was a tenth of a scan
//! of real traffic's instructions (session 13). Nothing in a `Json` needs dropping, so the
//! arena never has to run destructors. `syntax` reads a line into it.

use bumpalo::Bump;
use serde_json::{Number, Value};

/// One JSON value: strings borrowed from the line, or (with escapes) from the line's arena;
/// arrays and objects are slices of the arena.
#[derive(Clone, Debug, PartialEq)]
pub enum Json<'a> {
    /// `null`.
    Null,
    /// `true` or `false`.
    Bool(bool),
    /// A number, as serde_json reads it (so its text is what `Value` would print).
    Num(Number),
    /// A string, escapes decoded.
    Str(&'a str),
    /// An array.
    Arr(&'a [Json<'a>]),
    /// An object's members in the order written (a repeated name: the last one counts, as in
    /// a JSON map; see [`Json::get`]).
    Obj(&'a [(&'a str, Json<'a>)]),
}

/// `null`, for absent members.
pub const NULL: Json<'static> = Json::Null;

impl<'a> Json<'a> {
    /// Reads one JSON text into `arena` (the way a Stratum line's members are read).
    pub fn parse(text: &'a [u8], arena: &'a Bump) -> Result<Json<'a>, super::syntax::SyntaxError> {
        let mut r = super::syntax::Reader::new(text, arena);
        let v = r.value(1)?;
        r.end()?;
        Ok(v)
    }

    /// The string, if this is one.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Json::Str(s) => Some(s),
            _ => None,
        }
    }

    /// The items, if this is an array.
    pub fn as_array(&self) -> Option<&[Json<'a>]> {
        match self {
            Json::Arr(a) => Some(a),
            _ => None,
        }
    }

    /// True for an object.
    pub fn is_object(&self) -> bool {
        matches!(self, Json::Obj(_))
    }

    /// True for a string.
    pub fn is_string(&self) -> bool {
        matches!(self, Json::Str(_))
    }

    /// True for `null`.
    pub fn is_null(&self) -> bool {
        matches!(self, Json::Null)
    }

    /// Item `i` of an array.
    pub fn at(&self, i: usize) -> Option<&Json<'a>> {
        self.as_array()?.get(i)
    }

    /// Member `name` of an object; of repeated names the last, as a JSON map keeps it.
    pub fn get(&self, name: &str) -> Option<&Json<'a>> {
        match self {
            Json::Obj(members) => members
                .iter()
                .rev()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| v),
            _ => None,
        }
    }

    /// True when the object has member `name`.
    pub fn has(&self, name: &str) -> bool {
        self.get(name).is_some()
    }

    /// True when some string anywhere inside (a member name or a value) satisfies `f`.
    pub fn any_str(&self, f: &dyn Fn(&str) -> bool) -> bool {
        match self {
            Json::Str(s) => f(s),
            Json::Arr(a) => a.iter().any(|v| v.any_str(f)),
            Json::Obj(m) => m.iter().any(|(k, v)| f(k) || v.any_str(f)),
            Json::Null | Json::Bool(_) | Json::Num(_) => false,
        }
    }

    /// The same value as a `serde_json::Value` (for tests and the rare reader that needs one).
    pub fn to_value(&self) -> Value {
        match self {
            Json::Null => Value::Null,
            Json::Bool(b) => Value::Bool(*b),
            Json::Num(n) => Value::Number(n.clone()),
            Json::Str(s) => Value::String((*s).to_string()),
            Json::Arr(a) => Value::Array(a.iter().map(Json::to_value).collect()),
            Json::Obj(m) => Value::Object(
                m.iter()
                    .map(|(k, v)| (k.to_string(), v.to_value()))
                    .collect(),
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_what_value_reads_and_borrows_plain_strings() {
        let arena = Bump::new();
        let lines = [
            r#"{"a":[1,-2,3.5,1e3,18446744073709551615,"x\"y",null,true,{"b":{}}],"a":"last"}"#,
            r#"["\u00e9t\u00e9", "plain", [], {}]"#,
            r#"12.0"#,
        ];
        for l in lines {
            let j = Json::parse(l.as_bytes(), &arena).unwrap();
            let v: Value = serde_json::from_str(l).unwrap();
            assert_eq!(j.to_value(), v, "{l}");
            assert_eq!(j.to_value().to_string(), v.to_string(), "{l}");
        }
        let line = br#"{"k":"plain","e":"\n"}"#;
        let j = Json::parse(line, &arena).unwrap();
        let inside = |s: &str| line.as_ptr_range().contains(&s.as_ptr());
        assert!(j.get("k").and_then(Json::as_str).is_some_and(inside));
        assert_eq!(j.get("e").and_then(Json::as_str), Some("\n"));
        assert!(!j.get("e").and_then(Json::as_str).is_some_and(inside));
        let dup = Json::parse(br#"{"a":1,"a":2}"#, &arena).unwrap();
        assert_eq!(dup.get("a"), Some(&Json::Num(2.into())));
    }

    #[test]
    fn finds_strings_anywhere() {
        let arena = Bump::new();
        let j = Json::parse(
            br#"[[["mining.notify","1"]],{"k":"EthereumStratum/1.0.0"}]"#,
            &arena,
        )
        .unwrap();
        assert!(j.any_str(&|s| s == "mining.notify"));
        assert!(j.any_str(&|s| s.contains("EthereumStratum/")));
        assert!(!j.any_str(&|s| s == "mining"));
    }
}
