//! A forgiving decoder from `serde_json::Value` into the wire types, for what others wrote:
//! the SDK reads the live service through it, the server imports catalog dumps through it.
//!
//! The wire types are exact (integers are `i64`, strings are `String`, every key is required)
//! because the server must emit exactly that. The live service is looser, so the client decodes
//! through this type-directed adapter instead of editing the wire types:
//!
//! - a number sent as a string (`"800"`, `"1,000"`, `""`) where an integer is expected;
//! - a number or boolean where a string is expected (`"orderNo": 2025…`);
//! - `null` or a missing key anywhere: the type's empty value (0, `""`, `None`, `[]`, or a
//!   struct of empty values). (So a `#[serde(alias)]` cannot be used: the missing main key is
//!   filled in as `null` beside the alias, and serde refuses the pair as a duplicate.)
//!
//! Errors name the path (`goodsList[3].salePrice`) but never the offending value: a value
//! may be a PIN.

use std::fmt;

use serde::de::{self, DeserializeOwned, DeserializeSeed, IntoDeserializer, MapAccess, SeqAccess, Unexpected, Visitor};
use serde_json::{Map, Number, Value};

/// Decodes `value` into `T`, tolerating the live service's variants (see the module docs).
pub fn from_value<T: DeserializeOwned>(value: Value) -> Result<T, DecodeError> {
    T::deserialize(Lenient(value))
}

/// Why a response could not be decoded: where, and what was expected (never the value).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodeError {
    /// Path segments, innermost first (pushed while the error bubbles up).
    path: Vec<String>,
    msg: String,
}

impl DecodeError {
    pub fn new(msg: impl Into<String>) -> DecodeError {
        DecodeError { path: Vec::new(), msg: msg.into() }
    }

    fn at(mut self, segment: String) -> DecodeError {
        self.path.push(segment);
        self
    }

    /// Where in the document, e.g. `goodsList[3].salePrice` (empty at the top level).
    pub fn path(&self) -> String {
        let mut out = String::new();
        for seg in self.path.iter().rev() {
            if !seg.starts_with('[') && !out.is_empty() {
                out.push('.');
            }
            out.push_str(seg);
        }
        out
    }
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.path() {
            p if p.is_empty() => f.write_str(&self.msg),
            p => write!(f, "{p}: {}", self.msg),
        }
    }
}

impl std::error::Error for DecodeError {}

/// What kind of value was found, without the value itself.
fn kind(unexp: &Unexpected<'_>) -> &'static str {
    match unexp {
        Unexpected::Bool(_) => "a boolean",
        Unexpected::Unsigned(_) | Unexpected::Signed(_) => "an integer",
        Unexpected::Float(_) => "a number",
        Unexpected::Char(_) | Unexpected::Str(_) => "a string",
        Unexpected::Bytes(_) => "bytes",
        Unexpected::Unit | Unexpected::Option => "null",
        Unexpected::Seq => "an array",
        Unexpected::Map => "an object",
        _ => "another kind of value",
    }
}

impl de::Error for DecodeError {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        DecodeError::new(msg.to_string())
    }

    fn invalid_type(unexp: Unexpected<'_>, exp: &dyn de::Expected) -> Self {
        DecodeError::new(format!("found {}, expected {exp}", kind(&unexp)))
    }

    fn invalid_value(unexp: Unexpected<'_>, exp: &dyn de::Expected) -> Self {
        DecodeError::new(format!("{} out of range, expected {exp}", kind(&unexp)))
    }
}

fn invalid(value: &Value, exp: &str) -> DecodeError {
    let unexp = match value {
        Value::Null => Unexpected::Unit,
        Value::Bool(b) => Unexpected::Bool(*b),
        Value::Number(_) => Unexpected::Float(0.0),
        Value::String(_) => Unexpected::Str(""),
        Value::Array(_) => Unexpected::Seq,
        Value::Object(_) => Unexpected::Map,
    };
    DecodeError::new(format!("found {}, expected {exp}", kind(&unexp)))
}

/// An integer from a JSON number or a digit string; `null` and `""` are 0.
enum Int {
    Signed(i64),
    Unsigned(u64),
}

fn int_of_number(n: &Number) -> Option<Int> {
    if let Some(u) = n.as_u64() {
        return Some(Int::Unsigned(u));
    }
    if let Some(i) = n.as_i64() {
        return Some(Int::Signed(i));
    }
    // 800.0 is an integer sent as a float; 800.5 is not.
    n.as_f64().filter(|f| f.fract() == 0.0 && f.abs() < 9.0e15).map(|f| Int::Signed(f as i64))
}

