package mailapi

import (
	"errors"
	"fmt"
	"net/http"
	"testing"

	"github.com/hybridgraph/hybridgraph/internal/httpserver"
	"github.com/hybridgraph/hybridgraph/internal/store"
)

func TestEngineError(t *testing.T) {
	tests := []struct {
		err        error
		status     int
		code       string
		retryAfter string
	}{
		{store.ErrNotFound, http.StatusNotFound, "ErrorItemNotFound", ""},
		{store.ErrPreconditionFailed, http.StatusPreconditionFailed,
			"ErrorIrresolvableConflict", ""},
		{store.ErrConflict, http.StatusConflict, "ErrorIrresolvableConflict", ""},
		{store.ErrMailboxLocked, http.StatusServiceUnavailable, "ErrorMailboxMoveInProgress",
			MoveRetryAfter},
	}
	for _, tt := range tests {
		t.Run(tt.err.Error(), func(t *testing.T) {
			var he *httpserver.Error
			err := engineError(fmt.Errorf("update item: %w", tt.err))
			if !errors.As(err, &he) {
				t.Fatalf("got %v, want an *httpserver.Error", err)
			}
			if he.Status != tt.status || he.Code != tt.code ||
				he.Header.Get("Retry-After") != tt.retryAfter {
				t.Errorf("got %d %s Retry-After %q, want %d %s %q", he.Status, he.Code,
					he.Header.Get("Retry-After"), tt.status, tt.code, tt.retryAfter)
			}
			if !errors.Is(he, tt.err) {
				t.Errorf("the cause %v is not kept", tt.err)
			}
		})
	}
}
