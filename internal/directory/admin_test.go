package directory

import (
	"context"
	"errors"
	"path/filepath"
	"testing"

	"github.com/hybridgraph/hybridgraph/internal/store"
)

func TestAddRemove(t *testing.T) {
	ctx := context.Background()
	prem, err := Open(filepath.Join(t.TempDir(), "prem.db"), OnPrem)
	if err != nil {
		t.Fatal(err)
	}
	defer prem.Close()
	erin := User{ObjectID: "o-erin", UPN: "erin@contoso.test", Mail: "erin@contoso.test",
		DisplayName: "Erin", Premises: OnPrem, RecipientType: UserMailbox, Database: "DB1",
		MailboxGUID: "g-erin"}
	if err := prem.Add(ctx, erin); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		u    User
	}{
		{"same UPN, other case", User{ObjectID: "o2", UPN: "ERIN@contoso.test",
			Mail: "e2@contoso.test"}},
		{"UPN held as an address", User{ObjectID: "o3", UPN: "x@contoso.test",
			Mail: "erin@contoso.test"}},
		{"address held as a UPN", User{ObjectID: "o4", UPN: "erin@contoso.test",
			Mail: "y@contoso.test"}},
		{"same object id", User{ObjectID: "O-ERIN", UPN: "z@contoso.test",
			Mail: "z@contoso.test"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := prem.Add(ctx, tc.u)
			if !errors.Is(err, ErrExists) || !errors.Is(err, store.ErrConflict) {
				t.Errorf("got %v, want ErrExists", err)
			}
		})
	}

	got, err := prem.Remove(ctx, "Erin@Contoso.test")
	if err != nil || got.ObjectID != "o-erin" {
		t.Fatalf("Remove: got %+v, %v; want erin", got, err)
	}
	if _, err := prem.Lookup(ctx, "erin@contoso.test"); !errors.Is(err, ErrNotFound) {
		t.Errorf("after Remove: Lookup got %v, want ErrNotFound", err)
	}
	if _, err := prem.Remove(ctx, "erin@contoso.test"); !errors.Is(err, ErrNotFound) {
		t.Errorf("second Remove: got %v, want ErrNotFound", err)
	}

	cloud, err := Open(filepath.Join(t.TempDir(), "cloud.db"), Cloud)
	if err != nil {
		t.Fatal(err)
	}
	defer cloud.Close()
	if err := cloud.Add(ctx, erin); err == nil {
		t.Error("Add to the cloud directory: got nil error")
	}
	if _, err := cloud.Remove(ctx, "erin@contoso.test"); err == nil ||
		errors.Is(err, ErrNotFound) {
		t.Errorf("Remove from the cloud directory: got %v, want a refusal", err)
	}
}
