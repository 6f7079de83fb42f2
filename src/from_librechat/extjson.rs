//! `mongoexport`'s `<collection>.json`: MongoDB Extended JSON, one document per line (or one
//! array of documents with `--jsonArray`), relaxed or canonical.
//!
//! Each document ends up as the same JSON object [`super::bson`] makes from a `.bson` file, so
//! the collections are mapped by one code path whichever form the admin brings.

use std::fmt;
use std::io::BufRead;

use serde::de::{DeserializeSeed, Deserializer, SeqAccess, Visitor};
use serde_json::{Map, Value};

use super::bson::Stop;
use super::source::Each;

/// A line longer than this is not a LibreChat document (MongoDB's limit is 16 MiB of BSON).
const MAX_LINE: usize = 64 * 1024 * 1024;

/// Calls `each` with every document of an export, streaming: one line (or one array element)
/// at a time. A line that is not a JSON object is passed on as `Err(why)`.
pub fn read(mut input: impl BufRead, each: Each) -> Result<(), Stop> {
    // `--jsonArray`: one array around everything; otherwise one document per line.
    let first = loop {
        let buf = input.fill_buf().map_err(Stop::Io)?;
        match buf.iter().position(|b| !b.is_ascii_whitespace()) {
            Some(i) => {
                let b = buf[i];
                input.consume(i);
                break Some(b);
            }
            None if buf.is_empty() => break None,
            None => {
                let n = buf.len();
                input.consume(n);
            }
        }
    };
    match first {
        None => Ok(()),
        Some(b'[') => read_array(input, each),
        Some(_) => read_lines(input, each),
    }
}

fn read_lines(mut input: impl BufRead, each: Each) -> Result<(), Stop> {
    let mut line = Vec::new();
    let mut number = 0u64;
    loop {
        line.clear();
        let n = std::io::Read::take(&mut input, MAX_LINE as u64 + 1)
            .read_until(b'\n', &mut line)
            .map_err(Stop::Io)?;
        if n == 0 {
            return Ok(());
        }
        number += 1;
        if line.len() > MAX_LINE {
            if each(Err(format!("line {number} is longer than 64 MiB"))).is_break() {
                return Ok(());
            }
            // Skip the rest of that line.
            let mut rest = Vec::new();
            input.read_until(b'\n', &mut rest).map_err(Stop::Io)?;
            continue;
        }
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        let parsed = match serde_json::from_slice::<Value>(&line) {
            Ok(v) => object(v).ok_or_else(|| format!("line {number} is not a JSON object")),
            Err(e) => Err(format!("line {number} is not JSON: {e}")),
        };
        if each(parsed).is_break() {
            return Ok(());
        }
    }
}

fn read_array(input: impl BufRead, each: Each) -> Result<(), Stop> {
    struct Elements<'a>(Each<'a>);
    impl<'de> Visitor<'de> for Elements<'_> {
        type Value = ();
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("an array of documents")
        }
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
            let mut i = 0u64;
            while let Some(v) = seq.next_element::<Value>()? {
                i += 1;
                let d = object(v).ok_or_else(|| format!("element {i} is not an object"));
                if (self.0)(d).is_break() {
                    return Err(serde::de::Error::custom("reading was stopped"));
                }
            }
            Ok(())
        }
    }
    impl<'de> DeserializeSeed<'de> for Elements<'_> {
        type Value = ();
        fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
            d.deserialize_seq(self)
        }
    }
    // The `[` was looked at, not consumed: the deserializer reads the array whole, element by
    // element, never holding more than one.
    let mut de = serde_json::Deserializer::from_reader(input);
    Elements(each).deserialize(&mut de).map_err(|e| {
        if e.is_eof() {
            Stop::Truncated {
                offset: e.line() as u64,
            }
        } else {
            Stop::Io(std::io::Error::new(std::io::ErrorKind::InvalidData, e))
        }
    })
}

fn object(mut v: Value) -> Option<Map<String, Value>> {
    normalize(&mut v, 0);
    match v {
        Value::Object(m) => Some(m),
        _ => None,
    }
}

/// Replaces Extended JSON's typed wrappers (`{"$oid": ...}`, `{"$date": ...}`,
/// `{"$numberLong": ...}`, ...) with the plain values LibreChat's API shows for them.
pub fn normalize(v: &mut Value, depth: usize) {
    if depth > 100 {
        *v = Value::Null;
        return;
    }
    match v {
        Value::Array(items) => items.iter_mut().for_each(|i| normalize(i, depth + 1)),
        Value::Object(m) => {
            if let Some(plain) = typed(m) {
                *v = plain;
            } else {
                m.values_mut().for_each(|i| normalize(i, depth + 1));
            }
        }
        _ => {}
    }
}

