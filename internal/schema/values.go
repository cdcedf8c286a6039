package schema

// Values splits the JSON object doc into the raw values of t's properties,
// indexed like t.Props (nil where absent); members that t does not know,
// such as annotations, go to other when it is not nil. It checks the
// document's form as it goes but decodes nothing: responses are shaped from
// stored documents on every list.
func (t *StructType) Values(doc []byte, other func(key string, raw []byte)) ([][]byte, error) {
	x := translator{in: doc}
	x.space()
	if x.pos >= len(x.in) || x.in[x.pos] != '{' {
		return nil, x.fail("expected an object")
	}
	x.pos++
	vals := make([][]byte, len(t.Props))
	x.space()
	if x.pos < len(x.in) && x.in[x.pos] == '}' {
		return vals, nil
	}
	for {
		x.space()
		if x.pos >= len(x.in) || x.in[x.pos] != '"' {
			return nil, x.fail("expected a property name")
		}
		key, err := x.rawStr()
		if err != nil {
			return nil, err
		}
		x.space()
		if x.pos >= len(x.in) || x.in[x.pos] != ':' {
			return nil, x.fail("expected :")
		}
		x.pos++
		x.space()
		start := x.pos
		if err := x.skipValue(); err != nil {
			return nil, err
		}
		raw := x.in[start:x.pos]
		if i, ok := t.index[Graph][string(key)]; ok {
			vals[i] = raw
		} else if other != nil {
			k, err := decodeKey(key)
			if err != nil {
				return nil, x.fail("bad property name")
			}
			other(k, raw)
		}
		x.space()
		if x.pos >= len(x.in) {
			return nil, x.fail("unterminated object")
		}
		switch x.in[x.pos] {
		case ',':
			x.pos++
		case '}':
			return vals, nil
		default:
			return nil, x.fail("expected , or }")
		}
	}
}

// skipValue moves past one JSON value, checking its form.
func (x *translator) skipValue() error {
	if x.pos >= len(x.in) {
		return x.fail("unexpected end")
	}
	switch x.in[x.pos] {
	case '"':
		return x.skipString()
	case '{':
		return x.skipContainer('}', true)
	case '[':
		return x.skipContainer(']', false)
	}
	start := x.pos
	x.scalarEnd()
	return checkScalar(x.in[start:x.pos], x)
}

// skipContainer moves past an object (keyed) or an array.
func (x *translator) skipContainer(end byte, keyed bool) error {
	if err := x.enter(); err != nil {
		return err
	}
	defer x.leave()
	x.pos++
	x.space()
	if x.pos < len(x.in) && x.in[x.pos] == end {
		x.pos++
		return nil
	}
	for {
		x.space()
		if keyed {
			if x.pos >= len(x.in) || x.in[x.pos] != '"' {
				return x.fail("expected a property name")
			}
			if err := x.skipString(); err != nil {
				return err
			}
			x.space()
			if x.pos >= len(x.in) || x.in[x.pos] != ':' {
				return x.fail("expected :")
			}
			x.pos++
			x.space()
		}
		if err := x.skipValue(); err != nil {
			return err
		}
		x.space()
		if x.pos >= len(x.in) {
			return x.fail("unterminated container")
		}
		switch x.in[x.pos] {
		case ',':
			x.pos++
		case end:
			x.pos++
			return nil
		default:
			return x.fail("expected , or a closing bracket")
		}
	}
}
