package directory

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/google/go-cmp/cmp"
	"testing"
)

// TestApplyNeverTakesOverCloudOnly checks that a source user whose UPN,
// primary or secondary address is held by a cloud-only user collides: it
// is reported and the cloud-only user is left alone, so a later deletion of
// the source entry cannot delete the cloud-only user either.
func TestApplyNeverTakesOverCloudOnly(t *testing.T) {
	ctx := context.Background()
	only := User{ObjectID: "c1", UPN: "alice@contoso.test", Mail: "alice@contoso.test",
		DisplayName: "Alice", Premises: Cloud, RecipientType: UserMailbox, Database: "DB",
		MailboxGUID: "g-alice"}
	byUPN := src(1, UserMailbox)
	byUPN.UPN = "alice@contoso.test"
	byMail := src(2, UserMailbox)
	byMail.Mail = "ALICE@contoso.test"
	bySecondary := src(3, UserMailbox)
	bySecondary.ProxyAddresses = []string{"alice@contoso.test"}
	for name, su := range map[string]SourceUser{"UPN": byUPN, "mail": byMail,
		"secondary address": bySecondary} {
		t.Run(name, func(t *testing.T) {
			d := openTest(t, Cloud)
			if err := d.Put(ctx, only); err != nil {
				t.Fatal(err)
			}
			s := apply(t, d, Batch{Upserts: []SourceUser{su}, Full: true}, syncOpts())
			if got, want := counts(s), [5]int{0, 0, 0, 0, 1}; got != want {
				t.Errorf("got %v, want %v", got, want)
			}
			if len(s.Problems) != 1 || !strings.Contains(s.Problems[0].Reason, "cloud-only") {
				t.Errorf("problems: got %+v, want one naming the cloud-only holder", s.Problems)
			}
			o := syncOpts()
			o.ConfirmDeletes = true
			apply(t, d, Batch{Full: true}, o)
			got, err := d.Lookup(ctx, "c1")
			if err != nil || got != only {
				t.Errorf("cloud-only user after sync: got %+v, %v; want %+v unchanged", got,
					err, only)
			}
		})
	}
}

// TestApplyFailsEntriesNotBatch checks that an entry the cloud cannot take
// (no immutable id, UPN or mail, a bad recipient type or address) fails
// alone, named, while the rest of the run applies; entries the source could
// not read fail too, and a full batch does not delete them.
func TestApplyFailsEntriesNotBatch(t *testing.T) {
	ctx := context.Background()
	d := openTest(t, Cloud)
	apply(t, d, Batch{Upserts: []SourceUser{src(1, UserMailbox), src(2, UserMailbox)}},
		syncOpts())
	noUPN := src(3, UserMailbox)
	noUPN.UPN = ""
	noID := src(4, UserMailbox)
	noID.ImmutableID = ""
	badType := src(5, "SharedMailbox")
	badAddr := src(6, UserMailbox)
	badAddr.ProxyAddresses = []string{"nobody"}
	b := Batch{Full: true, Upserts: []SourceUser{noUPN, noID, badType, badAddr,
		src(7, UserMailbox)},
		Failed: []Problem{{ImmutableID: "imm1", DN: "cn=u1", Reason: "bad mailbox GUID"}},
		// u2 is unchanged and listed present.
		Present: []string{"imm2"}}
	s := apply(t, d, b, syncOpts())
	if got, want := counts(s), [5]int{1, 0, 0, 0, 5}; got != want {
		t.Errorf("got %v, want %v (problems %+v)", got, want, s.Problems)
	}
	named := map[string]bool{}
	for _, p := range s.Problems {
		named[p.UPN+p.ImmutableID+p.DN] = true
	}
	for _, want := range []string{"imm3", "u4@contoso.test", "u5@contoso.testimm5",
		"u6@contoso.testimm6", "imm1cn=u1"} {
		if !named[want] {
			t.Errorf("problems %+v do not name %s", s.Problems, want)
		}
	}
	if _, err := d.Lookup(ctx, "u1@contoso.test"); err != nil {
		t.Errorf("u1, failed at the source: %v; want it kept", err)
	}
	if _, err := d.Lookup(ctx, "u7@contoso.test"); err != nil {
		t.Errorf("u7: %v; want it added", err)
	}
}

// TestApplyHoldsFullCompareWithUnknownEntries checks that a full batch
// with a source failure that names no immutable id deletes nobody: the
// missing entry may be any synced user.
func TestApplyHoldsFullCompareWithUnknownEntries(t *testing.T) {
	d := openTest(t, Cloud)
	var all []SourceUser
	for i := range 20 {
		all = append(all, src(i, UserMailbox))
	}
	apply(t, d, Batch{Upserts: all}, syncOpts())
	b := Batch{Full: true, Upserts: all[1:],
		Failed: []Problem{{DN: "cn=u0", Reason: "bad object GUID"}}}
	s := apply(t, d, b, syncOpts())
	if got, want := counts(s), [5]int{0, 0, 0, 1, 1}; got != want {
		t.Errorf("got %v, want %v (problems %+v)", got, want, s.Problems)
	}
}

// TestHeldDeletes checks that the cloud keeps the deletions it holds, with
// the time it first held each, until a run deletes them or stops asking.
func TestHeldDeletes(t *testing.T) {
	ctx := context.Background()
	d := openTest(t, Cloud)
	all := []SourceUser{src(0, UserMailbox), src(1, UserMailbox), src(2, UserMailbox)}
	apply(t, d, Batch{Upserts: all}, syncOpts())
	apply(t, d, Batch{Deletes: []string{"imm0", "imm1"}}, syncOpts())
	later := syncOpts()
	later.Now = func() time.Time { return syncTime.Add(time.Hour) }
	apply(t, d, Batch{Deletes: []string{"imm0", "imm1"}}, later)
	held, err := d.HeldDeletes(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := []HeldDelete{{ImmutableID: "imm0", UPN: "u0@contoso.test", Since: syncTime},
		{ImmutableID: "imm1", UPN: "u1@contoso.test", Since: syncTime}}
	if diff := cmp.Diff(want, held); diff != "" {
		t.Errorf("held deletes (-want +got):\n%s", diff)
	}
	later.ConfirmDeletes = true
	apply(t, d, Batch{Deletes: []string{"imm0", "imm1"}}, later)
	if held, err := d.HeldDeletes(ctx); err != nil || len(held) != 0 {
		t.Errorf("after confirming: got %+v, %v; want none held", held, err)
	}
}

// TestApplyConcurrent runs sync runs at once through two handles on one
// file, as two processes would: each must wait for the other, not fail.
func TestApplyConcurrent(t *testing.T) {
	path := filepath.Join(t.TempDir(), "dir.db")
	var dirs []*Directory
	for range 2 {
		d, err := Open(path, Cloud)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { d.Close() })
		dirs = append(dirs, d)
	}
	var all []SourceUser
	for i := range 50 {
		all = append(all, src(i, UserMailbox))
	}
	var wg sync.WaitGroup
	errs := make(chan error, 20)
	for i := range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := dirs[i%2].Apply(context.Background(), Batch{Upserts: all, Full: true},
				syncOpts())
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("concurrent Apply: %v", err)
		}
	}
	if _, err := dirs[0].Lookup(context.Background(), "u49@contoso.test"); errors.Is(err,
		ErrNotFound) {
		t.Error("after the runs: u49 missing")
	}
}
