// Package config reads the configuration file of `hybridgraph serve`: where
// the data directory is, where the gateway listens and under which public
// URL, which mailbox databases it opens and with which driver, the hybrid
// connectors that route on-premises mailboxes, the limits, and the SMTP
// side of mail flow.
//
// The file is YAML, decoded strictly: an unknown or misspelt field is an
// error rather than silently ignored, since a typo in a database DSN or a
// limit would otherwise run the gateway with a default nobody chose.
// Validation names the failing field by its path in the file
// ("databases[1].dsn: ..."). docs/serve.example.yaml documents every field.
package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"go.yaml.in/yaml/v3"
)

// Drivers of mailbox databases.
const (
	// SQLite is the embedded default: one file per database.
	SQLite = "sqlite"
	// Postgres is a PostgreSQL database, which several gateways may share.
	Postgres = "postgres"
)

// Defaults applied to fields left out of the file.
const (
	DefaultProxyTimeout = 30 * time.Second
	// DefaultMaxTop is Graph's largest $top for messages
	// (user-list-messages).
	DefaultMaxTop = 1000
)

// Config is the whole file.
type Config struct {
	// Data is the data directory written by the demo or by an
	// installation: deployment.json, the directory and the keys.
	Data Data `yaml:"data"`
	// PublicURL is the base URL clients reach the gateway at; it appears
	// in @odata.nextLink and in the token service's metadata.
	PublicURL string `yaml:"publicURL"`
	// Listen is the host:port the HTTP server listens on.
	Listen string `yaml:"listen"`
	// Databases are the cloud mailbox databases the directory refers to.
	Databases []Database `yaml:"databases"`
	// Connectors route mailboxes that live on premises.
	Connectors []Connector `yaml:"connectors"`
	// Limits bound what one request may cost.
	Limits Limits `yaml:"limits"`
	// SMTP is the mail-flow side.
	SMTP SMTP `yaml:"smtp"`
}

// Data locates the data directory.
type Data struct {
	// Directory is the data directory (required).
	Directory string `yaml:"directory"`
	// Keys is the token service's key folder; empty means cloud/keys
	// under Directory.
	Keys string `yaml:"keys"`
}

// Database is one mailbox database.
type Database struct {
	// Name is the name the directory's mailbox entries use.
	Name string `yaml:"name"`
	// Driver is "sqlite" or "postgres".
	Driver string `yaml:"driver"`
	// DSN is a PostgreSQL connection string (postgres driver only).
	DSN string `yaml:"dsn"`
	// Path is the SQLite file (sqlite driver only); empty means
	// cloud/databases/NAME.db under the data directory.
	Path string `yaml:"path"`
}

// Connector is an outbound connector to an on-premises organisation.
type Connector struct {
	// Name identifies the connector in logs.
	Name string `yaml:"name"`
	// TargetAddressDomains are the domains of the target addresses this
	// connector serves.
	TargetAddressDomains []string `yaml:"targetAddressDomains"`
	// DiscoveryEndpoint is the on-premises Autodiscover URL.
	DiscoveryEndpoint string `yaml:"discoveryEndpoint"`
	// Enabled turns the connector on or off; a disabled one routes
	// nothing. Omitted, it is on, as Exchange's connectors are by default.
	Enabled *bool `yaml:"enabled"`
}

// On reports whether the connector routes: Enabled, or not said.
func (c Connector) On() bool { return c.Enabled == nil || *c.Enabled }

// Limits bound the cost of one request.
type Limits struct {
	// ProxyTimeout bounds one proxied call to on premises; 0 means 30s.
	ProxyTimeout time.Duration `yaml:"proxyTimeout"`
	// MaxTop is the largest OData $top accepted; 0 means 1000.
	MaxTop int `yaml:"maxTop"`
}

// SMTP is the gateway's side of mail flow.
type SMTP struct {
	// Listen is the host:port of the SMTP receiver for mail from on
	// premises; empty means no receiver.
	Listen string `yaml:"listen"`
	// SmartHost is the host:port the queue relays mail for other
	// premises to; empty means no queue runs.
	SmartHost string `yaml:"smartHost"`
}

// Load reads and validates the file at path.
func Load(path string) (*Config, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	c, err := Parse(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return c, nil
}

// Parse decodes b strictly, applies the defaults and validates the result.
func Parse(b []byte) (*Config, error) {
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	var c Config
	if err := dec.Decode(&c); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, errors.New("empty config")
		}
		return nil, explainYAML(b, err)
	}
	var extra any
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		return nil, errors.New("more than one YAML document")
	}
	if err := checkScalars(b); err != nil {
		return nil, err
	}
	c.defaults()
	if err := c.Validate(); err != nil {
		return nil, err
	}
	return &c, nil
}

func (c *Config) defaults() {
	if c.Limits.ProxyTimeout == 0 {
		c.Limits.ProxyTimeout = DefaultProxyTimeout
	}
	if c.Limits.MaxTop == 0 {
		c.Limits.MaxTop = DefaultMaxTop
	}
}
