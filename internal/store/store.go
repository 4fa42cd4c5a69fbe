// Package store owns the engine's state: bookings seen in extracts, the
// reminder outbox, patients' replies and leases. SQLite (pure Go, WAL) is the
// embedded default; PostgreSQL serves several engine processes sharing the
// work. Both run the same queries, written with '?' and rebound per dialect,
// and the same test suite.
//
// The files follow what is stored: accounts (users, web sessions), audit,
// reminders (imports, bookings, messages), outbox, replies, worklist (work
// items for people), expectations (answers jobs wait for), dialer
// (campaigns, contacts, attempts), continuity, slareports. The console's
// screen-shaped queries are read models in files named for their screen:
// desk.go (the reminders desk) and overview.go (the live overview, metrics).
package store

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // registers "pgx"
	"github.com/jmoiron/sqlx"
	_ "modernc.org/sqlite" // registers "sqlite"
)

// ErrNotFound is returned when a looked-up row does not exist, whatever the
// dialect.
var ErrNotFound = errors.New("store: not found")

// Dialect names a database flavour.
type Dialect string

const (
	SQLite   Dialect = "sqlite"
	Postgres Dialect = "postgres"
)

//go:embed migrations
var migrations embed.FS

// Options say which database to open.
type Options struct {
	SQLitePath  string // used when PostgresDSN is empty
	PostgresDSN string
}

// Store is the engine's database.
type Store struct {
	db *sqlx.DB
	// rd is where reads outside a transaction go. On SQLite it is a pool
	// of read-only connections beside the one writing connection, so that
	// the console's pages are answered from the last committed state while
	// a write waits for the database's lock (held, say, by an import in
	// another process); on PostgreSQL it is db.
	rd      *sqlx.DB
	dialect Dialect
}

// Open connects without migrating; call Migrate before use.
func Open(ctx context.Context, o Options) (*Store, error) {
	if o.PostgresDSN != "" {
		db, err := sqlx.Open("pgx", o.PostgresDSN)
		if err != nil {
			return nil, fmt.Errorf("store: open postgres: %w", err)
		}
		db.SetMaxOpenConns(16)
		if err := db.PingContext(ctx); err != nil {
			db.Close()
			return nil, fmt.Errorf("store: connect to postgres: %w", err)
		}
		return &Store{db: db, rd: db, dialect: Postgres}, nil
	}
	if o.SQLitePath == "" {
		return nil, errors.New("store: no SQLite path and no PostgreSQL DSN")
	}
	if err := canCreate(o.SQLitePath); err != nil {
		return nil, err
	}
	if err := layOut(ctx, o.SQLitePath); err != nil {
		return nil, err
	}
	// IMMEDIATE transactions take the write lock at BEGIN, so two writers
	// queue on busy_timeout instead of failing on a lock upgrade.
	dsn := "file:" + o.SQLitePath + "?_txlock=immediate" +
		"&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)" +
		"&_pragma=busy_timeout(30000)&_pragma=foreign_keys(1)" +
		// A 64 MiB page cache keeps a million-row import's indexes in
		// memory instead of re-reading them from the file (four times as
		// much took a million-row import 880 MB of memory and no less
		// time).
		"&_pragma=cache_size(-65536)" +
		// The log is copied back into the database once it holds 200 MB
		// (12,800 pages of 16 KiB, 51,200 of a store laid out in 4 KiB
		// pages before layOut) rather than the default 4 MB, so that an
		// index page that each of an import's transactions changes is
		// copied once per few transactions, not once per transaction: 162 s
		// became 116 s for a million rows. The import also has the log
		// start again every few transactions (RestartWAL), which keeps it
		// from growing far past this.
		"&_pragma=wal_autocheckpoint(" + strconv.Itoa(walPages(o.SQLitePath)) + ")"
	db, err := sqlx.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("store: open sqlite %s: %w", o.SQLitePath, err)
	}
	// One connection: SQLite has a single writer anyway, and queueing in
	// the pool is far cheaper than SQLite's busy handler, which sleeps up
	// to 100 ms between tries when connections contend for the lock.
	db.SetMaxOpenConns(1)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("store: open sqlite %s: %w", o.SQLitePath, err)
	}
	// The readers: WAL lets them read the last commit while a writer holds
	// the lock; query_only makes a write sent to them fail rather than
	// contend for the lock. A smaller cache each: the writer's is the one
	// an import fills.
	rd, err := sqlx.Open("sqlite", "file:"+o.SQLitePath+"?_pragma=busy_timeout(30000)&_pragma=foreign_keys(1)"+
		"&_pragma=query_only(1)&_pragma=cache_size(-16384)")
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("store: open sqlite %s: %w", o.SQLitePath, err)
	}
	rd.SetMaxOpenConns(readers)
	rd.SetMaxIdleConns(readers)
	return &Store{db: db, rd: rd, dialect: SQLite}, nil
}

