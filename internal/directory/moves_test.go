package directory

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestMoveJobs(t *testing.T) {
	ctx := context.Background()
	d := openTest(t, Cloud)
	at := time.Date(2026, 12, 3, 20, 0, 0, 123456789, time.UTC)
	j := MoveJob{ID: "j1", UserID: "u1", UPN: "u1@contoso.test", MailboxGUID: "g1",
		Source: MailboxLocation{Cloud, "DB1"}, Target: MailboxLocation{OnPrem, "DB2"},
		Phase: "created", Watermark: 7, Created: at, Updated: at}
	if err := d.StartMove(ctx, j); err != nil {
		t.Fatal(err)
	}
	got, err := d.UnfinishedMove(ctx, "u1")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(j, got); diff != "" {
		t.Errorf("UnfinishedMove mismatch (-want +got):\n%s", diff)
	}

	second := j
	second.ID = "j2"
	if err := d.StartMove(ctx, second); !errors.Is(err, ErrMoveInProgress) {
		t.Errorf("second unfinished move: got %v, want ErrMoveInProgress", err)
	}

	read := j.Updated
	j.Phase, j.Cursor, j.Copied, j.Watermark = "copying", "id42", 42, 9
	j.Switched, j.Finished, j.LastError = at.Add(time.Second), at.Add(time.Minute), "boom"
	j.Updated = at.Add(2 * time.Second)
	if err := d.SaveMove(ctx, j, read); err != nil {
		t.Fatal(err)
	}
	// A second process that read the job before that save may not save.
	stale := j
	stale.Phase = "switching"
	if err := d.SaveMove(ctx, stale, read); !errors.Is(err, ErrMoveChanged) {
		t.Errorf("SaveMove after another's save: got %v, want ErrMoveChanged", err)
	}
	if _, err := d.UnfinishedMove(ctx, "u1"); !errors.Is(err, ErrNotFound) {
		t.Errorf("finished job still unfinished: %v", err)
	}
	if err := d.StartMove(ctx, second); err != nil {
		t.Errorf("new move after the first finished: %v", err)
	}
	all, err := d.Moves(ctx, "u1")
	if err != nil || len(all) != 2 {
		t.Fatalf("Moves: got %d, %v; want 2", len(all), err)
	}
	if diff := cmp.Diff(j, all[0]); diff != "" {
		t.Errorf("saved job mismatch (-want +got):\n%s", diff)
	}

	unknown := j
	unknown.ID = "nope"
	if err := d.SaveMove(ctx, unknown, j.Updated); !errors.Is(err, ErrNotFound) {
		t.Errorf("SaveMove(unknown): got %v, want ErrNotFound", err)
	}
	if err := openTest(t, OnPrem).StartMove(ctx, j); err == nil {
		t.Error("StartMove on the on-prem directory: got nil error")
	}
}

func TestPlace(t *testing.T) {
	ctx := context.Background()
	d := openTest(t, Cloud)
	u := User{ObjectID: "a1", UPN: "a@contoso.test", Mail: "a@contoso.test",
		DisplayName: "A", Premises: OnPrem, RecipientType: MailUser, MailboxGUID: "g",
		TargetAddress: "a@contoso.test"}
	if err := d.Put(ctx, u); err != nil {
		t.Fatal(err)
	}
	p := Placement{Premises: Cloud, RecipientType: UserMailbox, Database: "DB1"}
	if err := d.Place(ctx, "a1", p); err != nil {
		t.Fatal(err)
	}
	got, err := d.Lookup(ctx, "a@contoso.test")
	if err != nil {
		t.Fatal(err)
	}
	want := u
	want.Premises, want.RecipientType, want.Database, want.TargetAddress =
		Cloud, UserMailbox, "DB1", ""
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("after Place (-want +got):\n%s", diff)
	}
	if got.Placement() != p {
		t.Errorf("Placement() = %+v, want %+v", got.Placement(), p)
	}
	if err := d.Place(ctx, "nobody", p); !errors.Is(err, ErrNotFound) {
		t.Errorf("Place(unknown): got %v, want ErrNotFound", err)
	}
}
