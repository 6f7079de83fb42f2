//! Id and time formats; see the conventions in `db/mod.rs`.

use std::sync::atomic::{AtomicU32, Ordering};

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// The current time as stored and sent: `2026-11-25T20:47:39.123Z`.
pub fn now() -> String {
    to_rfc3339(OffsetDateTime::now_utc())
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
