package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/hybridgraph/hybridgraph/internal/mime"
	"github.com/hybridgraph/hybridgraph/internal/store"
)

// Full-text search. Each message row carries one text column per indexed
// field (SearchColumn), holding the field's words as store.SearchText
// writes them: lower-case letters and digits separated by single spaces.
// They are derived from the document on every write, like the schema
// columns, and each backend indexes them its own way (FTS5 in SQLite,
// tsvector and GIN in PostgreSQL). Splitting words here, not in the
// database, makes both databases see the same words: their own
// tokenizers then have nothing left to disagree on (e-mail addresses,
// hyphens, diacritics, case).

// searchColumns are the search columns in store.SearchFields order.
var searchColumns = func() []string {
	cols := make([]string, len(store.SearchFields))
	for i, f := range store.SearchFields {
		cols[i] = SearchColumn(f)
	}
	return cols
}()

// SearchColumn names the column holding a store.SearchFields field.
func SearchColumn(field string) string { return "search_" + field }

// SearchColumns returns the search columns, in store.SearchFields order.
func SearchColumns() []string { return append([]string(nil), searchColumns...) }

// searchDoc is the part of a message document the index reads.
type searchDoc struct {
	Subject       string
	From, Sender  *searchRecipient
	ToRecipients  []searchRecipient
	CcRecipients  []searchRecipient
	BccRecipients []searchRecipient
	Body          *struct{ ContentType, Content string }
}

type searchRecipient struct {
	EmailAddress struct{ Name, Address string }
}

// SearchValues derives the search column values of a message document, in
// SearchColumns order. An HTML body is indexed as the text a reader sees
// (mime.HTMLToText), not its tags.
func SearchValues(doc []byte) ([]any, error) {
	var d searchDoc
	if err := json.Unmarshal(doc, &d); err != nil {
		return nil, fmt.Errorf("search fields: %w", err)
	}
	body := ""
	if d.Body != nil {
		body = d.Body.Content
		if strings.EqualFold(d.Body.ContentType, "html") {
			body = mime.HTMLToText(body)
		}
	}
	from := []searchRecipient{}
	for _, r := range []*searchRecipient{d.From, d.Sender} {
		if r != nil {
			from = append(from, *r)
		}
	}
	return []any{
		store.SearchText(d.Subject, 0),
		recipientText(from),
		recipientText(d.ToRecipients),
		recipientText(d.CcRecipients),
		recipientText(d.BccRecipients),
		store.SearchText(body, store.MaxSearchBodyWords),
	}, nil
}

// recipientText is the names and addresses of rs as index text.
func recipientText(rs []searchRecipient) string {
	var parts []string
	for _, r := range rs {
		parts = append(parts, r.EmailAddress.Name, r.EmailAddress.Address)
	}
	return store.SearchText(strings.Join(parts, " "), 0)
}

// searchCondition is the WHERE condition of q.Search and its arguments,
// the first placeholder numbered first; "" when q has no search.
func searchCondition(d Dialect, q store.Query, first int) (string, []any, error) {
	if strings.TrimSpace(q.Search) == "" {
		return "", nil, nil
	}
	if d.Search == nil {
		return "", nil, fmt.Errorf("search: %w", errNoSearch)
	}
	e, err := store.ParseSearch(q.Search)
	if err != nil {
		return "", nil, err
	}
	cond, args := d.Search(e, first)
	return cond, args, nil
}

var errNoSearch = fmt.Errorf("the dialect has no full-text search")

// BackfillSearch fills the search columns of every message from its
// document, in batches: the migration that adds the columns calls it, so
// that messages stored before it are found too.
func BackfillSearch(ctx context.Context, tx *sql.Tx, d Dialect) error {
	const batch = 500
	sets := make([]string, len(searchColumns))
	for i, c := range searchColumns {
		sets[i] = c + " = " + d.Param(i+1)
	}
	n := len(searchColumns)
	update := `UPDATE messages SET ` + strings.Join(sets, ", ") +
		` WHERE mailbox_id = ` + d.Param(n+1) + ` AND id = ` + d.Param(n+2)
	next := `SELECT mailbox_id, id, doc FROM messages WHERE mailbox_id > ` + d.Param(1) +
		` OR (mailbox_id = ` + d.Param(2) + ` AND id > ` + d.Param(3) + `)
		ORDER BY mailbox_id, id LIMIT ` + d.Param(4)
	lastMbx, lastID := "", ""
	for {
		keys, docs, err := backfillBatch(ctx, tx, next, lastMbx, lastID, batch)
		if err != nil {
			return err
		}
		for i, k := range keys {
			vals, err := SearchValues(docs[i])
			if err != nil {
				return fmt.Errorf("message %s: %w", k[1], err)
			}
			if _, err := tx.ExecContext(ctx, update, append(vals, k[0], k[1])...); err != nil {
				return fmt.Errorf("index message %s: %w", k[1], err)
			}
		}
		if len(keys) < batch {
			return nil
		}
		lastMbx, lastID = keys[len(keys)-1][0], keys[len(keys)-1][1]
	}
}

// backfillBatch reads the next batch of (mailbox id, id) keys and
// documents after a key, and closes the rows before the caller writes.
func backfillBatch(ctx context.Context, tx *sql.Tx, query, mbx, id string, n int) (
	[][2]string, [][]byte, error) {
	rows, err := tx.QueryContext(ctx, query, mbx, mbx, id, n)
	if err != nil {
		return nil, nil, fmt.Errorf("read messages to index: %w", err)
	}
	defer rows.Close()
	var (
		keys [][2]string
		docs [][]byte
	)
	for rows.Next() {
		var k [2]string
		var doc string
		if err := rows.Scan(&k[0], &k[1], &doc); err != nil {
			return nil, nil, fmt.Errorf("read messages to index: %w", err)
		}
		keys, docs = append(keys, k), append(docs, []byte(doc))
	}
	return keys, docs, rows.Err()
}
