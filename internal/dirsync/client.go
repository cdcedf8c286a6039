package dirsync

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/google/uuid"

	"github.com/hybridgraph/hybridgraph/internal/directory"
)

// Client pushes batches to a cloud's intake.
type Client struct {
	// BaseURL is the cloud's base URL, without a trailing slash.
	BaseURL string
	// Token returns an app access token holding the DirectorySync role.
	Token func(ctx context.Context) (string, error)
	HTTP  *http.Client
	// DeleteThreshold is the share of synced users (above 0, at most 1)
	// whose deletion in one run is held until confirmed; 0 leaves it to the
	// cloud's default, directory.DefaultDeleteThreshold.
	DeleteThreshold float64
}

// Push sends one batch and returns the cloud's summary of the run.
func (c *Client) Push(ctx context.Context, b directory.Batch, confirmDeletes bool) (
	directory.Summary, error) {
	body, err := json.Marshal(b)
	if err != nil {
		return directory.Summary{}, fmt.Errorf("encode batch: %w", err)
	}
	q := url.Values{}
	if confirmDeletes {
		q.Set("confirmDeletes", "true")
	}
	if c.DeleteThreshold > 0 {
		q.Set("deleteThreshold", strconv.FormatFloat(c.DeleteThreshold*100, 'f', -1, 64))
	}
	u := c.BaseURL + Path
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	var sum directory.Summary
	err = c.do(ctx, http.MethodPost, u, body, &sum)
	return sum, err
}

// do sends one request with the app token and decodes a 200 answer.
func (c *Client) do(ctx context.Context, method, u string, body []byte, out any) error {
	tok, err := c.Token(ctx)
	if err != nil {
		return fmt.Errorf("sync token: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("sync request: %w", err)
	}
	req.Header.Set("Authorization", "Bearer "+tok)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, Path, err)
	}
	defer resp.Body.Close()
	answer, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if err != nil {
		return fmt.Errorf("read sync answer: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s %s: cloud answered %s: %s", method, Path, resp.Status,
			strings.TrimSpace(string(answer)))
	}
	if err := json.Unmarshal(answer, out); err != nil {
		return fmt.Errorf("decode sync answer: %w", err)
	}
	return nil
}

// FromDirectory reads the on-prem directory into a full batch. Mailboxes
// on premises (UserMailbox) and cloud mailboxes provisioned on premises
// (RemoteUserMailbox) are synced; other recipients are not users to sync.
// A user that cannot be synced (a malformed object id, no UPN) is a failed
// entry of the batch, named by its UPN or object id; the rest still sync.
func FromDirectory(ctx context.Context, d *directory.Directory) (directory.Batch, error) {
	users, err := d.All(ctx)
	if err != nil {
		return directory.Batch{}, err
	}
	b := directory.Batch{Full: true}
	for _, u := range users {
		if u.RecipientType != directory.UserMailbox &&
			u.RecipientType != directory.RemoteUserMailbox {
			continue
		}
		id, err := ImmutableID(u.ObjectID)
		if err != nil {
			b.Failed = append(b.Failed, directory.Problem{UPN: u.UPN,
				DN: "objectId=" + u.ObjectID, Reason: err.Error()})
			continue
		}
		su := directory.SourceUser{ImmutableID: id, UPN: u.UPN, Mail: u.Mail,
			DisplayName: u.DisplayName, RecipientType: u.RecipientType,
			MailboxGUID: u.MailboxGUID}
		if u.RecipientType == directory.UserMailbox {
			// homeMDB of an LDAP source: the on-prem database holding it.
			su.Database = u.Database
		}
		if reason := su.Invalid(); reason != "" {
			b.Failed = append(b.Failed, directory.Problem{ImmutableID: id, UPN: u.UPN,
				Reason: reason})
			continue
		}
		b.Upserts = append(b.Upserts, su)
	}
	return b, nil
}

// ImmutableID derives onPremisesImmutableId from an on-prem object GUID:
// its 16 bytes in base64, the source anchor directory-sync tools use by
// default. AD stores objectGUID with its first three fields little-endian,
// so the bytes follow that order.
func ImmutableID(objectGUID string) (string, error) {
	g, err := uuid.Parse(objectGUID)
	if err != nil {
		return "", fmt.Errorf("object GUID %q: %w", objectGUID, err)
	}
	b := g[:]
	le := []byte{b[3], b[2], b[1], b[0], b[5], b[4], b[7], b[6]}
	le = append(le, b[8:]...)
	return base64.StdEncoding.EncodeToString(le), nil
}
