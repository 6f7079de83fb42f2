//! Artifacts: the self-contained pieces of work (a web page, an SVG, a diagram, a component) a
//! model writes into its answer as a directive block, which the web apps show in a panel of
//! their own:
//!
//! `````text
//! :::artifact{identifier="tea-steps" type="application/vnd.mermaid" title="Making tea"}
//! ````mermaid
//! graph TD; A-->B
//! ````
//! :::
//! `````
//!
//! [`prompt`] has the instructions that ask a model for them; [`edit`] changes one in a stored
//! message (LibreChat's `POST /api/messages/artifact/:messageId`). This module finds them in a
//! text the way LibreChat does, so that an artifact's index means the same to its client and
//! to this server: a `:::` line closes an artifact unless it lies inside a code fence opened in
//! the artifact (then the first `:::` after the fence closes it, or, when the fence is never
//! closed, the first `:::` inside it); an artifact that is never closed runs to the end of the
//! text.

pub mod edit;
pub mod prompt;
mod scan;

use scan::{Scan, closes, fence, line_end, lines, next_line};

/// What opens an artifact.
pub const ARTIFACT_START: &str = ":::artifact";
/// What closes one, at the start of a line (after any indentation).
const ARTIFACT_END: &str = ":::";

/// Where an artifact lies in one text: from its `:::artifact` to just past its closing `:::`
/// (or the end of the text), in bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Span {
    pub start: usize,
    pub end: usize,
}

/// The artifacts of a text, in order.
pub fn find_in(text: &str) -> Vec<Span> {
    let scan = Scan::new(text);
    let mut found = Vec::new();
    let mut from = 0;
    while let Some(at) = text[from..].find(ARTIFACT_START) {
        let start = from + at;
        let end = scan.close(start).map_or(text.len(), |(_, end)| end);
        found.push(Span { start, end });
        // An artifact always spans at least its opening marker, so this moves on.
        from = end.max(start + ARTIFACT_START.len());
    }
    found
}

/// The text of an answer around the artifacts the web app shows as cards, in order: what it
/// renders as markdown between the cards. `None` when no artifact is shown as a card. An
/// artifact whose marker has text before it on its line is counted by [`find_in`] but stays
/// text (LibreChat's client shows it so), and empty pieces are left out: the bundled app cuts
/// an answer the same way (`segments` in assets/js/artifacts.js), so the n-th piece here is
/// its n-th piece of text.
pub fn text_around_cards(text: &str) -> Option<Vec<&str>> {
    let mut pieces = Vec::new();
    let (mut from, mut cards) = (0, 0);
    for span in find_in(text) {
        let line_start = text[..span.start].rfind('\n').map_or(0, |at| at + 1);
        if !text[line_start..span.start].trim().is_empty() {
            continue;
        }
        pieces.push(&text[from..span.start]);
        from = span.end;
        cards += 1;
    }
    pieces.push(&text[from..]);
    pieces.retain(|p| !p.is_empty());
    (cards > 0).then_some(pieces)
}

/// For each artifact of `text` the web app shows as a card (as [`text_around_cards`] counts
/// them), its content when it is a Markdown document (`text/markdown`, `text/md`), else
/// `None`: what a shared page renders for a reader who cannot use `/api/render`. `None` when
/// no artifact is shown as a card.
pub fn documents_of_cards(text: &str) -> Option<Vec<Option<&str>>> {
    let mut docs = Vec::new();
    for span in find_in(text) {
        let line_start = text[..span.start].rfind('\n').map_or(0, |at| at + 1);
        if !text[line_start..span.start].trim().is_empty() {
            continue;
        }
        let artifact = &text[span.start..span.end];
        let opening = &artifact[..line_end(artifact, 0)];
        let markdown = matches!(
            attribute(opening, "type"),
            Some("text/markdown" | "text/md")
        );
        docs.push(
            markdown
                .then(|| content_range(artifact).map(|(s, e)| &artifact[s..e]))
                .flatten(),
        );
    }
    (!docs.is_empty()).then_some(docs)
}

/// The value of attribute `name` on an artifact's opening line (`{identifier="x" type=y}`),
/// quoted with `"` or `'` or bare, as the web apps read it (the last one given wins).
fn attribute<'a>(opening: &'a str, name: &str) -> Option<&'a str> {
    let start = opening.find('{')? + 1;
    let mut rest = opening.get(start..opening.rfind('}')?)?;
    let mut found = None;
    loop {
        let Some(eq) = rest.find('=') else {
            return found;
        };
        let key = rest[..eq].trim_end();
        let key = &key[key
            .rfind(|c: char| !(c.is_alphanumeric() || c == '_' || c == '-'))
            .map_or(0, |i| i + 1)..];
        let after = rest[eq + 1..].trim_start();
        let (value, next) = match after.chars().next() {
            None => return found,
            Some(q @ ('"' | '\'')) => {
                let Some(end) = after[1..].find(q) else {
                    return found;
                };
                (&after[1..end + 1], &after[end + 2..])
            }
            _ => {
                let end = after
                    .find(|c: char| c.is_whitespace() || c == '}')
                    .unwrap_or(after.len());
                (&after[..end], &after[end..])
            }
        };
        if key == name {
            found = Some(value);
        }
        rest = next;
    }
}

