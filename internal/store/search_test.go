package store

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// render writes e compactly, for comparing trees in tests.
func render(e *SearchExpr) string {
	switch e.Op {
	case SearchTerm:
		s := strings.Join(e.Fields, "|") + ":" + strings.Join(e.Words, "+")
		if e.Prefix {
			s += "*"
		}
		return s
	case SearchNot:
		return "-" + render(e.Args[0])
	}
	parts := make([]string, len(e.Args))
	for i, a := range e.Args {
		parts[i] = render(a)
	}
	op := " & "
	if e.Op == SearchOr {
		op = " | "
	}
	return "(" + strings.Join(parts, op) + ")"
}

func TestParseSearch(t *testing.T) {
	const def = "subject|from|body"
	for _, tt := range []struct{ in, want string }{
		{"pizza", def + ":pizza"},
		{"Pizza  PARTY", "(" + def + ":pizza & " + def + ":party)"},
		{`"pizza party"`, def + ":pizza+party"},
		{`"pizza par"*`, def + ":pizza+par*"},
		{"pizz*", def + ":pizz*"},
		{"a AND b OR c", "((" + def + ":a & " + def + ":b) | " + def + ":c)"},
		{"a NOT b", "(" + def + ":a & -" + def + ":b)"},
		{"a AND (b OR NOT c d)", "(" + def + ":a & (" + def + ":b | (-" + def + ":c & " +
			def + ":d)))"},
		{"subject:hello", "subject:hello"},
		{`Subject:"hello world"`, "subject:hello+world"},
		{"from:ann@fabrikam.test", "from:ann+fabrikam+test"},
		{"recipients:bob", "to|cc|bcc:bob"},
		{"participants:bob", "from|to|cc|bcc:bob"},
		{"http://x.test/a", def + ":http+x+test+a"},
		{"a=b", def + ":a+b"},
		{"and or not", "(" + def + ":and & " + def + ":or & " + def + ":not)"},
		{"pizza & beer", "(" + def + ":pizza & " + def + ":beer)"},
		{"Crème brûlée", "(" + def + ":creme & " + def + ":brulee)"},
		{`"unterminated phrase`, def + ":unterminated+phrase"},
	} {
		t.Run(tt.in, func(t *testing.T) {
			e, err := ParseSearch(tt.in)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, render(e)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseSearchErrors(t *testing.T) {
	for _, in := range []string{
		"", "  ", "NOT a", "a OR NOT b", "NOT (a b)", "a AND", "AND a", "a OR", "(a", "a)",
		"(!)", "subject:", `subject: "x"`, "size:10", "hasAttachments:true",
		"received>=2024-01-01", "subject=x", "!!", `""`,
		"a NOT (NOT b)", strings.Repeat("(", 20) + "a" + strings.Repeat(")", 20),
		strings.Repeat("a ", MaxSearchTerms+1),
		"hello " + strings.Repeat("x", MaxSearchWordLen+1), strings.Repeat("é", MaxSearchWordLen+1),
		`subject:"a ` + strings.Repeat("9", MaxSearchWordLen+1) + `"`,
	} {
		t.Run(in, func(t *testing.T) {
			e, err := ParseSearch(in)
			if !errors.Is(err, ErrSearchSyntax) {
				t.Errorf("got %v, %v; want ErrSearchSyntax", e, err)
			}
		})
	}
}

func TestSearchLongestWord(t *testing.T) {
	for _, in := range []string{strings.Repeat("x", MaxSearchWordLen), "hello " +
		strings.Repeat("é", MaxSearchWordLen)} {
		if _, err := ParseSearch(in); err != nil {
			t.Errorf("a word of %d characters: %v", MaxSearchWordLen, err)
		}
	}
}

func TestSearchWords(t *testing.T) {
	got := SearchWords("Ann.Lee@Fabrikam.test — Ünïcode ß 42x " + strings.Repeat("z", 65))
	want := []string{"ann", "lee", "fabrikam", "test", "unicode", "ß", "42x"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if got := SearchText("a b c", 2); got != "a b" {
		t.Errorf("limit: got %q, want %q", got, "a b")
	}
}

// FuzzParseSearch checks that any input is either refused with
// ErrSearchSyntax or parsed into a tree whose terms all have words and
// fields, and whose every AND group has a positive term.
func FuzzParseSearch(f *testing.F) {
	for _, s := range []string{"pizza", `subject:"a b"*`, "a NOT (b OR c)", "(", `"`, "x:y"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		e, err := ParseSearch(s)
		if err != nil {
			if !errors.Is(err, ErrSearchSyntax) {
				t.Fatalf("%q: error %v does not wrap ErrSearchSyntax", s, err)
			}
			return
		}
		if !positive(e) {
			t.Fatalf("%q: tree without a positive term: %s", s, render(e))
		}
		var walk func(*SearchExpr)
		walk = func(e *SearchExpr) {
			if e.Op == SearchTerm {
				if len(e.Words) == 0 || len(e.Fields) == 0 {
					t.Fatalf("%q: empty term in %s", s, render(e))
				}
				for _, w := range e.Words {
					if len(SearchWords(w)) != 1 || SearchWords(w)[0] != w {
						t.Fatalf("%q: word %q is not normalised", s, w)
					}
				}
			}
			for _, a := range e.Args {
				walk(a)
			}
		}
		walk(e)
	})
}
