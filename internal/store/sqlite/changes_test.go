package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"io/fs"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pressly/goose/v3"

	"github.com/hybridgraph/hybridgraph/internal/store/sqlstore"
)

// TestMigrationNumbersExistingMessages builds a database of the first
// schema with messages in it, then opens it: the second migration must
// number them 1..n per mailbox, so that a change log read from 0 lists
// them all.
func TestMigrationNumbersExistingMessages(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "old.sqlite")
	old, err := sql.Open("sqlite", "file:"+path+"?"+pragmas)
	if err != nil {
		t.Fatal(err)
	}
	sub, err := fs.Sub(migrations, "migrations")
	if err != nil {
		t.Fatal(err)
	}
	p, err := goose.NewProvider(goose.DialectSQLite3, old, sub)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.UpTo(ctx, 1); err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		`INSERT INTO mailboxes (id, address) VALUES ('m1', 'a@x'), ('m2', 'b@x')`,
		`INSERT INTO folders (mailbox_id, id, display_name) VALUES ('m1', 'f', 'F'),
			('m2', 'f', 'F')`,
		`INSERT INTO messages (mailbox_id, id, folder_id, change_key, doc) VALUES
			('m1', 'b', 'f', 'k', '{}'), ('m1', 'a', 'f', 'k', '{}'),
			('m2', 'c', 'f', 'k', '{}')`,
	} {
		if _, err := old.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	old.Close()

	db, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, tt := range []struct {
		mailbox string
		want    string
	}{{"m1", "1:a 2:b"}, {"m2", "1:c"}} {
		seq, err := db.ChangeSeq(ctx, tt.mailbox)
		if err != nil {
			t.Fatal(err)
		}
		cs, err := db.Changes(ctx, tt.mailbox, "f", 0, 10)
		if err != nil {
			t.Fatal(err)
		}
		got := ""
		for _, c := range cs {
			if got != "" {
				got += " "
			}
			got += fmt.Sprintf("%d:%s", c.Seq, c.ID)
		}
		if got != tt.want || seq != int64(len(cs)) {
			t.Errorf("%s: got %q up to %d, want %q up to %d", tt.mailbox, got, seq, tt.want,
				len(cs))
		}
	}
	// The next write goes on from the numbered ones.
	if err := db.DeleteItem(ctx, "m1", "a"); err != nil {
		t.Fatal(err)
	}
	if seq, err := db.ChangeSeq(ctx, "m1"); err != nil || seq != 3 {
		t.Errorf("after a delete: got %d, %v; want 3", seq, err)
	}
}

// TestChangesAreRangeScans checks that reading the change log of a folder
// or a mailbox merges two range scans of the change-number indexes, with
// no table scan and no sort step.
func TestChangesAreRangeScans(t *testing.T) {
	db, _ := openTest(t)
	for _, folder := range []string{"inbox", ""} {
		query, args := sqlstore.ChangesSQL(dialect, mbx, folder, 5, 10)
		plan := explain(t, db, query, args)
		for _, index := range []string{"messages_", "tombstones_"} {
			if !strings.Contains(plan, index) || strings.Contains(plan, "SCAN messages") ||
				strings.Contains(plan, "SCAN tombstones") || strings.Contains(plan, "TEMP B-TREE") {
				t.Errorf("folder %q: plan %q: want index range scans only", folder, plan)
			}
		}
	}
}
