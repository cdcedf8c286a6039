package schema

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// ColumnValues derives the values of t.Columns from a Graph-canonical
// document, in column order: strings, bools, DateTimeOffset as text in
// TimeLayout, enum members in their Graph spelling; nil where absent.
func (t *StructType) ColumnValues(doc []byte) ([]any, error) {
	var m map[string]any
	dec := json.NewDecoder(bytes.NewReader(doc))
	dec.UseNumber()
	if err := dec.Decode(&m); err != nil {
		return nil, fmt.Errorf("decode %s document: %w", t.Graph, err)
	}
	vals := make([]any, len(t.Columns))
	for i, c := range t.Columns {
		v := lookup(m, c.Path)
		cv, err := columnValue(c, v)
		if err != nil {
			return nil, fmt.Errorf("column %s: %w", c.Name, err)
		}
		vals[i] = cv
	}
	return vals, nil
}

func lookup(m map[string]any, path string) any {
	var cur any = m
	for _, seg := range strings.Split(path, "/") {
		obj, ok := cur.(map[string]any)
		if !ok {
			return nil
		}
		cur = obj[seg]
	}
	return cur
}

func columnValue(c *Column, v any) (any, error) {
	if v == nil {
		return nil, nil
	}
	switch c.Kind {
	case Bool:
		b, ok := v.(bool)
		if !ok {
			return nil, fmt.Errorf("want a boolean, got %T", v)
		}
		return b, nil
	case Int32:
		n, ok := v.(json.Number)
		if !ok {
			return nil, fmt.Errorf("want a number, got %T", v)
		}
		return n.Int64()
	case DateTimeOffset:
		s, ok := v.(string)
		if !ok {
			return nil, fmt.Errorf("want a date-time string, got %T", v)
		}
		tm, err := ParseTime(s)
		if err != nil {
			return nil, err
		}
		return tm.Format(TimeLayout), nil
	case Enum:
		s, ok := v.(string)
		if !ok {
			return nil, fmt.Errorf("want an enum string, got %T", v)
		}
		m, ok := c.Enum.Canonical(s)
		if !ok {
			return nil, fmt.Errorf("%q is not a %s value", s, c.Enum.Name)
		}
		return m, nil
	default:
		s, ok := v.(string)
		if !ok {
			return nil, fmt.Errorf("want a string, got %T", v)
		}
		return s, nil
	}
}

// ParseTime reads an ISO 8601 date-time or date as Graph accepts them in
// bodies and $filter literals; a value without offset is UTC.
func ParseTime(s string) (time.Time, error) {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.9999999",
		"2006-01-02T15:04", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("%q is not a date-time", s)
}

// FormatTime writes t as documents hold DateTimeOffset values.
func FormatTime(t time.Time) string { return t.UTC().Format(TimeLayout) }
