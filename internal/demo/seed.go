// Package demo runs a whole hybrid organisation in one process: the cloud
// side (token service, Graph front door, cloud mailboxes) and an on-prem
// server standing in for Exchange 2016, both on loopback, over one data
// directory. On first start it seeds the organisation contoso.test with two
// cloud mailboxes, one on-prem mailbox on Exchange 2016 CU23 and one on an
// Exchange 2013 database (which has no REST), each filled with real
// messages from the embedded corpus.
package demo

import (
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"

	"github.com/google/uuid"

	"github.com/hybridgraph/hybridgraph/internal/auth"
	"github.com/hybridgraph/hybridgraph/internal/demo/corpus"
	"github.com/hybridgraph/hybridgraph/internal/deploy"
	"github.com/hybridgraph/hybridgraph/internal/directory"
	"github.com/hybridgraph/hybridgraph/internal/dirsync"
	"github.com/hybridgraph/hybridgraph/internal/onprem"
)

// Domain is the demo organisation's domain.
const Domain = "contoso.test"

// The demo's databases and servers. Builds: exchange-hybrid.md §4.
const (
	CloudDB    = "CLOUD-DB01"
	Ex2016DB   = "EX2016-DB01"
	Ex2013DB   = "EX2013-DB01"
	Ex2016Name = "EX2016-01"
	Ex2013Name = "EX2013-01"
	Ex2016CU23 = "15.1.2507.6"
	Ex2013CU23 = "15.0.1497.2"
)

type seedUser struct {
	local, name string
	side        directory.Premises
	database    string
}

var seedUsers = []seedUser{
	{"alice", "Alice Adams", directory.Cloud, CloudDB},
	{"bob", "Bob Baker", directory.Cloud, CloudDB},
	{"carol", "Carol Clark", directory.OnPrem, Ex2016DB},
	{"dave", "Dave Dawson", directory.OnPrem, Ex2013DB},
}

// DemoRoles are the application permissions granted to the demo app.
var DemoRoles = []string{"Mail.ReadWrite", "Mail.Send"}

// demoApp is the demo app's credentials, kept so that each start can print
// them. A real deployment never stores a client secret in clear.
type demoApp struct {
	ClientID string `json:"clientId"`
	Secret   string `json:"secret"`
}

func (l layout) demoAppFile() string { return filepath.Join(l.KeyDir(), "demo-app.json") }

type layout struct{ deploy.Layout }

// seed creates the demo organisation in an empty data directory.
func seed(ctx context.Context, l layout, d *deploy.Deployment) error {
	d.TenantID = uuid.NewString()
	d.Domain = Domain
	d.CloudDatabases = []string{CloudDB}
	d.OnPremDatabases = []string{Ex2016DB, Ex2013DB}

	topo := &onprem.Topology{
		Servers: []onprem.Server{
			{Name: Ex2016Name, Build: Ex2016CU23},
			{Name: Ex2013Name, Build: Ex2013CU23},
		},
		Databases: []onprem.Database{
			{Name: Ex2016DB, Server: Ex2016Name},
			{Name: Ex2013DB, Server: Ex2013Name},
		},
		FrontEnd: Ex2016Name,
	}
	if err := os.MkdirAll(l.Side(directory.OnPrem), 0o755); err != nil {
		return fmt.Errorf("create on-prem folder: %w", err)
	}
	if err := topo.Save(l.TopologyFile()); err != nil {
		return err
	}
	if _, err := auth.LoadOrCreateKey(l.KeyDir()); err != nil {
		return err
	}
	id, secret, err := auth.RegisterApp(l.KeyDir(), "hybridgraph demo app", DemoRoles)
	if err != nil {
		return err
	}
	b, _ := json.Marshal(demoApp{ClientID: id, Secret: secret})
	if err := os.WriteFile(l.demoAppFile(), b, 0o600); err != nil {
		return fmt.Errorf("write demo app: %w", err)
	}

	cloud, err := l.Open(directory.Cloud, d.CloudDatabases)
	if err != nil {
		return err
	}
	defer cloud.Close()
	prem, err := l.Open(directory.OnPrem, d.OnPremDatabases)
	if err != nil {
		return err
	}
	defer prem.Close()
	return seedUsersAndMail(ctx, d, cloud, prem)
}

