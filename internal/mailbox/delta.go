package mailbox

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"net/http"

	"github.com/hybridgraph/hybridgraph/internal/httpserver"
	"github.com/hybridgraph/hybridgraph/internal/store"
)

// Delta query of a folder's messages (Graph message-delta, concept page
// delta-query-messages; graph-api.md §3.3–3.4). A client syncs a folder in
// rounds: the first round lists the messages the folder holds, page by
// page (@odata.nextLink with $skiptoken); its last page carries
// @odata.deltaLink with $deltatoken, and following that link later starts
// a round with what changed since: messages added, changed or moved in,
// and messages deleted or moved out, reported as removed.
//
// The engine reads the store's change log (store.Store.Changes): each
// mailbox numbers its changes, and a round remembers the last number it
// delivered. All that state is in the token; the server keeps none, so
// any gateway over the same database serves any token.

// Delta page sizes: Graph pages message delta by Prefer:
// odata.maxpagesize, default 10 as for lists, and takes no more than a
// list's $top maximum.
const (
	DefaultDeltaPageSize = 10
	MaxDeltaPageSize     = 1000
)

// DeltaState is where a delta round of one folder stands; tokens encode it.
type DeltaState struct {
	Database string // the mailbox database the numbers belong to
	// Incarnation is the copy of the mailbox in Database the numbers
	// belong to (store.Mailbox.Incarnation): a mailbox moved away and
	// back is another copy, with other numbers.
	Incarnation string
	MailboxID   string
	FolderID    string // the folder's id (never a well-known name)
	// After is the last change number delivered: the next page starts
	// after it.
	After int64
	// Initial marks the first round, which lists existing messages only:
	// it leaves out removals numbered up to Start, the mailbox's latest
	// change number when the round began, as they left the folder before
	// the client saw anything. Later removals are sent, as the client may
	// have got the message on an earlier page.
	Initial bool
	Start   int64
	// Select is the $select list in Graph names, comma-separated, or "".
	Select string
}

// DeltaPage is one page of a delta round.
type DeltaPage struct {
	// Changes are the page's entries in change order: a changed message
	// (Item set) or a removed one (Removed).
	Changes []store.Change
	// Next is the state to continue from. More says whether it is the
	// rest of this round (a nextLink) or the next round (a deltaLink).
	Next DeltaState
	More bool
}

// maxDeltaScans bounds the change-log reads of one page: the first round
// skips removals, and a folder with many of them could otherwise make one
// request read the whole log. A short page with a nextLink is fine.
const maxDeltaScans = 8

// MessageDelta returns the next page of a delta round over a folder (id
// or well-known name). from is the state a token carried, or nil to start
// a first round with the $select list sel. A token for another mailbox or
// folder is 400 ErrorInvalidSyncStateData; one whose change numbers this
// mailbox database cannot continue (the mailbox moved since) is 410
// SyncStateNotFound, Graph's answer to a token that must be dropped for a
// full resync (graph-api.md §3.4).
func (e *Engine) MessageDelta(ctx context.Context, ref Ref, folderName string,
	from *DeltaState, sel string, pageSize int) (DeltaPage, error) {
	db, err := e.db(ref)
	if err != nil {
		return DeltaPage{}, err
	}
	f, err := folder(ctx, db, ref, folderName)
	if err != nil {
		return DeltaPage{}, err
	}
	mb, err := db.Mailbox(ctx, ref.ID)
	if err != nil {
		return DeltaPage{}, notFound(fmt.Errorf("message delta: %w", err))
	}
	st := DeltaState{Database: ref.Database, Incarnation: mb.Incarnation, MailboxID: ref.ID,
		FolderID: f.ID, Initial: true, Select: sel}
	if from == nil {
		if st.Start, err = db.ChangeSeq(ctx, ref.ID); err != nil {
			return DeltaPage{}, notFound(fmt.Errorf("message delta: %w", err))
		}
	} else {
		if err := checkState(ctx, db, ref, f.ID, mb.Incarnation, *from); err != nil {
			return DeltaPage{}, err
		}
		st = *from
	}
	pageSize = min(max(pageSize, 1), MaxDeltaPageSize)
	return deltaPage(ctx, db, st, pageSize)
}

// checkState refuses a state that does not belong to the mailbox and
// folder of the request, or that this database cannot continue.
func checkState(ctx context.Context, db store.Store, ref Ref, folderID, incarnation string,
	st DeltaState) error {
	if st.MailboxID != ref.ID || st.FolderID != folderID {
		return invalidToken(errors.New("token of another mailbox or folder"))
	}
	gone := httpserver.Errorf(http.StatusGone, "SyncStateNotFound",
		"The sync state generation is not found; start a new sync without a token.")
	if st.Database != ref.Database || st.Incarnation != incarnation {
		return gone
	}
	latest, err := db.ChangeSeq(ctx, ref.ID)
	if err != nil {
		return notFound(fmt.Errorf("message delta: %w", err))
	}
	if st.After > latest || st.Start > latest {
		return gone
	}
	return nil
}

