// Package onprem is hybridgraph's stand-in for an on-premises Exchange
// organisation: an Exchange 2016 CU3+ server as the cloud sees it. It serves
// Autodiscover v2 (anonymous), Outlook REST v2.0 under /api (server-to-server
// tokens from the cloud only) and reports its topology the way Exchange
// does: the front end's name in X-FEServer and its build in X-OWA-Version
// (exchange-hybrid.md §4).
//
// Mailboxes live in mailbox databases hosted by servers of known builds. A
// mailbox on a database hosted by an Exchange 2013 server (15.0) has no REST
// endpoint, as in Exchange: the REST virtual directory came with 2016 CU3.
package onprem

import (
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"strings"
)

// Server is one Exchange server of the organisation.
type Server struct {
	Name  string `json:"name"`
	Build string `json:"build"` // e.g. "15.1.2507.6"
}

// Database is a mailbox database and the server that hosts it.
type Database struct {
	Name   string `json:"name"`
	Server string `json:"server"`
}

// Topology is the organisation's servers and databases. FrontEnd names the
// server that answers client requests (the load-balanced namespace).
type Topology struct {
	Servers   []Server   `json:"servers"`
	Databases []Database `json:"databases"`
	FrontEnd  string     `json:"frontEnd"`
}

// CU3 is the first Exchange 2016 build with the REST virtual directory
// (15.1.544.27, exchange-hybrid.md §4).
var CU3 = Build{15, 1, 544, 27}

// Build is an Exchange build number, major.minor.build.revision.
type Build [4]int

// ParseBuild reads "15.1.2507.6" (also the padded "15.01.2507.006").
func ParseBuild(s string) (Build, error) {
	parts := strings.Split(strings.TrimSpace(s), ".")
	if len(parts) != 4 {
		return Build{}, fmt.Errorf("build %q: want four numbers", s)
	}
	var b Build
	for i, p := range parts {
		n, err := strconv.Atoi(p)
		if err != nil || n < 0 {
			return Build{}, fmt.Errorf("build %q: bad number %q", s, p)
		}
		b[i] = n
	}
	return b, nil
}

// Less reports whether b is older than o.
func (b Build) Less(o Build) bool {
	for i := range b {
		if b[i] != o[i] {
			return b[i] < o[i]
		}
	}
	return false
}

func (b Build) String() string { return fmt.Sprintf("%d.%d.%d.%d", b[0], b[1], b[2], b[3]) }

// ServesREST reports whether a mailbox server of build b has the REST
// endpoint: Exchange 2016 from CU3 on, and later versions (15.1+).
func (b Build) ServesREST() bool {
	return !(b[0] < 15 || (b[0] == 15 && b[1] < 1)) && !b.Less(CU3)
}

// Server returns the named server.
func (t *Topology) Server(name string) (Server, bool) {
	for _, s := range t.Servers {
		if strings.EqualFold(s.Name, name) {
			return s, true
		}
	}
	return Server{}, false
}

// DatabaseServer returns the server hosting database name.
func (t *Topology) DatabaseServer(name string) (Server, bool) {
	for _, d := range t.Databases {
		if strings.EqualFold(d.Name, name) {
			return t.Server(d.Server)
		}
	}
	return Server{}, false
}

// Validate checks that every database names a known server, every build
// parses, and the front end exists.
func (t *Topology) Validate() error {
	for _, s := range t.Servers {
		if _, err := ParseBuild(s.Build); err != nil {
			return fmt.Errorf("server %s: %w", s.Name, err)
		}
	}
	for _, d := range t.Databases {
		if _, ok := t.Server(d.Server); !ok {
			return fmt.Errorf("database %s: unknown server %q", d.Name, d.Server)
		}
	}
	if _, ok := t.Server(t.FrontEnd); !ok {
		return fmt.Errorf("frontEnd: unknown server %q", t.FrontEnd)
	}
	return nil
}

// LoadTopology reads a topology file (JSON).
func LoadTopology(path string) (*Topology, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read topology: %w", err)
	}
	var t Topology
	if err := json.Unmarshal(b, &t); err != nil {
		return nil, fmt.Errorf("parse topology %s: %w", path, err)
	}
	if err := t.Validate(); err != nil {
		return nil, fmt.Errorf("topology %s: %w", path, err)
	}
	return &t, nil
}

// Save writes the topology file.
func (t *Topology) Save(path string) error {
	b, err := json.MarshalIndent(t, "", "  ")
	if err != nil {
		return fmt.Errorf("encode topology: %w", err)
	}
	return os.WriteFile(path, append(b, '\n'), 0o644)
}