/// Where the artifact's content lies within `artifact` (its whole text, from `:::artifact`):
/// the code inside its fence when the content is one fenced block, else everything between
/// the opening line and the closing marker. `None` for an artifact of one line.
fn content_range(artifact: &str) -> Option<(usize, usize)> {
    let opening_end = line_end(artifact, 0);
    if opening_end >= artifact.len() {
        return None;
    }
    let start = next_line(artifact, opening_end);
    let end = Scan::new(artifact)
        .close(0)
        .map_or(artifact.len(), |(at, _)| at);
    let whole = Some((start, end.max(start)));
    let Some(first) = artifact[start..end.max(start)].find(|c: char| !c.is_whitespace()) else {
        return whole;
    };
    let fence_at = start + first;
    let fence_end = line_end(artifact, fence_at);
    let Some(open) = fence(&artifact[fence_at..fence_end]) else {
        return whole;
    };
    let code = next_line(artifact, fence_end);
    let Some((close_at, close_end)) =
        lines(artifact, code, end).find(|&(s, e)| closes(&artifact[s..e], open))
    else {
        // A fence never closed: the code runs to the artifact's end.
        return Some((code, end.max(code)));
    };
    if !artifact[close_end..end.max(close_end)].trim().is_empty() {
        // More after the fence: the content is all of it, fences included.
        return whole;
    }
    // The newline before the closing fence belongs to the fence.
    let code_end = if artifact[..close_at].ends_with('\n') {
        close_at - 1
    } else {
        close_at
    };
    Some((code, code_end.max(code)))
}

/// `text` with `original` replaced by `updated` inside the artifact at `span`, or `None` when
/// `original` is not in that artifact's content. A trailing newline of `original` is not
/// looked for (LibreChat's client adds one); an empty `original` matches only an empty
/// artifact. A closing fence or `:::` right after the replaced text goes to a line of its own.
/// Runs of blank lines left before a closing fence and `:::` shrink to one newline.
pub fn replace(text: &str, span: Span, original: &str, updated: &str) -> Option<String> {
    let artifact = &text[span.start..span.end];
    let (from, to) = content_range(artifact)?;
    let inner = &artifact[from..to];
    let original = original.strip_suffix('\n').unwrap_or(original);
    let at = if original.is_empty() {
        inner.trim().is_empty().then_some(0)?
    } else {
        inner.find(original)?
    };
    let start = span.start + from + at;
    let end = start + original.len();
    let tail = &text[end..];
    // What follows must stay on a line of its own when it closes the fence or the artifact.
    // LibreChat adds the line break whatever follows, which splits a line when `original` was
    // only part of one; here a line goes on as it was.
    let line_rest = tail[..line_end(tail, 0)].trim();
    let closing = line_rest.is_empty()
        || line_rest.starts_with(ARTIFACT_END)
        || fence(line_rest).is_some_and(|f| closes(line_rest, f));
    let separator = if tail.starts_with('\n') || updated.ends_with('\n') || !closing {
        ""
    } else {
        "\n"
    };
    let joined = format!("{}{updated}{separator}{tail}", &text[..start]);
    Some(tidy_before_close(&joined))
}

/// Shrinks every run of newlines that comes right before a fence line followed (after
/// whitespace with a line break in it) by `:::` to a single newline.
fn tidy_before_close(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find('\n') {
        out.push_str(&rest[..at]);
        let run = rest[at..].len() - rest[at..].trim_start_matches('\n').len();
        let after = &rest[at + run..];
        if run > 1 && fence_then_close(after) {
            out.push('\n');
        } else {
            out.push_str(&rest[at..at + run]);
        }
        rest = after;
    }
    out.push_str(rest);
    out
}

/// Whether `s` starts with a fence (three or more of one marker), then whitespace holding a
/// line break, then `:::`.
fn fence_then_close(s: &str) -> bool {
    let Some(marker) = s.chars().next().filter(|c| matches!(c, '`' | '~')) else {
        return false;
    };
    let n = s.chars().take_while(|&c| c == marker).count();
    if n < 3 {
        return false;
    }
    let after = &s[n..];
    let space = after.len() - after.trim_start().len();
    after[..space].contains('\n') && after[space..].starts_with(ARTIFACT_END)
}

/// Undoes what LibreChat's client does to a message's text before showing it, so that what it
/// sends back matches what is stored: `\$` (or `\\$`) is `$` again, and `$$\\ce{..}$$` and
/// `$$\\pu{..}$$` (chemistry) are `$\ce{..}$` and `$\pu{..}$`.
pub fn unescape_latex(text: &str) -> String {
    use std::sync::LazyLock;
    static DOLLAR: LazyLock<regex::Regex> =
        LazyLock::new(|| regex::Regex::new(r"\\\\?\$").expect("a valid pattern"));
    static CE: LazyLock<regex::Regex> =
        LazyLock::new(|| regex::Regex::new(r"\$\$\\\\ce\{([^}]*)\}\$\$").expect("a valid pattern"));
    static PU: LazyLock<regex::Regex> =
        LazyLock::new(|| regex::Regex::new(r"\$\$\\\\pu\{([^}]*)\}\$\$").expect("a valid pattern"));
    let text = DOLLAR.replace_all(text, "$$");
    let text = CE.replace_all(&text, r"$$\ce{${1}}$$");
    PU.replace_all(&text, r"$$\pu{${1}}$$").into_owned()
}

#[cfg(test)]
mod tests;
