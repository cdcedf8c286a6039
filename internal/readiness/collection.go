package readiness

import (
	"encoding/json"
	"fmt"
	"os"
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

// LoadCollection reads a collection saved by Save.
func LoadCollection(path string) (*Collection, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read collection: %w", err)
	}
	var c Collection
	if err := json.Unmarshal(b, &c); err != nil {
		return nil, fmt.Errorf("parse collection %s: %w", path, err)
	}
	return &c, nil
}
