//! LibreChat's special variables in a system prompt: `{{current_date}}`,
//! `{{current_datetime}}`, `{{iso_datetime}}` and `{{current_user}}`, filled as LibreChat's
//! `replaceSpecialVars` fills them (any capitalisation, spaces allowed inside the braces).
//!
//! The time is the conversation's start, not the moment of each turn, as LibreChat fills an
//! agent's instructions: the system prompt then reads the same on every turn, and the
//! providers' prompt caches keep working. Times are in UTC: the server has no time zone
//! database, and LibreChat's model specs use the server's own clock too.

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use time::macros::format_description;

/// `text` with the special variables filled; `user_name` fills `{{current_user}}` when it is
/// not empty (otherwise that variable stays as written, as in LibreChat).
pub fn fill_special(text: &str, user_name: &str, now: OffsetDateTime) -> String {
    if !text.contains("{{") {
        return text.to_owned();
    }
    let now = now.to_offset(time::UtcOffset::UTC);
    let weekday = now.weekday();
    let date = now
        .format(format_description!("[year]-[month]-[day]"))
        .unwrap_or_default();
    let datetime = now
        .format(format_description!(
            "[year]-[month]-[day] [hour]:[minute]:[second] [offset_hour sign:mandatory]:[offset_minute]"
        ))
        .unwrap_or_default();
    // JavaScript's `toISOString`: milliseconds and `Z`.
    let iso = now
        .replace_nanosecond(now.millisecond() as u32 * 1_000_000)
        .ok()
        .and_then(|t| t.format(&Rfc3339).ok())
        .map(|s| with_millis(&s))
        .unwrap_or_default();
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let Some(end) = after.find("}}") else {
            out.push_str(&rest[start..]);
            return out;
        };
        let name = after[..end].trim();
        let value = if name.eq_ignore_ascii_case("current_date") {
            Some(format!("{date} ({weekday})"))
        } else if name.eq_ignore_ascii_case("current_datetime") {
            Some(format!("{datetime} ({weekday})"))
        } else if name.eq_ignore_ascii_case("iso_datetime") {
            Some(iso.clone())
        } else if name.eq_ignore_ascii_case("current_user") && !user_name.is_empty() {
            Some(user_name.to_owned())
        } else {
            None
        };
        match value {
            Some(v) => {
                out.push_str(&v);
                rest = &after[end + 2..];
            }
            None => {
                out.push_str("{{");
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// RFC 3339 as `time` writes it (`...:05Z` or `...:05.1Z`) with exactly three fraction
/// digits, as JavaScript writes a date.
fn with_millis(rfc3339: &str) -> String {
    let body = rfc3339.trim_end_matches('Z');
    let (secs, frac) = body.split_once('.').unwrap_or((body, ""));
    format!("{secs}.{:0<3}Z", &frac[..frac.len().min(3)])
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    const AT: OffsetDateTime = datetime!(2026-12-06 23:05:09.5 +05:30);

    #[test]
    fn fills_each_variable_as_librechat_does() {
        let text = "Today {{current_date}}; now {{ Current_DateTime }}; iso {{iso_datetime}}; \
                    for {{current_user}}.";
        assert_eq!(
            fill_special(text, "Ada", AT),
            "Today 2026-12-06 (Sunday); now 2026-12-06 17:35:09 +00:00 (Sunday); \
             iso 2026-12-06T17:35:09.500Z; for Ada."
        );
    }

    #[test]
    fn leaves_other_variables_and_broken_braces_alone() {
        let text = "{{name}} {{current_user}} {{ {{current_date}} {{unclosed";
        assert_eq!(
            fill_special(text, "", datetime!(2026-01-01 00:00:00 UTC)),
            "{{name}} {{current_user}} {{ 2026-01-01 (Thursday) {{unclosed"
        );
        assert_eq!(
            with_millis("2026-01-01T00:00:00Z"),
            "2026-01-01T00:00:00.000Z"
        );
    }
}
