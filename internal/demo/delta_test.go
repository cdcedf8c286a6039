package demo

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// deltaRound follows a delta round from link to its deltaLink, page by
// page, and returns the entries it listed by id ("removed" or the subject)
// and the deltaLink. Every link must point back at the gateway.
func deltaRound(t *testing.T, o *testOrg, link, tok string) (map[string]string, string) {
	t.Helper()
	seen := map[string]string{}
	for pages := 0; pages < 50; pages++ {
		r := call(t, "GET", link, tok, nil, "Prefer", "odata.maxpagesize=2")
		if r.status != http.StatusOK {
			t.Fatalf("GET %s: got %d\n%s", link, r.status, r.body)
		}
		page := r.json(t)
		for _, v := range page["value"].([]any) {
			m := v.(map[string]any)
			id, _ := m["id"].(string)
			if _, ok := m["@removed"]; ok {
				seen[id] = "removed"
			} else {
				seen[id], _ = m["subject"].(string)
			}
		}
		next, _ := page["@odata.nextLink"].(string)
		delta, _ := page["@odata.deltaLink"].(string)
		for _, l := range []string{next, delta} {
			if l != "" && !strings.HasPrefix(l, o.d.CloudURL+"/v1.0/") {
				t.Fatalf("link %s does not point at the gateway %s", l, o.d.CloudURL)
			}
		}
		if delta != "" {
			return seen, delta
		}
		if next == "" {
			t.Fatalf("page with neither nextLink nor deltaLink:\n%s", r.body)
		}
		link = next
	}
	t.Fatal("delta round did not end within 50 pages")
	return nil, ""
}

// TestDeltaBothPremises follows a folder's changes through the gateway for
// a cloud mailbox and an on-prem one: the first round lists the folder,
// the next lists a create, an update and a delete, and the one after that
// nothing.
func TestDeltaBothPremises(t *testing.T) {
	eachBackend(t, Options{}, func(t *testing.T, o *testOrg) {
		for _, upn := range []string{"alice@contoso.test", "carol@contoso.test"} {
			t.Run(upn, func(t *testing.T) {
				tok := o.token(t, upn)
				base := o.d.CloudURL + "/v1.0/me/mailFolders/drafts/messages"
				var ids []string
				for _, s := range []string{"one", "two", "three"} {
					r := call(t, "POST", base, tok, map[string]any{"subject": "delta " + s})
					if r.status != http.StatusCreated {
						t.Fatalf("create: got %d\n%s", r.status, r.body)
					}
					ids = append(ids, r.json(t)["id"].(string))
				}
				listed := map[string]string{}
				for _, m := range listAll(t, base+"?$select=subject", tok) {
					listed[m["id"].(string)] = m["subject"].(string)
				}

				first, delta := deltaRound(t, o, base+"/delta?$select=subject", tok)
				if diff := cmp.Diff(listed, first); diff != "" {
					t.Fatalf("first round against the folder (-list +delta):\n%s", diff)
				}

				r := call(t, "POST", base, tok, map[string]any{"subject": "delta four"})
				if r.status != http.StatusCreated {
					t.Fatalf("create: got %d\n%s", r.status, r.body)
				}
				four := r.json(t)["id"].(string)
				r = call(t, "PATCH", base+"/"+url.PathEscape(ids[0]), tok,
					map[string]any{"subject": "delta one, edited"})
				if r.status != http.StatusOK {
					t.Fatalf("patch: got %d\n%s", r.status, r.body)
				}
				r = call(t, "DELETE", base+"/"+url.PathEscape(ids[1]), tok, nil)
				if r.status != http.StatusNoContent {
					t.Fatalf("delete: got %d\n%s", r.status, r.body)
				}

				changes, delta := deltaRound(t, o, delta, tok)
				want := map[string]string{four: "delta four", ids[0]: "delta one, edited",
					ids[1]: "removed"}
				if diff := cmp.Diff(want, changes); diff != "" {
					t.Errorf("second round (-want +got):\n%s", diff)
				}
				none, _ := deltaRound(t, o, delta, tok)
				if len(none) != 0 {
					t.Errorf("third round: got %v, want no changes", none)
				}
			})
		}
	})
}
