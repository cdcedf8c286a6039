package dirsync

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"strconv"
	"sync"

	"github.com/hybridgraph/hybridgraph/internal/auth"
	"github.com/hybridgraph/hybridgraph/internal/directory"
	"github.com/hybridgraph/hybridgraph/internal/httpserver"
)

// Path is where the cloud takes sync batches.
const Path = "/admin/dirsync"

// Handler is the cloud's directory-sync intake: POST Path with a
// directory.Batch as JSON; ?confirmDeletes=true lets the run delete past
// the threshold. It answers 200 with the directory.Summary. GET Path
// answers the sync State, for the readiness check.
type Handler struct {
	Directory *directory.Directory
	Auth      *auth.Validator
	Options   directory.SyncOptions
	Log       *slog.Logger

	// runs serialises sync runs: two agents pushing at once (the loop and
	// an admin's --confirm-deletes) run one after the other rather than
	// race for the directory's write lock.
	runs sync.Mutex
}

// The component attribute of each side's log lines: the cloud's intake,
// and the on-prem sync agent (Loop).
const (
	IntakeComponent = "dirsync-intake"
	AgentComponent  = "dirsync-agent"
)

// MaxBatchBytes is the largest sync batch the intake takes: a full batch
// lists every synced user (about 250 bytes each), so Graph's 4 MB request
// limit would stop at some 16,000 users; 64 MiB holds some 250,000.
const MaxBatchBytes = 64 << 20

// HTTP returns the intake wrapped in the access log and Graph errors, with
// a body limit of MaxBatchBytes.
func (h *Handler) HTTP() http.Handler {
	return httpserver.LimitedMiddleware(h.Log, httpserver.GraphEnvelope, MaxBatchBytes,
		httpserver.Handle(httpserver.GraphEnvelope, h.serve))
}

func (h *Handler) serve(w http.ResponseWriter, r *http.Request) error {
	httpserver.SetRoute(r.Context(), Path)
	if r.URL.Path != Path {
		return httpserver.Errorf(http.StatusNotFound, "ResourceNotFound",
			"No admin resource at this path.")
	}
	if r.Method != http.MethodPost && r.Method != http.MethodGet {
		return httpserver.Errorf(http.StatusMethodNotAllowed, "MethodNotAllowed",
			"Use POST to push a directory-sync batch, GET to read the sync state.")
	}
	p, err := h.Auth.Authenticate(r)
	if err != nil {
		return err
	}
	if p.Delegated {
		return httpserver.Errorf(http.StatusForbidden, "ErrorAccessDenied",
			"Directory sync takes an application token.")
	}
	if r.Method == http.MethodGet {
		if err := auth.Require(p, stateRead); err != nil {
			return err
		}
		return h.state(w, r)
	}
	if err := auth.Require(p, auth.DirectorySync); err != nil {
		return err
	}

	batch, opts, err := h.decode(r)
	if err != nil {
		return err
	}
	h.runs.Lock()
	sum, err := h.Directory.Apply(r.Context(), batch, opts)
	h.runs.Unlock()
	if errors.Is(err, directory.ErrInvalidBatch) {
		return httpserver.Wrap(err, http.StatusBadRequest, "BadRequest", err.Error())
	}
	if err != nil {
		return err
	}
	// One line per run on the cloud's side; the agent logs its own.
	h.Log.Info("directory sync applied", "component", IntakeComponent, "added", sum.Added,
		"updated", sum.Updated, "deleted", sum.Deleted, "held", sum.Held,
		"failed", sum.Failed)
	w.Header().Set("Content-Type", "application/json")
	return json.NewEncoder(w).Encode(sum)
}

// ParseThreshold reads a deletion threshold given as a percentage of the
// synced users, such as "10" or "2.5", and returns it as a share.
func ParseThreshold(s string) (float64, error) {
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(v) || v <= 0 || v > 100 {
		return 0, fmt.Errorf("%q is not a percentage above 0 and at most 100", s)
	}
	return v / 100, nil
}

func (h *Handler) decode(r *http.Request) (directory.Batch, directory.SyncOptions, error) {
	opts := h.Options
	if c := r.URL.Query().Get("confirmDeletes"); c != "" {
		v, err := strconv.ParseBool(c)
		if err != nil {
			return directory.Batch{}, opts, httpserver.Errorf(http.StatusBadRequest,
				"BadRequest", "confirmDeletes must be true or false.")
		}
		opts.ConfirmDeletes = v
	}
	if t := r.URL.Query().Get("deleteThreshold"); t != "" {
		share, err := ParseThreshold(t)
		if err != nil {
			return directory.Batch{}, opts, httpserver.Errorf(http.StatusBadRequest,
				"BadRequest", "deleteThreshold: %v.", err)
		}
		opts.DeleteThreshold = share
	}
	body, err := httpserver.ReadBody(r)
	if err != nil {
		return directory.Batch{}, opts, err
	}
	var b directory.Batch
	if err := json.Unmarshal(body, &b); err != nil {
		return directory.Batch{}, opts, httpserver.Wrap(err, http.StatusBadRequest,
			"BadRequest", "The body is not a directory-sync batch.")
	}
	return b, opts, nil
}
