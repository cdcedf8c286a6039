package config

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// The messages of yaml.v3's decoding errors that explain reads: a line
// number, then an unknown field or a value of the wrong kind.
var (
	yamlLine    = regexp.MustCompile(`^line (\d+): (.*)$`)
	yamlUnknown = regexp.MustCompile(`^field (\S+) not found in type \S+$`)
	yamlKind    = regexp.MustCompile("^cannot unmarshal !!(\\w+) (?:`(.*)` )?into (\\S+)$")
)

// explainYAML rewrites the decoding errors of src in the terms of this
// file's other errors: the field's path first ("limits.maxTop: want an
// integer, got "lots" (line 12)"), no Go type names. Errors it cannot
// place are returned as they are.
func explainYAML(src []byte, err error) error {
	var te *yaml.TypeError
	if !errors.As(err, &te) {
		return err
	}
	var root yaml.Node
	if yaml.Unmarshal(src, &root) != nil {
		return err
	}
	msgs := make([]string, 0, len(te.Errors))
	for _, e := range te.Errors {
		msgs = append(msgs, explainLine(&root, e))
	}
	return errors.New(strings.Join(msgs, "; "))
}

func explainLine(root *yaml.Node, msg string) string {
	m := yamlLine.FindStringSubmatch(msg)
	if m == nil {
		return msg
	}
	line, _ := strconv.Atoi(m[1])
	path := pathAt(root, line, "")
	if path == "" {
		return msg
	}
	if u := yamlUnknown.FindStringSubmatch(m[2]); u != nil {
		return fmt.Sprintf("%s: unknown field (line %d)", path, line)
	}
	if k := yamlKind.FindStringSubmatch(m[2]); k != nil {
		got := "a " + kindName(k[1])
		if k[2] != "" {
			got = strconv.Quote(k[2])
		}
		return fmt.Sprintf("%s: want %s, got %s (line %d)", path, wanted(k[3]), got, line)
	}
	return fmt.Sprintf("%s: %s (line %d)", path, m[2], line)
}

// pathAt is the path of the deepest mapping key on line, as validation
// names fields (databases[1].dsn), or "".
func pathAt(n *yaml.Node, line int, at string) string {
	switch n.Kind {
	case yaml.DocumentNode:
		for _, c := range n.Content {
			if p := pathAt(c, line, at); p != "" {
				return p
			}
		}
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			p := k.Value
			if at != "" {
				p = at + "." + k.Value
			}
			if deeper := pathAt(v, line, p); deeper != "" {
				return deeper
			}
			if k.Line == line {
				return p
			}
		}
	case yaml.SequenceNode:
		for i, c := range n.Content {
			p := fmt.Sprintf("%s[%d]", at, i)
			if deeper := pathAt(c, line, p); deeper != "" {
				return deeper
			}
			// An item of a flow list ([a, b]) shares the list's line: the
			// error is then the list's, named by its key.
			if c.Line == line && c.Kind == yaml.ScalarNode && c.Line != n.Line {
				return p
			}
		}
	}
	return ""
}

// wanted says what a Go type of this package's fields holds.
func wanted(goType string) string {
	switch {
	case goType == "time.Duration":
		return "a duration such as 30s or 2m"
	case goType == "int":
		return "an integer"
	case goType == "bool", goType == "*bool":
		return "true or false"
	case goType == "string":
		return "a string"
	case strings.HasPrefix(goType, "[]"):
		return "a list"
	}
	return "a mapping"
}

// kindName names a YAML tag in words.
func kindName(tag string) string {
	switch tag {
	case "seq":
		return "list"
	case "map":
		return "mapping"
	case "str":
		return "string"
	case "int", "float":
		return "number"
	}
	return tag
}

// checkScalars refuses what yaml.v3 lets through into this package's
// fields without a word: a fraction where every number is an integer
// (1.5 would become 1), a quoted or YAML 1.1 word for enabled ("yes"),
// and an explicit maxTop of 0 (0 stands for the default when omitted).
func checkScalars(src []byte) error {
	var root yaml.Node
	if yaml.Unmarshal(src, &root) != nil {
		return nil // the decoder has reported it
	}
	var errs []string
	walkScalars(&root, "", func(path string, n *yaml.Node) {
		key := path[strings.LastIndex(path, ".")+1:]
		switch {
		case n.Tag == "!!float":
			errs = append(errs, fmt.Sprintf("%s: want an integer, got %s (line %d)", path,
				n.Value, n.Line))
		case key == "enabled" && n.Tag != "!!bool":
			errs = append(errs, fmt.Sprintf("%s: want true or false, got %q (line %d)", path,
				n.Value, n.Line))
		case path == "limits.maxTop" && n.Value == "0":
			errs = append(errs, fmt.Sprintf("%s: want at least 1 (leave it out for the "+
				"default, %d) (line %d)", path, DefaultMaxTop, n.Line))
		}
	})
	if len(errs) > 0 {
		return errors.New(strings.Join(errs, "; "))
	}
	return nil
}

// walkScalars calls f with the path of every scalar value under n.
func walkScalars(n *yaml.Node, at string, f func(path string, n *yaml.Node)) {
	switch n.Kind {
	case yaml.DocumentNode:
		for _, c := range n.Content {
			walkScalars(c, at, f)
		}
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			p := n.Content[i].Value
			if at != "" {
				p = at + "." + p
			}
			walkScalars(n.Content[i+1], p, f)
		}
	case yaml.SequenceNode:
		for i, c := range n.Content {
			walkScalars(c, fmt.Sprintf("%s[%d]", at, i), f)
		}
	case yaml.ScalarNode:
		f(at, n)
	}
}
