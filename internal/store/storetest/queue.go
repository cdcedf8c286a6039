package storetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/hybridgraph/hybridgraph/internal/store"
)

func testQueue(t *testing.T, db store.Store) {
	ctx := context.Background()
	later := T0.Add(time.Hour)
	for _, m := range []store.Outbound{
		{ID: "q1", From: "a@contoso.test", Recipients: []string{"b@onprem.test"},
			MIME: []byte("x"), NextAttempt: later},
		{ID: "q2", From: "a@contoso.test", Recipients: []string{"c@onprem.test",
			"d@onprem.test"}, MIME: []byte("y\x00\xff")},
	} {
		if err := db.Enqueue(ctx, m); err != nil {
			t.Fatal(err)
		}
	}
	err := db.Enqueue(ctx, store.Outbound{ID: "q1", MIME: []byte("z")})
	if !errors.Is(err, store.ErrConflict) {
		t.Errorf("duplicate enqueue: got %v, want ErrConflict", err)
	}

	due, err := db.Due(ctx, T0, 10)
	if err != nil {
		t.Fatal(err)
	}
	want := []store.Outbound{{ID: "q2", From: "a@contoso.test",
		Recipients: []string{"c@onprem.test", "d@onprem.test"}, MIME: []byte("y\x00\xff"),
		NextAttempt: time.UnixMilli(0).UTC()}}
	if d := cmp.Diff(want, due); d != "" {
		t.Errorf("Due at T0 (-want +got):\n%s", d)
	}

	if err := db.Defer(ctx, "q2", later.Add(time.Minute), "451 try later"); err != nil {
		t.Fatal(err)
	}
	due, err = db.Due(ctx, later.Add(time.Hour), 10)
	if err != nil || len(due) != 2 || due[0].ID != "q1" || due[1].Attempts != 1 ||
		due[1].LastError != "451 try later" || !due[1].NextAttempt.Equal(later.Add(time.Minute)) {
		t.Errorf("Due later: got %+v, %v; want q1 then q2 with one attempt", due, err)
	}
	if err := db.Dequeue(ctx, "q1"); err != nil {
		t.Fatal(err)
	}
	for _, err := range []error{db.Dequeue(ctx, "q1"), db.Defer(ctx, "q9", later, "")} {
		if !errors.Is(err, store.ErrNotFound) {
			t.Errorf("missing queue entry: got %v, want ErrNotFound", err)
		}
	}
	// A delivered id is not queued again: a send finished again after a
	// crash must not send its message twice.
	err = db.Enqueue(ctx, store.Outbound{ID: "q1", MIME: []byte("again")})
	if !errors.Is(err, store.ErrConflict) {
		t.Errorf("enqueue of a delivered id: got %v, want ErrConflict", err)
	}
	if due, err := db.Due(ctx, later.Add(2*time.Hour), 10); err != nil || len(due) != 1 ||
		due[0].ID != "q2" {
		t.Errorf("Due after the refused enqueue: got %+v, %v; want q2 alone", due, err)
	}
}
