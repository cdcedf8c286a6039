package mailbox

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"net/http"
	"strings"
	"time"

	"github.com/hybridgraph/hybridgraph/internal/httpserver"
)

// Item and folder ids are 24 random bytes in URL-safe base64 without
// padding (32 characters): opaque, safe in a URL path, and fixed for the
// item's life. Moving an item keeps its id, which is Graph's ImmutableId
// behaviour (Prefer: IdType="ImmutableId", "outlook-immutable-id" concept
// page); Graph's default ids change on move (graph-api.md §8, quirk 1).
const idBytes = 24

// maxIDLength bounds what is even looked up. Exchange's own ids are about
// 150 characters; 512 leaves room for them.
const maxIDLength = 512

func newID() string { return randomText(idBytes) }

// derivedID is the id of the item that one send makes from its Outbox item
// for a purpose (a recipient's mailbox, the report, the queue entry): the
// same for every attempt of that send, so that a send finished again after
// a crash finds what the first attempt wrote (ErrConflict) instead of
// writing it twice. It has the form of newID's.
func derivedID(outboxID, purpose string) string {
	sum := sha256.Sum256([]byte("hybridgraph send\x00" + outboxID + "\x00" + purpose))
	return base64.RawURLEncoding.EncodeToString(sum[:idBytes])
}

// copyID is the id of the copy of the message with Internet message id
// messageID in a mailbox's Inbox, however it came there (a local send, the
// mail flow from the other premises, a send finished again after a crash,
// an SMTP retry): the mailbox gets one copy of a message, as Exchange's
// duplicate delivery detection keeps it.
func copyID(messageID, mailboxID string) string {
	return derivedID("message "+messageID, "to:"+mailboxID)
}

// newChangeKey returns a fresh change key. Every write of an item gets a
// new one; "@odata.etag" is W/"<changeKey>" (graph-api.md §2.2).
func newChangeKey() string { return randomText(12) }

func randomText(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (Go 1.24+)
	return base64.RawURLEncoding.EncodeToString(b)
}

// wellFormedID reports whether s can be an id at all: 1 to maxIDLength
// characters of the base64 alphabets (standard and URL-safe) and "=". Our
// ids are a subset; Graph-style ids ("AAMkAD...=") are well formed but name
// nothing here, so they are 404 rather than 400. So are well-known folder
// names the mailbox does not have ("clutter").
func wellFormedID(s string) bool {
	if s == "" || len(s) > maxIDLength {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'A' && c <= 'Z', c >= 'a' && c <= 'z', c >= '0' && c <= '9':
		case c == '-' || c == '_' || c == '+' || c == '/' || c == '=':
		default:
			return false
		}
	}
	return true
}

func checkID(id string) error {
	if !wellFormedID(id) {
		return httpserver.Errorf(http.StatusBadRequest, "ErrorInvalidIdMalformed",
			"Id is malformed.")
	}
	return nil
}

// ifMatchKey extracts the change key from an If-Match value: W/"key",
// "key" or a bare key. "" and "*" (any version, RFC 9110 section 13.1.1)
// mean no condition.
func ifMatchKey(v string) string {
	v = strings.TrimSpace(v)
	if v == "*" {
		return ""
	}
	v = strings.TrimPrefix(v, "W/")
	return strings.Trim(v, `"`)
}

// Conversations. Exchange threads by the Thread-Index header: a 22-byte
// header block of one reserved byte, five bytes of FILETIME and a 16-byte
// GUID that stays the same for the whole thread ([MS-OXOMSG] 2.2.1.3,
// PidTagConversationIndex). A message that carries one keeps it; any other
// gets a block whose GUID is derived from its normalised subject, so that
// "Re: x" lands in the thread of "x" in every mailbox.
//
// TODO: threading by In-Reply-To/References is missing, so a reply whose
// subject was edited starts a new conversation.

// conversationIndex returns the base64 conversationIndex and the
// conversationId for a message with the given Thread-Index header value
// (may be "") and subject, dated at.
func conversationIndex(threadIndex, subject string, at time.Time) (index, id string) {
	if raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(threadIndex)); err == nil &&
		len(raw) >= 22 {
		return base64.StdEncoding.EncodeToString(raw), conversationID(raw[6:22])
	}
	guid := sha256.Sum256([]byte(threadTopic(subject)))
	block := make([]byte, 22)
	block[0] = 1
	// FILETIME: 100-ns intervals since 1601-01-01; the block keeps its
	// five most significant bytes.
	ft := uint64(at.UnixNano()/100) + 116444736000000000
	var b8 [8]byte
	binary.BigEndian.PutUint64(b8[:], ft)
	copy(block[1:6], b8[:5])
	copy(block[6:], guid[:16])
	return base64.StdEncoding.EncodeToString(block), conversationID(guid[:16])
}

func conversationID(guid []byte) string {
	return base64.RawURLEncoding.EncodeToString(guid)
}

// threadTopic strips reply and forward prefixes (English and the common
// German and Dutch ones Outlook writes) and folds case.
func threadTopic(subject string) string {
	s := strings.TrimSpace(subject)
	for {
		lower := strings.ToLower(s)
		cut := false
		for _, p := range []string{"re:", "fw:", "fwd:", "aw:", "wg:", "antw:", "doorst:"} {
			if strings.HasPrefix(lower, p) {
				s = strings.TrimSpace(s[len(p):])
				cut = true
				break
			}
		}
		if !cut {
			return strings.ToLower(s)
		}
	}
}
