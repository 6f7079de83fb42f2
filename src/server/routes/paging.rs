//! What every paged list reads from its query string: a page size, a direction, and an opaque
//! cursor naming the last item of the previous page (its time and its id).

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use crate::server::ApiError;

/// `name`'s value as a page size from 1 to 100; `default` when absent.
pub fn page_size(value: Option<&str>, name: &str, default: usize) -> Result<usize, ApiError> {
    match value {
        None | Some("") => Ok(default),
        Some(v) => v
            .parse::<usize>()
            .ok()
            .filter(|n| (1..=100).contains(n))
            .ok_or_else(|| ApiError::BadRequest(format!("{name} must be a number from 1 to 100"))),
    }
}

/// `asc` (true) or `desc` (false, also when absent).
pub fn ascending(value: Option<&str>, name: &str) -> Result<bool, ApiError> {
    match value {
        None | Some("") | Some("desc") => Ok(false),
        Some("asc") => Ok(true),
        Some(_) => Err(ApiError::BadRequest(format!("{name} must be asc or desc"))),
    }
}

/// An opaque cursor for the item with this time and id.
pub fn encode_cursor(time: &str, id: &str) -> String {
    URL_SAFE_NO_PAD.encode(format!("{time}\n{id}"))
}

/// The time and id inside a cursor; 400 for anything that is not one.
pub fn decode_cursor(cursor: &str) -> Result<(String, String), ApiError> {
    let bad = || ApiError::BadRequest("invalid cursor".into());
    let bytes = URL_SAFE_NO_PAD.decode(cursor).map_err(|_| bad())?;
    let text = String::from_utf8(bytes).map_err(|_| bad())?;
    // The id is last and never holds a line break; a key (a title) may.
    let (time, id) = text.rsplit_once('\n').ok_or_else(bad)?;
    Ok((time.to_owned(), id.to_owned()))
}

/// An opaque cursor for a position in ranked results (search pages).
pub fn encode_offset(offset: usize) -> String {
    URL_SAFE_NO_PAD.encode(format!("at\n{offset}"))
}

/// The position inside a cursor from [`encode_offset`]; 400 for anything else.
pub fn decode_offset(cursor: &str) -> Result<usize, ApiError> {
    match decode_cursor(cursor)? {
        (tag, n) if tag == "at" => n
            .parse::<usize>()
            .ok()
            .filter(|n| *n <= 100_000)
            .ok_or_else(|| ApiError::BadRequest("invalid cursor".into())),
        _ => Err(ApiError::BadRequest("invalid cursor".into())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_garbage_is_refused() {
        let c = encode_cursor("2026-01-01T00:00:00.000Z", "c-1");
        assert_eq!(
            decode_cursor(&c).unwrap(),
            ("2026-01-01T00:00:00.000Z".into(), "c-1".into())
        );
        for bad in ["", "@@", "bm90aGluZw"] {
            assert!(decode_cursor(bad).is_err(), "{bad}");
        }
        assert_eq!(page_size(None, "limit", 25).unwrap(), 25);
        assert!(
            page_size(Some("0"), "limit", 25).is_err()
                && page_size(Some("101"), "limit", 25).is_err()
        );
        assert!(ascending(Some("asc"), "order").unwrap() && !ascending(None, "order").unwrap());
        assert!(ascending(Some("up"), "order").is_err());
        assert_eq!(decode_offset(&encode_offset(50)).unwrap(), 50);
        assert!(decode_offset(&c).is_err() && decode_offset(&encode_cursor("at", "-1")).is_err());
    }
}
