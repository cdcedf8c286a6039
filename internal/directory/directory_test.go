package directory

import (
	"context"
	"errors"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/hybridgraph/hybridgraph/internal/mailbox"
)

func openTest(t *testing.T, side Premises) *Directory {
	t.Helper()
	d, err := Open(filepath.Join(t.TempDir(), "dir.db"), side)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

func TestLookupAndLocate(t *testing.T) {
	ctx := context.Background()
	d := openTest(t, Cloud)
	alice := User{ObjectID: "a1", UPN: "alice@contoso.test", Mail: "alice@contoso.test",
		DisplayName: "Alice", Premises: Cloud, RecipientType: UserMailbox, Database: "DB1",
		MailboxGUID: "g1"}
	carol := User{ObjectID: "c1", UPN: "carol@contoso.test", Mail: "carol.clark@contoso.test",
		DisplayName: "Carol", Premises: OnPrem, RecipientType: MailUser,
		MailboxGUID: "g2", TargetAddress: "carol.clark@contoso.test"}
	for _, u := range []User{alice, carol} {
		if err := d.Put(ctx, u); err != nil {
			t.Fatal(err)
		}
	}

	for _, key := range []string{"a1", "ALICE@contoso.test", "alice@CONTOSO.test"} {
		got, err := d.Lookup(ctx, key)
		if err != nil {
			t.Fatalf("Lookup(%q): %v", key, err)
		}
		if d := cmp.Diff(alice, got); d != "" {
			t.Errorf("Lookup(%q) mismatch (-want +got):\n%s", key, d)
		}
	}
	if _, err := d.Lookup(ctx, "nobody@contoso.test"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Lookup(unknown): got %v, want ErrNotFound", err)
	}

	loc, err := d.Locate(ctx, "alice@contoso.test")
	if err != nil || !loc.Local || loc.Mailbox.Database != "DB1" {
		t.Errorf("Locate(alice) = %+v, %v; want local in DB1", loc, err)
	}
	loc, err = d.Locate(ctx, "carol.clark@contoso.test")
	if err != nil || loc.Local {
		t.Errorf("Locate(carol) = %+v, %v; want remote", loc, err)
	}
	if _, err := d.Locate(ctx, "x@elsewhere.test"); !errors.Is(err, mailbox.ErrUnknownRecipient) {
		t.Errorf("Locate(unknown): got %v, want ErrUnknownRecipient", err)
	}

	carol.Premises, carol.Database = Cloud, "DB1"
	if err := d.Put(ctx, carol); err != nil {
		t.Fatal(err)
	}
	if loc, _ := d.Locate(ctx, carol.Mail); !loc.Local {
		t.Error("after a move to the cloud, carol is not local")
	}
	all, err := d.All(ctx)
	if err != nil || len(all) != 2 {
		t.Errorf("All() = %d users, %v; want 2", len(all), err)
	}
}
