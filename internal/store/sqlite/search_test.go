package sqlite

import (
	"context"
	"database/sql"
	"io/fs"
	"path/filepath"
	"testing"

	"github.com/pressly/goose/v3"

	"github.com/hybridgraph/hybridgraph/internal/store"
)

// Messages stored before the search migration must be found after it: the
// migration derives their search columns and builds the index.
func TestSearchMigrationIndexesExistingMessages(t *testing.T) {
	path := filepath.Join(t.TempDir(), "old.sqlite")
	dsn := "file:" + path + "?" + pragmas
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		t.Fatal(err)
	}
	sub, _ := fs.Sub(migrations, "migrations")
	p, err := goose.NewProvider(goose.DialectSQLite3, db, sub)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.UpTo(context.Background(), 2); err != nil {
		t.Fatal(err)
	}
	for _, stmt := range []string{
		`INSERT INTO mailboxes (id, address) VALUES ('m', 'a@contoso.test')`,
		`INSERT INTO folders (mailbox_id, id, display_name) VALUES ('m', 'inbox', 'Inbox')`,
		`INSERT INTO messages (mailbox_id, id, folder_id, change_key, doc) VALUES
		('m', 'a', 'inbox', 'k', '{"subject":"Old news","body":{"contentType":"html",` +
			`"content":"<p class=\"zebra\">Hello <b>world</b></p>"}}'),
		('m', 'b', 'inbox', 'k', '{"subject":"Other"}')`,
	} {
		if _, err := db.Exec(stmt); err != nil {
			t.Fatal(err)
		}
	}
	db.Close()

	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for search, want := range map[string]int{"world": 1, "old": 1, "zebra": 0, "other": 1} {
		n, err := s.CountItems(context.Background(), store.Query{MailboxID: "m", Search: search})
		if err != nil || n != want {
			t.Errorf("%q: got %d, %v; want %d", search, n, err, want)
		}
	}
}