// deltaPage reads the change log from st.After until it has pageSize
// entries to send, the log ends, or maxDeltaScans reads were made.
func deltaPage(ctx context.Context, db store.Store, st DeltaState,
	pageSize int) (DeltaPage, error) {
	page := DeltaPage{Next: st}
	for range maxDeltaScans {
		changes, err := db.Changes(ctx, st.MailboxID, st.FolderID, page.Next.After, pageSize)
		if err != nil {
			return DeltaPage{}, fmt.Errorf("message delta: %w", err)
		}
		for _, c := range changes {
			if len(page.Changes) == pageSize {
				page.More = true
				return page, nil
			}
			page.Next.After = c.Seq
			// The first round lists what the folder holds: what left it
			// before the round began is not news.
			if c.Removed && st.Initial && c.Seq <= st.Start {
				continue
			}
			page.Changes = append(page.Changes, c)
		}
		if len(changes) < pageSize {
			// The log is read to its end: the round is over.
			page.Next.Initial, page.Next.Start = false, 0
			return page, nil
		}
	}
	page.More = true
	return page, nil
}

// Tokens. A token is the URL-safe base64 of a binary record:
//
//	version (1) | kind (1) | flags (1) | after, start (uvarints) |
//	database, mailbox, folder, select, incarnation (each uvarint length +
//	bytes; version 1 has no incarnation) |
//	check (8): the first 8 bytes of SHA-256 over everything before
//
// The check catches a token damaged in transit or edited by hand. It is
// not a signature: a client that forges one gains nothing, because a token
// is honoured only on the mailbox and folder its request names, which the
// caller must already be allowed to read, and it can at most replay or
// skip that folder's changes.
const (
	tokenVersion   = 2
	tokenVersion1  = 1 // without the incarnation
	tokenCheckSize = 8
	// MaxTokenLength bounds the tokens that are decoded at all.
	MaxTokenLength = 2048
	flagInitial    = 1
)

// TokenKind tells a skip token (the rest of a round) from a delta token
// (the next round), so that one is not accepted as the other.
type TokenKind byte

// Token kinds.
const (
	SkipToken  TokenKind = 's'
	DeltaToken TokenKind = 'd'
)

// EncodeToken returns the opaque token for st.
func EncodeToken(st DeltaState, kind TokenKind) string {
	var flags byte
	if st.Initial {
		flags |= flagInitial
	}
	b := []byte{tokenVersion, byte(kind), flags}
	b = binary.AppendUvarint(b, uint64(st.After))
	b = binary.AppendUvarint(b, uint64(st.Start))
	for _, s := range []string{st.Database, st.MailboxID, st.FolderID, st.Select,
		st.Incarnation} {
		b = binary.AppendUvarint(b, uint64(len(s)))
		b = append(b, s...)
	}
	sum := sha256.Sum256(b)
	return base64.RawURLEncoding.EncodeToString(append(b, sum[:tokenCheckSize]...))
}

// ParseToken decodes a token of kind. Anything but a token EncodeToken
// made for that kind is 400 ErrorInvalidSyncStateData.
func ParseToken(tok string, kind TokenKind) (DeltaState, error) {
	if len(tok) > MaxTokenLength {
		return DeltaState{}, invalidToken(errors.New("token too long"))
	}
	raw, err := base64.RawURLEncoding.DecodeString(tok)
	if err != nil {
		return DeltaState{}, invalidToken(err)
	}
	if len(raw) < 3+tokenCheckSize {
		return DeltaState{}, invalidToken(errors.New("token too short"))
	}
	body, check := raw[:len(raw)-tokenCheckSize], raw[len(raw)-tokenCheckSize:]
	if sum := sha256.Sum256(body); !bytes.Equal(sum[:tokenCheckSize], check) {
		return DeltaState{}, invalidToken(errors.New("token check failed"))
	}
	version := body[0]
	if version != tokenVersion && version != tokenVersion1 || TokenKind(body[1]) != kind ||
		body[2]&^flagInitial != 0 {
		return DeltaState{}, invalidToken(errors.New("token of another version or kind"))
	}
	st := DeltaState{Initial: body[2]&flagInitial != 0}
	r := bytes.NewReader(body[3:])
	for _, dst := range []*int64{&st.After, &st.Start} {
		n, err := binary.ReadUvarint(r)
		if err != nil || n > 1<<62 {
			return DeltaState{}, invalidToken(errors.New("bad change number"))
		}
		*dst = int64(n)
	}
	fields := []*string{&st.Database, &st.MailboxID, &st.FolderID, &st.Select}
	if version != tokenVersion1 {
		// Version 1 tokens, of mailboxes created before incarnations,
		// carry none: they hold for those mailboxes' copy ''.
		fields = append(fields, &st.Incarnation)
	}
	for _, dst := range fields {
		var err error
		if *dst, err = readString(r); err != nil {
			return DeltaState{}, invalidToken(err)
		}
	}
	if r.Len() != 0 || st.MailboxID == "" || st.FolderID == "" || !st.Initial && st.Start != 0 {
		return DeltaState{}, invalidToken(errors.New("malformed token"))
	}
	return st, nil
}

// readString reads a uvarint length and that many bytes.
func readString(r *bytes.Reader) (string, error) {
	n, err := binary.ReadUvarint(r)
	if err != nil || n > uint64(r.Len()) {
		return "", errors.New("bad string in token")
	}
	b := make([]byte, n)
	_, _ = r.Read(b) // n <= r.Len(): the read is whole
	return string(b), nil
}

// invalidToken is the answer to a token that is not one of ours, or not
// for the request's mailbox and folder. The code is Exchange's for sync
// state it cannot read (EWS ResponseCodeType ErrorInvalidSyncStateData);
// the cause is logged, never sent.
func invalidToken(cause error) error {
	return httpserver.Wrap(cause, http.StatusBadRequest, "ErrorInvalidSyncStateData",
		"The delta or skip token is not valid for this folder; start a new sync "+
			"without a token.")
}
