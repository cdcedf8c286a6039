// Package importer reads mail from the files people keep it in and hands
// each message to a destination, the engine behind "hybridgraph import".
//
// It understands single .eml files (one RFC 5322 message each), maildirs
// (a folder with cur/ and new/, one message per file), folders of .eml
// files searched recursively, and mbox files, recognised by a first line
// that starts with "From " as every mbox variant begins (RFC 4155). An mbox
// is split at each line that starts with "From "; lines that an mboxrd
// writer quoted as ">From " get one ">" back, and the empty line that ends
// each message in the file is dropped.
//
// A message that the destination rejects, or that is larger than
// MaxMessageBytes, is skipped and counted with its reason, and the import
// goes on: one bad message in a mailbox of thousands must not stop it.
package importer
