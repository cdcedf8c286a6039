package importer

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"os"
)

// fromLine starts the separator line of an mbox (RFC 4155 section 2).
const fromLine = "From "

// lineReader yields the lines of a file in pieces of at most its buffer
// size, so that a line without end cannot take unbounded memory.
type lineReader struct {
	br      *bufio.Reader
	atStart bool // the next piece starts a line
}

func newLineReader(r io.Reader) *lineReader {
	return &lineReader{br: bufio.NewReaderSize(r, 64<<10), atStart: true}
}

// next returns the next piece, whether it starts a line, and io.EOF at
// the end. The piece is valid until the next call.
func (lr *lineReader) next() (piece []byte, start bool, err error) {
	piece, err = lr.br.ReadSlice('\n')
	start = lr.atStart
	lr.atStart = len(piece) > 0 && piece[len(piece)-1] == '\n'
	if errors.Is(err, bufio.ErrBufferFull) {
		err = nil
	}
	if len(piece) > 0 && errors.Is(err, io.EOF) {
		err = nil // return the last piece now and EOF on the next call
	}
	return piece, start, err
}

// mboxSplitter collects the messages of an mbox.
type mboxSplitter struct {
	path  string
	index int
	buf   bytes.Buffer
	big   bool // the current message passed MaxMessageBytes
	fn    func(message)
}

// readMbox calls fn for each message of the mbox at path.
func readMbox(ctx context.Context, path string, fn func(message)) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	sp := &mboxSplitter{path: path, fn: fn}
	lr := newLineReader(f)
	inFrom := false // inside a separator line (one longer than a piece)
	for {
		piece, start, err := lr.next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return err
		}
		switch {
		case start && bytes.HasPrefix(piece, []byte(fromLine)):
			if sp.index > 0 {
				sp.emit()
			}
			if ctx.Err() != nil {
				return ctx.Err()
			}
			sp.index++
			inFrom = true
		case inFrom && !start, sp.index == 0:
			// The rest of a long separator line, or text before the first
			// separator (classify lets no such file in).
		default:
			inFrom = false
			sp.add(piece, start)
		}
	}
	if sp.index > 0 {
		sp.emit()
	}
	return nil
}

// add appends a piece of a line, undoing mboxrd quoting: a line of one or
// more ">" then "From " lost one ">" when written.
func (sp *mboxSplitter) add(piece []byte, start bool) {
	if start && bytes.HasPrefix(bytes.TrimLeft(piece, ">"), []byte(fromLine)) && piece[0] == '>' {
		piece = piece[1:]
	}
	if sp.big || sp.buf.Len()+len(piece) > MaxMessageBytes+2 {
		sp.big = true
		return
	}
	sp.buf.Write(piece)
}

// emit hands over the collected message without the empty line that
// separates it from the next (RFC 4155 section 2).
func (sp *mboxSplitter) emit() {
	m := message{path: sp.path, index: sp.index}
	raw := sp.buf.Bytes()
	if bytes.HasSuffix(raw, []byte("\r\n\r\n")) {
		raw = raw[:len(raw)-2]
	} else if bytes.HasSuffix(raw, []byte("\n\n")) {
		raw = raw[:len(raw)-1]
	}
	switch {
	case sp.big || len(raw) > MaxMessageBytes:
		m.err = errTooLarge
	default:
		m.raw = bytes.Clone(raw)
	}
	sp.fn(m)
	sp.buf.Reset()
	sp.big = false
}

// countMbox counts the messages of an mbox, for the progress bar.
func countMbox(path string) int {
	f, err := os.Open(path)
	if err != nil {
		return 0
	}
	defer f.Close()
	lr := newLineReader(f)
	n := 0
	for {
		piece, start, err := lr.next()
		if err != nil {
			return n
		}
		if start && bytes.HasPrefix(piece, []byte(fromLine)) {
			n++
		}
	}
}
