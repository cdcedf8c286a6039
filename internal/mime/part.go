package mime

import (
	"bytes"
	"encoding/base64"
	"io"
	stdmime "mime"
	"mime/quotedprintable"
	"strings"

	"github.com/emersion/go-message/charset"
)

// Limits on the MIME tree, so that a hostile message costs bounded work.
// Real mail nests a few levels (mixed > alternative > related is three);
// the limits are far above that.
const (
	maxDepth = 32   // multipart nesting levels followed
	maxParts = 1000 // parts read in the whole message
)

// mediaType parses a Content-Type or Content-Disposition value. Values
// that mime.ParseMediaType rejects (duplicate or unquoted parameters are
// common) are split by hand, the first occurrence of a parameter winning.
func mediaType(v string) (string, map[string]string) {
	if t, params, err := stdmime.ParseMediaType(v); err == nil {
		return t, params
	}
	pieces := strings.Split(v, ";")
	t := strings.ToLower(strings.TrimSpace(pieces[0]))
	params := map[string]string{}
	for _, p := range pieces[1:] {
		k, val, ok := strings.Cut(p, "=")
		if !ok {
			continue
		}
		k = strings.ToLower(strings.TrimSpace(k))
		val = strings.Trim(strings.TrimSpace(val), `"`)
		if _, seen := params[k]; !seen && k != "" {
			params[k] = val
		}
	}
	return t, params
}

// contentType returns the media type of a part, with the default of RFC
// 2045 section 5.2 (text/plain) or, inside multipart/digest, the default
// of RFC 2046 section 5.1.5 (message/rfc822).
func contentType(h header, digest bool) (string, map[string]string) {
	v := h.get("Content-Type")
	if v == "" {
		if digest {
			return "message/rfc822", map[string]string{}
		}
		return "text/plain", map[string]string{}
	}
	t, params := mediaType(v)
	if !strings.Contains(t, "/") {
		return "text/plain", params
	}
	return t, params
}

// splitMultipart returns the body parts of a multipart body (RFC 2046
// section 5.1.1). A delimiter is a line of "--" boundary, optionally
// followed by "--" (the close delimiter) and whitespace. The preamble and
// epilogue are dropped; a missing close delimiter ends the last part at
// the end of the body.
func splitMultipart(body []byte, boundary string, limit int) [][]byte {
	delim := []byte("--" + boundary)
	var parts [][]byte
	start := -1 // offset of the current part's content, -1 in the preamble
	for off := 0; off < len(body); {
		line, rest := cutLine(body[off:])
		next := len(body) - len(rest)
		if isDelimiter(line, delim) {
			if start >= 0 {
				parts = append(parts, trimLineEnd(body[start:off]))
			}
			if bytes.HasPrefix(line[len(delim):], []byte("--")) || len(parts) >= limit {
				return parts
			}
			start = next
		}
		off = next
	}
	if start >= 0 && start < len(body) {
		parts = append(parts, body[start:])
	}
	return parts
}

// isDelimiter tells whether line is the delimiter or the close delimiter.
func isDelimiter(line, delim []byte) bool {
	if !bytes.HasPrefix(line, delim) {
		return false
	}
	tail := bytes.TrimPrefix(line[len(delim):], []byte("--"))
	return len(bytes.Trim(tail, " \t")) == 0
}

// trimLineEnd drops the line break before a delimiter, which RFC 2046
// section 5.1.1 makes part of the delimiter.
func trimLineEnd(b []byte) []byte {
	b = bytes.TrimSuffix(b, []byte("\n"))
	return bytes.TrimSuffix(b, []byte("\r"))
}

// decodeTransfer undoes the Content-Transfer-Encoding (RFC 2045 section
// 6). Unknown encodings, and 7bit, 8bit and binary, are left as they are.
func decodeTransfer(body []byte, cte string) []byte {
	switch strings.ToLower(strings.TrimSpace(strings.TrimRight(cte, "; "))) {
	case "base64":
		return decodeBase64(body)
	case "quoted-printable":
		out, _ := io.ReadAll(quotedprintable.NewReader(bytes.NewReader(body)))
		return out // on an error, what was decoded before it
	}
	return body
}

// decodeBase64 decodes leniently: characters outside the alphabet are
// skipped (RFC 2045 section 6.8 says to ignore them), decoding stops at
// padding, and a dangling sixth of a byte is dropped.
func decodeBase64(body []byte) []byte {
	clean := make([]byte, 0, len(body))
	for _, c := range body {
		if c == '=' {
			break
		}
		if c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' ||
			c == '+' || c == '/' {
			clean = append(clean, c)
		}
	}
	if len(clean)%4 == 1 {
		clean = clean[:len(clean)-1]
	}
	out := make([]byte, base64.RawStdEncoding.DecodedLen(len(clean)))
	n, _ := base64.RawStdEncoding.Decode(out, clean)
	return out[:n]
}

// decodeText converts text in the named charset to UTF-8. An unknown
// charset, or text that is not valid in the charset it claims, falls back
// to validUTF8. NUL characters are dropped: no mail client shows them and
// they end C strings in storage layers.
func decodeText(b []byte, cs string) string {
	cs = strings.ToLower(strings.TrimSpace(cs))
	switch cs {
	case "", "utf-8", "utf8", "us-ascii", "ascii":
	default:
		if r, err := charset.Reader(cs, bytes.NewReader(b)); err == nil {
			if out, err := io.ReadAll(r); err == nil {
				b = out
			}
		}
	}
	return strings.ReplaceAll(validUTF8(string(b)), "\x00", "")
}

// wordDecoder decodes RFC 2047 encoded-words. Words in a charset it does
// not know are kept as their raw octets rather than failing the whole
// field.
var wordDecoder = &stdmime.WordDecoder{
	CharsetReader: func(cs string, input io.Reader) (io.Reader, error) {
		if r, err := charset.Reader(cs, input); err == nil {
			return r, nil
		}
		return input, nil
	},
}

// decodeWords decodes the encoded-words in an unstructured field value,
// keeping the raw value when the words cannot be decoded.
func decodeWords(v string) string {
	out, err := wordDecoder.DecodeHeader(v)
	if err != nil {
		return v
	}
	return validUTF8(out)
}