// pageSize is the page of a new SQLite store, in bytes: four times
// SQLite's default. A million-row import writes each page of the
// bookings', messages' and reminders' indexes many times, each a system
// call; in pages of 16 KiB it took 72 s instead of 87 s (64 KiB: 69 s, but
// then a webhook's one-row commit writes 64 KiB a page it changes to the
// log).
const pageSize = 16384

// layOut creates the SQLite store at path, if it does not exist yet or is
// empty, in pages of pageSize bytes and in WAL mode. The page size must be
// set before the file's first page is written, and the driver applies a
// DSN's pragmas in the order of their names, journal_mode before
// page_size. A store created before keeps its pages: SQLite can change
// them only by rewriting the whole file outside WAL mode (VACUUM).
func layOut(ctx context.Context, path string) error {
	if fi, err := os.Stat(path); err == nil && fi.Size() > 0 {
		return nil
	}
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(30000)")
	if err != nil {
		return fmt.Errorf("store: create sqlite %s: %w", path, err)
	}
	defer db.Close()
	// Another engine creating the same store at the same moment is
	// harmless: once either has written the first page, page_size is
	// ignored and journal_mode finds WAL already set.
	for _, q := range []string{fmt.Sprintf("PRAGMA page_size = %d", pageSize), "PRAGMA journal_mode = WAL"} {
		if _, err := db.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("store: create sqlite %s: %s: %w", path, q, err)
		}
	}
	return nil
}

// walPages is how many pages of the store at path make 200 MB of log.
func walPages(path string) int {
	size := pageSize
	if f, err := os.Open(path); err == nil {
		// The header's bytes 16-17 are the page size, big-endian; 1 stands
		// for 65536.
		var h [18]byte
		if _, err := io.ReadFull(f, h[:]); err == nil {
			switch n := int(h[16])<<8 | int(h[17]); n {
			case 1:
				size = 65536
			case 0:
			default:
				size = n
			}
		}
		f.Close()
	}
	return 200 << 20 / size
}

// readers is how many SQLite connections read at once beside the writer.
const readers = 3

// Close releases the database.
func (s *Store) Close() error {
	err := s.db.Close()
	if s.rd != s.db {
		err = errors.Join(err, s.rd.Close())
	}
	return err
}

// RestartWAL, on SQLite, copies the write-ahead log into the database and
// has the next write start the log from its beginning, waiting at most
// wait for readers of older snapshots to finish; it reports false when
// they did not, and true on PostgreSQL. Without it a long import read
// meanwhile (the console, the webhooks) can leave no moment with no
// reader in the log, and the log then grows by every page written: a
// million-row import wrote a 4 GB log, and ran at half the speed.
func (s *Store) RestartWAL(ctx context.Context, wait time.Duration) (bool, error) {
	if s.dialect != SQLite {
		return true, nil
	}
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return false, fmt.Errorf("store: restart the log: %w", err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, fmt.Sprintf("PRAGMA busy_timeout = %d", max(wait.Milliseconds(), 1))); err != nil {
		return false, fmt.Errorf("store: restart the log: %w", err)
	}
	defer conn.ExecContext(context.WithoutCancel(ctx), "PRAGMA busy_timeout = 30000")
	var busy, frames, copied int
	if err := conn.QueryRowContext(ctx, "PRAGMA wal_checkpoint(RESTART)").Scan(&busy, &frames, &copied); err != nil {
		return false, fmt.Errorf("store: restart the log: %w", err)
	}
	return busy == 0, nil
}

