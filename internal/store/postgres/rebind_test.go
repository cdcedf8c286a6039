package postgres

import (
	"errors"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/hybridgraph/hybridgraph/internal/odata"
	"github.com/hybridgraph/hybridgraph/internal/schema"
)

func TestRebind(t *testing.T) {
	tests := []struct {
		in, want string
		first, n int
		err      bool
	}{
		{in: "a = ? AND b = ?", first: 3, want: "a = $3 AND b = $4", n: 2},
		{in: "a = '?' AND b = ?", first: 1, want: "a = '?' AND b = $1", n: 1},
		{in: "a = 'it''s ?' OR b = ?", first: 1, want: "a = 'it''s ?' OR b = $1", n: 1},
		{in: `a LIKE ? ESCAPE '\'`, first: 2, want: `a LIKE $2 ESCAPE '\'`, n: 1},
		{in: `a = E'\'?' AND b = ?`, first: 1, want: `a = E'\'?' AND b = $1`, n: 1},
		// "ae" ends an identifier, so no E prefix: \ is text in 'a\'.
		{in: `ae'a\' = ?`, first: 1, want: `ae'a\' = $1`, n: 1},
		{in: `"we?ird" = ?`, first: 1, want: `"we?ird" = $1`, n: 1},
		{in: "a = ? -- b = ?\nAND c = ?", first: 1, want: "a = $1 -- b = ?\nAND c = $2", n: 2},
		{in: "a = ? /* b = ? /* ? */ */ AND c = ?", first: 1,
			want: "a = $1 /* b = ? /* ? */ */ AND c = $2", n: 2},
		{in: "a = $1", err: true},
		{in: "a = $$?$$", err: true},
		{in: "a = 'open ?", err: true},
		{in: `a = "open ?`, err: true},
		{in: "a = ? /* open", err: true},
		{in: "", first: 1, want: "", n: 0},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, n, err := rebind(tt.in, tt.first)
			if tt.err {
				if !errors.Is(err, errRebind) {
					t.Errorf("got %q, %v; want errRebind", got, err)
				}
				return
			}
			if err != nil || got != tt.want || n != tt.n {
				t.Errorf("got %q, %d, %v; want %q, %d", got, n, err, tt.want, tt.n)
			}
		})
	}
}

// TestODataNeverInlinesLiterals compiles filters whose literals hold SQL
// quotes, "?" and "$": package odata must pass every literal as an
// argument, so the SQL text holds none of them, and rebind numbers exactly
// one placeholder per argument.
func TestODataNeverInlinesLiterals(t *testing.T) {
	for _, f := range []string{
		"subject eq 'a?b'",
		"subject eq 'it''s ? $1'",
		"contains(subject, '?') or startswith(from/emailAddress/name, '''?''')",
		"endswith(subject, '$$?$$') and not (subject ne '\\?')",
		"subject in ('?', '''', '$2') and isRead eq false",
		"receivedDateTime ge 2026-01-01T00:00:00Z and importance eq 'high'",
	} {
		t.Run(f, func(t *testing.T) {
			q, err := odata.Parse(url.Values{"$filter": {f}}, schema.Message, schema.Graph,
				odata.Limits{})
			if err != nil {
				t.Fatal(err)
			}
			w := q.Store.Where
			if strings.ContainsAny(w, `"$`) || strings.Count(w, "?") != len(q.Store.Args) {
				t.Errorf("Where %q with %d args: want only placeholders", w, len(q.Store.Args))
			}
			if _, n, err := rebind(w, 1); err != nil || n != len(q.Store.Args) {
				t.Errorf("rebind(%q): got %d placeholders, %v; want %d", w, n, err,
					len(q.Store.Args))
			}
		})
	}
}

func FuzzRebind(f *testing.F) {
	for _, s := range []string{"a = ?", "'?' ?", `E'\'' ?`, "/* ? */ ?", "-- ?\n?", `"?"?`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out, n, err := rebind(s, 1)
		if err != nil {
			return
		}
		// Each placeholder became one "$k" and nothing else changed.
		if got, want := strings.Count(out, "?"), strings.Count(s, "?")-n; got != want {
			t.Fatalf("rebind(%q) = %q: %d '?' left, want %d", s, out, got, want)
		}
		if got, want := strings.Count(out, "$"), strings.Count(s, "$")+n; got != want {
			t.Fatalf("rebind(%q) = %q: %d '$', want %d", s, out, got, want)
		}
		if n > 0 && !strings.Contains(out, "$"+strconv.Itoa(n)) {
			t.Fatalf("rebind(%q) = %q: no $%d", s, out, n)
		}
	})
}
