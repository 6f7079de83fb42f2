//! Where an artifact closes, found in one pass over the text for all its artifacts.
//!
//! Read line by line from each artifact's start, an answer with thousands of artifacts whose
//! code fences never close would be read to its end once per artifact: a few MB of such text
//! took minutes. So the lines that matter are listed once (the `:::` lines, and the lines
//! that are nothing but a fence marker, which can close a fence), with, for each fence
//! marker, the longest such line from there on: whether an open fence ever closes is then
//! one lookup, and the lines walked by the artifacts of a text never overlap.

use super::{ARTIFACT_END, ARTIFACT_START};

/// A code fence: three or more backticks or tildes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Fence {
    pub marker: char,
    pub len: usize,
}

/// The end of the line that `at` is on (the index of its `\n`, or the text's end).
pub(super) fn line_end(text: &str, at: usize) -> usize {
    text[at..].find('\n').map_or(text.len(), |i| at + i)
}

/// The start of the line after the one ending at `end`.
pub(super) fn next_line(text: &str, end: usize) -> usize {
    (end + 1).min(text.len())
}

/// The lines of `text` from `from` (a line start) up to `to`: `(start, end)` of each.
pub(super) fn lines(
    text: &str,
    from: usize,
    to: usize,
) -> impl Iterator<Item = (usize, usize)> + '_ {
    let mut at = from;
    std::iter::from_fn(move || {
        if at >= to {
            return None;
        }
        let end = line_end(text, at);
        let line = (at, end);
        at = next_line(text, end);
        Some(line)
    })
}

/// A closing `:::` on the line `start..end`: where the marker is. A line that opens another
/// artifact closes nothing.
pub(super) fn closing_marker(text: &str, start: usize, end: usize) -> Option<(usize, usize)> {
    let indent = text[start..end].find(|c: char| !c.is_whitespace())?;
    let at = start + indent;
    let rest = &text[at..];
    (rest.starts_with(ARTIFACT_END) && !rest.starts_with(ARTIFACT_START))
        .then_some((at, at + ARTIFACT_END.len()))
}

/// The fence a line opens (or could close), after its indentation.
pub(super) fn fence(line: &str) -> Option<Fence> {
    let line = line.trim_start();
    let marker = line.chars().next().filter(|c| matches!(c, '`' | '~'))?;
    let len = line.chars().take_while(|&c| c == marker).count();
    (len >= 3).then_some(Fence { marker, len })
}

/// The fence a line is nothing but (trimmed): what it can close.
fn bare_fence(line: &str) -> Option<Fence> {
    let line = line.trim();
    fence(line).filter(|f| f.len == line.len())
}

/// Whether `line` closes `open`: nothing on it but at least as many of the same marker.
pub(super) fn closes(line: &str, open: Fence) -> bool {
    bare_fence(line).is_some_and(|f| f.marker == open.marker && f.len >= open.len)
}

/// The lines of one text that decide where its artifacts close.
pub(super) struct Scan<'a> {
    text: &'a str,
    /// The closing markers, by position.
    markers: Vec<(usize, usize)>,
    /// For backticks and for tildes: the start of each bare fence line, and the longest bare
    /// fence of that marker from that line on.
    bare: [(Vec<usize>, Vec<usize>); 2],
}

fn slot(marker: char) -> usize {
    usize::from(marker == '~')
}

impl<'a> Scan<'a> {
    pub fn new(text: &'a str) -> Self {
        let mut markers = Vec::new();
        let mut bare: [(Vec<usize>, Vec<usize>); 2] = Default::default();
        for (start, end) in lines(text, 0, text.len()) {
            if let Some(m) = closing_marker(text, start, end) {
                markers.push(m);
            } else if let Some(f) = bare_fence(&text[start..end]) {
                let (at, longest) = &mut bare[slot(f.marker)];
                at.push(start);
                longest.push(f.len);
            }
        }
        for (_, longest) in &mut bare {
            for i in (0..longest.len().saturating_sub(1)).rev() {
                longest[i] = longest[i].max(longest[i + 1]);
            }
        }
        Self {
            text,
            markers,
            bare,
        }
    }

    /// The first closing marker at or after `at`.
    fn marker_from(&self, at: usize) -> Option<(usize, usize)> {
        let i = self.markers.partition_point(|&(m, _)| m < at);
        self.markers.get(i).copied()
    }

    /// Whether a line at or after `at` closes `open`.
    fn ever_closed(&self, open: Fence, at: usize) -> bool {
        let (starts, longest) = &self.bare[slot(open.marker)];
        let i = starts.partition_point(|&s| s < at);
        longest.get(i).is_some_and(|&l| l >= open.len)
    }

    /// The closing marker of the artifact opened at `start`: the first `:::` line outside a
    /// code fence; failing that, when a fence opened in the artifact never closes, the first
    /// `:::` line after it.
    pub fn close(&self, start: usize) -> Option<(usize, usize)> {
        let text = self.text;
        let mut lines = lines(text, next_line(text, line_end(text, start)), text.len());
        while let Some((line_start, end)) = lines.next() {
            if let Some(marker) = closing_marker(text, line_start, end) {
                return Some(marker);
            }
            let Some(open) = fence(&text[line_start..end]) else {
                continue;
            };
            let after = next_line(text, end);
            if !self.ever_closed(open, after) {
                return self.marker_from(after);
            }
            // Inside the fence up to the line that closes it (found: it exists).
            lines.find(|&(s, e)| closes(&text[s..e], open));
        }
        None
    }
}
