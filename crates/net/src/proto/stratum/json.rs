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
//! of real traffic's instructions (docs/PERFORMANCE.md). Nothing in a `Json` needs dropping, so the
//! arena never has to run destructors. `syntax` reads a line into it.

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
    /// The string, if this is one.
    pub fn as_str(&self) -> Option<&'a str> {
        match *self {
            Json::Str(s) => Some(s),
            _ => None,
        }
    }

    /// The items, if this is an array.
    pub fn as_array(&self) -> Option<&'a [Json<'a>]> {
        match *self {
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
    pub fn at(&self, i: usize) -> Option<&'a Json<'a>> {
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
