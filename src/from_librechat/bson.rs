//! `mongodump`'s `<collection>.bson`: documents one after the other, each framed by its length.
//!
//! Read one document at a time into a buffer that is reused, and turned into the JSON value
//! LibreChat's API would have answered for it: ObjectIds become their 24 hex characters, dates
//! the ISO text JavaScript prints (`2024-01-02T03:04:05.678Z`). A 20 GB dump never sits in
//! memory: only the largest document seen so far does.
//!
//! Written by hand rather than with the `bson` crate: the mapping needs only this walk from
//! bytes to `serde_json` values (BSON's types are fixed by its specification, bsonspec.org),
//! and the crate's weight does not fit the binary's size budget. The tests write their dumps
//! with the `bson` crate, so the two are checked against each other.

use std::io::{self, Read};

use serde_json::{Map, Number, Value};

/// MongoDB refuses documents over 16 MiB; a dump may hold a little more (old servers, raw
/// writes). Anything far beyond is a corrupt length, not a document.
const MAX_DOCUMENT: usize = 48 * 1024 * 1024;
/// MongoDB nests documents at most 100 deep; deeper input is refused before it can exhaust
/// the stack.
const MAX_DEPTH: usize = 100;

/// Why reading stopped before the end of the file.
#[derive(Debug)]
pub enum Stop {
    /// The file ends inside a document (a dump cut short).
    Truncated {
        offset: u64,
    },
    /// A length that cannot be a document's: the framing is lost, nothing after can be read.
    BadLength {
        offset: u64,
        length: i64,
    },
    Io(io::Error),
}

impl std::fmt::Display for Stop {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Stop::Truncated { offset } => {
                write!(
                    f,
                    "the file ends inside a document (truncated at byte {offset})"
                )
            }
            Stop::BadLength { offset, length } => write!(
                f,
                "a document at byte {offset} claims {length} bytes: the file is corrupt from there on"
            ),
            Stop::Io(e) => write!(f, "cannot read: {e}"),
        }
    }
}

/// One document, or why its inside is not BSON.
pub type Parsed = Result<Map<String, Value>, String>;

/// Reads the documents of one `.bson` stream.
pub struct Documents<R> {
    input: R,
    buf: Vec<u8>,
    offset: u64,
}

impl<R: Read> Documents<R> {
    pub fn new(input: R) -> Self {
        Self {
            input,
            buf: Vec::new(),
            offset: 0,
        }
    }

    /// The next document: `Ok(None)` at the end, `Ok(Some(Err(why)))` for a document whose
    /// frame is intact but whose inside is not BSON (skipped; reading goes on), `Err` when
    /// reading cannot go on.
    pub fn next_document(&mut self) -> Result<Option<Parsed>, Stop> {
        let start = self.offset;
        let mut len = [0u8; 4];
        let got = read_full(&mut self.input, &mut len).map_err(Stop::Io)?;
        if got == 0 {
            return Ok(None);
        }
        if got < 4 {
            return Err(Stop::Truncated { offset: start });
        }
        let length = i32::from_le_bytes(len);
        if length < 5 || length as usize > MAX_DOCUMENT {
            return Err(Stop::BadLength {
                offset: start,
                length: length.into(),
            });
        }
        let length = length as usize;
        // The buffer only grows (zeroed once), up to the largest document read so far.
        if self.buf.len() < length {
            self.buf.resize(length, 0);
        }
        let buf = &mut self.buf[..length];
        buf[..4].copy_from_slice(&len);
        let got = read_full(&mut self.input, &mut buf[4..]).map_err(Stop::Io)?;
        if got < length - 4 {
            return Err(Stop::Truncated { offset: start });
        }
        self.offset += length as u64;
        let parsed = document(buf, 0).map_err(|why| format!("byte {start}: {why}"));
        // One huge document must not keep its buffer for the rest of the file.
        if self.buf.capacity() > 4 * 1024 * 1024 {
            self.buf = Vec::new();
        }
        Ok(Some(parsed))
    }
}

