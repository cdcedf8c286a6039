package importer

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/hybridgraph/hybridgraph/internal/mime"
)

// recorder is a destination that keeps what it was given.
type recorder struct {
	mu   sync.Mutex
	msgs []string
	fail func(raw []byte) error
}

func (r *recorder) dest(_ context.Context, raw []byte) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.fail != nil {
		if err := r.fail(raw); err != nil {
			return err
		}
	}
	r.msgs = append(r.msgs, string(raw))
	return nil
}

// parseDest is a destination that parses each message as the mailbox
// engine's import does.
func parseDest(_ context.Context, raw []byte) error {
	_, err := mime.Parse(raw)
	return err
}

func write(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestMboxSplitting(t *testing.T) {
	dir := t.TempDir()
	mbox := "From a@b Mon Jan  1 00:00:00 2024\r\nSubject: one\r\n\r\n>From here\r\n" +
		">>From there\r\n> From stays\r\n\r\n" +
		"From b@c Tue Jan  2 00:00:00 2024\nSubject: two\n\nbody\n\n" +
		"From - \nSubject: three\n\nlast"
	write(t, filepath.Join(dir, "box"), mbox)
	var r recorder
	sum, err := Run(context.Background(), r.dest, []string{filepath.Join(dir, "box")}, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"Subject: one\r\n\r\nFrom here\r\n>From there\r\n> From stays\r\n",
		"Subject: two\n\nbody\n",
		"Subject: three\n\nlast",
	}
	if diff := cmp.Diff(want, r.msgs); diff != "" {
		t.Errorf("messages (-want +got):\n%s", diff)
	}
	if sum.Imported != 3 || sum.Skipped != 0 {
		t.Errorf("summary: got %+v, want 3 imported", sum)
	}
}

func TestRunLayouts(t *testing.T) {
	dir := t.TempDir()
	msg := func(s string) string { return "Subject: " + s + "\r\n\r\nbody\r\n" }
	write(t, filepath.Join(dir, "maildir", "cur", "1:2,S"), msg("cur"))
	write(t, filepath.Join(dir, "maildir", "new", "2"), msg("new"))
	write(t, filepath.Join(dir, "maildir", "tmp", "3"), msg("tmp, not yet delivered"))
	write(t, filepath.Join(dir, "maildir", "new", ".hidden"), msg("hidden"))
	write(t, filepath.Join(dir, "emls", "a.eml"), msg("a"))
	write(t, filepath.Join(dir, "emls", "deep", "b.EML"), msg("b"))
	write(t, filepath.Join(dir, "emls", "notes.txt"), "not mail")
	write(t, filepath.Join(dir, "emls", "archive.mbox"), "From x\n"+msg("m1")+"\nFrom y\n"+msg("m2"))
	write(t, filepath.Join(dir, "single.eml"), msg("single"))
	write(t, filepath.Join(dir, "bad.eml"), "no header here")

	var r recorder
	paths := []string{filepath.Join(dir, "maildir"), filepath.Join(dir, "emls"),
		filepath.Join(dir, "single.eml"), filepath.Join(dir, "bad.eml")}
	sum, err := Run(context.Background(), r.dest, paths, nil)
	if err != nil {
		t.Fatal(err)
	}
	var subjects []string
	for _, m := range r.msgs {
		s, _, _ := strings.Cut(strings.TrimPrefix(m, "Subject: "), "\r\n")
		subjects = append(subjects, s)
	}
	want := []string{"cur", "new", "a", "m1", "m2", "b", "single", "no header here"}
	if diff := cmp.Diff(want, subjects); diff != "" {
		t.Errorf("imported (-want +got):\n%s", diff)
	}
	if sum.Imported != len(want) || sum.Skipped != 0 {
		t.Errorf("summary: got %+v, want %d imported", sum, len(want))
	}
}

func TestRunSkips(t *testing.T) {
	dir := t.TempDir()
	write(t, filepath.Join(dir, "good.eml"), "Subject: ok\n\nx")
	write(t, filepath.Join(dir, "bad.eml"), "not a message at all")
	write(t, filepath.Join(dir, "box.mbox"),
		"From a\nSubject: 1\n\nx\n\nFrom b\njunk\n\nFrom c\nSubject: 3\n\ny\n")
	huge := filepath.Join(dir, "huge.eml")
	write(t, huge, "Subject: big\n\n")
	if err := os.Truncate(huge, MaxMessageBytes+1); err != nil {
		t.Fatal(err)
	}

	sum, err := Run(context.Background(), parseDest, []string{dir}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Imported != 3 || sum.Skipped != 3 || len(sum.Reasons) != 3 {
		t.Fatalf("summary: got %+v, want 3 imported and 3 skipped with reasons", sum)
	}
	got := map[string]string{}
	for _, r := range sum.Reasons {
		got[fmt.Sprintf("%s#%d", filepath.Base(r.Path), r.Index)] = r.Reason
	}
	for key, want := range map[string]string{"bad.eml#0": "malformed", "box.mbox#2": "malformed",
		"huge.eml#0": "larger than"} {
		if !strings.Contains(got[key], want) {
			t.Errorf("%s: got reason %q, want one with %q", key, got[key], want)
		}
	}
}

func TestRunOversizedMboxMessage(t *testing.T) {
	dir := t.TempDir()
	var b bytes.Buffer
	b.WriteString("From a\nSubject: big\n\n")
	line := strings.Repeat("x", 1023) + "\n"
	for b.Len() <= MaxMessageBytes+len(line) {
		b.WriteString(line)
	}
	b.WriteString("\nFrom b\nSubject: small\n\nx\n")
	write(t, filepath.Join(dir, "box"), b.String())
	var r recorder
	sum, err := Run(context.Background(), r.dest, []string{filepath.Join(dir, "box")}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Imported != 1 || sum.Skipped != 1 || sum.Reasons[0].Index != 1 ||
		sum.Reasons[0].Reason != errTooLarge.Error() {
		t.Errorf("summary: got %+v, want message 1 skipped as too large and 1 imported", sum)
	}
}

func TestRunErrors(t *testing.T) {
	dir := t.TempDir()
	write(t, filepath.Join(dir, "a.eml"), "Subject: a\n\nx")
	if _, err := Run(context.Background(), parseDest, []string{filepath.Join(dir, "nope")},
		nil); err == nil {
		t.Errorf("missing path: got no error, want one")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var r recorder
	_, err := Run(ctx, r.dest, []string{dir}, nil)
	if !errors.Is(err, context.Canceled) || len(r.msgs) != 0 {
		t.Errorf("cancelled: got %v and %d messages, want context.Canceled and none", err, len(r.msgs))
	}
}

func TestRunWritesNothingOffTerminal(t *testing.T) {
	dir := t.TempDir()
	write(t, filepath.Join(dir, "a.eml"), "Subject: a\n\nx")
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer pr.Close()
	var buf bytes.Buffer
	if _, err := Run(context.Background(), parseDest, []string{dir}, &buf); err != nil {
		t.Fatal(err)
	}
	if _, err := Run(context.Background(), parseDest, []string{dir}, pw); err != nil {
		t.Fatal(err)
	}
	pw.Close()
	piped, _ := io.ReadAll(pr)
	if buf.Len() != 0 || len(piped) != 0 {
		t.Errorf("progress off a terminal: got %q and %q, want nothing", buf.String(), piped)
	}
}
