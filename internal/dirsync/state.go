package dirsync

import (
	"context"
	"encoding/json"
	"net/http"
	"time"

	"github.com/hybridgraph/hybridgraph/internal/auth"
	"github.com/hybridgraph/hybridgraph/internal/directory"
)

// stateRead is who may read the sync state: an app that reads the
// directory, or the sync agent itself.
var stateRead = auth.Permission{Application: []string{"Directory.Read.All",
	auth.DirectorySync.Application[0]}}

// State is the answer of GET Path: the cloud directory as sync left it,
// with what Graph does not show (the mailbox GUID and its location).
type State struct {
	// LastSync is the organisation's last successful sync; nil if none.
	LastSync *time.Time  `json:"lastSync,omitempty"`
	Users    []StateUser `json:"users"`
	// HeldDeletes are the deletions the last run held back by the
	// threshold: users gone on premises that the cloud still routes.
	HeldDeletes []directory.HeldDelete `json:"heldDeletes,omitempty"`
}

// StateUser is one user of the cloud directory.
type StateUser struct {
	UPN         string `json:"userPrincipalName"`
	Mail        string `json:"mail"`
	Premises    string `json:"premises"`
	MailboxGUID string `json:"mailboxGuid,omitempty"`
	SyncEnabled bool   `json:"onPremisesSyncEnabled"`
}

func (h *Handler) state(w http.ResponseWriter, r *http.Request) error {
	last, err := h.Directory.LastSync(r.Context())
	if err != nil {
		return err
	}
	users, err := h.Directory.All(r.Context())
	if err != nil {
		return err
	}
	held, err := h.Directory.HeldDeletes(r.Context())
	if err != nil {
		return err
	}
	st := State{Users: make([]StateUser, 0, len(users)), HeldDeletes: held}
	if !last.IsZero() {
		st.LastSync = &last
	}
	for _, u := range users {
		st.Users = append(st.Users, StateUser{UPN: u.UPN, Mail: u.Mail,
			Premises: string(u.Premises), MailboxGUID: u.MailboxGUID,
			SyncEnabled: u.SyncEnabled})
	}
	w.Header().Set("Content-Type", "application/json")
	return json.NewEncoder(w).Encode(st)
}

// ReadState asks the cloud for its sync state (GET Path).
func (c *Client) ReadState(ctx context.Context) (State, error) {
	var st State
	err := c.do(ctx, http.MethodGet, c.BaseURL+Path, nil, &st)
	return st, err
}
