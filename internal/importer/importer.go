package importer

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// MaxMessageBytes is the largest message imported. Exchange Online takes
// messages of up to 150 MB when an administrator raises the limit; mail
// that large is rare in archives, and 64 MiB keeps one message's import
// within a modest amount of memory.
const MaxMessageBytes = 64 << 20

// SkipReason says why a message was not imported.
type SkipReason struct {
	Path   string // the file
	Index  int    // the message's number in an mbox, from 1; 0 for other files
	Reason string
}

// String formats the reason as "path[#index]: reason".
func (r SkipReason) String() string {
	if r.Index > 0 {
		return fmt.Sprintf("%s#%d: %s", r.Path, r.Index, r.Reason)
	}
	return fmt.Sprintf("%s: %s", r.Path, r.Reason)
}

// Summary counts the outcome of an import.
type Summary struct {
	Imported, Skipped int
	Reasons           []SkipReason // one per skipped message
}

// Run imports the messages found at paths into dest. When progress is a
// terminal it shows a progress bar there; otherwise it writes nothing. It
// fails before importing anything if a path cannot be read, and stops
// with ctx's error if ctx ends; a message that cannot be imported is only
// skipped.
func Run(ctx context.Context, dest func(ctx context.Context, raw []byte) error,
	paths []string, progress io.Writer) (Summary, error) {
	var sources []source
	var sum Summary
	for _, p := range paths {
		found, err := findSources(p, &sum)
		if err != nil {
			return Summary{}, err
		}
		sources = append(sources, found...)
	}

	bar := newProgress(progress, sources)
	defer bar.finish()
	for _, src := range sources {
		if err := ctx.Err(); err != nil {
			return sum, err
		}
		each := func(m message) {
			bar.step()
			deliver(ctx, dest, m, &sum)
		}
		if err := src.read(ctx, each); err != nil {
			sum.skip(SkipReason{Path: src.path, Reason: err.Error()})
		}
	}
	return sum, ctx.Err()
}

// message is one message found in a file, or why it could not be read.
type message struct {
	path  string
	index int
	raw   []byte
	err   error // set when the message is not to be delivered
}

func deliver(ctx context.Context, dest func(context.Context, []byte) error, m message,
	sum *Summary) {
	err := m.err
	if err == nil {
		err = dest(ctx, m.raw)
	}
	if err != nil {
		sum.skip(SkipReason{Path: m.path, Index: m.index, Reason: err.Error()})
		return
	}
	sum.Imported++
}

func (s *Summary) skip(r SkipReason) {
	s.Skipped++
	s.Reasons = append(s.Reasons, r)
}

// errTooLarge is the reason for skipping a message over MaxMessageBytes.
var errTooLarge = fmt.Errorf("message larger than the %d MiB limit", MaxMessageBytes>>20)

// sourceKind is how a file holds messages.
type sourceKind int

const (
	oneMessage sourceKind = iota // .eml or maildir file
	mboxFile
)

// source is one file to read.
type source struct {
	path string
	kind sourceKind
}

// findSources lists the files of one path given to Run. Files inside a
// folder that cannot be read are recorded as skipped.
func findSources(path string, sum *Summary) ([]source, error) {
	info, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("import %s: %w", path, err)
	}
	if !info.IsDir() {
		src, err := classify(path)
		if err != nil {
			return nil, fmt.Errorf("import %s: %w", path, err)
		}
		return []source{src}, nil
	}

	var out []source
	err = filepath.WalkDir(path, func(p string, d fs.DirEntry, err error) error {
		switch {
		case err != nil:
			sum.skip(SkipReason{Path: p, Reason: err.Error()})
			return nil
		case d.IsDir() && isMaildir(p):
			out = append(out, maildirFiles(p, sum)...)
			return filepath.SkipDir
		case d.Type().IsRegular() && isMailFile(p):
			src, err := classify(p)
			if err != nil {
				sum.skip(SkipReason{Path: p, Reason: err.Error()})
				return nil
			}
			out = append(out, src)
		}
		return nil
	})
	return out, err
}

// isMailFile tells which files a folder walk imports: .eml files, and
// .mbox files (which classify then checks).
func isMailFile(p string) bool {
	ext := strings.ToLower(filepath.Ext(p))
	return ext == ".eml" || ext == ".mbox"
}

// isMaildir tells whether dir is a maildir: it has cur/ and new/.
func isMaildir(dir string) bool {
	for _, sub := range []string{"cur", "new"} {
		if info, err := os.Stat(filepath.Join(dir, sub)); err != nil || !info.IsDir() {
			return false
		}
	}
	return true
}

// maildirFiles lists the messages of a maildir: every file in cur/ and
// new/ whose name does not start with a dot. tmp/ holds messages still
// being written and is left alone, as maildir readers do.
func maildirFiles(dir string, sum *Summary) []source {
	var out []source
	for _, sub := range []string{"cur", "new"} {
		entries, err := os.ReadDir(filepath.Join(dir, sub))
		if err != nil {
			sum.skip(SkipReason{Path: filepath.Join(dir, sub), Reason: err.Error()})
			continue
		}
		for _, e := range entries {
			if e.Type().IsRegular() && !strings.HasPrefix(e.Name(), ".") {
				out = append(out, source{path: filepath.Join(dir, sub, e.Name()), kind: oneMessage})
			}
		}
	}
	return out
}

// classify opens a file and tells an mbox from a single message by its
// first line.
func classify(path string) (source, error) {
	f, err := os.Open(path)
	if err != nil {
		return source{}, err
	}
	defer f.Close()
	head := make([]byte, len(fromLine))
	n, err := io.ReadFull(f, head)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return source{}, err
	}
	if string(head[:n]) == fromLine {
		return source{path: path, kind: mboxFile}, nil
	}
	return source{path: path, kind: oneMessage}, nil
}

// read calls fn for each message of the file.
func (s source) read(ctx context.Context, fn func(message)) error {
	if s.kind == mboxFile {
		return readMbox(ctx, s.path, fn)
	}
	info, err := os.Stat(s.path)
	if err != nil {
		return err
	}
	if info.Size() > MaxMessageBytes {
		fn(message{path: s.path, err: errTooLarge})
		return nil
	}
	raw, err := os.ReadFile(s.path)
	if err != nil {
		return err
	}
	fn(message{path: s.path, raw: raw})
	return nil
}
