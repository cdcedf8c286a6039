package graph

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
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
// (user-list, "$top ... 1 and 999"), linked by $skiptoken; $skip is
// refused, as Graph refuses it on users.
var userLimits = odata.Limits{DefaultTop: 100, MaxTop: 999, SkipTokenPaging: true}

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
	case len(segs) == 2 && !segs[0].HasKey && segs[0].Is("users") &&
		!segs[1].HasKey && segs[1].Name == "$count":
		httpserver.SetRoute(r.Context(), "/"+version+"/users/$count")
		return true, s.countUsersSegment(w, r, p, version)
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
	if err := auth.RequireDirectory(p, perm); err != nil {
		return err
	}
	q, err := selectOnly(r.URL.Query(), schema.User, "a user")
	if err != nil {
		return err
	}
	doc, err := s.userDocument(r, p, u, q.Select)
	if err != nil {
		return err
	}
	item, err := odata.Shape(doc, schema.User, schema.Graph, q.Select)
	if err != nil {
		return err
	}
	ctx := s.PublicURL + "/v1.0/$metadata#users" + selectSuffix(q) + "/$entity"
	return writeJSON(w, withContext(ctx, item))
}

// selectOnly parses the query options of a single entity, of which Graph
// serves $select alone on users and the organisation (user-get,
// organization-get); any other "$" option is refused rather than ignored.
func selectOnly(v url.Values, t *schema.StructType, what string) (*odata.Query, error) {
	for k := range v {
		if strings.HasPrefix(k, "$") && !strings.EqualFold(k, "$select") {
			return nil, httpserver.Errorf(http.StatusBadRequest, "BadRequest",
				"The query parameter '%s' is not supported on %s; only $select is.", k, what)
		}
	}
	return odata.Parse(v, t, schema.Graph, userLimits)
}

