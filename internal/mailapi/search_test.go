package mailapi

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/hybridgraph/hybridgraph/internal/httpserver"
	"github.com/hybridgraph/hybridgraph/internal/mailbox"
	"github.com/hybridgraph/hybridgraph/internal/schema"
	"github.com/hybridgraph/hybridgraph/internal/store"
	"github.com/hybridgraph/hybridgraph/internal/store/sqlite"
)

// searchServer serves the Graph face of one mailbox, /v1.0/me, holding
// imported messages: in the inbox "pizza 1" … "pizza 5" (sent an hour
// apart, the last newest) and "salad"; in the archive "pizza old".
func searchServer(t *testing.T) *httptest.Server {
	t.Helper()
	db, err := sqlite.Open(filepath.Join(t.TempDir(), "db1.sqlite"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	ref := mailbox.Ref{ID: "mbx-s", Address: "s@contoso.test", Database: "db1"}
	e := mailbox.New(mailbox.Options{Databases: map[string]store.Store{"db1": db}})
	ctx := context.Background()
	if err := e.EnsureMailbox(ctx, ref, ref.Address); err != nil {
		t.Fatal(err)
	}
	mail := func(subject string, h int) []byte {
		date := time.Date(2026, 3, 1, h, 0, 0, 0, time.UTC).Format(time.RFC1123Z)
		return []byte("From: Ann <ann@fabrikam.test>\r\nTo: s@contoso.test\r\nSubject: " +
			subject + "\r\nDate: " + date + "\r\nMessage-ID: <" + fmt.Sprint(h) +
			"@fabrikam.test>\r\n\r\nSee you at lunch.\r\n")
	}
	var raws [][]byte
	for i := 1; i <= 5; i++ {
		raws = append(raws, mail(fmt.Sprintf("pizza %d", i), i))
	}
	raws = append(raws, mail("salad", 6))
	if _, err := e.ImportBatch(ctx, ref, "inbox", raws); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Import(ctx, ref, "archive", mail("pizza old", 0)); err != nil {
		t.Fatal(err)
	}
	face := &Face{Dialect: schema.Graph, Engine: e}
	var srv *httptest.Server
	srv = httptest.NewServer(httpserver.Handle(httpserver.GraphEnvelope,
		func(w http.ResponseWriter, r *http.Request) error {
			segs, err := SplitPath(strings.TrimPrefix(r.URL.EscapedPath(), "/v1.0"))
			if err != nil {
				return err
			}
			_, _, rest, _ := UserKey(segs)
			return face.Serve(&Call{W: w, R: r, Mailbox: ref, Path: rest,
				ContextBase: srv.URL + "/v1.0/$metadata#users('" + ref.ID + "')",
				Authorize:   func(Op) error { return nil },
				RequestURL:  AbsoluteURL(srv.URL, r)})
		}))
	t.Cleanup(srv.Close)
	return srv
}

type searchAnswer struct {
	Value []struct{ Subject string }
	Next  string `json:"@odata.nextLink"`
	Count *int   `json:"@odata.count"`
	Error struct{ Code, Message string }
}

func getSearch(t *testing.T, url string) (int, searchAnswer) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var a searchAnswer
	if err := json.NewDecoder(resp.Body).Decode(&a); err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, a
}

// TestSearchOverHTTP lists with $search through the Graph face: results
// newest sent first, pages by $skiptoken, in a folder too, and Graph's
// refusals as 400 errors.
func TestSearchOverHTTP(t *testing.T) {
	srv := searchServer(t)
	var got []string
	pages := 0
	link := srv.URL + `/v1.0/me/messages?$search="pizza"&$top=2&$count=true&$select=subject`
	for link != "" {
		status, a := getSearch(t, link)
		if status != http.StatusOK {
			t.Fatalf("%s: got %d %+v", link, status, a.Error)
		}
		if a.Count == nil || *a.Count != 6 {
			t.Errorf("%s: got @odata.count %v, want 6", link, a.Count)
		}
		for _, m := range a.Value {
			got = append(got, m.Subject)
		}
		if a.Next != "" && !strings.Contains(a.Next, "$skiptoken=") {
			t.Errorf("next link %s has no $skiptoken", a.Next)
		}
		link, pages = a.Next, pages+1
	}
	want := []string{"pizza 5", "pizza 4", "pizza 3", "pizza 2", "pizza 1", "pizza old"}
	if diff := cmp.Diff(want, got); diff != "" || pages != 3 {
		t.Errorf("pages %d, want 3; subjects (-want +got):\n%s", pages, diff)
	}

	_, a := getSearch(t, srv.URL+
		`/v1.0/me/mailFolders/inbox/messages?$search="subject:pizza%20NOT%205"`)
	var inbox []string
	for _, m := range a.Value {
		inbox = append(inbox, m.Subject)
	}
	if diff := cmp.Diff([]string{"pizza 4", "pizza 3", "pizza 2", "pizza 1"}, inbox); diff != "" {
		t.Errorf("inbox (-want +got):\n%s", diff)
	}

	for _, tt := range []struct{ query, code string }{
		{`$search="pizza"&$orderby=subject`, "SearchWithOrderBy"},
		{`$search="pizza"&$filter=isRead%20eq%20false`, "SearchWithFilter"},
		{`$search="pizza"&$skip=2`, "SearchWithSkip"},
		{`$search="(pizza"`, "BadRequest"},
	} {
		status, a := getSearch(t, srv.URL+"/v1.0/me/messages?"+tt.query)
		if status != http.StatusBadRequest || a.Error.Code != tt.code {
			t.Errorf("%s: got %d %q, want 400 %q", tt.query, status, a.Error.Code, tt.code)
		}
	}
}
