package dirsync

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/hybridgraph/hybridgraph/internal/auth"
	"github.com/hybridgraph/hybridgraph/internal/directory"
)

type fixture struct {
	issuer *auth.Issuer
	cloud  *directory.Directory
	srv    *httptest.Server
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	dir := t.TempDir()
	key, err := auth.LoadOrCreateKey(filepath.Join(dir, "keys"))
	if err != nil {
		t.Fatal(err)
	}
	iss := &auth.Issuer{Key: key, TenantID: "tenant-1", BaseURL: "https://login.test"}
	cloud, err := directory.Open(filepath.Join(dir, "cloud.db"), directory.Cloud)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cloud.Close() })
	h := &Handler{Directory: cloud, Log: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Auth: auth.NewValidator(key, iss.IssuerURL(), "tenant-1",
			[]string{auth.GraphResource, auth.GraphAppID}),
		Options: directory.SyncOptions{CloudDatabase: "CLOUD-DB"}}
	srv := httptest.NewServer(h.HTTP())
	t.Cleanup(srv.Close)
	return &fixture{issuer: iss, cloud: cloud, srv: srv}
}

func (f *fixture) appToken(t *testing.T, roles ...string) string {
	t.Helper()
	tok, err := f.issuer.AppToken(auth.App{ClientID: "sync-app", Roles: roles}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func TestHandlerAuthorises(t *testing.T) {
	f := newFixture(t)
	delegated, err := f.issuer.DelegatedToken(auth.User{ObjectID: "u1",
		UPN: "a@contoso.test"}, []string{"User.Read"}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	role := auth.DirectorySync.Application[0]
	tests := []struct {
		name, token, method, body string
		want                      int
	}{
		{"no token", "", http.MethodPost, `{}`, http.StatusUnauthorized},
		{"delegated", delegated, http.MethodPost, `{}`, http.StatusForbidden},
		{"app without role", f.appToken(t, "Mail.Read"), http.MethodPost, `{}`,
			http.StatusForbidden},
		{"put", f.appToken(t, role), http.MethodPut, ``, http.StatusMethodNotAllowed},
		{"state without role", f.appToken(t, "User.Read.All"), http.MethodGet, ``,
			http.StatusForbidden},
		{"state", f.appToken(t, "Directory.Read.All"), http.MethodGet, ``, http.StatusOK},
		{"not json", f.appToken(t, role), http.MethodPost, `{`, http.StatusBadRequest},
		// A malformed batch is refused whole; a bad entry fails alone.
		{"invalid batch", f.appToken(t, role), http.MethodPost,
			`{"upserts":[{"immutableId":"x"},{"immutableId":"x"}]}`, http.StatusBadRequest},
		{"invalid entry", f.appToken(t, role), http.MethodPost,
			`{"upserts":[{"immutableId":"x"}]}`, http.StatusOK},
		{"empty batch", f.appToken(t, role), http.MethodPost, `{}`, http.StatusOK},
		{"threshold", f.appToken(t, role), http.MethodPost + " ?deleteThreshold=25", `{}`,
			http.StatusOK},
		{"threshold 0", f.appToken(t, role), http.MethodPost + " ?deleteThreshold=0", `{}`,
			http.StatusBadRequest},
		{"threshold above 100", f.appToken(t, role),
			http.MethodPost + " ?deleteThreshold=100.5", `{}`, http.StatusBadRequest},
		{"threshold NaN", f.appToken(t, role), http.MethodPost + " ?deleteThreshold=NaN",
			`{}`, http.StatusBadRequest},
		{"confirm not a bool", f.appToken(t, role), http.MethodPost + " ?confirmDeletes=yes",
			`{}`, http.StatusBadRequest},
		// Batches are larger than Graph's 4 MB request limit; the intake's
		// own limit holds.
		{"batch above 4 MB", f.appToken(t, role), http.MethodPost,
			`{"upserts":[]` + strings.Repeat(" ", 5<<20) + `}`, http.StatusOK},
		{"batch above the limit", f.appToken(t, role), http.MethodPost,
			`{"upserts":[]` + strings.Repeat(" ", MaxBatchBytes) + `}`,
			http.StatusRequestEntityTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			method, query, _ := strings.Cut(tt.method, " ")
			req, _ := http.NewRequest(method, f.srv.URL+Path+query, strings.NewReader(tt.body))
			if tt.token != "" {
				req.Header.Set("Authorization", "Bearer "+tt.token)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tt.want {
				t.Errorf("got status %d, want %d", resp.StatusCode, tt.want)
			}
		})
	}
}

func TestPushFromDirectory(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	prem, err := directory.Open(filepath.Join(t.TempDir(), "prem.db"), directory.OnPrem)
	if err != nil {
		t.Fatal(err)
	}
	defer prem.Close()
	carol := directory.User{ObjectID: "00112233-4455-6677-8899-aabbccddeeff",
		UPN: "carol@contoso.test", Mail: "carol@contoso.test", DisplayName: "Carol",
		Premises: directory.OnPrem, RecipientType: directory.UserMailbox, Database: "DB1",
		MailboxGUID: "g-carol"}
	if err := prem.Put(ctx, carol); err != nil {
		t.Fatal(err)
	}
	b, err := FromDirectory(ctx, prem)
	if err != nil {
		t.Fatal(err)
	}
	if len(b.Upserts) != 1 || b.Upserts[0].Database != "DB1" {
		t.Fatalf("batch: got %+v, want carol on DB1", b.Upserts)
	}
	c := &Client{BaseURL: f.srv.URL, HTTP: f.srv.Client(),
		Token: func(context.Context) (string, error) {
			return f.appToken(t, auth.DirectorySync.Application...), nil
		}}
	sum, err := c.Push(ctx, b, false)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Added != 1 || sum.Failed != 0 {
		t.Errorf("summary: got %+v, want one added", sum)
	}
	got, err := f.cloud.Lookup(ctx, "carol@contoso.test")
	if err != nil {
		t.Fatal(err)
	}
	if !got.SyncEnabled || got.ImmutableID != "MyIRAFVEd2aImaq7zN3u/w==" ||
		got.Premises != directory.OnPrem || got.MailboxGUID != "g-carol" ||
		got.Database != "DB1" {
		t.Errorf("cloud entry: got %+v, want carol synced on premises", got)
	}

	st, err := c.ReadState(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := []StateUser{{UPN: "carol@contoso.test", Mail: "carol@contoso.test",
		Premises: "onprem", MailboxGUID: "g-carol", SyncEnabled: true}}
	if diff := cmp.Diff(want, st.Users); diff != "" || st.LastSync == nil {
		t.Errorf("state users (-want +got):\n%s\nlast sync %v", diff, st.LastSync)
	}

	// An empty full batch would delete carol: 1 of 1 synced users is held,
	// and the state says so.
	sum, err = c.Push(ctx, directory.Batch{Full: true}, false)
	if err != nil || sum.Held != 1 || sum.Deleted != 0 {
		t.Errorf("empty full push: got %+v, %v; want one held", sum, err)
	}
	if st, err := c.ReadState(ctx); err != nil || len(st.HeldDeletes) != 1 ||
		st.HeldDeletes[0].UPN != "carol@contoso.test" || st.HeldDeletes[0].Since.IsZero() {
		t.Errorf("state after the held push: got %+v, %v; want carol's deletion held",
			st.HeldDeletes, err)
	}
	sum, err = c.Push(ctx, directory.Batch{Full: true}, true)
	if err != nil || sum.Deleted != 1 {
		t.Errorf("confirmed push: got %+v, %v; want one deleted", sum, err)
	}
}

// TestFromDirectoryFailsBadUsers checks that a built-in directory user
// that cannot be synced fails alone, named, and the others still sync.
func TestFromDirectoryFailsBadUsers(t *testing.T) {
	ctx := context.Background()
	prem, err := directory.Open(filepath.Join(t.TempDir(), "prem.db"), directory.OnPrem)
	if err != nil {
		t.Fatal(err)
	}
	defer prem.Close()
	for _, u := range []directory.User{
		{ObjectID: "00112233-4455-6677-8899-aabbccddeeff", UPN: "carol@contoso.test",
			Mail: "carol@contoso.test", RecipientType: directory.UserMailbox},
		{ObjectID: "not-a-guid", UPN: "bad@contoso.test", Mail: "bad@contoso.test",
			RecipientType: directory.UserMailbox},
		{ObjectID: "00112233-4455-6677-8899-aabbccddee00", UPN: "nomail@contoso.test",
			Mail: "", RecipientType: directory.UserMailbox},
	} {
		if err := prem.Put(ctx, u); err != nil {
			t.Fatal(err)
		}
	}
	b, err := FromDirectory(ctx, prem)
	if err != nil {
		t.Fatalf("FromDirectory: %v", err)
	}
	var failed []string
	for _, p := range b.Failed {
		failed = append(failed, p.UPN)
	}
	if len(b.Upserts) != 1 || !cmp.Equal(failed, []string{"bad@contoso.test",
		"nomail@contoso.test"}) {
		t.Errorf("batch: got %d upserts and failures %v; want carol, and bad and nomail "+
			"failed", len(b.Upserts), failed)
	}
}

func TestImmutableID(t *testing.T) {
	tests := []struct{ guid, want string }{
		{"00112233-4455-6677-8899-aabbccddeeff", "MyIRAFVEd2aImaq7zN3u/w=="},
		{"00000000-0000-0000-0000-000000000000", "AAAAAAAAAAAAAAAAAAAAAA=="},
	}
	for _, tt := range tests {
		got, err := ImmutableID(tt.guid)
		if err != nil || got != tt.want {
			t.Errorf("ImmutableID(%q) = %q, %v; want %q", tt.guid, got, err, tt.want)
		}
	}
	if _, err := ImmutableID("not-a-guid"); err == nil {
		t.Error("ImmutableID(not-a-guid): got nil error")
	}
}

// TestHandlerParallelPushes pushes several batches at once, as the loop
// and an admin's sync can: each run completes, one after the other, and
// each is logged once by the intake, with its component.
func TestHandlerParallelPushes(t *testing.T) {
	f := newFixture(t)
	var logs syncBuffer
	h := &Handler{Directory: f.cloud, Log: slog.New(slog.NewTextHandler(&logs, nil)),
		Auth: auth.NewValidator(f.issuer.Key, f.issuer.IssuerURL(), "tenant-1",
			[]string{auth.GraphResource, auth.GraphAppID}),
		Options: directory.SyncOptions{CloudDatabase: "CLOUD-DB"}}
	srv := httptest.NewServer(h.HTTP())
	defer srv.Close()
	c := &Client{BaseURL: srv.URL, HTTP: srv.Client(),
		Token: func(context.Context) (string, error) {
			return f.appToken(t, auth.DirectorySync.Application...), nil
		}}
	b := directory.Batch{Full: true}
	for i := range 50 {
		upn := fmt.Sprintf("u%d@contoso.test", i)
		b.Upserts = append(b.Upserts, directory.SourceUser{ImmutableID: fmt.Sprint("i", i),
			UPN: upn, Mail: upn, RecipientType: directory.UserMailbox})
	}
	const pushes = 8
	errs := make(chan error, pushes)
	for range pushes {
		go func() {
			_, err := c.Push(context.Background(), b, false)
			errs <- err
		}()
	}
	for range pushes {
		if err := <-errs; err != nil {
			t.Errorf("parallel push: %v", err)
		}
	}
	lines := strings.Count(logs.String(), `msg="directory sync applied" component=dirsync-intake`)
	if lines != pushes {
		t.Errorf("intake log: got %d run lines, want %d:\n%s", lines, pushes, logs.String())
	}
}
