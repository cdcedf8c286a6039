// Package sqlstore is the SQL shape of a mailbox database that the SQL
// backends (packages sqlite and postgres) share: the layout of the
// messages table derived from schema.Message.Columns, the statements that
// write it, the WHERE and ORDER BY of a store.Query, and the scanning of
// rows into store values.
//
// The model. A message row has fixed columns (mailbox_id, id, folder_id,
// change_key, doc, mime) and one column per schema.Message column; the
// schema's id and folder_id are the fixed ones, taken from Item.ID and
// Item.FolderID. Every other schema column is derived from the document
// on each write. Any schema column may be an $orderby key.
//
// What differs between the databases is small and is a Dialect: how a
// placeholder is written, where NULLs sort unless told, how a
// case-insensitive text column reads back as text, the boolean literal,
// the LIMIT argument meaning "no limit", and how the "?" placeholders of
// Query.Where become the database's own. Drivers, connections, statement
// caches, migrations, locking and the claiming of due messages stay in
// the backends.
package sqlstore
