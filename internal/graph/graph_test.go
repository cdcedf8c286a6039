package graph

import (
	"net/http"
	"testing"

	"github.com/hybridgraph/hybridgraph/internal/mailapi"
)

func TestRouteNameHidesKeys(t *testing.T) {
	segs, err := mailapi.SplitPath("/mailFolders('inbox')/messages/AAMk%2Fx/attachments/AAMk2")
	if err != nil {
		t.Fatal(err)
	}
	got := routeName("v1.0", segs)
	if want := "/v1.0/users/{id}/mailFolders({key})/messages({key})/attachments/{key}"; got != want {
		t.Errorf("routeName = %q, want %q", got, want)
	}
}

func TestOpOf(t *testing.T) {
	tests := []struct {
		method string
		path   []string
		want   mailapi.Op
	}{
		{http.MethodGet, []string{"messages"}, mailapi.Read},
		{http.MethodPost, []string{"sendMail"}, mailapi.Send},
		{http.MethodPost, []string{"messages", "x", "send"}, mailapi.Send},
		{http.MethodPost, []string{"messages", "x", "reply"}, mailapi.Send},
		{http.MethodPost, []string{"messages"}, mailapi.Write},
		{http.MethodPatch, []string{"messages", "x"}, mailapi.Write},
		{http.MethodDelete, []string{"events", "x"}, mailapi.Write},
	}
	for _, tt := range tests {
		if got := opOf(tt.method, tt.path); got != tt.want {
			t.Errorf("opOf(%s %v) = %d, want %d", tt.method, tt.path, got, tt.want)
		}
	}
}
