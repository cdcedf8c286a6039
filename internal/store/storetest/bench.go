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

// BenchWrite500 measures writing 500 new messages in one call, by
// InsertItems (the baseline: delivery, import) and by PutItems (a mailbox
// move's copy), into a mailbox that grows as the benchmark runs.
func BenchWrite500(b *testing.B, s store.Store) {
	ctx := context.Background()
	Seed(b, s)
	writes := []struct {
		name  string
		write func(context.Context, ...store.Item) error
	}{{"insert", s.InsertItems}, {"put", s.PutItems}}
	n := 0 // ids stay new across the runs of a sub-benchmark
	for _, w := range writes {
		b.Run(w.name, func(b *testing.B) {
			for b.Loop() {
				items := make([]store.Item, 500)
				for i := range items {
					items[i] = Message(fmt.Sprintf("%s%08d", w.name, n), "inbox",
						fmt.Sprintf("subject %d", n), T0.Add(time.Duration(n)*time.Second),
						false)
					n++
				}
				if err := w.write(ctx, items...); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
