//! Reading an export file in two streaming passes.
//!
//! The first pass ([`scan`]) checks that the whole file is well-formed JSON and measures each
//! conversation (each element of a top-level array, or the top-level object) in bytes and in
//! nesting depth, keeping nothing but the ones that are too large or too deep. The second
//! pass ([`each_conversation`]) hands the conversations over one at a time, skipping those.
//!
//! The first pass reads every string and number as the second will (serde_json's "ignore" mode
//! would skip invalid UTF-8, lone surrogates and numbers too large for f64), so a value the
//! second pass cannot hold is found before anything is stored.
//!
//! Deeply nested files are legitimate (LibreChat's "recursive" export nests each reply inside
//! the message it answers), so both passes lift serde_json's recursion limit and must run on a
//! thread with a large stack ([`STACK_BYTES`]); the first pass recurses at most [`MAX_DEPTH`]
//! levels (deeper conversations are refused, so it only skips over what lies below that).

use std::cell::Cell;
use std::collections::BTreeMap;
use std::io::Read;
use std::rc::Rc;

use serde::Deserialize;
use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};

use super::ImportError;
use super::stream::Conversation;

/// The largest conversation read, in bytes of JSON. A conversation's messages are held in
/// memory until it is stored, at two to three times its size.
pub const MAX_CONVERSATION_BYTES: u64 = 16 * 1024 * 1024;
/// The deepest nesting read: a nested LibreChat export of 5,000 messages in one chain.
pub const MAX_DEPTH: u32 = 10_000;
/// The stack of the thread that runs the second pass: enough for [`MAX_DEPTH`] levels.
pub const STACK_BYTES: usize = 512 * 1024 * 1024;

/// Why a conversation is not read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TooBig {
    Bytes(u64),
    Depth(u32),
}

impl std::fmt::Display for TooBig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TooBig::Bytes(n) => write!(
                f,
                "it is too large ({:.1} MB; at most {} MB per conversation)",
                *n as f64 / 1e6,
                MAX_CONVERSATION_BYTES / 1_000_000
            ),
            TooBig::Depth(d) => write!(f, "it nests {d} levels deep (at most {MAX_DEPTH})"),
        }
    }
}

/// What the first pass found.
#[derive(Debug, Default)]
pub struct Scan {
    /// Whether the file is one conversation (a top-level object) rather than a list.
    pub single: bool,
    /// The conversations not to read, by position (from 1).
    pub refused: BTreeMap<usize, TooBig>,
}

/// Byte count and nesting depth of what has been read, shared with the visitor.
#[derive(Default)]
struct Meter {
    bytes: Cell<u64>,
    depth: Cell<u32>,
    deepest: Cell<u32>,
    in_string: Cell<bool>,
    escaped: Cell<bool>,
}

/// A reader that feeds every byte it passes on through a [`Meter`].
struct Metered<R> {
    inner: R,
    meter: Rc<Meter>,
}

impl<R: Read> Read for Metered<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        let m = &self.meter;
        m.bytes.set(m.bytes.get() + n as u64);
        for &b in &buf[..n] {
            if m.in_string.get() {
                if m.escaped.get() {
                    m.escaped.set(false);
                } else if b == b'\\' {
                    m.escaped.set(true);
                } else if b == b'"' {
                    m.in_string.set(false);
                }
                continue;
            }
            match b {
                b'"' => m.in_string.set(true),
                b'[' | b'{' => {
                    let d = m.depth.get() + 1;
                    m.depth.set(d);
                    if d > m.deepest.get() {
                        m.deepest.set(d);
                    }
                }
                b']' | b'}' => m.depth.set(m.depth.get().saturating_sub(1)),
                _ => {}
            }
        }
        Ok(n)
    }
}

/// Reads a value as [`Value`] would (strings decoded, numbers converted) and keeps nothing.
/// `outer` counts the arrays and objects around it within the conversation: past
/// [`MAX_DEPTH`] the conversation is refused, so the rest is skipped without recursion.
#[derive(Clone, Copy)]
struct Checked {
    outer: u32,
}

impl<'de> DeserializeSeed<'de> for Checked {
    type Value = ();

    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        if self.outer > MAX_DEPTH {
            d.deserialize_ignored_any(IgnoredAny).map(drop)
        } else {
            d.deserialize_any(self)
        }
    }
}

impl<'de> Visitor<'de> for Checked {
    type Value = ();

    fn expecting(&self, out: &mut std::fmt::Formatter) -> std::fmt::Result {
        out.write_str("any JSON value")
    }

