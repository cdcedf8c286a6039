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
	frank := User{ObjectID: "o-frank", UPN: "frank@contoso.test", Mail: "f.f@contoso.test",
		Premises: OnPrem, RecipientType: UserMailbox, Database: "DB1"}
	if err := prem.Add(ctx, frank); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, msg string
		u         User
	}{
		{"the same user", "user erin@contoso.test exists already", erin},
		{"same UPN, other case", "user erin@contoso.test exists already",
			User{ObjectID: "o2", UPN: "ERIN@contoso.test", Mail: "e2@contoso.test"}},
		{"address held as a UPN", "address erin@contoso.test is taken: it is the UPN of " +
			"user erin@contoso.test",
			User{ObjectID: "o3", UPN: "x@contoso.test", Mail: "erin@contoso.test"}},
		{"UPN held as an address", "UPN f.f@contoso.test is taken: it is the address of " +
			"user frank@contoso.test",
			User{ObjectID: "o4", UPN: "f.f@contoso.test", Mail: "y@contoso.test"}},
		{"address held as an address", "address f.f@contoso.test is taken: it is the " +
			"address of user frank@contoso.test",
			User{ObjectID: "o5", UPN: "w@contoso.test", Mail: "F.F@contoso.test"}},
		{"same object id", "object id O-ERIN is held by user erin@contoso.test",
			User{ObjectID: "O-ERIN", UPN: "z@contoso.test", Mail: "z@contoso.test"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := prem.Add(ctx, tc.u)
			if !errors.Is(err, ErrExists) || !errors.Is(err, store.ErrConflict) {
				t.Errorf("got %v, want ErrExists", err)
			}
			if err == nil || err.Error() != tc.msg {
				t.Errorf("message: got %v, want %q", err, tc.msg)
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
