package gateway

import (
	"net/http"
	"slices"

	"github.com/hybridgraph/hybridgraph/internal/auth"
	"github.com/hybridgraph/hybridgraph/internal/directory"
	"github.com/hybridgraph/hybridgraph/internal/dirsync"
)

// dirSync is the directory-sync intake of the cloud directory. A mailbox
// that sync moves to the cloud without a cloud database yet goes to the
// first cloud database by name.
func (c *Cloud) dirSync() http.Handler {
	var databases []string
	for name := range c.Premises.Stores {
		databases = append(databases, name)
	}
	slices.Sort(databases)
	opts := directory.SyncOptions{}
	if len(databases) > 0 {
		opts.CloudDatabase = databases[0]
	}
	return (&dirsync.Handler{
		Directory: c.Premises.Directory,
		Auth: auth.NewValidator(c.Issuer.Key, c.Issuer.IssuerURL(), c.Issuer.TenantID,
			[]string{auth.GraphResource, auth.GraphAppID}),
		Options: opts,
		Log:     c.Log,
	}).HTTP()
}