    fn visit_bool<E>(self, _: bool) -> Result<(), E> {
        Ok(())
    }
    fn visit_i64<E>(self, _: i64) -> Result<(), E> {
        Ok(())
    }
    fn visit_u64<E>(self, _: u64) -> Result<(), E> {
        Ok(())
    }
    fn visit_f64<E>(self, _: f64) -> Result<(), E> {
        Ok(())
    }
    fn visit_str<E>(self, _: &str) -> Result<(), E> {
        Ok(())
    }
    fn visit_unit<E>(self) -> Result<(), E> {
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let inner = Checked {
            outer: self.outer + 1,
        };
        while seq.next_element_seed(inner)?.is_some() {}
        Ok(())
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let inner = Checked {
            outer: self.outer + 1,
        };
        while map.next_key_seed(inner)?.is_some() {
            map.next_value_seed(inner)?;
        }
        Ok(())
    }
}

/// The first pass over `reader` (give it a buffered reader). Run it on a thread with a stack of
/// [`STACK_BYTES`].
pub fn scan<R: Read>(reader: R) -> Result<Scan, ImportError> {
    struct Top(Rc<Meter>);

    impl<'de> Visitor<'de> for Top {
        type Value = Scan;

        fn expecting(&self, out: &mut std::fmt::Formatter) -> std::fmt::Result {
            out.write_str("a conversation or a list of conversations")
        }

        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Scan, A::Error> {
            let m = &self.0;
            let mut scan = Scan::default();
            let mut index = 0;
            loop {
                // The opening bracket of the list is depth 1; an element starts at the
                // separator just read.
                let start = m.bytes.get();
                m.deepest.set(m.depth.get());
                if seq.next_element_seed(Checked { outer: 0 })?.is_none() {
                    break;
                }
                index += 1;
                let size = m.bytes.get().saturating_sub(start);
                let depth = m.deepest.get().saturating_sub(1);
                if size > MAX_CONVERSATION_BYTES {
                    scan.refused.insert(index, TooBig::Bytes(size));
                } else if depth > MAX_DEPTH {
                    scan.refused.insert(index, TooBig::Depth(depth));
                }
            }
            Ok(scan)
        }

        fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Scan, A::Error> {
            Checked { outer: 0 }.visit_map(map)?;
            Ok(Scan {
                single: true,
                ..Scan::default()
            })
        }
    }

    let meter = Rc::new(Meter::default());
    let metered = Metered {
        inner: reader,
        meter: meter.clone(),
    };
    let mut de = serde_json::Deserializer::from_reader(metered);
    // `Checked` bounds the recursion; the caller's stack holds it.
    de.disable_recursion_limit();
    let mut scan = de::Deserializer::deserialize_any(&mut de, Top(meter.clone())).map_err(|e| {
        if e.is_data() {
            ImportError::Unrecognized
        } else {
            ImportError::NotJson(e.to_string())
        }
    })?;
    de.end().map_err(|e| ImportError::NotJson(e.to_string()))?;
    if scan.single {
        let (size, depth) = (meter.bytes.get(), meter.deepest.get());
        if size > MAX_CONVERSATION_BYTES {
            scan.refused.insert(1, TooBig::Bytes(size));
        } else if depth > MAX_DEPTH {
            scan.refused.insert(1, TooBig::Depth(depth));
        }
    }
    Ok(scan)
}

