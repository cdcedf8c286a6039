package hybrid

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// editFunc decides one annotation (a member whose name holds "@") of an
// object at depth (1 for the document root): the value to write, or keep
// false to drop the member.
type editFunc func(depth int, key string, raw []byte) (value []byte, keep bool, err error)

// editAnnotations copies a JSON document, passing every annotation member
// through fn. It runs over the bytes, like schema.Translate, because it
// follows it on every proxied answer.
func editAnnotations(doc []byte, fn editFunc) ([]byte, error) {
	e := editor{in: doc, out: make([]byte, 0, len(doc)), fn: fn}
	e.space()
	if err := e.value(0); err != nil {
		return nil, err
	}
	return e.out, nil
}

var errJSON = errors.New("malformed JSON")

type editor struct {
	in  []byte
	pos int
	out []byte
	fn  editFunc
}

func (e *editor) fail(what string) error {
	return fmt.Errorf("%w: %s at offset %d", errJSON, what, e.pos)
}

func (e *editor) space() {
	for e.pos < len(e.in) && strings.IndexByte(" \t\r\n", e.in[e.pos]) >= 0 {
		e.pos++
	}
}

// value copies one value; objects and arrays are walked for annotations.
func (e *editor) value(depth int) error {
	if e.pos >= len(e.in) {
		return e.fail("unexpected end")
	}
	switch e.in[e.pos] {
	case '{':
		return e.object(depth + 1)
	case '[':
		return e.array(depth)
	}
	end, err := e.scan(e.pos)
	if err != nil {
		return err
	}
	e.out = append(e.out, e.in[e.pos:end]...)
	e.pos = end
	return nil
}

func (e *editor) array(depth int) error {
	e.out = append(e.out, '[')
	e.pos++
	for first := true; ; first = false {
		e.space()
		if e.pos < len(e.in) && e.in[e.pos] == ']' && first {
			break
		}
		if !first {
			e.out = append(e.out, ',')
		}
		if err := e.value(depth); err != nil {
			return err
		}
		e.space()
		if e.pos < len(e.in) && e.in[e.pos] == ',' {
			e.pos++
			continue
		}
		if e.pos >= len(e.in) || e.in[e.pos] != ']' {
			return e.fail("expected , or ]")
		}
		break
	}
	e.pos++
	e.out = append(e.out, ']')
	return nil
}

func (e *editor) object(depth int) error {
	e.out = append(e.out, '{')
	e.pos++
	written := 0
	for {
		e.space()
		if e.pos < len(e.in) && e.in[e.pos] == '}' && written == 0 {
			break
		}
		if err := e.member(depth, &written); err != nil {
			return err
		}
		e.space()
		if e.pos < len(e.in) && e.in[e.pos] == ',' {
			e.pos++
			continue
		}
		if e.pos >= len(e.in) || e.in[e.pos] != '}' {
			return e.fail("expected , or }")
		}
		break
	}
	e.pos++
	e.out = append(e.out, '}')
	return nil
}

// member copies or edits one "key": value pair; written counts the pairs
// written so far, for the commas.
func (e *editor) member(depth int, written *int) error {
	if e.pos >= len(e.in) || e.in[e.pos] != '"' {
		return e.fail("expected a name")
	}
	kend, err := e.scan(e.pos)
	if err != nil {
		return err
	}
	rawKey := e.in[e.pos:kend]
	e.pos = kend
	e.space()
	if e.pos >= len(e.in) || e.in[e.pos] != ':' {
		return e.fail("expected :")
	}
	e.pos++
	e.space()

	if bytes.IndexByte(rawKey, '@') < 0 {
		e.comma(written)
		e.out = append(append(e.out, rawKey...), ':')
		return e.value(depth)
	}
	key := string(rawKey[1 : len(rawKey)-1])
	if bytes.IndexByte(rawKey, '\\') >= 0 {
		if err := json.Unmarshal(rawKey, &key); err != nil {
			return e.fail("bad name")
		}
	}
	vend, err := e.scanValue(e.pos)
	if err != nil {
		return err
	}
	val, keep, err := e.fn(depth, key, e.in[e.pos:vend])
	e.pos = vend
	if err != nil || !keep {
		return err
	}
	e.comma(written)
	e.out = append(append(append(e.out, rawKey...), ':'), val...)
	return nil
}

func (e *editor) comma(written *int) {
	if *written > 0 {
		e.out = append(e.out, ',')
	}
	*written++
}

// scanValue returns the end of the value at i, nested values included.
func (e *editor) scanValue(i int) (int, error) {
	depth := 0
	for i < len(e.in) {
		switch c := e.in[i]; c {
		case '"':
			end, err := e.scan(i)
			if err != nil {
				return 0, err
			}
			i = end
		case '{', '[':
			depth++
			i++
		case '}', ']':
			depth--
			i++
		default:
			end, err := e.scan(i)
			if err != nil {
				return 0, err
			}
			i = end
		}
		if depth <= 0 {
			if depth < 0 {
				return 0, e.fail("unbalanced value")
			}
			return i, nil
		}
		for i < len(e.in) && strings.IndexByte(" \t\r\n,:", e.in[i]) >= 0 {
			i++
		}
	}
	return 0, e.fail("unterminated value")
}

// scan returns the end of the string or scalar token at i.
func (e *editor) scan(i int) (int, error) {
	if e.in[i] == '"' {
		for j := i + 1; j < len(e.in); j++ {
			switch e.in[j] {
			case '\\':
				j++
			case '"':
				return j + 1, nil
			}
		}
		return 0, e.fail("unterminated string")
	}
	j := i
	for j < len(e.in) && strings.IndexByte(",}] \t\r\n:", e.in[j]) < 0 {
		j++
	}
	if j == i {
		return 0, e.fail("expected a value")
	}
	return j, nil
}
