//! PDFs for the benchmarks, written by hand: plain text pages a PDF reader reads as lines.

/// A PDF of `pages` pages of plain text lines (60 lines of 12 words a page, Helvetica), each
/// line ending with its page and line numbers.
pub fn text_pages(pages: usize) -> Vec<u8> {
    let words = [
        "tide",
        "moon",
        "harbour",
        "ledger",
        "quarterly",
        "résumé",
        "café",
        "signal",
        "margin",
        "north",
        "ferry",
        "anchor",
    ];
    let mut objects: Vec<String> = vec![
        String::new(),
        String::new(),
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>".into(),
    ];
    let mut kids = Vec::new();
    for page in 0..pages {
        let mut content = String::from("BT /F1 10 Tf 12 TL 50 780 Td\n");
        for line in 0..60 {
            let text: Vec<&str> = (0..12)
                .map(|w| words[(page * 7 + line * 3 + w * 5) % words.len()])
                .collect();
            content.push_str(&format!("({} {page}.{line}) '\n", text.join(" ")));
        }
        content.push_str("ET");
        objects.push(format!(
            "<< /Length {} >>\nstream\n{content}\nendstream",
            content.len()
        ));
        let contents = objects.len();
        objects.push(format!(
            "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents {contents} 0 R /Resources << /Font << /F1 3 0 R >> >> >>"
        ));
        kids.push(format!("{} 0 R", objects.len()));
    }
    objects[0] = "<< /Type /Catalog /Pages 2 0 R >>".into();
    objects[1] = format!(
        "<< /Type /Pages /Kids [{}] /Count {} >>",
        kids.join(" "),
        kids.len()
    );
    // Latin-1 bytes, as WinAnsi text strings are.
    let latin1 = |s: &str| s.chars().map(|c| c as u32 as u8).collect::<Vec<u8>>();
    let mut out = b"%PDF-1.4\n".to_vec();
    let mut offsets = Vec::new();
    for (i, body) in objects.iter().enumerate() {
        offsets.push(out.len());
        out.extend(latin1(&format!("{} 0 obj\n{body}\nendobj\n", i + 1)));
    }
    let xref = out.len();
    let mut tail = format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1);
    for o in offsets {
        tail.push_str(&format!("{o:010} 00000 n \n"));
    }
    tail.push_str(&format!(
        "trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n",
        objects.len() + 1
    ));
    out.extend(tail.as_bytes());
    out
}