fn read_full(r: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

/// Parses one whole document (its length prefix included) into a JSON object.
pub fn document(bytes: &[u8], depth: usize) -> Result<Map<String, Value>, String> {
    let mut map = Map::new();
    walk(bytes, depth, |k, v| {
        map.insert(k.to_owned(), v);
    })?;
    Ok(map)
}

fn array(bytes: &[u8], depth: usize) -> Result<Vec<Value>, String> {
    let mut items = Vec::new();
    walk(bytes, depth, |_, v| items.push(v))?;
    Ok(items)
}

/// Calls `each` with every element of the document `bytes`.
fn walk(bytes: &[u8], depth: usize, mut each: impl FnMut(&str, Value)) -> Result<(), String> {
    if depth > MAX_DEPTH {
        return Err(format!("nested deeper than {MAX_DEPTH} levels"));
    }
    let declared = i32_at(bytes, 0)? as usize;
    if declared != bytes.len() || bytes.last() != Some(&0) {
        return Err("a document's length does not match its bytes".into());
    }
    let mut at = 4;
    while at < bytes.len() - 1 {
        let kind = bytes[at];
        let (name, after) = cstring(bytes, at + 1)?;
        let (value, next) = element(bytes, kind, after, depth)?;
        each(name, value);
        at = next;
    }
    Ok(())
}

/// The value of type `kind` starting at `at`, and where the next element starts.
fn element(bytes: &[u8], kind: u8, at: usize, depth: usize) -> Result<(Value, usize), String> {
    let fixed = |n: usize| -> Result<&[u8], String> {
        bytes
            .get(at..at + n)
            .ok_or_else(|| "a value runs past its document".to_string())
    };
    Ok(match kind {
        0x01 => {
            let f = f64::from_le_bytes(fixed(8)?.try_into().unwrap_or_default());
            (
                Number::from_f64(f).map_or(Value::Null, Value::Number),
                at + 8,
            )
        }
        0x02 | 0x0D | 0x0E => {
            let (s, next) = string(bytes, at)?;
            (Value::String(s), next)
        }
        0x03 | 0x04 => {
            let len = i32_at(bytes, at)?;
            let end = at
                .checked_add(usize::try_from(len).map_err(|_| "a negative length")?)
                .filter(|&e| e <= bytes.len() && len >= 5)
                .ok_or("an embedded document runs past its parent")?;
            let inner = &bytes[at..end];
            let v = if kind == 0x03 {
                Value::Object(document(inner, depth + 1)?)
            } else {
                Value::Array(array(inner, depth + 1)?)
            };
            (v, end)
        }
        0x05 => {
            let len = usize::try_from(i32_at(bytes, at)?).map_err(|_| "a negative length")?;
            let data = bytes
                .get(at + 5..at + 5 + len)
                .ok_or("binary data runs past its document")?;
            let subtype = bytes[at + 4];
            // UUIDs (subtype 4, and the legacy 3) read as the text mongoose gives them.
            let v = match (subtype, data.len()) {
                (3 | 4, 16) => Value::String(uuid_text(data)),
                _ => Value::Null,
            };
            (v, at + 5 + len)
        }
        0x06 | 0x0A | 0x7F | 0xFF => (Value::Null, at),
        0x07 => (Value::String(hex::encode(fixed(12)?)), at + 12),
        0x08 => (Value::Bool(fixed(1)?[0] != 0), at + 1),
        0x09 => {
            let ms = i64::from_le_bytes(fixed(8)?.try_into().unwrap_or_default());
            (date_value(ms), at + 8)
        }
        0x0B => {
            let (pattern, after) = cstring(bytes, at)?;
            let (flags, next) = cstring(bytes, after)?;
            (Value::String(format!("/{pattern}/{flags}")), next)
        }
        0x0C => {
            let (_, after) = string(bytes, at)?;
            (Value::Null, after + 12)
        }
        0x0F => {
            let len = usize::try_from(i32_at(bytes, at)?).map_err(|_| "a negative length")?;
            (Value::Null, at + len)
        }
        0x10 => {
            let n = i32::from_le_bytes(fixed(4)?.try_into().unwrap_or_default());
            (Value::from(n), at + 4)
        }
        0x11 | 0x12 => {
            let n = i64::from_le_bytes(fixed(8)?.try_into().unwrap_or_default());
            (Value::from(n), at + 8)
        }
        // Decimal128: not a type mongoose writes for LibreChat's fields.
        0x13 => {
            fixed(16)?;
            (Value::Null, at + 16)
        }
        other => return Err(format!("unknown BSON type 0x{other:02x}")),
    })
}

/// A BSON date (milliseconds since 1970) as stored here; out of JavaScript's range → null.
pub fn date_value(ms: i64) -> Value {
    time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .ok()
        .filter(|t| (0..=9999).contains(&t.year()))
        .map_or(Value::Null, |t| Value::String(crate::db::to_rfc3339(t)))
}

/// A UUID's 16 bytes as the text mongoose gives them.
pub fn uuid_text(b: &[u8]) -> String {
    let h = hex::encode(b);
    format!(
        "{}-{}-{}-{}-{}",
        &h[..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..]
    )
}

fn i32_at(bytes: &[u8], at: usize) -> Result<i32, String> {
    bytes
        .get(at..at + 4)
        .map(|b| i32::from_le_bytes(b.try_into().unwrap_or_default()))
        .ok_or_else(|| "a length runs past its document".to_string())
}

fn cstring(bytes: &[u8], at: usize) -> Result<(&str, usize), String> {
    let rest = bytes.get(at..).ok_or("a name runs past its document")?;
    let end = rest
        .iter()
        .position(|&b| b == 0)
        .ok_or("a name is not terminated")?;
    let s = std::str::from_utf8(&rest[..end]).map_err(|_| "a name is not UTF-8")?;
    Ok((s, at + end + 1))
}

fn string(bytes: &[u8], at: usize) -> Result<(String, usize), String> {
    let len = usize::try_from(i32_at(bytes, at)?).map_err(|_| "a negative string length")?;
    let data = bytes
        .get(at + 4..at + 4 + len)
        .filter(|d| d.last() == Some(&0))
        .ok_or("a string runs past its document")?;
    let data = &data[..len - 1];
    // Checked first as a whole (fast); only broken text goes through the lossy decoder.
    let s = match std::str::from_utf8(data) {
        Ok(s) => s.to_owned(),
        Err(_) => String::from_utf8_lossy(data).into_owned(),
    };
    Ok((s, at + 4 + len))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `{"a": 1, "b": "x", "c": {"d": true}}` written by hand from the specification.
    fn sample() -> Vec<u8> {
        let mut inner = vec![0x08, b'd', 0, 1, 0];
        let len = (inner.len() + 4) as i32;
        inner.splice(0..0, len.to_le_bytes());
        let mut body = vec![0x10, b'a', 0, 1, 0, 0, 0];
        body.extend([0x02, b'b', 0, 2, 0, 0, 0, b'x', 0]);
        body.extend([0x03, b'c', 0]);
        body.extend(&inner);
        body.push(0);
        let len = (body.len() + 4) as i32;
        body.splice(0..0, len.to_le_bytes());
        body
    }

    #[test]
    fn reads_documents_then_the_end() {
        let mut two = sample();
        two.extend(sample());
        let mut docs = Documents::new(&two[..]);
        for _ in 0..2 {
            let d = docs.next_document().unwrap().unwrap().unwrap();
            assert_eq!(
                Value::Object(d),
                serde_json::json!({"a":1,"b":"x","c":{"d":true}})
            );
        }
        assert!(docs.next_document().unwrap().is_none());
    }

    #[test]
    fn a_cut_file_says_where() {
        let mut bytes = sample();
        let whole = bytes.len();
        bytes.extend(&sample()[..7]);
        let mut docs = Documents::new(&bytes[..]);
        assert!(docs.next_document().unwrap().is_some());
        match docs.next_document() {
            Err(Stop::Truncated { offset }) => assert_eq!(offset, whole as u64),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn impossible_lengths_stop_reading() {
        for len in [0i32, -7, i32::MAX] {
            let bytes = len.to_le_bytes();
            let mut docs = Documents::new(&bytes[..]);
            assert!(matches!(docs.next_document(), Err(Stop::BadLength { .. })));
        }
    }

    #[test]
    fn a_broken_inside_is_one_bad_document() {
        let mut bytes = sample();
        bytes[4] = 0x42; // the first element's type
        bytes.extend(sample());
        let mut docs = Documents::new(&bytes[..]);
        assert!(docs.next_document().unwrap().unwrap().is_err());
        assert!(docs.next_document().unwrap().unwrap().is_ok());
    }

    #[test]
    fn deep_nesting_is_refused_not_overflowed() {
        // 200 documents nested in each other: {"a": {"a": ... {}}}.
        let mut doc = vec![5, 0, 0, 0, 0];
        for _ in 0..200 {
            let mut body = vec![0x03, b'a', 0];
            body.extend(&doc);
            body.push(0);
            let len = (body.len() + 4) as i32;
            body.splice(0..0, len.to_le_bytes());
            doc = body;
        }
        assert!(document(&doc, 0).unwrap_err().contains("nested"));
    }

    #[test]
    fn dates_read_as_javascript_prints_them() {
        assert_eq!(date_value(1_704_164_645_678), "2024-01-02T03:04:05.678Z");
        assert_eq!(date_value(i64::MAX), Value::Null);
    }
}
