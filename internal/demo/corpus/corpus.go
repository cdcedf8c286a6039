// Package corpus holds real Internet messages for the demo mailboxes and
// for tests: mail written by many programs over three decades (Eudora,
// Netscape, AOL, Outlook, Apple Mail, Thunderbird, web mail, mailing-list
// software, bounce and report generators), in several charsets (ISO-8859-1,
// ISO-2022-JP, Shift_JIS, KS C 5601, UTF-16) and MIME layouts (alternative,
// related, signed, report, forwarded message/rfc822), including a few that
// break the rules the way real mail does.
//
// The files are byte-exact copies; SOURCES.md names the origin and licence
// of each.
package corpus

import "embed"

// Mail is the message files, one RFC 5322 message per mail/*.eml file.
//
//go:embed mail/*.eml
var Mail embed.FS
