package graph

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
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
	if len(segs) == 0 {
		return false, nil
	}
	switch {
	case segs[0].Is("organization"):
		return true, s.organizationPath(w, r, p, version, segs)
	case len(segs) == 1 && !segs[0].HasKey && segs[0].Is("users"):
		httpserver.SetRoute(r.Context(), "/"+version+"/users")
		return true, s.listUsers(w, r, p, version)
	}
	return false, nil
}

// organizationPath serves /organization and /organization/{id}: the
// collection, or the tenant's own entry by its id (organization-get).
func (s *Server) organizationPath(w http.ResponseWriter, r *http.Request,
	p *auth.Principal, version string, segs []mailapi.Segment) error {
	key, hasKey := segs[0].Key, segs[0].HasKey
	rest := segs[1:]
	if !hasKey && len(rest) > 0 && !rest[0].HasKey {
		key, hasKey, rest = rest[0].Name, true, rest[1:]
	}
	if len(rest) > 0 {
		httpserver.SetRoute(r.Context(), "unknown")
		return resourceNotFound(rest[0].Name)
	}
	if !hasKey {
		httpserver.SetRoute(r.Context(), "/"+version+"/organization")
		return s.organization(w, r, p, version, "")
	}
	httpserver.SetRoute(r.Context(), "/"+version+"/organization/{id}")
	return s.organization(w, r, p, version, key)
}

// notFoundInDirectory is the directory's answer for an id that names no
// object (Graph's directory code and words, unlike Exchange's
// ErrorInvalidUser for a mailbox path).
func notFoundInDirectory(key string) error {
	return httpserver.Errorf(http.StatusNotFound, "Request_ResourceNotFound",
		"Resource '%s' does not exist or one of its queried reference-property objects "+
			"are not present.", key)
}

// unknownUser is the answer for a user path whose user the directory does
// not hold: the directory's Request_ResourceNotFound for the user resource
// itself (user-get), and Exchange's ErrorInvalidUser for paths into the
// mailbox (graph-api.md §5), which the mail API answers.
func unknownUser(key string, rest []mailapi.Segment) error {
	if len(rest) == 0 {
		return notFoundInDirectory(key)
	}
	return httpserver.Errorf(http.StatusNotFound, "ErrorInvalidUser",
		"The requested user '%s' is invalid.", key)
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
	if q.Count && !eventual(r) {
		return countNeedsEventual()
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
	if q.Count {
		if body["@odata.count"], err = s.countUsers(r, q); err != nil {
			return err
		}
	}
	return writeValue(w, body)
}

// eventual reports whether the request asks for Graph's advanced directory
// queries (ConsistencyLevel: eventual), which $count on users needs
// (aad-advanced-queries).
func eventual(r *http.Request) bool {
	return strings.EqualFold(strings.TrimSpace(r.Header.Get("ConsistencyLevel")), "eventual")
}

// countNeedsEventual is Graph's answer to $count on users without
// ConsistencyLevel: eventual, as the service gives it
// (microsoft-graph-docs issue 13226: 400 Request_BadRequest).
func countNeedsEventual() error {
	return httpserver.Errorf(http.StatusBadRequest, "Request_BadRequest",
		"$count is not currently supported.")
}

// countUsers counts the users $filter matches, whatever the page.
func (s *Server) countUsers(r *http.Request, q *odata.Query) (int, error) {
	return s.Directory.Count(r.Context(), q.Store)
}

// organization serves GET /organization, the tenant and its
// directory-sync state, or with id GET /organization/{id}, the tenant's
// entry alone (organization-get).
func (s *Server) organization(w http.ResponseWriter, r *http.Request, p *auth.Principal,
	version, id string) error {
	if err := directoryRead(r, version); err != nil {
		return err
	}
	if err := auth.Require(p, auth.OrganizationRead); err != nil {
		return err
	}
	if id != "" && !strings.EqualFold(id, s.TenantID) {
		return notFoundInDirectory(id)
	}
	item, err := s.organizationDocument(r)
	if err != nil {
		return err
	}
	if id != "" {
		return writeJSON(w, withContext(s.PublicURL+"/v1.0/$metadata#organization/$entity",
			item))
	}
	return writeValue(w, map[string]any{
		"@odata.context": s.PublicURL + "/v1.0/$metadata#organization",
		"value":          []json.RawMessage{item},
	})
}

// organizationDocument is the tenant as Graph shapes an organization.
func (s *Server) organizationDocument(r *http.Request) ([]byte, error) {
	last, err := s.Directory.LastSync(r.Context())
	if err != nil {
		return nil, err
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
		return nil, err
	}
	return odata.Shape(doc, schema.Organization, schema.Graph, nil)
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

// writeValue writes v as JSON without HTML escaping, so that the '&' of
// an @odata.nextLink reads as Graph writes it rather than as \u0026.
func writeValue(w http.ResponseWriter, v any) error {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return err
	}
	return writeJSON(w, bytes.TrimSuffix(buf.Bytes(), []byte("\n")))
}

func writeJSON(w http.ResponseWriter, b []byte) error {
	w.Header().Set("Content-Type", "application/json;odata.metadata=minimal")
	_, err := w.Write(b)
	return err
}