fn typed(m: &Map<String, Value>) -> Option<Value> {
    let (key, inner) = m.iter().next()?;
    if !key.starts_with('$') {
        return None;
    }
    let text = || inner.as_str().map(str::to_owned);
    let number = |s: &str| -> Value {
        s.parse::<i64>()
            .map(Value::from)
            .or_else(|_| {
                s.parse::<f64>()
                    .map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number))
            })
            .unwrap_or(Value::Null)
    };
    Some(match (key.as_str(), m.len()) {
        ("$oid" | "$symbol" | "$code", 1) => Value::String(text()?),
        ("$date", 1) => date(inner),
        ("$numberLong" | "$numberInt" | "$numberDouble" | "$numberDecimal", 1) => {
            number(inner.as_str()?)
        }
        ("$uuid", 1) => Value::String(text()?),
        ("$binary", _) => {
            let sub = inner
                .get("subType")
                .or_else(|| m.get("$type"))
                .and_then(Value::as_str)
                .unwrap_or("");
            let b64 = inner
                .get("base64")
                .and_then(Value::as_str)
                .or(inner.as_str());
            match (sub, b64.and_then(decode_base64)) {
                ("04" | "03" | "4" | "3", Some(b)) if b.len() == 16 => {
                    Value::String(super::bson::uuid_text(&b))
                }
                _ => Value::Null,
            }
        }
        ("$timestamp", 1) => inner.get("t").cloned().unwrap_or(Value::Null),
        ("$regularExpression", 1) => Value::String(format!(
            "/{}/{}",
            inner.get("pattern").and_then(Value::as_str).unwrap_or(""),
            inner.get("options").and_then(Value::as_str).unwrap_or("")
        )),
        ("$undefined" | "$minKey" | "$maxKey", 1) => Value::Null,
        _ => return None,
    })
}

/// `$date` in its three forms: ISO text (relaxed), `{"$numberLong": ms}` (canonical, or out
/// of the ISO range), or a bare number of milliseconds (old `mongoexport`).
fn date(inner: &Value) -> Value {
    match inner {
        Value::String(s) => {
            time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339)
                .map_or(Value::Null, |t| {
                    super::bson::date_value((t.unix_timestamp_nanos() / 1_000_000) as i64)
                })
        }
        Value::Number(n) => n.as_i64().map_or(Value::Null, super::bson::date_value),
        Value::Object(o) => o
            .get("$numberLong")
            .and_then(Value::as_str)
            .and_then(|s| s.parse::<i64>().ok())
            .map_or(Value::Null, super::bson::date_value),
        _ => Value::Null,
    }
}

fn decode_base64(s: &str) -> Option<Vec<u8>> {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.decode(s).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::ops::ControlFlow;

    fn all(text: &str) -> Vec<Result<Value, String>> {
        let mut out = Vec::new();
        read(text.as_bytes(), &mut |d| {
            out.push(d.map(Value::Object));
            ControlFlow::Continue(())
        })
        .unwrap();
        out
    }

    #[test]
    fn relaxed_and_canonical_forms_read_the_same() {
        let relaxed = r#"{"_id":{"$oid":"65a1b2c3d4e5f60718293a4b"},"n":3,"at":{"$date":"2024-01-02T03:04:05.678Z"}}"#;
        let canonical = r#"{"_id":{"$oid":"65a1b2c3d4e5f60718293a4b"},"n":{"$numberInt":"3"},"at":{"$date":{"$numberLong":"1704164645678"}}}"#;
        let want = json!({"_id":"65a1b2c3d4e5f60718293a4b","n":3,"at":"2024-01-02T03:04:05.678Z"});
        assert_eq!(all(relaxed)[0].as_ref().unwrap(), &want);
        assert_eq!(all(canonical)[0].as_ref().unwrap(), &want);
    }

    #[test]
    fn arrays_stream_and_bad_lines_are_reported_alone() {
        let got = all("[{\"a\":1},\n{\"a\":2}]");
        assert_eq!(got.len(), 2);
        let got = all("{\"a\":1}\nnot json\n\n[1]\n{\"a\":2}\n");
        assert_eq!(got.len(), 4);
        assert!(got[1].is_err() && got[2].is_err());
        assert_eq!(got[3].as_ref().unwrap(), &json!({"a":2}));
    }

    #[test]
    fn a_cut_array_stops_with_truncated() {
        let mut n = 0;
        let r = read("[{\"a\":1},{\"a\"".as_bytes(), &mut |_| {
            n += 1;
            ControlFlow::Continue(())
        });
        assert!(matches!(r, Err(Stop::Truncated { .. })));
        assert_eq!(n, 1);
    }

    #[test]
    fn reading_stops_when_asked() {
        for text in [
            "{\"a\":1}\n{\"a\":2}\n{\"a\":3}\n",
            "[{\"a\":1},{\"a\":2},{\"a\":3}]",
        ] {
            let mut n = 0;
            let _ = read(text.as_bytes(), &mut |_| {
                n += 1;
                ControlFlow::Break(())
            });
            assert_eq!(n, 1, "{text}");
        }
    }
}
