// Package mime converts between Internet messages (RFC 5322 with MIME,
// RFC 2045–2049) and Graph message documents, the JSON objects the mailbox
// engine stores (see package store).
//
// Parse reads a message as real mail arrives: headers that are folded badly,
// address lists that do not follow the grammar, charsets that lie, base64
// that is not base64, multiparts without a closing boundary. It keeps what
// can be read and fails only when the input has no header block at all, with
// an error that wraps ErrMalformed. It never opens attachments beyond telling
// whether the message has any (Graph's hasAttachments), and it walks the MIME
// tree with explicit limits on depth and part count so that hostile input
// costs bounded work.
//
// The body becomes Graph's itemBody: the first text/html part that is not an
// attachment, else the first such text/plain part (the choice Outlook makes
// for multipart/alternative, RFC 2046 section 5.1.4, where the richer form
// comes last). Text is converted to UTF-8; text that still is not UTF-8
// after its declared charset is read as Windows-1252, the charset most
// mislabelled Western mail really uses.
//
// Build goes the other way for mail that leaves a mailbox: a single-part
// text/plain or text/html message in UTF-8, quoted-printable, never naming
// the Bcc recipients in its header (RFC 5322 section 3.6.3 lets the sender
// drop them, and Exchange does).
package mime
