//! Id and time formats; see the conventions in `db/mod.rs`.

use std::sync::atomic::{AtomicI64, AtomicU32, Ordering};

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// The current time as stored and sent: `2026-11-25T20:47:39.123Z`.
///
/// Never the same value twice in one process, and never earlier than the last: when two
/// writes fall in the same millisecond the second is stamped a millisecond later. Lists sorted
/// by time (the sidebar, a conversation's messages) then follow the order of the writes.
pub fn now() -> String {
    static LAST_MS: AtomicI64 = AtomicI64::new(0);
    let wall = (OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000) as i64;
    let mut last = LAST_MS.load(Ordering::Relaxed);
    let ms = loop {
        let next = wall.max(last + 1);
        match LAST_MS.compare_exchange_weak(last, next, Ordering::Relaxed, Ordering::Relaxed) {
            Ok(_) => break next,
            Err(seen) => last = seen,
        }
    };
    let t = OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .unwrap_or_else(|_| OffsetDateTime::now_utc());
    to_rfc3339(t)
}

/// Formats a time as stored: UTC, milliseconds, `Z`.
pub fn to_rfc3339(t: OffsetDateTime) -> String {
    let t = t.to_offset(time::UtcOffset::UTC);
    let millis = t.millisecond();
    let t = t
        .replace_nanosecond(u32::from(millis) * 1_000_000)
        .unwrap_or(t);
    // Rfc3339 prints fractions only when non-zero; pad by hand so every value has the same width.
    let base = t
        .replace_nanosecond(0)
        .unwrap_or(t)
        .format(&Rfc3339)
        .unwrap_or_default();
    let stem = base.trim_end_matches('Z');
    format!("{stem}.{millis:03}Z")
}

/// A new 24-hex-character id: 4 bytes of seconds since 1970, then 5 random bytes, then a
/// 3-byte counter, the layout of a MongoDB ObjectId.
pub fn new_object_id() -> String {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let secs = OffsetDateTime::now_utc().unix_timestamp() as u32;
    let mut random = [0u8; 5];
    // Without system randomness, fall back to the counter alone; ids stay unique in-process.
    let _ = getrandom::fill(&mut random);
    let count = COUNTER.fetch_add(1, Ordering::Relaxed) & 0x00ff_ffff;
    let mut bytes = Vec::with_capacity(12);
    bytes.extend_from_slice(&secs.to_be_bytes());
    bytes.extend_from_slice(&random);
    bytes.extend_from_slice(&count.to_be_bytes()[1..]);
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_have_fixed_width_and_sort_as_text() {
        let a = to_rfc3339(time::macros::datetime!(2026-01-02 03:04:05 UTC));
        let b = to_rfc3339(time::macros::datetime!(2026-01-02 03:04:05.5 UTC));
        assert_eq!(a, "2026-01-02T03:04:05.000Z");
        assert_eq!(b, "2026-01-02T03:04:05.500Z");
        assert!(a < b);
        assert_eq!(now().len(), a.len());
        let offset = to_rfc3339(time::macros::datetime!(2026-01-02 03:04:05 +02:00));
        assert_eq!(offset, "2026-01-02T01:04:05.000Z");
    }

    #[test]
    fn now_is_strictly_increasing() {
        let stamps: Vec<String> = (0..2000).map(|_| now()).collect();
        assert!(
            stamps.windows(2).all(|w| w[0] < w[1]),
            "timestamps repeat or go back"
        );
    }

    #[test]
    fn object_ids_are_24_hex_and_distinct() {
        let a = new_object_id();
        let b = new_object_id();
        assert_eq!(a.len(), 24);
        assert!(
            a.bytes()
                .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase())
        );
        assert_ne!(a, b);
    }
}
