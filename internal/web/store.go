package web

import (
	"context"
	"time"

	"github.com/richiamo/richiamo/internal/slareport"
	"github.com/richiamo/richiamo/internal/store"
	"github.com/richiamo/richiamo/internal/worklist"
)

// Store is what the console needs of the engine's database, one narrow
// interface per part of it; *store.Store has them all.
type Store interface {
	AccountStore
	deskStore
	inboxStore
	overviewStore
	levelsStore
	workStore
	campaignStore
	cleanUpStore
	urgentStore
	groupStore
	liveStore
	surveyStore
	// Ping and SchemaCurrent decide readiness.
	Ping(ctx context.Context) error
	SchemaCurrent(ctx context.Context) error
}

// AccountStore holds the console's accounts, sign-ins and audit log; it is
// all that adding or disabling an account needs.
type AccountStore interface {
	CreateUser(ctx context.Context, u store.User, now time.Time) (int64, error)
	UserByName(ctx context.Context, name string) (store.User, error)
	UserByID(ctx context.Context, id int64) (store.User, error)
	Users(ctx context.Context) ([]store.User, error)
	SetUserDisabled(ctx context.Context, id int64, disabled bool, now time.Time) error
	CreateWebSession(ctx context.Context, ws store.WebSession) error
	WebSessionUser(ctx context.Context, tokenHash string, now time.Time) (store.WebSession, store.User, error)
	ExtendWebSession(ctx context.Context, tokenHash string, seen, expires time.Time) error
	DeleteWebSession(ctx context.Context, tokenHash string) error
	DeleteExpiredWebSessions(ctx context.Context, now time.Time) (int64, error)
	AddAudit(ctx context.Context, e store.AuditEntry) error
	AuditEntries(ctx context.Context, f store.AuditFilter) ([]store.AuditEntry, error)
	KnownNodes(ctx context.Context) ([]string, error)
}

// deskStore is the reminders desk's read model.
type deskStore interface {
	Runs(ctx context.Context, node string, limit int) ([]store.Run, error)
	RunByID(ctx context.Context, id int64, node string) (store.Run, error)
	RunCoversNode(ctx context.Context, id int64, node string) (bool, error)
	RunNodes(ctx context.Context, id int64, node string) ([]store.NodeRun, error)
	DayTallies(ctx context.Context, fromDay, toDay, node string) ([]store.DayTally, error)
	RejectionReasons(ctx context.Context, importID int64) ([]store.ReasonCount, error)
	RejectionsByReason(ctx context.Context, importID int64, reason string, limit int) ([]store.RejectionRow, error)
	Rejections(ctx context.Context, importID int64, limit int) ([]store.RejectionRow, error)
	NodeRejectionReasons(ctx context.Context, importID int64, node string) ([]store.ReasonCount, error)
	NodeRejectionsByReason(ctx context.Context, importID int64, node, reason string, limit int) ([]store.RejectionRow, error)
	NodeRejections(ctx context.Context, importID int64, node string, limit int) ([]store.RejectionRow, error)
	DeliveryFailures(ctx context.Context, f store.FailureFilter) ([]store.DeliveryFailure, error)
	FindBookings(ctx context.Context, code, node string) ([]store.BookingFound, error)
}

// inboxStore is the operators' worklist, and the opt-outs an answer must
// respect.
type inboxStore interface {
	worklist.Store
	IsOptedOut(ctx context.Context, phone string) (bool, error)
}

// overviewStore is the live overview's and the metrics' read model.
type overviewStore interface {
	SMSActivity(ctx context.Context, from, to time.Time, node string) (store.Activity, error)
	GatewayHealth(ctx context.Context, now time.Time, window time.Duration) (store.GatewayStats, error)
	NodeGatewayHealth(ctx context.Context, now time.Time, window time.Duration, node string) (store.GatewayStats, error)
	CallActivity(ctx context.Context, from, to time.Time, node string) (made, answered int, err error)
	LatestProbes(ctx context.Context) ([]store.Probe, error)
	KnownNodes(ctx context.Context) ([]string, error)
	metricsStore
}

// metricsStore is what a metrics scrape reads.
type metricsStore interface {
	StatusTotals(ctx context.Context) ([]store.StatusTotal, error)
	InboxBacklog(ctx context.Context) (store.InboxBacklog, error)
	LastRun(ctx context.Context) (store.Run, error)
}

// levelsStore is what the service-level pages read.
type levelsStore interface {
	SLAReports(ctx context.Context) ([]store.SLAReport, error)
	AttemptedContacts(ctx context.Context, f store.AttemptFilter) ([]store.AttemptedContact, error)
	WrittenContacts(ctx context.Context, from, to time.Time) ([]store.WrittenContact, error)
	slareport.KeptStore
}

var _ Store = (*store.Store)(nil)
