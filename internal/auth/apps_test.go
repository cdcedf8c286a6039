package auth

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestRegisterApp(t *testing.T) {
	dir := t.TempDir()
	id, secret, err := RegisterApp(dir, "Mail archiver", []string{"Mail.Read"})
	if err != nil {
		t.Fatal(err)
	}
	apps, err := LoadApps(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(apps) != 1 {
		t.Fatalf("got %d apps, want 1", len(apps))
	}
	app := apps[0]
	want := App{ClientID: id, DisplayName: "Mail archiver", Roles: []string{"Mail.Read"}}
	if diff := cmp.Diff(want, app, cmpIgnoreHash); diff != "" {
		t.Errorf("stored app (-want +got):\n%s", diff)
	}
	if strings.Contains(app.SecretHash, secret) {
		t.Error("apps.json holds the secret itself")
	}
	if !app.CheckSecret(secret) {
		t.Error("CheckSecret(the issued secret): got false, want true")
	}
	if app.CheckSecret(secret + "x") {
		t.Error("CheckSecret(wrong secret): got true, want false")
	}
	if app.CheckSecret("") {
		t.Error("CheckSecret(empty): got true, want false")
	}
	info, err := os.Stat(filepath.Join(dir, AppsFile))
	if err != nil {
		t.Fatal(err)
	}
	if got := info.Mode().Perm(); got != 0o600 {
		t.Errorf("apps.json mode: got %v, want 0600", got)
	}

	id2, secret2, err := RegisterApp(dir, "Second", nil)
	if err != nil {
		t.Fatal(err)
	}
	if id2 == id || secret2 == secret {
		t.Error("second app reuses the first app's id or secret")
	}
	apps, _ = LoadApps(dir)
	if len(apps) != 2 || apps[0].CheckSecret(secret2) {
		t.Errorf("after second registration: got %d apps, first accepts second's secret", len(apps))
	}
}

var cmpIgnoreHash = cmp.Transformer("nohash", func(a App) App { a.SecretHash = ""; return a })

func TestRegisterAppUnknownRole(t *testing.T) {
	dir := t.TempDir()
	if _, _, err := RegisterApp(dir, "x", []string{"Directory.ReadWrite.All"}); err == nil {
		t.Error("unknown role: got no error")
	}
	if apps, _ := LoadApps(dir); len(apps) != 0 {
		t.Errorf("got %d apps after a refused registration, want 0", len(apps))
	}
}

func TestCheckSecretMalformedHash(t *testing.T) {
	for _, h := range []string{"", "sha256$", "md5$AA$AA", "sha256$!!$AA", "sha256$AA$!!"} {
		if (App{SecretHash: h}).CheckSecret("") {
			t.Errorf("hash %q accepted the empty secret", h)
		}
	}
}

func TestAppRegistryReloads(t *testing.T) {
	dir := t.TempDir()
	reg := NewAppRegistry(dir)
	if _, ok, err := reg.Lookup("anything"); ok || err != nil {
		t.Fatalf("empty registry: got ok=%v err=%v", ok, err)
	}
	id, _, err := RegisterApp(dir, "Late", []string{"Mail.Send"})
	if err != nil {
		t.Fatal(err)
	}
	app, ok, err := reg.Lookup(strings.ToUpper(id))
	if err != nil || !ok {
		t.Fatalf("after registration: got ok=%v err=%v, want the new app", ok, err)
	}
	if app.ClientID != id {
		t.Errorf("got client id %s, want %s", app.ClientID, id)
	}
}

func TestServicePrincipalIDStable(t *testing.T) {
	a := App{ClientID: "1C6E8D6A-2F6B-4A43-9A57-8B9D3E2F1A00"}
	b := App{ClientID: strings.ToLower(a.ClientID)}
	if a.ServicePrincipalID() != b.ServicePrincipalID() {
		t.Error("service principal id depends on the client id's case")
	}
	if a.ServicePrincipalID() == (App{ClientID: "other"}).ServicePrincipalID() {
		t.Error("two apps share a service principal id")
	}
}
