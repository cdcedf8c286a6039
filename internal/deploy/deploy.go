// Package deploy describes a deployment kept in one data directory: the
// organisation (tenant and domain), where each side listens, and the files
// of each premises (directory, mailbox databases, keys, topology). The
// demo writes it; token, import and the servers read it.
//
// Layout of a data directory:
//
//	deployment.json             organisation and addresses (rewritten at each start)
//	cloud/directory.db          the cloud directory (users, mailbox locations)
//	cloud/keys/                 the token service's signing key and apps
//	cloud/databases/NAME.db     cloud mailbox databases
//	onprem/directory.db         the on-prem directory
//	onprem/topology.json        servers, builds, databases
//	onprem/databases/NAME.db    on-prem mailbox databases
package deploy

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/hybridgraph/hybridgraph/internal/directory"
	"github.com/hybridgraph/hybridgraph/internal/store"
)

// Deployment is the contents of deployment.json.
type Deployment struct {
	TenantID string `json:"tenantId"`
	Domain   string `json:"domain"`
	// CloudURL and OnPremURL are the base URLs of each side's HTTP server.
	CloudURL  string `json:"cloudUrl"`
	OnPremURL string `json:"onPremUrl"`
	// CloudSMTP and OnPremSMTP are the host:port of each side's SMTP
	// receiver for intra-organisation mail.
	CloudSMTP  string `json:"cloudSmtp"`
	OnPremSMTP string `json:"onPremSmtp"`
	// Databases lists each premises' mailbox databases.
	CloudDatabases  []string `json:"cloudDatabases"`
	OnPremDatabases []string `json:"onPremDatabases"`
}

// Layout names the files of a data directory.
type Layout struct {
	Dir string
	// Stores opens a mailbox database by name; nil means the SQLite file
	// Database(side, name). A configured server sets it to open some
	// databases elsewhere (PostgreSQL).
	Stores StoreOpener
}

// StoreOpener opens the mailbox database name of side.
type StoreOpener func(side directory.Premises, name string) (store.Store, error)

func (l Layout) DeploymentFile() string { return filepath.Join(l.Dir, "deployment.json") }

// Side is the folder of one premises.
func (l Layout) Side(p directory.Premises) string { return filepath.Join(l.Dir, string(p)) }

func (l Layout) Directory(p directory.Premises) string {
	return filepath.Join(l.Side(p), "directory.db")
}

func (l Layout) Database(p directory.Premises, name string) string {
	return filepath.Join(l.Side(p), "databases", name+".db")
}

func (l Layout) KeyDir() string { return filepath.Join(l.Side(directory.Cloud), "keys") }
func (l Layout) TopologyFile() string {
	return filepath.Join(l.Side(directory.OnPrem), "topology.json")
}

// ErrNoDeployment means the data directory holds no deployment yet.
var ErrNoDeployment = errors.New("no deployment in the data directory")

// Load reads deployment.json.
func (l Layout) Load() (*Deployment, error) {
	b, err := os.ReadFile(l.DeploymentFile())
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("%w %s (run 'hybridgraph demo --data %s' first)",
			ErrNoDeployment, l.Dir, l.Dir)
	}
	if err != nil {
		return nil, fmt.Errorf("read deployment: %w", err)
	}
	var d Deployment
	if err := json.Unmarshal(b, &d); err != nil {
		return nil, fmt.Errorf("parse %s: %w", l.DeploymentFile(), err)
	}
	return &d, nil
}

// Save writes deployment.json atomically.
func (l Layout) Save(d *Deployment) error {
	b, err := json.MarshalIndent(d, "", "  ")
	if err != nil {
		return fmt.Errorf("encode deployment: %w", err)
	}
	if err := os.MkdirAll(l.Dir, 0o755); err != nil {
		return fmt.Errorf("create data directory: %w", err)
	}
	tmp := l.DeploymentFile() + ".tmp"
	if err := os.WriteFile(tmp, append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("write deployment: %w", err)
	}
	return os.Rename(tmp, l.DeploymentFile())
}

// CoexistenceDomain is the routing domain of the organisation's cloud
// mailboxes, which on-prem RemoteUserMailbox entries target: Exchange
// Online's tenant.mail.onmicrosoft.com, here the domain's first label at
// mail.onmicrosoft under its top-level domain (contoso.test gives
// contoso.mail.onmicrosoft.test).
func CoexistenceDomain(domain string) string {
	first, _, _ := strings.Cut(domain, ".")
	tld := domain[strings.LastIndex(domain, ".")+1:]
	return first + ".mail.onmicrosoft." + tld
}