fn int_of(value: &Value) -> Result<Int, DecodeError> {
    let parsed = match value {
        Value::Null => Some(Int::Unsigned(0)),
        Value::Bool(b) => Some(Int::Unsigned(u64::from(*b))),
        Value::Number(n) => int_of_number(n),
        Value::String(s) => {
            // Thousands separators and padding show up in hand-made responses.
            let t: String = s.trim().chars().filter(|&c| c != ',').collect();
            if t.is_empty() {
                Some(Int::Unsigned(0))
            } else if let Ok(u) = t.parse::<u64>() {
                Some(Int::Unsigned(u))
            } else if let Ok(i) = t.parse::<i64>() {
                Some(Int::Signed(i))
            } else {
                t.parse::<f64>().ok().and_then(Number::from_f64).as_ref().and_then(int_of_number)
            }
        }
        Value::Array(_) | Value::Object(_) => None,
    };
    parsed.ok_or_else(|| invalid(value, "an integer"))
}

fn float_of(value: &Value) -> Result<f64, DecodeError> {
    match value {
        Value::Null => Ok(0.0),
        Value::Number(n) => n.as_f64().ok_or_else(|| invalid(value, "a number")),
        Value::String(s) if s.trim().is_empty() => Ok(0.0),
        Value::String(s) => s.trim().replace(',', "").parse().map_err(|_| invalid(value, "a number")),
        _ => Err(invalid(value, "a number")),
    }
}

struct Lenient(Value);

macro_rules! ints {
    ($($method:ident)*) => {$(
        fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DecodeError> {
            match int_of(&self.0)? {
                Int::Signed(i) => visitor.visit_i64(i),
                Int::Unsigned(u) => visitor.visit_u64(u),
            }
        }
    )*};
}

impl<'de> de::Deserializer<'de> for Lenient {
    type Error = DecodeError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DecodeError> {
        match self.0 {
            Value::Null => visitor.visit_unit(),
            Value::Bool(b) => visitor.visit_bool(b),
            Value::Number(n) => match (n.as_u64(), n.as_i64()) {
                (Some(u), _) => visitor.visit_u64(u),
                (None, Some(i)) => visitor.visit_i64(i),
                _ => visitor.visit_f64(n.as_f64().unwrap_or_default()),
            },
            Value::String(s) => visitor.visit_string(s),
            Value::Array(a) => visitor.visit_seq(SeqDe::new(a)),
            Value::Object(m) => visitor.visit_map(MapDe::new(m, &[])),
        }
    }

    ints!(deserialize_i8 deserialize_i16 deserialize_i32 deserialize_i64 deserialize_i128
          deserialize_u8 deserialize_u16 deserialize_u32 deserialize_u64 deserialize_u128);

    fn deserialize_f32<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DecodeError> {
        visitor.visit_f64(float_of(&self.0)?)
    }

    fn deserialize_f64<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DecodeError> {
        visitor.visit_f64(float_of(&self.0)?)
    }

    fn deserialize_bool<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DecodeError> {
        let b = match &self.0 {
            Value::Null => false,
            Value::Bool(b) => *b,
            Value::Number(n) => n.as_f64().is_some_and(|f| f != 0.0),
            // The API's flags are Y/N strings.
            Value::String(s) => matches!(s.trim().to_ascii_uppercase().as_str(), "Y" | "TRUE" | "1"),
            other => return Err(invalid(other, "a boolean")),
        };
        visitor.visit_bool(b)
    }

    fn deserialize_string<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DecodeError> {
        match self.0 {
            Value::Null => visitor.visit_str(""),
            Value::String(s) => visitor.visit_string(s),
            Value::Number(n) => visitor.visit_string(n.to_string()),
            Value::Bool(b) => visitor.visit_string(b.to_string()),
            other => Err(invalid(&other, "a string")),
        }
    }

    fn deserialize_str<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DecodeError> {
        self.deserialize_string(visitor)
    }

    fn deserialize_char<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DecodeError> {
        self.deserialize_string(visitor)
    }

    fn deserialize_identifier<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DecodeError> {
        self.deserialize_string(visitor)
    }

    fn deserialize_bytes<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DecodeError> {
        self.deserialize_string(visitor)
    }

