package onprem

import (
	"encoding/json"
	"net/http"

	"github.com/hybridgraph/hybridgraph/internal/directory"
	"github.com/hybridgraph/hybridgraph/internal/httpserver"
)

// AdminTopologyPath is the admin endpoint that reports the organisation's
// topology, the answer to Get-ExchangeServer and Get-Mailbox that the
// readiness checker would otherwise need a shell on the server for.
const AdminTopologyPath = "/admin/topology"

// MailboxLocation is one on-prem mailbox and the database that holds it.
type MailboxLocation struct {
	UPN      string `json:"upn"`
	Database string `json:"database"`
	// MailboxGUID is the mailbox's ExchangeGuid, which the cloud's entry
	// must carry too (exchange-hybrid.md §3.1).
	MailboxGUID string `json:"mailboxGuid,omitempty"`
}

// AdminTopology is the answer of GET /admin/topology: the servers, their
// builds and databases, and where each on-prem mailbox lives.
type AdminTopology struct {
	Topology
	Mailboxes []MailboxLocation `json:"mailboxes"`
}

// adminTopology answers GET /admin/topology. It takes the same
// server-to-server token as /api: the topology names servers, builds and
// users, which an anonymous caller must not learn.
func (h *Handler) adminTopology(w http.ResponseWriter, r *http.Request) error {
	if r.Method != http.MethodGet {
		w.Header().Set("Allow", http.MethodGet)
		return httpserver.Errorf(http.StatusMethodNotAllowed, "ErrorInvalidRequest",
			"The admin topology is read with GET.")
	}
	if _, err := h.REST.Auth.Authenticate(r); err != nil {
		return err
	}
	users, err := h.Directory.All(r.Context())
	if err != nil {
		return httpserver.Wrap(err, http.StatusInternalServerError, "ErrorInternalServerError",
			"The mailboxes could not be listed.")
	}
	out := AdminTopology{Topology: *h.Topology, Mailboxes: []MailboxLocation{}}
	for _, u := range users {
		if u.Premises == directory.OnPrem && u.Database != "" {
			out.Mailboxes = append(out.Mailboxes, MailboxLocation{UPN: u.UPN, Database: u.Database,
				MailboxGUID: u.MailboxGUID})
		}
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	return json.NewEncoder(w).Encode(out)
}
