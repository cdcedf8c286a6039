package readiness

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/hybridgraph/hybridgraph/internal/dirsync"
	"github.com/hybridgraph/hybridgraph/internal/onprem"
)

// Collection is what Collect observed, with the time of each observation.
// It holds no token or secret, so it can be saved and shared.
type Collection struct {
	// URL is the on-prem server's base URL on the client namespace.
	URL string `json:"url"`
	// AutodiscoverURL is the base URL Autodiscover was asked at.
	AutodiscoverURL string `json:"autodiscoverUrl"`
	// Namespace and AutodiscoverHost are the names looked up in DNS.
	Namespace        string    `json:"namespace"`
	AutodiscoverHost string    `json:"autodiscoverHost"`
	Email            string    `json:"email,omitempty"` // the mailbox probed
	Started          time.Time `json:"started"`
	Finished         time.Time `json:"finished"`

	// Topology is the admin endpoint's answer; nil when the server has
	// none (a real Exchange server) or refused, see TopologyProbe.
	Topology      *onprem.AdminTopology `json:"topology,omitempty"`
	TopologyProbe Probe                 `json:"topologyProbe"`
	// Samples are the version headers of repeated requests to the
	// namespace, which reveal each front end behind a load balancer.
	Samples []Sample `json:"samples"`
	DNS     []Lookup `json:"dns"`
	// Autodiscover is the anonymous Autodiscover v2 request for Rest.
	Autodiscover Probe `json:"autodiscover"`
	// Challenge is /api/v2.0/me/messages with an empty bearer token.
	Challenge Probe `json:"challenge"`
	// OAuth is a mailbox read with a server-to-server token.
	OAuth Probe `json:"oauth"`
	// CloudDirectory is the cloud's directory-sync state, read with an
	// admin app token; nil when not read, see CloudProbe.
	CloudDirectory *dirsync.State `json:"cloudDirectory,omitempty"`
	CloudProbe     Probe          `json:"cloudProbe"`
}

// Probe is one HTTP request and what came back.
type Probe struct {
	URL    string    `json:"url,omitempty"`
	At     time.Time `json:"at"`
	Status int       `json:"status,omitempty"`
	// Header holds the answer's headers that the checks read.
	Header map[string]string `json:"header,omitempty"`
	// Body is the start of the answer (Autodiscover only: it is public).
	Body  string `json:"body,omitempty"`
	Cert  *Cert  `json:"cert,omitempty"`
	Error string `json:"error,omitempty"`
	// Skipped says why the request was not sent.
	Skipped string `json:"skipped,omitempty"`
}

// Cert is the server certificate seen on a TLS connection.
type Cert struct {
	Subject  string    `json:"subject"`
	DNSNames []string  `json:"dnsNames"`
	NotAfter time.Time `json:"notAfter"`
}

// Sample is the version headers of one request to the namespace.
type Sample struct {
	At         time.Time `json:"at"`
	Status     int       `json:"status,omitempty"`
	FEServer   string    `json:"feServer,omitempty"`
	OWAVersion string    `json:"owaVersion,omitempty"`
	Error      string    `json:"error,omitempty"`
}

// Lookup is the DNS answer for one host name.
type Lookup struct {
	Host     string    `json:"host"`
	At       time.Time `json:"at"`
	Resolver string    `json:"resolver,omitempty"`
	// IPLiteral is set when the host is an address, not a name.
	IPLiteral bool     `json:"ipLiteral,omitempty"`
	Rcode     string   `json:"rcode,omitempty"`
	Addresses []string `json:"addresses,omitempty"`
	Error     string   `json:"error,omitempty"`
}

// Save writes c as indented JSON.
func (c *Collection) Save(path string) error {
	b, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		return fmt.Errorf("encode collection: %w", err)
	}
	return os.WriteFile(path, append(b, '\n'), 0o644)
}

// MaxCollectionSize bounds the file LoadCollection reads: 16 MiB. A
// collection Collect makes is far smaller: its largest parts are at most
// MaxSamples samples of a few hundred bytes each and Autodiscover and
// topology bodies of at most MaxProbeBody bytes.
const MaxCollectionSize = 16 << 20