    fn deserialize_byte_buf<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DecodeError> {
        self.deserialize_string(visitor)
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DecodeError> {
        match self.0 {
            Value::Null => visitor.visit_none(),
            v => visitor.visit_some(Lenient(v)),
        }
    }

    fn deserialize_unit<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DecodeError> {
        visitor.visit_unit()
    }

    fn deserialize_unit_struct<V: Visitor<'de>>(self, _name: &'static str, visitor: V) -> Result<V::Value, DecodeError> {
        visitor.visit_unit()
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(self, _name: &'static str, visitor: V) -> Result<V::Value, DecodeError> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DecodeError> {
        match self.0 {
            Value::Null => visitor.visit_seq(SeqDe::new(Vec::new())),
            Value::Array(a) => visitor.visit_seq(SeqDe::new(a)),
            other => Err(invalid(&other, "an array")),
        }
    }

    fn deserialize_tuple<V: Visitor<'de>>(self, _len: usize, visitor: V) -> Result<V::Value, DecodeError> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value, DecodeError> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_map<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DecodeError> {
        self.deserialize_struct("", &[], visitor)
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, DecodeError> {
        match self.0 {
            Value::Null => visitor.visit_map(MapDe::new(Map::new(), fields)),
            Value::Object(m) => visitor.visit_map(MapDe::new(m, fields)),
            other => Err(invalid(&other, "an object")),
        }
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, DecodeError> {
        // Only unit variants spelled as strings occur on this API.
        match self.0 {
            Value::String(s) => visitor.visit_enum(IntoDeserializer::<DecodeError>::into_deserializer(s)),
            other => Err(invalid(&other, "a string")),
        }
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DecodeError> {
        visitor.visit_unit()
    }
}

struct SeqDe {
    iter: std::iter::Enumerate<std::vec::IntoIter<Value>>,
    len: usize,
}

impl SeqDe {
    fn new(items: Vec<Value>) -> SeqDe {
        SeqDe { len: items.len(), iter: items.into_iter().enumerate() }
    }
}

impl<'de> SeqAccess<'de> for SeqDe {
    type Error = DecodeError;

    fn next_element_seed<T: DeserializeSeed<'de>>(&mut self, seed: T) -> Result<Option<T::Value>, DecodeError> {
        match self.iter.next() {
            Some((i, v)) => seed.deserialize(Lenient(v)).map(Some).map_err(|e| e.at(format!("[{i}]"))),
            None => Ok(None),
        }
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.len)
    }
}

/// The object's entries, then `null` for each of the struct's fields the object lacks, so a
/// missing key decodes as its type's empty value.
struct MapDe {
    entries: std::vec::IntoIter<(String, Value)>,
    current: Option<(String, Value)>,
}

impl MapDe {
    fn new(map: Map<String, Value>, fields: &'static [&'static str]) -> MapDe {
        let missing: Vec<(String, Value)> =
            fields.iter().filter(|f| !map.contains_key(**f)).map(|f| ((*f).to_owned(), Value::Null)).collect();
        let mut entries: Vec<(String, Value)> = map.into_iter().collect();
        entries.extend(missing);
        MapDe { entries: entries.into_iter(), current: None }
    }
}

impl<'de> MapAccess<'de> for MapDe {
    type Error = DecodeError;

    fn next_key_seed<K: DeserializeSeed<'de>>(&mut self, seed: K) -> Result<Option<K::Value>, DecodeError> {
        match self.entries.next() {
            Some((k, v)) => {
                let key = seed.deserialize(IntoDeserializer::<DecodeError>::into_deserializer(k.clone()))?;
                self.current = Some((k, v));
                Ok(Some(key))
            }
            None => Ok(None),
        }
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, DecodeError> {
        let (k, v) = self.current.take().ok_or_else(|| DecodeError::new("a value without its key"))?;
        seed.deserialize(Lenient(v)).map_err(|e| e.at(k))
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.entries.len() + usize::from(self.current.is_some()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;
    use serde_json::json;

    #[derive(Debug, Deserialize, PartialEq)]
    #[serde(rename_all = "camelCase")]
    struct Sample {
        price: i64,
        count: u64,
        name: String,
        note: Option<String>,
        tags: Vec<String>,
        inner: Inner,
    }

    #[derive(Debug, Deserialize, PartialEq)]
    struct Inner {
        n: i64,
    }

    #[test]
    fn strings_become_numbers_and_missing_keys_become_empty() {
        let s: Sample = from_value(json!({"price": "1,800", "count": 3.0, "name": 42, "extra": true})).unwrap();
        let want = Sample { price: 1800, count: 3, name: "42".into(), note: None, tags: vec![], inner: Inner { n: 0 } };
        assert_eq!(s, want);
    }

    #[test]
    fn errors_name_the_path_but_not_the_value() {
        let e = from_value::<Sample>(json!({"tags": ["a", {"x": 1}], "price": 1})).unwrap_err();
        assert_eq!(e.path(), "tags[1]");
        let e = from_value::<Sample>(json!({"inner": {"n": "911259415286x"}})).unwrap_err();
        assert_eq!(e.to_string(), "inner.n: found a string, expected an integer");
        assert!(!e.to_string().contains("9112"));
    }

    #[test]
    fn out_of_range_and_fractions_are_refused() {
        assert!(from_value::<u8>(json!("300")).is_err());
        assert!(from_value::<i64>(json!(800.5)).is_err());
        assert_eq!(from_value::<i64>(json!("-5")).unwrap(), -5);
        assert_eq!(from_value::<i64>(json!("")).unwrap(), 0);
    }
}
