package deploy

import (
	"context"
	"errors"
	"fmt"

	"github.com/hybridgraph/hybridgraph/internal/directory"
	"github.com/hybridgraph/hybridgraph/internal/mailbox"
	"github.com/hybridgraph/hybridgraph/internal/store"
	"github.com/hybridgraph/hybridgraph/internal/store/sqlite"
)

// Premises is one side opened: its directory, its mailbox databases and the
// engine over them.
type Premises struct {
	Side      directory.Premises
	Directory *directory.Directory
	Stores    map[string]store.Store
	Engine    *mailbox.Engine
}

// Open opens the directory and the named mailbox databases of side.
func (l Layout) Open(side directory.Premises, databases []string) (*Premises, error) {
	dir, err := directory.Open(l.Directory(side), side)
	if err != nil {
		return nil, err
	}
	p := &Premises{Side: side, Directory: dir, Stores: map[string]store.Store{}}
	for _, name := range databases {
		db, err := l.openStore(side, name)
		if err != nil {
			p.Close()
			return nil, fmt.Errorf("open %s database %s: %w", side, name, err)
		}
		p.Stores[name] = db
	}
	p.Engine = mailbox.New(mailbox.Options{Databases: p.Stores, Directory: dir})
	return p, nil
}

// Close closes the databases and the directory.
func (p *Premises) Close() error {
	var errs []error
	for _, s := range p.Stores {
		errs = append(errs, s.Close())
	}
	if p.Directory != nil {
		errs = append(errs, p.Directory.Close())
	}
	return errors.Join(errs...)
}

func (l Layout) openStore(side directory.Premises, name string) (store.Store, error) {
	if l.Stores != nil {
		return l.Stores(side, name)
	}
	return sqlite.Open(l.Database(side, name))
}

// Unopened lists, as "DATABASE (of UPN)", the mailboxes of p's directory
// that live in a database of p's premises that p did not open: a server
// started without them would fail every call for those users.
func (p *Premises) Unopened(ctx context.Context) ([]string, error) {
	users, err := p.Directory.All(ctx)
	if err != nil {
		return nil, err
	}
	var missing []string
	for _, u := range users {
		if u.RecipientType != directory.UserMailbox || u.Premises != p.Side {
			continue
		}
		if _, ok := p.Stores[u.Database]; !ok {
			missing = append(missing, fmt.Sprintf("%s (of %s)", u.Database, u.UPN))
		}
	}
	return missing, nil
}
