//! `.env` files read the way LibreChat (Node's `dotenv` package) reads them.
//!
//! Written by hand because the Rust crates speak a different dialect: `dotenvy` refuses an
//! unquoted value with spaces (`APP_TITLE=Team Chat`) and expands `$NAME` inside values, so an
//! existing LibreChat `.env` would fail to load or change meaning (a password containing `$`).
//! Node's rules, followed here:
//! * `KEY=value` or `KEY: value`, optionally after `export `; keys are letters, digits, `_`,
//!   `.` and `-`;
//! * an unquoted value ends at the first `#` (a comment) and is trimmed (quote values with `#`);
//! * a value in `'`, `"` or `` ` `` quotes is taken as is and may span lines; in double quotes
//!   `\n` and `\r` become line breaks;
//! * no variable expansion; lines that match nothing are skipped; a later key wins.

/// Parses the text of a `.env` file into its pairs, in order.
pub fn parse(text: &str) -> Vec<(String, String)> {
    let text = text.replace("\r\n", "\n");
    let mut pairs = Vec::new();
    let mut rest = text.as_str();
    while !rest.is_empty() {
        let (line, after) = rest.split_once('\n').unwrap_or((rest, ""));
        rest = after;
        let trimmed = line.trim_start();
        let trimmed = trimmed
            .strip_prefix("export ")
            .map(str::trim_start)
            .unwrap_or(trimmed);
        // `KEY=value`, or `KEY: value` (Node's dotenv takes both).
        let split = match (trimmed.find('='), trimmed.find(": ")) {
            (Some(eq), Some(colon)) if colon < eq => Some((colon, 2)),
            (Some(eq), _) => Some((eq, 1)),
            (None, Some(colon)) => Some((colon, 2)),
            (None, None) => None,
        };
        let Some((at, width)) = split else {
            continue;
        };
        let (key, value) = (trimmed[..at].trim(), &trimmed[at + width..]);
        if key.is_empty()
            || !key
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))
        {
            continue;
        }
        let value = value.trim_start();
        let quote = value
            .chars()
            .next()
            .filter(|c| matches!(c, '"' | '\'' | '`'));
        let parsed = match quote {
            Some(q) => {
                // The value runs to the matching quote, possibly on a later line.
                let body = &value[1..];
                if let Some(end) = body.find(q) {
                    Some(body[..end].to_owned())
                } else if let Some(end) = rest.find(q) {
                    let joined = format!("{body}\n{}", &rest[..end]);
                    let consumed = rest[end..].find('\n').map_or(rest.len(), |n| end + n + 1);
                    rest = &rest[consumed..];
                    Some(joined)
                } else {
                    None
                }
                .map(|v| {
                    if q == '"' {
                        v.replace("\\n", "\n").replace("\\r", "\r")
                    } else {
                        v
                    }
                })
            }
            None => {
                // As in Node's dotenv, an unquoted value ends at the first `#`.
                let without_comment = value.split('#').next().unwrap_or("");
                Some(without_comment.trim().to_owned())
            }
        };
        match parsed {
            Some(v) => pairs.push((key.to_owned(), v)),
            // An unclosed quote: Node's dotenv keeps the raw text.
            None => pairs.push((key.to_owned(), value.trim().to_owned())),
        }
    }
    pairs
}

#[cfg(test)]
mod tests {
    use super::parse;

    fn get(text: &str, key: &str) -> Option<String> {
        parse(text)
            .into_iter()
            .rev()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v)
    }

    #[test]
    fn reads_librechat_style_lines() {
        let text = "# comment\nHOST=localhost\nPORT=3080\nAPP_TITLE=Team Chat  # shown in the tab\n\
                    export MONGO_URI=mongodb://127.0.0.1:27017/LibreChat\nJWT_SECRET=\nSESSION_EXPIRY=1000 * 60 * 15\n";
        assert_eq!(get(text, "HOST").as_deref(), Some("localhost"));
        assert_eq!(get(text, "APP_TITLE").as_deref(), Some("Team Chat"));
        assert_eq!(
            get(text, "MONGO_URI").as_deref(),
            Some("mongodb://127.0.0.1:27017/LibreChat")
        );
        assert_eq!(get(text, "JWT_SECRET").as_deref(), Some(""));
        assert_eq!(
            get(text, "SESSION_EXPIRY").as_deref(),
            Some("1000 * 60 * 15")
        );
    }

    #[test]
    fn quotes_keep_text_and_never_expand_variables() {
        let text = "A='single # not a comment'\nB=\"line1\\nline2\"\nC=pa$$word$HOME\nD=`tick`\n\
                    E=\"multi\nline\"\nF=after\nG=a#b\n";
        assert_eq!(get(text, "A").as_deref(), Some("single # not a comment"));
        assert_eq!(get(text, "B").as_deref(), Some("line1\nline2"));
        assert_eq!(get(text, "C").as_deref(), Some("pa$$word$HOME"));
        assert_eq!(get(text, "D").as_deref(), Some("tick"));
        assert_eq!(get(text, "E").as_deref(), Some("multi\nline"));
        assert_eq!(get(text, "F").as_deref(), Some("after"));
        assert_eq!(
            get(text, "G").as_deref(),
            Some("a"),
            "Node's dotenv cuts at #"
        );
        assert_eq!(get("H: colon style\n", "H").as_deref(), Some("colon style"));
        assert_eq!(
            get("URL=http://x.org/a:b\n", "URL").as_deref(),
            Some("http://x.org/a:b")
        );
    }

    #[test]
    fn skips_garbage_and_later_keys_win() {
        let text = "not a pair\n=novalue\nbad key=1\nK=1\nK=2\nU=\"unclosed\n";
        assert_eq!(get(text, "K").as_deref(), Some("2"));
        assert_eq!(get(text, "U").as_deref(), Some("\"unclosed"));
        assert_eq!(parse(text).len(), 3);
    }
}
