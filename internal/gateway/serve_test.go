package gateway_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/hybridgraph/hybridgraph/internal/demo"
	"github.com/hybridgraph/hybridgraph/internal/deploy"
	"github.com/hybridgraph/hybridgraph/internal/directory"
	"github.com/hybridgraph/hybridgraph/internal/gateway"
)

// TestServe starts a configured gateway over the demo's seeded data, once
// with the cloud database in SQLite and once in PostgreSQL, and lists,
// creates and sends through Graph.
func TestServe(t *testing.T) {
	for _, backend := range []string{"sqlite", "postgres"} {
		t.Run(backend, func(t *testing.T) {
			dsn := ""
			if backend == "postgres" {
				dsn = postgresDSN(t)
			}
			ln := listen(t)
			base := "http://" + ln.Addr().String()
			c := configFor(t, t.TempDir(), base, dsn, "")
			d := seeded(t, c)
			srv := start(t, c, ln)
			checkBackend(t, c.Data.Directory, backend)
			exercise(t, base+"/v1.0", token(t, srv, "alice@"+d.Domain),
				token(t, srv, "bob@"+d.Domain))
		})
	}
}

// checkBackend checks the cloud database is where the configuration put
// it: a SQLite file exists only for the sqlite driver.
func checkBackend(t *testing.T, dir, backend string) {
	t.Helper()
	path := deploy.Layout{Dir: dir}.Database(directory.Cloud, demo.CloudDB)
	_, err := os.Stat(path)
	if got, want := err == nil, backend == "sqlite"; got != want {
		t.Errorf("SQLite file %s exists: got %v, want %v", demo.CloudDB, got, want)
	}
}

func exercise(t *testing.T, graph, alice, bob string) {
	inbox := graph + "/me/mailFolders/inbox/messages"
	page := call(t, "GET", inbox+"?$top=2&$select=subject", alice, nil).want(t, "list", 200)
	if n := len(page.values(t)); n != 2 {
		t.Fatalf("list with $top=2: got %d messages, want 2", n)
	}
	next, _ := page.body["@odata.nextLink"].(string)
	if next == "" {
		t.Fatalf("list with $top=2: no @odata.nextLink in %s", page.raw)
	}
	call(t, "GET", next, alice, nil).want(t, "next page", 200)
	// limits.maxTop is 50 in the configuration: Graph's own 1000 no longer holds.
	call(t, "GET", inbox+"?$top=51", alice, nil).want(t, "$top above maxTop", 400)

	subject := fmt.Sprintf("serve test %d", time.Now().UnixNano())
	msg := map[string]any{
		"subject": subject,
		"body":    map[string]any{"contentType": "text", "content": "Through serve."},
		"toRecipients": []any{map[string]any{
			"emailAddress": map[string]any{"address": "bob@" + demo.Domain}}},
	}
	created := call(t, "POST", graph+"/me/messages", alice, msg).want(t, "create", 201)
	id, _ := created.body["id"].(string)
	got := call(t, "GET", graph+"/me/messages/"+id, alice, nil).want(t, "get created", 200)
	if got.body["subject"] != subject {
		t.Errorf("created message subject: got %v, want %q", got.body["subject"], subject)
	}
	call(t, "POST", graph+"/me/messages/"+id+"/send", alice, nil).
		want(t, "send", http.StatusAccepted)
	waitFor(t, graph, bob, subject)
}

// waitFor polls bob's inbox until the message with subject arrives.
func waitFor(t *testing.T, graph, tok, subject string) {
	t.Helper()
	filter := "/me/mailFolders/inbox/messages?$filter=subject%20eq%20'" +
		urlQuote(subject) + "'&$select=subject"
	deadline := time.Now().Add(10 * time.Second)
	for {
		r := call(t, "GET", graph+filter, tok, nil).want(t, "bob's inbox", 200)
		if n := len(r.values(t)); n == 1 {
			return
		} else if n > 1 {
			t.Fatalf("bob's inbox: got %d copies of %q, want 1", n, subject)
		}
		if time.Now().After(deadline) {
			t.Fatalf("bob's inbox: %q not delivered within 10s", subject)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func urlQuote(s string) string {
	out := make([]byte, 0, len(s))
	for _, b := range []byte(s) {
		if b == ' ' {
			out = append(out, "%20"...)
			continue
		}
		out = append(out, b)
	}
	return string(out)
}

// TestServeRefusesUnlistedDatabase starts a gateway whose configuration
// leaves out the database the directory puts alice and bob in.
func TestServeRefusesUnlistedDatabase(t *testing.T) {
	ln := listen(t)
	dir := t.TempDir()
	seeded(t, configFor(t, dir, "http://"+ln.Addr().String(), "", ""))
	c := configFor(t, dir, "http://"+ln.Addr().String(), "", "")
	c.Databases[0].Name = "CLOUD-DB02"
	_, err := gateway.Start(context.Background(), c, gateway.Listeners{HTTP: ln},
		slog.New(slog.DiscardHandler))
	for _, want := range []string{"databases:", demo.CloudDB + " (of alice@" + demo.Domain} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Start: got error %v, want one containing %q", err, want)
		}
	}
	ln.Close()
}
