package directory

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
)

// Secondary SMTP addresses. Exchange keeps every address of a recipient in
// proxyAddresses: "SMTP:" marks the primary one (the user's Mail), "smtp:"
// the others. Mail sent to any of them reaches the user, so the cloud keeps
// them in user_addresses, finds users by them, and refuses to give one
// address to two users.

// secondaries returns su's secondary addresses without duplicates and
// without its UPN and primary address, sorted for comparison.
func secondaries(su SourceUser) []string {
	seen := map[string]bool{strings.ToLower(su.UPN): true, strings.ToLower(su.Mail): true}
	var out []string
	for _, a := range su.ProxyAddresses {
		k := strings.ToLower(a)
		if seen[k] {
			continue
		}
		seen[k] = true
		out = append(out, a)
	}
	slices.SortFunc(out, func(a, b string) int {
		return strings.Compare(strings.ToLower(a), strings.ToLower(b))
	})
	return out
}

// placeholders returns "?, ?, …" for n arguments.
func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?, ", n), ", ")
}

// addressHolder finds another user than self holding one of su's
// addresses: a secondary address of su as someone's UPN or primary
// address, or any address of su as someone's secondary one. It returns
// the holder's name (holderName) and the address, or empty strings when
// there is none.
func (r *syncRun) addressHolder(ctx context.Context, su SourceUser, self string) (
	holder, address string, err error) {
	all := append([]string{su.UPN, su.Mail}, secondaries(su)...)
	args := []any{self}
	for _, a := range all {
		args = append(args, a)
	}
	q := `SELECT u.upn, a.address, u.sync_enabled FROM user_addresses a
		JOIN users u ON u.object_id = a.object_id
		WHERE u.object_id <> ? AND a.address IN (` + placeholders(len(all)) + `)`
	if sec := all[2:]; len(sec) > 0 {
		in := placeholders(len(sec))
		q += ` UNION ALL SELECT upn, CASE WHEN upn IN (` + in + `) THEN upn ELSE mail END,
			sync_enabled
			FROM users WHERE object_id <> ? AND (upn IN (` + in + `) OR mail IN (` + in + `))`
		for _, part := range [][]any{toAny(sec), {self}, toAny(sec), toAny(sec)} {
			args = append(args, part...)
		}
	}
	var h User
	err = r.tx.QueryRowContext(ctx, q+` LIMIT 1`, args...).Scan(&h.UPN, &address,
		&h.SyncEnabled)
	if err == sql.ErrNoRows {
		return "", "", nil
	}
	if err != nil {
		return "", "", fmt.Errorf("address collision check: %w", err)
	}
	return holderName(h), address, nil
}

func toAny(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}

// addresses returns the secondary addresses kept for a user, sorted.
func (r *syncRun) addresses(ctx context.Context, objectID string) ([]string, error) {
	return queryAddresses(ctx, r.tx, objectID)
}

type querier interface {
	QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error)
}

func queryAddresses(ctx context.Context, db querier, objectID string) ([]string, error) {
	rows, err := db.QueryContext(ctx, `SELECT address FROM user_addresses
		WHERE object_id = ? ORDER BY lower(address)`, objectID)
	if err != nil {
		return nil, fmt.Errorf("read addresses: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var a string
		if err := rows.Scan(&a); err != nil {
			return nil, fmt.Errorf("read addresses: %w", err)
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

// writeAddresses replaces a user's secondary addresses.
func (r *syncRun) writeAddresses(ctx context.Context, objectID string, addrs []string) error {
	if _, err := r.tx.ExecContext(ctx, `DELETE FROM user_addresses WHERE object_id = ?`,
		objectID); err != nil {
		return fmt.Errorf("replace addresses: %w", err)
	}
	for _, a := range addrs {
		// An address left behind by a user deleted outside sync is free again.
		if _, err := r.tx.ExecContext(ctx, `DELETE FROM user_addresses WHERE address = ?
			AND object_id NOT IN (SELECT object_id FROM users)`, a); err != nil {
			return fmt.Errorf("replace addresses: %w", err)
		}
		if _, err := r.tx.ExecContext(ctx, `INSERT INTO user_addresses (address, object_id)
			VALUES (?, ?)`, a, objectID); err != nil {
			return fmt.Errorf("add address %s: %w", a, err)
		}
	}
	return nil
}

// ProxyAddresses returns the secondary SMTP addresses directory sync keeps
// for the user with this object id, sorted; none for users sync does not
// keep.
func (d *Directory) ProxyAddresses(ctx context.Context, objectID string) ([]string, error) {
	return queryAddresses(ctx, d.db, objectID)
}
