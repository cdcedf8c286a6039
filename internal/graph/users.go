package graph

import (
	"encoding/json"
	"net/http"
	"time"

	"github.com/hybridgraph/hybridgraph/internal/auth"
	"github.com/hybridgraph/hybridgraph/internal/directory"
	"github.com/hybridgraph/hybridgraph/internal/httpserver"
	"github.com/hybridgraph/hybridgraph/internal/mailapi"
	"github.com/hybridgraph/hybridgraph/internal/odata"
	"github.com/hybridgraph/hybridgraph/internal/schema"
	"github.com/hybridgraph/hybridgraph/internal/store"
)

// userLimits are Graph's paging of users: 100 by default, at most 999
// (user-list, "$top ... 1 and 999").
var userLimits = odata.Limits{DefaultTop: 100, MaxTop: 999}

// directoryCollection serves the resources that address no user:
// /users and /organization. handled is false for every other path.
func (s *Server) directoryCollection(w http.ResponseWriter, r *http.Request,
	p *auth.Principal, version string, segs []mailapi.Segment) (handled bool, err error) {
	if len(segs) != 1 || segs[0].HasKey {
		return false, nil
	}
	switch {
	case segs[0].Is("users"):
		httpserver.SetRoute(r.Context(), "/"+version+"/users")
		return true, s.listUsers(w, r, p, version)
	case segs[0].Is("organization"):
		httpserver.SetRoute(r.Context(), "/"+version+"/organization")
		return true, s.organization(w, r, p, version)
	}
	return false, nil
}

// directoryRead checks what every directory read shares: v1.0 and GET.
func directoryRead(r *http.Request, version string) error {
	if version != "v1.0" {
		return httpserver.Errorf(http.StatusBadRequest, "BadRequest",
			"The API version '%s' is not served; use v1.0.", version)
	}
	if r.Method != http.MethodGet {
		return httpserver.Errorf(http.StatusMethodNotAllowed, "Request_BadRequest",
			"Only GET is served on directory objects.")
	}
	return nil
}

// getUser serves GET /me and /users/{id | upn} from the cloud directory,
// wherever the user's mailbox lives (user-get).
func (s *Server) getUser(w http.ResponseWriter, r *http.Request, p *auth.Principal,
	version string, u directory.User) error {
	if err := directoryRead(r, version); err != nil {
		return err
	}
	perm := auth.UsersRead
	if p.Delegated && p.UserObjectID == u.ObjectID {
		perm = auth.ProfileRead
	}
	if err := auth.Require(p, perm); err != nil {
		return err
	}
	q, err := odata.Parse(r.URL.Query(), schema.User, schema.Graph, userLimits)
	if err != nil {
		return err
	}
	item, err := odata.Shape(userDocument(u), schema.User, schema.Graph, q.Select)
	if err != nil {
		return err
	}
	ctx := s.PublicURL + "/v1.0/$metadata#users" + selectSuffix(q) + "/$entity"
	return writeJSON(w, withContext(ctx, item))
}

// listUsers serves GET /users with $filter, $select, $orderby, $top and
// paging by $skip in @odata.nextLink (user-list).
func (s *Server) listUsers(w http.ResponseWriter, r *http.Request, p *auth.Principal,
	version string) error {
	if err := directoryRead(r, version); err != nil {
		return err
	}
	if err := auth.Require(p, auth.UsersRead); err != nil {
		return err
	}
	q, err := odata.Parse(r.URL.Query(), schema.User, schema.Graph, userLimits)
	if err != nil {
		return err
	}
	q.DefaultOrder(store.Order{Column: "upn"})
	users, err := s.Directory.Query(r.Context(), q.Store)
	if err != nil {
		return err
	}
	users, more := odata.Page(users, q)

	values := make([]json.RawMessage, 0, len(users))
	for _, u := range users {
		item, err := odata.Shape(userDocument(u), schema.User, schema.Graph, q.Select)
		if err != nil {
			return err
		}
		values = append(values, item)
	}
	body := map[string]any{
		"@odata.context": s.PublicURL + "/v1.0/$metadata#users" + selectSuffix(q),
		"value":          values,
	}
	if more {
		body["@odata.nextLink"] = odata.NextLink(mailapi.AbsoluteURL(s.PublicURL, r), q)
	}
	return writeValue(w, body)
}

// organization serves GET /organization: the tenant and its directory-sync
// state (organization-get).
func (s *Server) organization(w http.ResponseWriter, r *http.Request, p *auth.Principal,
	version string) error {
	if err := directoryRead(r, version); err != nil {
		return err
	}
	if err := auth.Require(p, auth.OrganizationRead); err != nil {
		return err
	}
	last, err := s.Directory.LastSync(r.Context())
	if err != nil {
		return err
	}
	domains := make([]map[string]any, 0, len(s.Domains))
	for i, d := range s.Domains {
		domains = append(domains, map[string]any{"name": d, "isDefault": i == 0,
			"isInitial": false, "type": "Managed"})
	}
	var name string
	if len(s.Domains) > 0 {
		name = s.Domains[0]
	}
	doc, err := json.Marshal(map[string]any{"id": s.TenantID, "displayName": name,
		"verifiedDomains": domains, "onPremisesSyncEnabled": syncEnabled(!last.IsZero()),
		"onPremisesLastSyncDateTime": timeOrNull(last)})
	if err != nil {
		return err
	}
	item, err := odata.Shape(doc, schema.Organization, schema.Graph, nil)
	if err != nil {
		return err
	}
	return writeValue(w, map[string]any{
		"@odata.context": s.PublicURL + "/v1.0/$metadata#organization",
		"value":          []json.RawMessage{item},
	})
}

// userDocument is u as a Graph user document. The onPremises* properties
// are null for a cloud-only user, as Graph leaves them.
func userDocument(u directory.User) []byte {
	var immutable any
	if u.ImmutableID != "" {
		immutable = u.ImmutableID
	}
	doc, _ := json.Marshal(map[string]any{
		"id": u.ObjectID, "displayName": u.DisplayName, "mail": u.Mail,
		"userPrincipalName": u.UPN, "onPremisesSyncEnabled": syncEnabled(u.SyncEnabled),
		"onPremisesImmutableId": immutable, "onPremisesLastSyncDateTime": timeOrNull(u.LastSync),
	})
	return doc
}

// syncEnabled is Graph's tri-state onPremisesSyncEnabled: true when synced,
// null when never synced.
func syncEnabled(synced bool) any {
	if synced {
		return true
	}
	return nil
}

func timeOrNull(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return schema.FormatTime(t)
}

func selectSuffix(q *odata.Query) string {
	if q.Select == nil {
		return ""
	}
	return "(" + odata.SelectList(q.Select, schema.Graph) + ")"
}

// withContext puts "@odata.context" first in the shaped object item.
func withContext(ctx string, item []byte) []byte {
	b, _ := json.Marshal(ctx)
	out := append([]byte(`{"@odata.context":`), b...)
	if len(item) > 2 {
		out = append(out, ',')
	}
	return append(out, item[1:]...)
}

func writeValue(w http.ResponseWriter, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return writeJSON(w, b)
}

func writeJSON(w http.ResponseWriter, b []byte) error {
	w.Header().Set("Content-Type", "application/json;odata.metadata=minimal")
	_, err := w.Write(b)
	return err
}
