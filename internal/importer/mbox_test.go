package importer

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"
)

func FuzzMbox(f *testing.F) {
	f.Add([]byte("From a\nSubject: x\n\n>From y\n\nFrom b\r\n\r\nz"))
	f.Add([]byte("From \n\n\nFrom From \n>>From \n"))
	f.Add([]byte(">From \nFrom "))
	f.Fuzz(func(t *testing.T, data []byte) {
		path := filepath.Join(t.TempDir(), "box")
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		var got []message
		if err := readMbox(context.Background(), path, func(m message) {
			got = append(got, m)
		}); err != nil {
			t.Fatalf("readMbox: %v", err)
		}
		if want := countMbox(path); len(got) != want {
			t.Fatalf("got %d messages, counted %d separators", len(got), want)
		}
		total := 0
		for i, m := range got {
			total += len(m.raw)
			if m.index != i+1 || len(m.raw) > len(data) || m.err != nil {
				t.Fatalf("message %d: index %d, %d bytes of %d, err %v", i, m.index,
					len(m.raw), len(data), m.err)
			}
			if bytes.HasPrefix(m.raw, []byte(fromLine)) && !bytes.Contains(data, []byte(">From")) {
				t.Fatalf("message %d starts with its separator: %q", i, m.raw)
			}
		}
		if total > len(data) {
			t.Fatalf("messages hold %d bytes, more than the %d of the file", total, len(data))
		}
	})
}

func TestMboxPreamble(t *testing.T) {
	path := filepath.Join(t.TempDir(), "box")
	if err := os.WriteFile(path, []byte(">From \nFrom a\nSubject: s\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	var got []string
	if err := readMbox(context.Background(), path, func(m message) {
		got = append(got, string(m.raw))
	}); err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0] != "Subject: s\n" {
		t.Errorf("got %q, want only the message after the separator", got)
	}
}
