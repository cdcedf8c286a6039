package mime

import (
	"html"
	"strings"
	"unicode/utf8"

	"github.com/k3a/html2text"
)

// HTMLToText renders an HTML body as plain text, with Unix line breaks.
func HTMLToText(s string) string {
	return html2text.HTML2TextWithOptions(s, html2text.WithUnixLineBreaks())
}

// TextToHTML wraps a plain-text body as HTML, escaped, keeping its line
// breaks, as Exchange does when a client asks for an HTML body.
func TextToHTML(s string) string {
	return "<html><body><div>" +
		strings.ReplaceAll(html.EscapeString(s), "\n", "<br>\n") + "</div></body></html>"
}

// Preview is bodyPreview: the body as plain text, whitespace collapsed, cut
// to PreviewLength characters (graph-api.md §2.2).
func Preview(contentType, content string) string {
	if contentType == "html" {
		content = HTMLToText(content)
	}
	text := strings.Join(strings.Fields(content), " ")
	if utf8.RuneCountInString(text) <= PreviewLength {
		return text
	}
	return string([]rune(text)[:PreviewLength])
}
