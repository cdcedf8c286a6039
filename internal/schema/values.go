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
	vals := make([][]byte, len(t.Props))
	for more := !x.open('}'); more; {
		key, err := x.key()
		if err != nil {
			return nil, err
		}
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
		if more, err = x.next('}'); err != nil {
			return nil, err
		}
	}
	return vals, nil
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
	for more := !x.open(end); more; {
		if keyed {
			if _, err := x.key(); err != nil {
				return err
			}
		}
		x.space()
		if err := x.skipValue(); err != nil {
			return err
		}
		var err error
		if more, err = x.next(end); err != nil {
			return err
		}
	}
	return nil
}
