package directory

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

var syncTime = time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)

func syncOpts() SyncOptions {
	return SyncOptions{CloudDatabase: "CLOUD-DB", Now: func() time.Time { return syncTime }}
}

func src(n int, recipientType string) SourceUser {
	return SourceUser{ImmutableID: fmt.Sprintf("imm%d", n),
		UPN: fmt.Sprintf("u%d@contoso.test", n), Mail: fmt.Sprintf("u%d@contoso.test", n),
		DisplayName: fmt.Sprintf("User %d", n), RecipientType: recipientType,
		MailboxGUID: fmt.Sprintf("guid%d", n)}
}

func apply(t *testing.T, d *Directory, b Batch, o SyncOptions) Summary {
	t.Helper()
	s, err := d.Apply(context.Background(), b, o)
	if err != nil {
		t.Fatalf("Apply: %v", err)
	}
	return s
}

func counts(s Summary) [5]int { return [5]int{s.Added, s.Updated, s.Deleted, s.Held, s.Failed} }

func TestApplyAddsAndMoves(t *testing.T) {
	ctx := context.Background()
	d := openTest(t, Cloud)
	b := Batch{Upserts: []SourceUser{src(1, UserMailbox), src(2, UserMailbox)}, Full: true}
	if got, want := counts(apply(t, d, b, syncOpts())), [5]int{2, 0, 0, 0, 0}; got != want {
		t.Errorf("first sync: got %v, want %v", got, want)
	}
	u2, err := d.Lookup(ctx, "u2@contoso.test")
	if err != nil {
		t.Fatal(err)
	}
	want := User{ObjectID: u2.ObjectID, UPN: "u2@contoso.test", Mail: "u2@contoso.test",
		DisplayName: "User 2", Premises: OnPrem, RecipientType: MailUser,
		MailboxGUID: "guid2", TargetAddress: "u2@contoso.test", SyncEnabled: true,
		ImmutableID: "imm2", LastSync: syncTime}
	if diff := cmp.Diff(want, u2); diff != "" {
		t.Errorf("synced user (-want +got):\n%s", diff)
	}

	// u1 moves to the cloud: on premises it becomes a RemoteUserMailbox.
	b.Upserts[0].RecipientType = RemoteUserMailbox
	if got, want := counts(apply(t, d, b, syncOpts())), [5]int{0, 1, 0, 0, 0}; got != want {
		t.Errorf("move: got %v, want %v", got, want)
	}
	u1, _ := d.Lookup(ctx, "u1@contoso.test")
	if u1.Premises != Cloud || u1.Database != "CLOUD-DB" || u1.RecipientType != UserMailbox {
		t.Errorf("moved user: got %+v, want a cloud mailbox in CLOUD-DB", u1)
	}
	if loc, _ := d.Locate(ctx, "u1@contoso.test"); !loc.Local {
		t.Error("moved user: the router does not find it in the cloud")
	}
	last, err := d.LastSync(ctx)
	if err != nil || !last.Equal(syncTime) {
		t.Errorf("LastSync = %v, %v; want %v", last, err, syncTime)
	}
}

func TestApplyCollision(t *testing.T) {
	ctx := context.Background()
	d := openTest(t, Cloud)
	apply(t, d, Batch{Upserts: []SourceUser{src(1, UserMailbox)}}, syncOpts())
	// Another on-prem object claims u1's address: reported, left alone.
	thief := src(9, UserMailbox)
	thief.Mail = "u1@contoso.test"
	s := apply(t, d, Batch{Upserts: []SourceUser{thief}}, syncOpts())
	if got, want := counts(s), [5]int{0, 0, 0, 0, 1}; got != want {
		t.Errorf("collision: got %v, want %v", got, want)
	}
	if len(s.Problems) != 1 || s.Problems[0].ImmutableID != "imm9" ||
		s.Problems[0].Reason != "collision: address u1@contoso.test held by synced user u1@contoso.test "+
			"(immutable id imm1)" {
		t.Errorf("collision problems: got %+v, want one for imm9 naming the address",
			s.Problems)
	}
	u1, _ := d.Lookup(ctx, "u1@contoso.test")
	if u1.ImmutableID != "imm1" || u1.DisplayName != "User 1" {
		t.Errorf("collision overwrote u1: got %+v", u1)
	}
	if _, err := d.Lookup(ctx, "u9@contoso.test"); !errors.Is(err, ErrNotFound) {
		t.Errorf("colliding user: got %v, want ErrNotFound", err)
	}
}

