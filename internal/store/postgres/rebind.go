package postgres

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// errRebind reports SQL text whose placeholders cannot be numbered safely.
var errRebind = errors.New("cannot number placeholders")

// rebind turns each "?" placeholder of query into $first, $first+1, … for
// PostgreSQL, and returns the number of placeholders. A "?" inside a
// quoted string, a quoted identifier or a comment is text, not a
// placeholder, and is kept. Text that could hide or shift a placeholder is
// refused: an unterminated quote or comment, and any "$" outside quotes
// (a positional parameter or a dollar-quoted string).
//
// Lexical rules: https://www.postgresql.org/docs/15/sql-syntax-lexical.html.
// Strings are standard-conforming (” is a quote, a backslash is text)
// except E'…' strings, where a backslash escapes the next character.
func rebind(query string, first int) (string, int, error) {
	var b strings.Builder
	b.Grow(len(query) + 16)
	n := 0
	for i := 0; i < len(query); {
		c := query[i]
		var end int
		switch {
		case c == '?':
			b.WriteString("$" + strconv.Itoa(first+n))
			n++
			i++
			continue
		case c == '$':
			return "", 0, fmt.Errorf("%w: '$' at %d", errRebind, i)
		case c == '\'':
			end = quoted(query, i, '\'', isEscapeString(query, i))
		case c == '"':
			end = quoted(query, i, '"', false)
		case strings.HasPrefix(query[i:], "--"):
			end = lineComment(query, i)
		case strings.HasPrefix(query[i:], "/*"):
			end = blockComment(query, i)
		default:
			b.WriteByte(c)
			i++
			continue
		}
		if end < 0 {
			return "", 0, fmt.Errorf("%w: unterminated text at %d", errRebind, i)
		}
		b.WriteString(query[i:end])
		i = end
	}
	return b.String(), n, nil
}

// isEscapeString reports whether the quote at i opens an E'…' string: an
// E right before it that does not end an identifier.
func isEscapeString(q string, i int) bool {
	if i == 0 || (q[i-1] != 'E' && q[i-1] != 'e') {
		return false
	}
	return i == 1 || !isIdentChar(q[i-2])
}

func isIdentChar(c byte) bool {
	return c == '_' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' ||
		c >= 0x80
}

// quoted returns the index just past the quoted text opening at i, or -1.
// A doubled quote character stands for itself.
func quoted(q string, i int, quote byte, backslash bool) int {
	for j := i + 1; j < len(q); j++ {
		switch {
		case backslash && q[j] == '\\':
			j++
		case q[j] == quote:
			if j+1 < len(q) && q[j+1] == quote {
				j++
				continue
			}
			return j + 1
		}
	}
	return -1
}

// lineComment returns the index past the "--" comment at i.
func lineComment(q string, i int) int {
	if j := strings.IndexByte(q[i:], '\n'); j >= 0 {
		return i + j + 1
	}
	return len(q)
}

// blockComment returns the index past the "/* */" comment at i, which
// may nest, or -1.
func blockComment(q string, i int) int {
	depth := 0
	for j := i; j+1 < len(q); j++ {
		switch q[j : j+2] {
		case "/*":
			depth++
			j++
		case "*/":
			depth--
			j++
			if depth == 0 {
				return j + 1
			}
		}
	}
	return -1
}
