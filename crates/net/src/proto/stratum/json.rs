//! A JSON value that borrows its strings from the line it was read from.
//!
//! Stratum lines are mostly strings of hex (job ids, coinbase halves, nonces, an Equihash
//! solution of 2,694 digits). `serde_json::Value` copies every one of them into a `String` and
//! every object into a B-tree map, and the classifier reads a handful and drops the rest: that
//! was about a tenth of a scan of real traffic (docs/PERFORMANCE.md). Here a string without
//! escapes is a slice of the line, an object is its members in order, and nothing is built that
//! the classifier does not read. serde_json still does the parsing (and its nesting limit still
//! holds); only the values it hands over are kept differently.

use serde::de::{Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Number, Value};
use std::borrow::Cow;

/// One JSON value, strings borrowed where the line allows.
#[derive(Clone, Debug, PartialEq)]
pub enum Json<'a> {
    /// `null`.
    Null,
    /// `true` or `false`.
    Bool(bool),
    /// A number, as serde_json reads it (so its text is what `Value` would print).
    Num(Number),
    /// A string: borrowed when the line has no escape in it.
    Str(Cow<'a, str>),
    /// An array.
    Arr(Vec<Json<'a>>),
    /// An object's members in the order written (a repeated name: the last one counts, as in
    /// a JSON map; see [`Json::get`]).
    Obj(Vec<(Cow<'a, str>, Json<'a>)>),
}

/// `null`, for absent members.
pub const NULL: Json<'static> = Json::Null;

impl<'a> Json<'a> {
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
                .find(|(k, _)| k == name)
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
            Json::Str(s) => Value::String(s.to_string()),
            Json::Arr(a) => Value::Array(a.iter().map(Json::to_value).collect()),
            Json::Obj(m) => Value::Object(
                m.iter()
                    .map(|(k, v)| (k.to_string(), v.to_value()))
                    .collect(),
            ),
        }
    }
}

impl<'de> Deserialize<'de> for Json<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Json<'de>, D::Error> {
        d.deserialize_any(JsonVisitor)
    }
}

/// Builds a [`Json`], borrowing strings that serde_json hands over borrowed.
struct JsonVisitor;

impl<'de> Visitor<'de> for JsonVisitor {
    type Value = Json<'de>;
    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("JSON")
    }
    fn visit_unit<E>(self) -> Result<Json<'de>, E> {
        Ok(Json::Null)
    }
    fn visit_bool<E>(self, b: bool) -> Result<Json<'de>, E> {
        Ok(Json::Bool(b))
    }
    fn visit_i64<E>(self, n: i64) -> Result<Json<'de>, E> {
        Ok(Json::Num(n.into()))
    }
    fn visit_u64<E>(self, n: u64) -> Result<Json<'de>, E> {
        Ok(Json::Num(n.into()))
    }
    fn visit_f64<E>(self, n: f64) -> Result<Json<'de>, E> {
        // serde_json never hands over a non-finite float; `Value` would be `null` there too.
        Ok(Number::from_f64(n).map_or(Json::Null, Json::Num))
    }
    fn visit_borrowed_str<E>(self, s: &'de str) -> Result<Json<'de>, E> {
        Ok(Json::Str(Cow::Borrowed(s)))
    }
    fn visit_str<E>(self, s: &str) -> Result<Json<'de>, E> {
        Ok(Json::Str(Cow::Owned(s.to_string())))
    }
    fn visit_string<E>(self, s: String) -> Result<Json<'de>, E> {
        Ok(Json::Str(Cow::Owned(s)))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Json<'de>, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(64));
        while let Some(v) = seq.next_element()? {
            items.push(v);
        }
        Ok(Json::Arr(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Json<'de>, A::Error> {
        let mut members = Vec::new();
        while let Some((k, v)) = map.next_entry::<Key<'de>, Json<'de>>()? {
            members.push((k.0, v));
        }
        Ok(Json::Obj(members))
    }
}

/// A member name, borrowed where it can be.
struct Key<'a>(Cow<'a, str>);

impl<'de> Deserialize<'de> for Key<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Key<'de>, D::Error> {
        match d.deserialize_str(JsonVisitor)? {
            Json::Str(s) => Ok(Key(s)),
            _ => Err(serde::de::Error::custom("a member name")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_what_value_reads_and_borrows_plain_strings() {
        let lines = [
            r#"{"a":[1,-2,3.5,1e3,18446744073709551615,"x\"y",null,true,{"b":{}}],"a":"last"}"#,
            r#"["\u00e9t\u00e9", "plain", [], {}]"#,
            r#"12.0"#,
        ];
        for l in lines {
            let j: Json = serde_json::from_str(l).unwrap();
            let v: Value = serde_json::from_str(l).unwrap();
            assert_eq!(j.to_value(), v, "{l}");
            assert_eq!(j.to_value().to_string(), v.to_string(), "{l}");
        }
        let j: Json = serde_json::from_str(r#"{"k":"plain","e":"\n"}"#).unwrap();
        assert!(matches!(
            j.get("k"),
            Some(Json::Str(Cow::Borrowed("plain")))
        ));
        assert!(matches!(j.get("e"), Some(Json::Str(Cow::Owned(_)))));
        let dup: Json = serde_json::from_str(r#"{"a":1,"a":2}"#).unwrap();
        assert_eq!(dup.get("a"), Some(&Json::Num(2.into())));
    }

    #[test]
    fn finds_strings_anywhere() {
        let j: Json =
            serde_json::from_str(r#"[[["mining.notify","1"]],{"k":"EthereumStratum/1.0.0"}]"#)
                .unwrap();
        assert!(j.any_str(&|s| s == "mining.notify"));
        assert!(j.any_str(&|s| s.contains("EthereumStratum/")));
        assert!(!j.any_str(&|s| s == "mining"));
    }
}
