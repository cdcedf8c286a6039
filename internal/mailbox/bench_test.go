package mailbox

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/hybridgraph/hybridgraph/internal/store"
)

// BenchmarkImportBatch imports 10,000 messages in batches of 500, then
// reports the cost per message and lists the newest page of the Inbox.
func BenchmarkImportBatch(b *testing.B) {
	const total, batch = 10000, 500
	raws := make([][]byte, batch)
	for i := range raws {
		raws[i] = []byte(strings.Replace(rawMessage, "Subject: RE: Lunch?",
			fmt.Sprintf("Subject: message %d", i), 1))
	}
	ctx := context.Background()
	for b.Loop() {
		b.StopTimer()
		f := newFixture(b)
		b.StartTimer()
		for n := 0; n < total; n += batch {
			if _, err := f.e.ImportBatch(ctx, alice, Inbox, raws); err != nil {
				b.Fatal(err)
			}
		}
		items, err := f.e.ListMessages(ctx, alice, Inbox, store.Query{Top: 25})
		if err != nil || len(items) != 25 {
			b.Fatalf("newest page: got %d items, %v; want 25", len(items), err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*total), "ns/message")
}
