// Package storetest gives tests a fresh, migrated store of each dialect:
// SQLite in a temporary directory, and PostgreSQL in a schema of its own on
// the throwaway server that scripts/with-postgres.sh starts (its DSN in
// RICHIAMO_TEST_POSTGRES_DSN). Without that server the PostgreSQL run is
// skipped, except under CI=true, where a missing dependency fails
// (testkit.Need).
package storetest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"path/filepath"
	"strings"
	"testing"

	_ "github.com/jackc/pgx/v5/stdlib" // registers "pgx"

	"github.com/richiamo/richiamo/internal/store"
	"github.com/richiamo/richiamo/internal/testkit"
)

// SQLite opens a migrated SQLite store in a temporary directory.
func SQLite(t testing.TB) *store.Store {
	t.Helper()
	return open(t, store.Options{SQLitePath: filepath.Join(t.TempDir(), "richiamo.db")})
}

// PostgresDSN returns a DSN to a fresh, empty schema on the test server,
// or skips (fails under CI=true) when there is no server.
func PostgresDSN(t testing.TB) string {
	t.Helper()
	dsn := testkit.Need(t, "postgres")
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	schema := "t_" + hex.EncodeToString(b)
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(`CREATE SCHEMA ` + schema); err != nil {
		t.Fatalf("create schema: %v", err)
	}
	t.Cleanup(func() {
		db, err := sql.Open("pgx", dsn)
		if err != nil {
			return
		}
		defer db.Close()
		_, _ = db.Exec(`DROP SCHEMA ` + schema + ` CASCADE`)
	})
	sep := "?"
	if strings.Contains(dsn, "?") {
		sep = "&"
	}
	return dsn + sep + "search_path=" + schema
}

// Postgres opens a migrated PostgreSQL store in a schema of its own.
func Postgres(t testing.TB) *store.Store {
	t.Helper()
	return open(t, store.Options{PostgresDSN: PostgresDSN(t)})
}

func open(t testing.TB, o store.Options) *store.Store {
	t.Helper()
	st, err := store.Open(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if _, err := st.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	return st
}

// Each runs fn as a subtest against every dialect.
func Each(t *testing.T, fn func(t *testing.T, st *store.Store)) {
	t.Helper()
	for _, d := range []store.Dialect{store.SQLite, store.Postgres} {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			var st *store.Store
			if d == store.SQLite {
				st = SQLite(t)
			} else {
				st = Postgres(t)
			}
			fn(t, st)
		})
	}
}