// listUsers serves GET /users with $filter, $select, $orderby, $top and
// paging by $skip in @odata.nextLink (user-list).
func (s *Server) listUsers(w http.ResponseWriter, r *http.Request, p *auth.Principal,
	version string) error {
	if err := directoryRead(r, version); err != nil {
		return err
	}
	if err := auth.RequireDirectory(p, auth.UsersRead); err != nil {
		return err
	}
	v := r.URL.Query()
	if f, ok := filterOption(v); ok {
		if err := checkAdvancedFilter(f, advancedQuery(r, v)); err != nil {
			return err
		}
	}
	q, err := odata.Parse(v, schema.User, schema.Graph, userLimits)
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
		doc, err := s.userDocument(r, p, u, q.Select)
		if err != nil {
			return err
		}
		item, err := odata.Shape(doc, schema.User, schema.Graph, q.Select)
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

// countUsersSegment serves GET /users/$count: the number of users $filter
// matches, as text/plain. The segment is an advanced query in itself: it
// needs ConsistencyLevel: eventual, and without it Graph answers 400
// (aad-advanced-queries, "Error handling"). Only $filter applies to a
// count; other options are refused rather than ignored.
func (s *Server) countUsersSegment(w http.ResponseWriter, r *http.Request, p *auth.Principal,
	version string) error {
	if err := directoryRead(r, version); err != nil {
		return err
	}
	if err := auth.RequireDirectory(p, auth.UsersRead); err != nil {
		return err
	}
	if !eventual(r) {
		return countNeedsEventual()
	}
	v := r.URL.Query()
	for k := range v {
		if strings.HasPrefix(k, "$") && !strings.EqualFold(k, "$filter") {
			return httpserver.Errorf(http.StatusBadRequest, "BadRequest",
				"The query parameter '%s' is not supported on $count; only $filter is.", k)
		}
	}
	if f, ok := filterOption(v); ok {
		if err := checkAdvancedFilter(f, true); err != nil {
			return err
		}
	}
	q, err := odata.Parse(v, schema.User, schema.Graph, userLimits)
	if err != nil {
		return err
	}
	n, err := s.countUsers(r, q)
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, err = io.WriteString(w, strconv.Itoa(n))
	return err
}

// organization serves GET /organization, the tenant and its
// directory-sync state, or with id GET /organization/{id}, the tenant's
// entry alone (organization-get).
func (s *Server) organization(w http.ResponseWriter, r *http.Request, p *auth.Principal,
	version, id string) error {
	if err := directoryRead(r, version); err != nil {
		return err
	}
	if err := auth.RequireDirectory(p, auth.OrganizationRead); err != nil {
		return err
	}
	q, err := selectOnly(r.URL.Query(), schema.Organization, "the organization")
	if err != nil {
		return err
	}
	if id != "" && !strings.EqualFold(id, s.TenantID) {
		return notFoundInDirectory(id)
	}
	item, err := s.organizationDocument(r, q.Select)
	if err != nil {
		return err
	}
	ctx := s.PublicURL + "/v1.0/$metadata#organization" + selectSuffix(q)
	if id != "" {
		return writeJSON(w, withContext(ctx+"/$entity", item))
	}
	return writeValue(w, map[string]any{
		"@odata.context": ctx,
		"value":          []json.RawMessage{item},
	})
}

// organizationDocument is the tenant as Graph shapes an organization,
// narrowed to sel when $select names properties.
func (s *Server) organizationDocument(r *http.Request, sel []*schema.Property) ([]byte,
	error) {
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
	return odata.Shape(doc, schema.Organization, schema.Graph, sel)
}

// userDocument is u as p may read it, with the proxy addresses when sel
// names them (they cost a query per user).
func (s *Server) userDocument(r *http.Request, p *auth.Principal, u directory.User,
	sel []*schema.Property) ([]byte, error) {
	basic := auth.BasicProfileOnly(p, u.ObjectID)
	var proxy []string
	if !basic && selects(sel, "proxyAddresses") {
		secondary, err := s.Directory.ProxyAddresses(r.Context(), u.ObjectID)
		if err != nil {
			return nil, err
		}
		proxy = proxyAddresses(u.Mail, secondary)
	}
	return userDocument(u, proxy, basic), nil
}

// userDocument is u as a Graph user document. The onPremises* properties
// are null for a cloud-only user, as Graph leaves them. With basic, only
// the basic profile has values (auth.BasicProfileOnly): Graph answers the
// rest null (and collections empty) for a User.ReadBasic.All caller.
func userDocument(u directory.User, proxy []string, basic bool) []byte {
	var immutable any
	if u.ImmutableID != "" {
		immutable = u.ImmutableID
	}
	if proxy == nil {
		proxy = []string{}
	}
	m := map[string]any{
		"id": u.ObjectID, "displayName": u.DisplayName, "mail": u.Mail,
		"userPrincipalName": u.UPN, "onPremisesSyncEnabled": syncEnabled(u.SyncEnabled),
		"onPremisesImmutableId": immutable, "onPremisesLastSyncDateTime": timeOrNull(u.LastSync),
		"proxyAddresses": proxy,
		"businessPhones": []string{}, "givenName": nil, "jobTitle": nil, "mobilePhone": nil,
		"officeLocation": nil, "preferredLanguage": nil, "surname": nil,
		"accountEnabled": true, "mailNickname": nickname(u.Mail), "userType": "Member",
	}
	if basic {
		for k, v := range m {
			if slices.Contains(auth.BasicProfile, k) {
				continue
			}
			if _, list := v.([]string); list {
				m[k] = []string{}
			} else {
				m[k] = nil
			}
		}
	}
	doc, _ := json.Marshal(m)
	return doc
}

// nickname is the Exchange alias Graph shows as mailNickname: the local
// part of the primary address.
func nickname(mail string) any {
	local, _, ok := strings.Cut(mail, "@")
	if !ok || local == "" {
		return nil
	}
	return local
}

// proxyAddresses is Exchange's form of a user's addresses: "SMTP:" and the
// primary one first, then "smtp:" and each secondary one (user resource,
// proxyAddresses).
func proxyAddresses(primary string, secondary []string) []string {
	var out []string
	if primary != "" {
		out = append(out, "SMTP:"+primary)
	}
	for _, a := range secondary {
		out = append(out, "smtp:"+a)
	}
	return out
}

// selects reports whether sel names the property called name.
func selects(sel []*schema.Property, name string) bool {
	for _, p := range sel {
		if p.Graph == name {
			return true
		}
	}
	return false
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