// MaxProbeBody is how much of an answer's body a probe keeps.
const MaxProbeBody = 4096

// maxLookups is how many DNS names Collect looks up: the client namespace
// and the Autodiscover host.
const maxLookups = 2

// LoadCollection reads a collection saved by Save and refuses one that
// is not: larger than MaxCollectionSize, unknown fields, or parts missing
// or beyond what Collect makes (Validate).
func LoadCollection(path string) (*Collection, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read collection: %w", err)
	}
	defer f.Close()
	// Read one byte past the limit to tell a file at the limit from one
	// beyond it, without reading the rest.
	b, err := io.ReadAll(io.LimitReader(f, MaxCollectionSize+1))
	if err != nil {
		return nil, fmt.Errorf("read collection: %w", err)
	}
	if len(b) > MaxCollectionSize {
		return nil, fmt.Errorf("collection %s: larger than %d MiB, more than a check "+
			"collects", path, MaxCollectionSize>>20)
	}
	c, err := ParseCollection(b)
	if err != nil {
		return nil, fmt.Errorf("collection %s: %w", path, err)
	}
	return c, nil
}

// ParseCollection decodes a saved collection strictly and validates it.
func ParseCollection(b []byte) (*Collection, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var c *Collection
	if err := dec.Decode(&c); err != nil {
		return nil, fmt.Errorf("not a saved collection: %w", err)
	}
	if dec.More() {
		return nil, errors.New("not a saved collection: data after the JSON object")
	}
	if c == nil {
		return nil, errors.New("not a saved collection: null")
	}
	if err := c.Validate(); err != nil {
		return nil, err
	}
	return c, nil
}

// Validate checks that c has what every collection Collect makes has: the
// URLs and names it checked, its times, and an attempt (or a recorded
// skip) for every probe. A report on less would pass checks it never made.
func (c *Collection) Validate() error {
	var missing []string
	need := func(ok bool, what string) {
		if !ok {
			missing = append(missing, what)
		}
	}
	need(isHTTPURL(c.URL), "url (an http or https URL)")
	need(isHTTPURL(c.AutodiscoverURL), "autodiscoverUrl (an http or https URL)")
	need(c.Namespace != "", "namespace")
	need(c.AutodiscoverHost != "", "autodiscoverHost")
	need(!c.Started.IsZero(), "started")
	need(!c.Finished.IsZero() && !c.Finished.Before(c.Started),
		"finished (not before started)")
	need(len(c.DNS) > 0, "dns")
	for name, p := range map[string]Probe{"topologyProbe": c.TopologyProbe,
		"challenge": c.Challenge, "oauth": c.OAuth, "cloudProbe": c.CloudProbe} {
		need(!p.At.IsZero(), name+".at")
	}
	need(c.Email == "" || !c.Autodiscover.At.IsZero(), "autodiscover.at")
	if len(missing) > 0 {
		slices.Sort(missing)
		return fmt.Errorf("not a complete collection: missing %s", strings.Join(missing, ", "))
	}
	return c.withinLimits()
}

// withinLimits refuses parts larger than Collect makes them, so that a
// report never rests on more evidence than a check can gather.
func (c *Collection) withinLimits() error {
	var over []string
	if n := len(c.Samples); n > MaxSamples {
		over = append(over, fmt.Sprintf("%d samples (at most %d)", n, MaxSamples))
	}
	if n := len(c.DNS); n > maxLookups {
		over = append(over, fmt.Sprintf("%d DNS lookups (at most %d)", n, maxLookups))
	}
	for name, p := range map[string]Probe{"topologyProbe": c.TopologyProbe,
		"autodiscover": c.Autodiscover, "challenge": c.Challenge, "oauth": c.OAuth,
		"cloudProbe": c.CloudProbe} {
		if n := len(p.Body); n > MaxProbeBody {
			over = append(over, fmt.Sprintf("%s.body of %d bytes (at most %d)", name, n,
				MaxProbeBody))
		}
	}
	if len(over) == 0 {
		return nil
	}
	slices.Sort(over)
	return fmt.Errorf("not a collection a check makes: %s", strings.Join(over, ", "))
}

func isHTTPURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}
