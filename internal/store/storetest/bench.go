package storetest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/hybridgraph/hybridgraph/internal/store"
)

// BenchListNewest25 measures listing the 25 newest messages of a folder of
// a mailbox holding 10,000 messages in two folders, the first page a
// client sees. Every backend loads the same data.
func BenchListNewest25(b *testing.B, s store.Store) {
	ctx := context.Background()
	Seed(b, s)
	const total, batch = 10000, 500
	for start := 0; start < total; start += batch {
		items := make([]store.Item, 0, batch)
		for i := start; i < start+batch; i++ {
			folder := "inbox"
			if i%3 == 0 {
				folder = "archive"
			}
			items = append(items, Message(fmt.Sprintf("m%05d", i), folder,
				fmt.Sprintf("subject %d", i), T0.Add(time.Duration(i)*time.Minute), i%2 == 0))
		}
		if err := s.InsertItems(ctx, items...); err != nil {
			b.Fatal(err)
		}
	}
	q := store.Query{MailboxID: Mailbox, FolderID: "inbox", Top: 25,
		OrderBy: []store.Order{{Column: "received", Desc: true}}}

	b.ResetTimer()
	for b.Loop() {
		items, err := s.ListItems(ctx, q)
		if err != nil || len(items) != 25 {
			b.Fatalf("got %d items, %v; want 25", len(items), err)
		}
	}
}
