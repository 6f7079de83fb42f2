//! The finder and the replacement, on the shapes models write and on hostile text.

use super::*;

const OPEN: &str = ":::artifact{identifier=\"a\" type=\"text/html\" title=\"A\"}";

fn spans(text: &str) -> Vec<&str> {
    find_in(text)
        .iter()
        .map(|s| &text[s.start..s.end])
        .collect()
}

fn edit(text: &str, index: usize, original: &str, updated: &str) -> Option<String> {
    replace(text, find_in(text)[index], original, updated)
}

#[test]
fn an_artifact_runs_from_its_marker_to_its_closing_line() {
    let artifact = format!("{OPEN}\n````html\n<p>hi</p>\n````\n:::");
    let text = format!("Here it is:\n\n{artifact}\n\nEnjoy.");
    assert_eq!(spans(&text), [artifact.as_str()]);
    // Indented closing markers count; a longer run of colons too.
    let text = format!("{OPEN}\nbody\n   :::\nafter");
    assert_eq!(spans(&text), [format!("{OPEN}\nbody\n   :::").as_str()]);
    let text = format!("{OPEN}\nbody\n::::\n");
    assert_eq!(spans(&text), [format!("{OPEN}\nbody\n:::").as_str()]);
}

#[test]
fn two_artifacts_and_an_unclosed_last_one() {
    let one = format!("{OPEN}\n```\n1\n```\n:::");
    let two = format!("{OPEN}\n```\n2\n```");
    let text = format!("{one}\nbetween\n{two}");
    assert_eq!(spans(&text), [one.as_str(), two.as_str()]);
    // The unclosed one is edited all the same, inside its fence.
    let out = edit(&text, 1, "2", "two").unwrap();
    assert!(out.ends_with("```\ntwo\n```"), "{out}");
    assert!(out.contains("```\n1\n```"), "{out}");
}

#[test]
fn a_closing_marker_inside_a_code_fence_is_content() {
    // A markdown artifact that documents the syntax itself.
    let artifact = format!("{OPEN}\n````markdown\nUse:\n```\n:::\n```\nand\n:::\nthere\n````\n:::");
    let text = format!("{artifact}\ntrailing prose");
    assert_eq!(spans(&text), [artifact.as_str()]);
    let out = edit(&text, 0, "and\n:::\nthere", "then").unwrap();
    assert_eq!(
        out,
        format!("{OPEN}\n````markdown\nUse:\n```\n:::\n```\nthen\n````\n:::\ntrailing prose")
    );
}

#[test]
fn a_fence_never_closed_ends_at_its_first_marker() {
    let text = format!("{OPEN}\n```js\nlet a = 1;\n:::\nlet b = 2;\n:::\nrest");
    assert_eq!(
        spans(&text),
        [format!("{OPEN}\n```js\nlet a = 1;\n:::").as_str()]
    );
    let out = edit(&text, 0, "let a = 1;", "let a = 3;").unwrap();
    assert!(out.starts_with(&format!("{OPEN}\n```js\nlet a = 3;\n:::")));
    // What lies after the artifact's end is not its content.
    assert_eq!(edit(&text, 0, "let b = 2;", "x"), None);
}

#[test]
fn a_line_opening_another_artifact_does_not_close_one() {
    let text = format!("{OPEN}\ntext\n{OPEN}\nmore\n:::\nlater\n:::");
    assert_eq!(
        spans(&text),
        [format!("{OPEN}\ntext\n{OPEN}\nmore\n:::").as_str()]
    );
}

#[test]
fn the_content_is_the_fenced_code_or_everything_inside() {
    // Only the code is searched: the fence's language is not content.
    let text = format!("{OPEN}\n````html\n<b>x</b>\n````\n:::");
    assert_eq!(edit(&text, 0, "html", "svg"), None);
    assert_eq!(
        edit(&text, 0, "<b>x</b>\n", "<i>y</i>\n").unwrap(),
        format!("{OPEN}\n````html\n<i>y</i>\n````\n:::")
    );
    // Text after the fence: the whole inside is content, fences included.
    let text = format!("{OPEN}\n```\ncode\n```\nnotes\n:::");
    assert_eq!(
        edit(&text, 0, "```\nnotes", "notes only").unwrap(),
        format!("{OPEN}\n```\ncode\nnotes only\n:::")
    );
    // No fence at all.
    let text = format!("{OPEN}\nplain words\n:::");
    assert_eq!(
        edit(&text, 0, "words", "text").unwrap(),
        format!("{OPEN}\nplain text\n:::")
    );
    // A one-line artifact has no content.
    assert_eq!(edit(OPEN, 0, "", "x"), None);
}

#[test]
fn part_of_a_line_is_replaced_in_place() {
    let text = format!("{OPEN}\n````\n<p>old words</p>\n````\n:::");
    assert_eq!(
        edit(&text, 0, "old", "new").unwrap(),
        format!("{OPEN}\n````\n<p>new words</p>\n````\n:::")
    );
    // Text that ran up to a closing fence on the same line keeps the fence on its own line.
    let text = format!("{OPEN}\nx ````\n:::");
    assert_eq!(
        edit(&text, 0, "x", "y").unwrap(),
        format!("{OPEN}\ny\n ````\n:::")
    );
}

#[test]
fn an_empty_original_fills_only_an_empty_artifact() {
    let empty = format!("{OPEN}\n````\n````\n:::");
    assert_eq!(
        edit(&empty, 0, "", "<p>new</p>").unwrap(),
        format!("{OPEN}\n````\n<p>new</p>\n````\n:::")
    );
    let full = format!("{OPEN}\n````\nx\n````\n:::");
    assert_eq!(edit(&full, 0, "", "y"), None);
}