// Dialect says which database is behind the store.
func (s *Store) Dialect() Dialect { return s.dialect }

// DB exposes the handle for tests and reports.
func (s *Store) DB() *sqlx.DB { return s.db }

// noIndex writes col so that SQLite's planner does not search an index for
// the term it is in (a unary +). A claim's UPDATE ... WHERE id IN (pick)
// AND status = ... otherwise went through the status index, every row of
// that status, and checked each against the pick's list: 100 ms or more
// a pass, under the write lock, with a million messages waiting, instead
// of a lookup by id for each picked.
func (s *Store) noIndex(col string) string {
	if s.dialect == SQLite {
		return "+" + col
	}
	return col
}

func (s *Store) rebind(q string) string {
	if s.dialect == Postgres {
		return sqlx.Rebind(sqlx.DOLLAR, q)
	}
	return q
}

// Migration is one embedded schema step.
type Migration struct {
	Version int
	Name    string
	SQL     string
}

func (s *Store) migrationList() ([]Migration, error) {
	dir := path.Join("migrations", string(s.dialect))
	entries, err := fs.ReadDir(migrations, dir)
	if err != nil {
		return nil, fmt.Errorf("store: migrations: %w", err)
	}
	var out []Migration
	for _, e := range entries {
		name := e.Name()
		if !strings.HasSuffix(name, ".up.sql") {
			continue
		}
		num, rest, ok := strings.Cut(name, "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil {
			return nil, fmt.Errorf("store: migration %s: name must be NNN_name.up.sql", name)
		}
		body, err := fs.ReadFile(migrations, path.Join(dir, name))
		if err != nil {
			return nil, err
		}
		out = append(out, Migration{Version: v, Name: strings.TrimSuffix(rest, ".up.sql"), SQL: string(body)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Version < out[j].Version })
	return out, nil
}

// Migrate applies the embedded migrations not yet applied and returns their
// names. Concurrent engine processes serialise on a lock.
func (s *Store) Migrate(ctx context.Context) ([]string, error) {
	list, err := s.migrationList()
	if err != nil {
		return nil, err
	}
	if _, err := s.db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version INTEGER NOT NULL PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)`); err != nil {
		return nil, fmt.Errorf("store: migrations table: %w", err)
	}
	var applied []string
	for _, m := range list {
		done, err := s.applyMigration(ctx, m)
		if err != nil {
			return applied, err
		}
		if done {
			applied = append(applied, fmt.Sprintf("%03d_%s", m.Version, m.Name))
		}
	}
	return applied, nil
}

func (s *Store) applyMigration(ctx context.Context, m Migration) (bool, error) {
	tx, err := s.db.BeginTxx(ctx, nil)
	if err != nil {
		return false, err
	}
	defer tx.Rollback()
	if s.dialect == Postgres {
		if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock(7247110001)`); err != nil {
			return false, err
		}
	}
	var n int
	if err := tx.GetContext(ctx, &n, s.rebind(`SELECT COUNT(*) FROM schema_migrations WHERE version = ?`), m.Version); err != nil {
		return false, err
	}
	if n > 0 {
		return false, nil
	}
	if _, err := tx.ExecContext(ctx, m.SQL); err != nil {
		return false, fmt.Errorf("store: migration %03d_%s: %w", m.Version, m.Name, err)
	}
	if _, err := tx.ExecContext(ctx, s.rebind(`INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)`),
		m.Version, m.Name, time.Now().UnixMilli()); err != nil {
		return false, err
	}
	return true, tx.Commit()
}

// Tx is a transaction with the store's queries. A view (see View) has the
// same queries without a transaction, for work that only reads.
type Tx struct {
	tx    querier
	s     *Store
	stmts map[string]*sql.Stmt
	real  *sqlx.Tx
}