/// The second pass: calls `f` with each conversation's position (from 1) and the conversation
/// as read (see [`Conversation`]), or why it is not read. One conversation is in memory at a
/// time, its messages already converted. Run it on a thread with a stack
/// of [`STACK_BYTES`]. `f` returning an error stops the pass.
pub fn each_conversation<R: Read>(
    reader: R,
    refused: &BTreeMap<usize, TooBig>,
    mut f: impl FnMut(usize, Result<Conversation, TooBig>) -> Result<(), String>,
) -> Result<(), ImportError> {
    struct Each<'a, F> {
        f: &'a mut F,
        refused: &'a BTreeMap<usize, TooBig>,
    }

    impl<'de, F: FnMut(usize, Result<Conversation, TooBig>) -> Result<(), String>> Visitor<'de>
        for Each<'_, F>
    {
        type Value = ();

        fn expecting(&self, out: &mut std::fmt::Formatter) -> std::fmt::Result {
            out.write_str("a conversation or a list of conversations")
        }

        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
            let mut index = 0;
            loop {
                index += 1;
                let item = match self.refused.get(&index) {
                    Some(why) => match seq.next_element::<IgnoredAny>()? {
                        Some(_) => Err(why.clone()),
                        None => break,
                    },
                    None => match seq.next_element::<Conversation>()? {
                        Some(v) => Ok(v),
                        None => break,
                    },
                };
                (self.f)(index, item).map_err(de::Error::custom)?;
            }
            Ok(())
        }

        fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<(), A::Error> {
            let item = match self.refused.get(&1) {
                Some(why) => {
                    IgnoredAny::deserialize(de::value::MapAccessDeserializer::new(map))?;
                    Err(why.clone())
                }
                None => Ok(Conversation::deserialize(
                    de::value::MapAccessDeserializer::new(map),
                )?),
            };
            (self.f)(1, item).map_err(de::Error::custom)
        }
    }

    let mut de = serde_json::Deserializer::from_reader(reader);
    // Depth was bounded by the first pass; this thread's stack holds it.
    de.disable_recursion_limit();
    de::Deserializer::deserialize_any(&mut de, Each { f: &mut f, refused }).map_err(|e| {
        if e.is_data() {
            ImportError::Unrecognized
        } else {
            ImportError::Io(e.to_string())
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn titles(json: &str) -> Result<Vec<String>, ImportError> {
        let scan = scan(json.as_bytes())?;
        let mut out = Vec::new();
        each_conversation(json.as_bytes(), &scan.refused, |_, v| {
            out.push(match v {
                Ok(c) => c.title().unwrap_or_default(),
                Err(why) => format!("refused: {why}"),
            });
            Ok(())
        })?;
        Ok(out)
    }

    #[test]
    fn arrays_and_single_objects_stream_one_conversation_at_a_time() {
        assert_eq!(
            titles(r#"[{"title":"a"},{"title":"b"}]"#).unwrap(),
            ["a", "b"]
        );
        assert_eq!(titles(r#"{"title":"only"}"#).unwrap(), ["only"]);
        assert!(titles("[]").unwrap().is_empty());
        assert!(matches!(titles("42"), Err(ImportError::Unrecognized)));
        assert!(matches!(
            titles(r#""text""#),
            Err(ImportError::Unrecognized)
        ));
        assert!(matches!(titles("[1,"), Err(ImportError::NotJson(_))));
        assert!(matches!(titles("[] x"), Err(ImportError::NotJson(_))));
    }

    #[test]
    fn depth_is_measured_outside_strings_and_deep_files_still_read() {
        // Brackets inside strings (escaped quotes too) do not count.
        let tricky = r#"[{"title":"[[[{{{ \" ]]]"}]"#;
        assert_eq!(titles(tricky).unwrap(), ["[[[{{{ \" ]]]"]);
        // 3,000 levels: far past serde_json's usual 128, read on a big stack.
        let deep = format!(
            "[{{\"title\":\"deep\",\"x\":{}{}}}]",
            "[".repeat(3000),
            "]".repeat(3000)
        );
        let handle = std::thread::Builder::new()
            .stack_size(STACK_BYTES)
            .spawn(move || titles(&deep).unwrap())
            .unwrap();
        assert_eq!(handle.join().unwrap(), ["deep"]);
        // Past the bound: refused by position, the rest still read.
        let too_deep = format!(
            "[{}{},{{\"title\":\"ok\"}}]",
            "[".repeat(MAX_DEPTH as usize + 5),
            "]".repeat(MAX_DEPTH as usize + 5)
        );
        let out = std::thread::Builder::new()
            .stack_size(STACK_BYTES)
            .spawn(move || titles(&too_deep).unwrap())
            .unwrap()
            .join()
            .unwrap();
        assert!(out[0].starts_with("refused: it nests"), "{out:?}");
        assert_eq!(out[1], "ok");
    }

    #[test]
    fn the_first_pass_reads_values_as_the_second_will() {
        // Each is refused before any conversation is handed over, with where it is.
        for bad in [
            &b"[{\"title\":\"ok\"},{\"title\":\"\xff\"}]"[..],
            br#"[{"title":"ok"},{"title":"a\ud800b"}]"#,
            br#"[{"title":"ok"},{"n":1e999999}]"#,
            br#"{"title":"ok","x":{"\udfff":1}}"#,
        ] {
            match scan(bad) {
                Err(ImportError::NotJson(why)) => assert!(why.contains("line"), "{why}"),
                other => panic!("{:?}: {other:?}", String::from_utf8_lossy(bad)),
            }
        }
        assert_eq!(
            titles(r#"[{"title":"caf\u00e9 \ud83d\ude00","n":1e308,"m":-1e-999}]"#).unwrap(),
            ["café 😀"]
        );
    }
}
