// Package pgtest gives tests a throwaway PostgreSQL database. The server
// comes from HYBRIDGRAPH_TEST_POSTGRES (a DSN whose user may create
// databases); .ci/run starts one and sets it. Without it a test is
// skipped, except under CI, where a missing server is a failure: CI must
// never pass by skipping the PostgreSQL backend.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
)

// Env names the variable holding the test server's DSN.
const Env = "HYBRIDGRAPH_TEST_POSTGRES"

// ServerDSN returns the test server's DSN, or skips (fails under CI).
func ServerDSN(t testing.TB) string {
	t.Helper()
	dsn := os.Getenv(Env)
	if dsn != "" {
		return dsn
	}
	msg := "set " + Env + " to a PostgreSQL DSN whose user may create databases, e.g. " +
		"postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"
	if os.Getenv("CI") != "" {
		t.Fatal("CI is set but " + Env + " is not: " + msg)
	}
	t.Skip(msg)
	return ""
}

// FreshDSN creates a uniquely named database, prefix followed by random
// hex, dropped when the test ends, and returns its DSN.
func FreshDSN(t testing.TB, prefix string) string {
	t.Helper()
	dsn := ServerDSN(t)
	ctx := context.Background()
	admin, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatalf("connect to %s: %v", Env, err)
	}
	b := make([]byte, 8)
	rand.Read(b)
	name := prefix + hex.EncodeToString(b)
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		admin.Close(ctx)
		t.Fatalf("create test database: %v", err)
	}
	t.Cleanup(func() {
		defer admin.Close(ctx)
		if _, err := admin.Exec(ctx, "DROP DATABASE "+name+" WITH (FORCE)"); err != nil {
			t.Errorf("drop test database: %v", err)
		}
	})
	return WithDatabase(t, dsn, name)
}

// WithDatabase returns dsn naming database name instead.
func WithDatabase(t testing.TB, dsn, name string) string {
	t.Helper()
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		u, err := url.Parse(dsn)
		if err != nil {
			t.Fatalf("%s: %v", Env, err)
		}
		u.Path = "/" + name
		return u.String()
	}
	return dsn + " dbname=" + name // in key=value form the last setting wins
}