type querier interface {
	sqlx.ExtContext
	sqlx.PreparerContext
	GetContext(ctx context.Context, dest any, query string, args ...any) error
	SelectContext(ctx context.Context, dest any, query string, args ...any) error
}

// View returns the store's queries outside any transaction: reads see each
// statement's own snapshot, and nothing holds the write lock meanwhile.
func (s *Store) View() *Tx { return &Tx{tx: s.db, s: s} }

// Reader is View on the connections kept for reading (on SQLite, other
// than the one that writes): for a long read, which would otherwise hold
// the writing connection, and the writers of this process with it.
func (s *Store) Reader() *Tx { return &Tx{tx: s.rd, s: s} }

// execBatch runs a repeated statement through a prepared statement kept for
// the transaction: the bulk inserts of an import reuse the same few texts
// thousands of times, and compiling them each time costs more than running
// them.
func (t *Tx) execBatch(ctx context.Context, q string, args ...any) error {
	st, err := t.prepared(ctx, q)
	if err != nil {
		return err
	}
	_, err = st.ExecContext(ctx, args...)
	return err
}

// execBatchResult is execBatch with the statement's result.
func (t *Tx) execBatchResult(ctx context.Context, q string, args ...any) (sql.Result, error) {
	st, err := t.prepared(ctx, q)
	if err != nil {
		return nil, err
	}
	return st.ExecContext(ctx, args...)
}

func (t *Tx) prepared(ctx context.Context, q string) (*sql.Stmt, error) {
	if st, ok := t.stmts[q]; ok {
		return st, nil
	}
	st, err := t.tx.PrepareContext(ctx, t.s.rebind(q))
	if err != nil {
		return nil, err
	}
	if t.stmts == nil {
		t.stmts = map[string]*sql.Stmt{}
	}
	t.stmts[q] = st
	return st, nil
}

// Begin starts a transaction.
func (s *Store) Begin(ctx context.Context) (*Tx, error) {
	tx, err := s.db.BeginTxx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("store: begin: %w", err)
	}
	return &Tx{tx: tx, s: s, real: tx}, nil
}

// Commit commits (nothing for a view).
func (t *Tx) Commit() error {
	if t.real == nil {
		return nil
	}
	return t.real.Commit()
}

// Rollback abandons the transaction; safe after Commit.
func (t *Tx) Rollback() error {
	if t.real == nil {
		return nil
	}
	err := t.real.Rollback()
	if errors.Is(err, sql.ErrTxDone) {
		return nil
	}
	return err
}

// InTx runs fn in a transaction, committing when it returns nil.
func (s *Store) InTx(ctx context.Context, fn func(*Tx) error) error {
	tx, err := s.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if err := fn(tx); err != nil {
		return err
	}
	return tx.Commit()
}

func ms(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

// FromMillis turns a stored instant back into a time (zero for 0).
func FromMillis(v int64) time.Time {
	if v == 0 {
		return time.Time{}
	}
	return time.UnixMilli(v)
}

func notFound(err error) error {
	if errors.Is(err, sql.ErrNoRows) {
		return ErrNotFound
	}
	return err
}

// canCreate says, in words an installer can act on, why the SQLite file
// cannot be opened: SQLite itself says only "unable to open database file".
func canCreate(path string) error {
	if _, err := os.Stat(path); err == nil {
		return nil
	}
	dir := filepath.Dir(path)
	fi, err := os.Stat(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("store: the folder %s of store.sqlite (%s) does not exist: create it, writable by the engine's user", dir, path)
	case err != nil:
		return fmt.Errorf("store: the folder of store.sqlite: %w", err)
	case !fi.IsDir():
		return fmt.Errorf("store: %s, the folder of store.sqlite (%s), is not a folder", dir, path)
	}
	f, err := os.CreateTemp(dir, ".richiamo-probe-*")
	if err != nil {
		return fmt.Errorf("store: cannot create files in %s, the folder of store.sqlite: %w", dir, err)
	}
	f.Close()
	return os.Remove(f.Name())
}
