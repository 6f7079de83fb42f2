//! Reading cookies from a request: one parser for every cookie the server reads (the refresh
//! token, the sign-in cookies, the action OAuth CSRF cookie, the web app's `lang`).
//!
//! A leaf module: it knows nothing else of this crate, so `server` and `web` both use it.

use axum::http::HeaderMap;
use axum::http::header::COOKIE;

/// The values of every cookie called `name`, in the order sent, across all `Cookie` headers
/// (HTTP/2 may split them). Pairs are split on `;`, the name must match exactly (no trimming
/// inside the pair, no case folding), the value is trimmed of white space and kept as sent:
/// quotes are not removed, nothing is percent-decoded. Headers that are not visible ASCII are
/// skipped. Callers pick the first, or the first that passes their own check.
pub fn values<'h>(headers: &'h HeaderMap, name: &'h str) -> impl Iterator<Item = &'h str> + 'h {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .filter(move |(k, _)| *k == name)
        .map(|(_, v)| v.trim())
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    fn headers(cookies: &[&'static str]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for c in cookies {
            h.append(COOKIE, HeaderValue::from_static(c));
        }
        h
    }

    #[test]
    fn finds_a_cookie_among_others_and_across_headers() {
        let h = headers(&["a=1; b = 2;c=3", "d=4; c=5"]);
        assert_eq!(values(&h, "c").collect::<Vec<_>>(), ["3", "5"]);
        assert_eq!(values(&h, "d").collect::<Vec<_>>(), ["4"]);
        // "b " is not "b": names are compared as sent.
        assert_eq!(values(&h, "b").next(), None);
        assert_eq!(values(&h, "e").next(), None);
    }

    #[test]
    fn values_are_trimmed_but_otherwise_kept() {
        let h = headers(&["q=\"quoted\"; e=; s= x%20y ; eq=a=b; bare"]);
        assert_eq!(values(&h, "q").next(), Some("\"quoted\""));
        assert_eq!(values(&h, "e").next(), Some(""));
        assert_eq!(values(&h, "s").next(), Some("x%20y"));
        assert_eq!(values(&h, "eq").next(), Some("a=b"));
        assert_eq!(values(&h, "bare").next(), None);
    }

    #[test]
    fn names_are_case_sensitive() {
        let h = headers(&["RefreshToken=x"]);
        assert_eq!(values(&h, "refreshToken").next(), None);
    }
}
