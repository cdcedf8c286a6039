package auth

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
)

// AppsFile is the name of the application registry inside the key directory.
const AppsFile = "apps.json"

// App is an application registered with the token service: a confidential
// client that gets application tokens through the client credentials grant.
type App struct {
	// ClientID is the application (client) id, a GUID as in Azure AD.
	ClientID string `json:"clientId"`
	// DisplayName is shown in logs and admin pages.
	DisplayName string `json:"displayName"`
	// SecretHash is "sha256$<salt>$<digest>", both base64url; see hashSecret.
	SecretHash string `json:"secretHash"`
	// Roles are the application permissions granted (admin-consented), such
	// as "Mail.Read"; they become the token's "roles" claim.
	Roles []string `json:"roles"`
}

// appsDocument is the JSON shape of apps.json.
type appsDocument struct {
	Apps []App `json:"apps"`
}

// servicePrincipalSpace is the UUID namespace for service principal ids.
// An app's service principal id is a name-based UUID of its client id
// (RFC 9562 section 5.5), so it is stable without being stored.
var servicePrincipalSpace = uuid.MustParse("5b0e7c8a-3f21-4d6e-9a4b-8c1d2e3f4a5b")

// ServicePrincipalID returns the object id of the app's service principal,
// the "oid" of its application tokens.
func (a App) ServicePrincipalID() string {
	return uuid.NewSHA1(servicePrincipalSpace, []byte(strings.ToLower(a.ClientID))).String()
}

// RegisterApp adds an application with the given application permissions
// to dir/apps.json and returns its client id and secret. The secret is
// returned only here; the file keeps a salted hash of it. Concurrent
// registrations in separate processes are not serialised: the last writer
// wins, so registration is an administrator's one-at-a-time task.
func RegisterApp(dir, displayName string, roles []string) (clientID, secret string, err error) {
	for _, r := range roles {
		if !slices.Contains(KnownRoles(), r) {
			return "", "", fmt.Errorf("unknown application permission %q", r)
		}
	}
	apps, err := LoadApps(dir)
	if err != nil {
		return "", "", err
	}
	secret = newSecret()
	app := App{
		ClientID:    uuid.NewString(),
		DisplayName: displayName,
		SecretHash:  hashSecret(secret),
		Roles:       slices.Clone(roles),
	}
	if err := writeApps(dir, append(apps, app)); err != nil {
		return "", "", err
	}
	return app.ClientID, secret, nil
}

// LoadApps reads dir/apps.json; a missing file is an empty registry.
func LoadApps(dir string) ([]App, error) {
	data, err := os.ReadFile(filepath.Join(dir, AppsFile))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read apps: %w", err)
	}
	var doc appsDocument
	if err := json.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("parse %s: %w", AppsFile, err)
	}
	return doc.Apps, nil
}

// writeApps replaces apps.json atomically (temporary file, then rename), so
// a reader never sees half a file.
func writeApps(dir string, apps []App) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("create apps directory: %w", err)
	}
	data, err := json.MarshalIndent(appsDocument{Apps: apps}, "", "  ")
	if err != nil {
		return fmt.Errorf("encode apps: %w", err)
	}
	tmp, err := os.CreateTemp(dir, AppsFile+".*")
	if err != nil {
		return fmt.Errorf("write apps: %w", err)
	}
	defer os.Remove(tmp.Name())
	_, err = tmp.Write(append(data, '\n'))
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), filepath.Join(dir, AppsFile))
	}
	if err != nil {
		return fmt.Errorf("write apps: %w", err)
	}
	return nil
}

// newSecret returns 32 random bytes, base64url: 256 bits of entropy.
func newSecret() string {
	b := make([]byte, 32)
	rand.Read(b) // never fails: crypto/rand.Read always fills b (Go 1.24+)
	return base64.RawURLEncoding.EncodeToString(b)
}

// hashSecret returns "sha256$<salt>$<digest>" with a random 16-byte salt.
//
// A fast hash is enough here, unlike for passwords: the secret is 256
// random bits chosen by the server, so there is nothing to guess and a slow
// KDF (bcrypt, argon2) would only slow down every token request. The salt
// keeps two apps' hashes distinct; the comparison is constant-time.
func hashSecret(secret string) string {
	salt := make([]byte, 16)
	rand.Read(salt) // never fails: crypto/rand.Read always fills b (Go 1.24+)
	return "sha256$" + base64.RawURLEncoding.EncodeToString(salt) + "$" +
		base64.RawURLEncoding.EncodeToString(digest(salt, secret))
}

func digest(salt []byte, secret string) []byte {
	h := sha256.New()
	h.Write(salt)
	h.Write([]byte(secret))
	return h.Sum(nil)
}

// CheckSecret reports whether secret matches the app's stored hash.
func (a App) CheckSecret(secret string) bool {
	parts := strings.Split(a.SecretHash, "$")
	if len(parts) != 3 || parts[0] != "sha256" {
		return false
	}
	salt, err1 := base64.RawURLEncoding.DecodeString(parts[1])
	want, err2 := base64.RawURLEncoding.DecodeString(parts[2])
	if err1 != nil || err2 != nil {
		return false
	}
	return subtle.ConstantTimeCompare(digest(salt, secret), want) == 1
}

// AppRegistry serves lookups from dir/apps.json and rereads the file when
// its modification time changes, so an app registered while the server
// runs can get tokens without a restart.
type AppRegistry struct {
	dir string

	mu      sync.Mutex
	modTime time.Time
	apps    map[string]App
}

// NewAppRegistry returns a registry over dir/apps.json.
func NewAppRegistry(dir string) *AppRegistry {
	return &AppRegistry{dir: dir}
}

// Lookup returns the app with the given client id. Client ids are GUIDs,
// compared without regard to case as Azure AD does.
func (r *AppRegistry) Lookup(clientID string) (App, bool, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := r.refresh(); err != nil {
		return App{}, false, err
	}
	app, ok := r.apps[strings.ToLower(clientID)]
	return app, ok, nil
}

func (r *AppRegistry) refresh() error {
	info, err := os.Stat(filepath.Join(r.dir, AppsFile))
	var mod time.Time
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return fmt.Errorf("stat apps: %w", err)
	default:
		mod = info.ModTime()
	}
	if r.apps != nil && mod.Equal(r.modTime) {
		return nil
	}
	apps, err := LoadApps(r.dir)
	if err != nil {
		return err
	}
	r.apps = make(map[string]App, len(apps))
	for _, a := range apps {
		r.apps[strings.ToLower(a.ClientID)] = a
	}
	r.modTime = mod
	return nil
}