func TestApplyNeverDeletesCloudOnly(t *testing.T) {
	ctx := context.Background()
	d := openTest(t, Cloud)
	only := User{ObjectID: "c1", UPN: "cloud@contoso.test", Mail: "cloud@contoso.test",
		DisplayName: "Cloud", Premises: Cloud, RecipientType: UserMailbox, Database: "DB"}
	if err := d.Put(ctx, only); err != nil {
		t.Fatal(err)
	}
	o := syncOpts()
	o.ConfirmDeletes = true
	apply(t, d, Batch{Upserts: []SourceUser{src(1, UserMailbox)}}, o)
	s := apply(t, d, Batch{Full: true, Deletes: []string{"", "c1"}}, o)
	if got, want := counts(s), [5]int{0, 0, 1, 0, 0}; got != want {
		t.Errorf("empty full sync: got %v, want %v", got, want)
	}
	if _, err := d.Lookup(ctx, "c1"); err != nil {
		t.Errorf("cloud-only user after sync: %v", err)
	}
}

func TestApplyDeleteThreshold(t *testing.T) {
	ctx := context.Background()
	var all []SourceUser
	for i := range 10 {
		all = append(all, src(i, UserMailbox))
	}
	tests := []struct {
		name    string
		deletes []string
		confirm bool
		want    [5]int
		left    int
	}{
		{"one of ten", []string{"imm0"}, false, [5]int{0, 0, 1, 0, 0}, 9},
		{"two of ten held", []string{"imm0", "imm1"}, false, [5]int{0, 0, 0, 2, 0}, 10},
		{"two of ten confirmed", []string{"imm0", "imm1"}, true, [5]int{0, 0, 2, 0, 0}, 8},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := openTest(t, Cloud)
			apply(t, d, Batch{Upserts: all}, syncOpts())
			o := syncOpts()
			o.ConfirmDeletes = tt.confirm
			s := apply(t, d, Batch{Deletes: tt.deletes}, o)
			if got := counts(s); got != tt.want {
				t.Errorf("got %v, want %v", got, tt.want)
			}
			users, err := d.All(ctx)
			if err != nil || len(users) != tt.left {
				t.Errorf("users left: got %d (%v), want %d", len(users), err, tt.left)
			}
		})
	}
}

func TestApplyFailedRunChangesNothing(t *testing.T) {
	ctx := context.Background()
	d := openTest(t, Cloud)
	_, err := d.db.Exec(`CREATE TRIGGER boom BEFORE INSERT ON users
		WHEN NEW.upn = 'u2@contoso.test' BEGIN SELECT RAISE(ABORT, 'boom'); END`)
	if err != nil {
		t.Fatal(err)
	}
	b := Batch{Upserts: []SourceUser{src(1, UserMailbox), src(2, UserMailbox)}}
	if _, err := d.Apply(ctx, b, syncOpts()); err == nil {
		t.Fatal("Apply: got nil error, want the trigger's")
	}
	users, _ := d.All(ctx)
	if len(users) != 0 {
		t.Errorf("after a failed run: got %d users, want 0", len(users))
	}
	if last, _ := d.LastSync(ctx); !last.IsZero() {
		t.Errorf("after a failed run: last sync %v, want none", last)
	}
}

func TestApplyRejects(t *testing.T) {
	dup := Batch{Upserts: []SourceUser{src(1, UserMailbox), src(1, UserMailbox)}}
	for name, b := range map[string]Batch{"duplicate": dup} {
		t.Run(name, func(t *testing.T) {
			d := openTest(t, Cloud)
			if _, err := d.Apply(context.Background(), b, syncOpts()); !errors.Is(err,
				ErrInvalidBatch) {
				t.Errorf("got %v, want ErrInvalidBatch", err)
			}
		})
	}
	prem := openTest(t, OnPrem)
	if _, err := prem.Apply(context.Background(), Batch{}, syncOpts()); err == nil {
		t.Error("Apply on the on-prem directory: got nil error")
	}
}