#[test]
fn blank_lines_left_before_the_closing_fence_shrink() {
    let text = format!("{OPEN}\n````\na\nb\n````\n:::");
    let out = edit(&text, 0, "b", "c\n\n\n").unwrap();
    assert_eq!(out, format!("{OPEN}\n````\na\nc\n````\n:::"));
}

#[test]
fn unicode_is_kept_whole() {
    let text = format!("Voilà 🦀\n{OPEN}\n````\nhéllo 東京\n🦀 crab\n````\n:::\nfin é");
    let out = edit(&text, 0, "東京", "京都 ✓").unwrap();
    assert_eq!(
        out,
        format!("Voilà 🦀\n{OPEN}\n````\nhéllo 京都 ✓\n🦀 crab\n````\n:::\nfin é")
    );
}

#[test]
fn latex_unescaping_is_librechats() {
    assert_eq!(unescape_latex("costs \\$5 or \\\\$6"), "costs $5 or $6");
    assert_eq!(
        unescape_latex("$$\\\\ce{H2O}$$ and $$\\\\pu{1 mol}$$"),
        "$\\ce{H2O}$ and $\\pu{1 mol}$"
    );
    assert_eq!(unescape_latex("no dollars"), "no dollars");
}

/// The pieces between the cards, as the bundled app cuts an answer: text around each card,
/// none for an answer without cards, an artifact after text on its line kept in the text.
#[test]
fn the_text_around_the_cards_is_cut_as_the_app_cuts_it() {
    let a = format!("{OPEN}\n````html\n<p>hi</p>\n````\n:::");
    assert_eq!(text_around_cards("no artifact here"), None);
    assert_eq!(
        text_around_cards(&format!("Here:\n{a}\nand after.")),
        Some(vec!["Here:\n", "\nand after."])
    );
    assert_eq!(text_around_cards(&format!("{a}\n{a}")), Some(vec!["\n"]));
    // The second marker follows the first one's `:::` on its line: text.
    assert_eq!(text_around_cards(&format!("{a}{a}")), Some(vec![&a[..]]));
    assert_eq!(
        text_around_cards(&format!("  {a}\nmid {a}\nend")),
        Some(vec!["  ", &format!("\nmid {a}\nend")[..]])
    );
    assert_eq!(text_around_cards(&format!("see {a}")), None);
}

/// Random texts made of the pieces that matter: the finder and the replacement never panic,
/// spans are in order and inside the text, and a replacement keeps what lies outside the span.
#[test]
fn hostile_texts_never_break_the_finder() {
    const PIECES: [&str; 14] = [
        ":::artifact{}",
        ":::",
        "```",
        "````",
        "~~~",
        "\n",
        " ",
        "\t",
        "é",
        "🦀",
        "x",
        ":",
        "`",
        "\r\n",
    ];
    let mut seed: u64 = 0x2545_f491_4f6c_dd1d;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    for _ in 0..3000 {
        let len = (next() % 40) as usize;
        let text: String = (0..len).map(|_| PIECES[(next() % 14) as usize]).collect();
        let crabs = |t: &str| t.matches('🦀').count();
        let found = find_in(&text);
        let mut last = 0;
        for s in &found {
            assert!(
                s.start >= last && s.start < s.end && s.end <= text.len(),
                "{text:?}"
            );
            last = s.end;
        }
        for s in found {
            for original in ["", "x", "\n", "é", "```", ":::"] {
                if let Some(out) = replace(&text, s, original, "🦀") {
                    assert_eq!(out.matches('🦀').count(), crabs(&text) + 1, "{text:?}");
                }
            }
        }
    }
}

/// A few MB of artifacts whose fences never close: each would be read to the text's end, one
/// after the other (hours of work); found in one pass instead.
#[test]
fn thousands_of_artifacts_with_fences_that_never_close_are_found_in_one_pass() {
    let one = ":::artifact\n```js\n:::\n";
    let text = one.repeat(150_000);
    let found = find_in(&text);
    assert_eq!(found.len(), 150_000);
    assert_eq!(
        &text[found[7].start..found[7].end],
        ":::artifact\n```js\n:::"
    );
    let out = replace(&text, found[149_999], "", "x").unwrap();
    assert!(
        out.ends_with(":::artifact\n```js\nx\n:::\n"),
        "{}",
        &out[out.len() - 40..]
    );
}

#[test]
fn a_shared_page_gets_the_markdown_documents_of_its_cards() {
    let doc = ":::artifact{identifier=\"d\" type=\"text/markdown\" title=\"Doc\"}\n# Tea\n\nSteep it.\n:::";
    let html = format!("{OPEN}\n```html\n<p>hi</p>\n```\n:::");
    let quoted = ":::artifact{title='a=b' type='text/md'}\n```markdown\n*x*\n```\n:::";
    let text =
        format!("Intro\n{doc}\nmid\n{html}\n{quoted}\nsee :::artifact{{type=\"text/md\"}} inline");
    assert_eq!(
        documents_of_cards(&text),
        Some(vec![Some("# Tea\n\nSteep it.\n"), None, Some("*x*")])
    );
    assert_eq!(documents_of_cards("no artifacts"), None);
    // Odd attributes never panic.
    for opening in [
        "{type=",
        "{type=\"",
        "{=\"x\"}",
        "}{",
        "{type='text/md}",
        "{\u{e9}=1 type=text/md}",
    ] {
        let _ = attribute(opening, "type");
    }
    assert_eq!(
        attribute("{\u{e9}=1 type=text/md}", "type"),
        Some("text/md")
    );
}