// seedUsersAndMail creates the users as a hybrid deployment has them: each
// user is mastered on premises (a cloud mailbox as a RemoteUserMailbox,
// exchange-hybrid.md §3.1), and the cloud's entries are the synced objects
// a first directory sync creates, with their immutable ids, not cloud-only
// users that a later sync would collide with.
func seedUsersAndMail(ctx context.Context, d *deploy.Deployment,
	cloud, prem *deploy.Premises) error {
	messages, err := corpusMessages()
	if err != nil {
		return err
	}
	mailboxes := map[string]directory.User{}
	for _, su := range seedUsers {
		addr := su.local + "@" + d.Domain
		u := directory.User{
			ObjectID: uuid.NewString(), UPN: addr, Mail: addr, DisplayName: su.name,
			Premises: su.side, MailboxGUID: uuid.NewString(),
			RecipientType: directory.UserMailbox, Database: su.database,
		}
		mailboxes[addr] = u
		if su.side == directory.Cloud {
			// On premises a cloud mailbox is a RemoteUserMailbox aimed at
			// the coexistence domain.
			u.RecipientType, u.Database = directory.RemoteUserMailbox, ""
			u.TargetAddress = su.local + "@" + deploy.CoexistenceDomain(d.Domain)
		}
		if err := prem.Directory.Put(ctx, u); err != nil {
			return err
		}
	}
	if err := firstSync(ctx, cloud.Directory, prem.Directory); err != nil {
		return err
	}
	for _, su := range seedUsers {
		home := prem
		if su.side == directory.Cloud {
			home = cloud
		}
		u := mailboxes[su.local+"@"+d.Domain]
		if err := fillMailbox(ctx, home, u, messages); err != nil {
			return err
		}
	}
	return nil
}

// firstSync creates the cloud's entries by a directory sync of the on-prem
// directory, as the first run of a sync agent does.
func firstSync(ctx context.Context, cloud, prem *directory.Directory) error {
	b, err := dirsync.FromDirectory(ctx, prem)
	if err != nil {
		return err
	}
	sum, err := cloud.Apply(ctx, b, directory.SyncOptions{CloudDatabase: CloudDB})
	if err != nil {
		return fmt.Errorf("first directory sync: %w", err)
	}
	if sum.Added != len(seedUsers) || sum.Failed+sum.Held > 0 {
		return fmt.Errorf("first directory sync: added %d of %d users (problems %+v)",
			sum.Added, len(seedUsers), sum.Problems)
	}
	return nil
}

func fillMailbox(ctx context.Context, p *deploy.Premises, u directory.User,
	messages [][]byte) error {
	ref := u.Ref()
	if err := p.Engine.EnsureMailbox(ctx, ref, u.DisplayName); err != nil {
		return fmt.Errorf("create mailbox %s: %w", u.UPN, err)
	}
	imported := 0
	var lastErr error
	for _, raw := range messages {
		if _, err := p.Engine.Import(ctx, ref, "inbox", raw); err != nil {
			lastErr = err
			continue
		}
		imported++
	}
	if imported < MinSeedMessages {
		return fmt.Errorf("seed %s: only %d of %d corpus messages imported: %w",
			u.UPN, imported, len(messages), lastErr)
	}
	return nil
}

// MinSeedMessages is the fewest messages each demo mailbox starts with.
const MinSeedMessages = 30

// corpusMessages reads the embedded messages in a fixed order.
func corpusMessages() ([][]byte, error) {
	names, err := fs.Glob(corpus.Mail, "mail/*.eml")
	if err != nil {
		return nil, err
	}
	sort.Strings(names)
	out := make([][]byte, 0, len(names))
	for _, n := range names {
		b, err := fs.ReadFile(corpus.Mail, n)
		if err != nil {
			return nil, fmt.Errorf("read corpus %s: %w", n, err)
		}
		out = append(out, b)
	}
	return out, nil
}
