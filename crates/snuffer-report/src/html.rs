//! The self-contained HTML page: inline CSS, inline SVG, no network.

use crate::table::Row;

/// Escapes text for HTML/XML content and attribute values.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

const CSS: &str = "
body { font-family: system-ui, -apple-system, 'Segoe UI', sans-serif; margin: 2rem auto; max-width: 1000px; color: #222; }
h1 { font-size: 1.6rem; margin-bottom: 0.2rem; }
.sub { color: #666; margin-top: 0; }
.note { background: #fff4e5; border-left: 4px solid #f0a020; padding: 0.5rem 0.8rem; margin: 0.4rem 0; }
table { border-collapse: collapse; width: 100%; margin: 1rem 0 2rem; }
th, td { text-align: left; vertical-align: top; padding: 0.35rem 0.6rem; border-bottom: 1px solid #e3e3e3; }
th { width: 28%; color: #444; font-weight: 600; }
table.columns { font-size: 0.85em; }
table.columns th { width: auto; border-bottom: 2px solid #ccc; }
td ul { margin: 0.3rem 0 0; padding-left: 1.2rem; font-size: 0.9em; color: #555; }
figure { margin: 1.5rem 0; }
figure svg { max-width: 100%; height: auto; border: 1px solid #eee; }
figcaption { color: #555; font-size: 0.9em; }
footer { color: #888; font-size: 0.8em; margin-top: 3rem; }
";

/// A chart as it appears on the page.
pub struct Figure<'a> {
    /// File the SVG was also written to.
    pub file: &'a str,
    /// Caption under the chart.
    pub caption: &'a str,
    /// SVG text.
    pub svg: &'a str,
}

/// Strips an XML declaration, which may not appear inside an HTML body.
fn inline_svg(svg: &str) -> &str {
    let s = svg.trim_start();
    match s.strip_prefix("<?xml") {
        Some(rest) => rest.find("?>").map_or(s, |i| rest[i + 2..].trim_start()),
        None => s,
    }
}

/// A table with a header row (the runs of a sweep).
pub struct Table {
    /// Column names.
    pub header: Vec<String>,
    /// Cells, row by row.
    pub rows: Vec<Vec<String>>,
}

/// Renders a page. The output is well-formed XML (XHTML syntax) so that
/// tests, and anyone's tooling, can parse it strictly.
pub fn page(
    title: &str,
    subtitle: &str,
    notes: &[String],
    rows: &[Row],
    figures: &[Figure<'_>],
) -> String {
    page_with_table(title, subtitle, notes, rows, None, figures)
}

/// [`page`] with a table of columns after the rows (before the figures).
pub fn page_with_table(
    title: &str,
    subtitle: &str,
    notes: &[String],
    rows: &[Row],
    table: Option<&Table>,
    figures: &[Figure<'_>],
) -> String {
    let mut h =
        String::with_capacity(64 * 1024 + figures.iter().map(|f| f.svg.len()).sum::<usize>());
    h.push_str("<!DOCTYPE html>\n<html xmlns=\"http://www.w3.org/1999/xhtml\" lang=\"en\">\n<head>\n<meta charset=\"utf-8\"/>\n");
    h.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"/>\n");
    h.push_str(&format!(
        "<title>{}</title>\n<style>{CSS}</style>\n</head>\n<body>\n",
        escape(title)
    ));
    h.push_str(&format!(
        "<h1>{}</h1>\n<p class=\"sub\">{}</p>\n",
        escape(title),
        escape(subtitle)
    ));
    for n in notes {
        h.push_str(&format!("<p class=\"note\">{}</p>\n", escape(n)));
    }
    if !rows.is_empty() {
        h.push_str("<table>\n");
        for r in rows {
            h.push_str(&format!(
                "<tr><th>{}</th><td>{}",
                escape(&r.label),
                escape(&r.value)
            ));
            if !r.details.is_empty() {
                h.push_str("<ul>");
                for (k, v) in &r.details {
                    h.push_str(&format!(
                        "<li><code>{}</code> = {}</li>",
                        escape(k),
                        escape(v)
                    ));
                }
                h.push_str("</ul>");
            }
            h.push_str("</td></tr>\n");
        }
        h.push_str("</table>\n");
    }
    if let Some(t) = table {
        h.push_str("<table class=\"columns\">\n<tr>");
        for c in &t.header {
            h.push_str(&format!("<th>{}</th>", escape(c)));
        }
        h.push_str("</tr>\n");
        for row in &t.rows {
            h.push_str("<tr>");
            for c in row {
                h.push_str(&format!("<td>{}</td>", escape(c)));
            }
            h.push_str("</tr>\n");
        }
        h.push_str("</table>\n");
    }
    for f in figures {
        h.push_str("<figure>\n");
        h.push_str(inline_svg(f.svg));
        h.push_str(&format!(
            "\n<figcaption>{} (also in <code>{}</code>)</figcaption>\n</figure>\n",
            escape(f.caption),
            escape(f.file)
        ));
    }
    h.push_str("<footer>Written by snuffer report. Self-contained: no scripts, no network.</footer>\n</body>\n</html>\n");
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup() {
        assert_eq!(escape("a<b & \"c\"'"), "a&lt;b &amp; &quot;c&quot;&#39;");
    }

    #[test]
    fn xml_declaration_is_dropped() {
        assert_eq!(inline_svg("<?xml version=\"1.0\"?>\n<svg/>"), "<svg/>");
        assert_eq!(inline_svg("<svg/>"), "<svg/>");
    }
}
