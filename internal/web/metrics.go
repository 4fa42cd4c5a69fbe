package web

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/richiamo/richiamo/internal/store"
)

// Metrics is the engine's Prometheus registry. Gauges about the outbox, the
// inbox and the latest import are read from the store at each scrape, so
// that every engine process reports the same shared state; counters are
// per process.
type Metrics struct {
	reg *prometheus.Registry
	// WebhookErrors counts webhook requests the engine could not accept,
	// by webhook ("status", "inbound") and reason ("signature", "bad_request",
	// "store"). The webhooks increment it.
	WebhookErrors *prometheus.CounterVec
	logins        *prometheus.CounterVec
}

func newMetrics(st metricsStore, now func() time.Time) *Metrics {
	m := &Metrics{reg: prometheus.NewRegistry()}
	m.WebhookErrors = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "richiamo_webhook_errors_total",
		Help: "Webhook requests not accepted, by webhook and reason.",
	}, []string{"webhook", "reason"})
	m.logins = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "richiamo_console_logins_total",
		Help: "Console sign-in attempts by outcome (ok, failed, blocked).",
	}, []string{"outcome"})
	for _, o := range []string{"ok", "failed", "blocked"} {
		m.logins.WithLabelValues(o)
	}
	m.reg.MustRegister(m.WebhookErrors, m.logins, &storeCollector{st: st, now: now},
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// Registry lets other parts of the engine register their own collectors.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// Handler serves the registry in Prometheus's text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
}

var (
	descUp       = prometheus.NewDesc("richiamo_store_up", "1 when the store answered the scrape's queries.", nil, nil)
	descMessages = prometheus.NewDesc("richiamo_sms_messages", "Messages in the outbox by status, every kind.", []string{"status"}, nil)
	descInbox    = prometheus.NewDesc("richiamo_inbox_open_items", "Items waiting in the operators' inbox, by kind (reply, cancel).", []string{"kind"}, nil)
	descOldest   = prometheus.NewDesc("richiamo_inbox_oldest_wait_seconds", "How long the oldest open inbox item of a kind has waited.", []string{"kind"}, nil)
	descRunDur   = prometheus.NewDesc("richiamo_import_last_duration_seconds", "Duration of the latest finished import (reading, planning, writing).", nil, nil)
	descRunEnd   = prometheus.NewDesc("richiamo_import_last_finished_timestamp_seconds", "When the latest import finished.", nil, nil)
	descRunRows  = prometheus.NewDesc("richiamo_import_last_rows", "Rows of the latest import by outcome (valid, duplicate, rejected).", []string{"outcome"}, nil)
)

// statuses are reported even at zero, so that a rate over them has a
// series to start from.
var statuses = []string{store.StatusPlanned, store.StatusClaimed, store.StatusSending, store.StatusUnknown, store.StatusSent,
	store.StatusDelivered, store.StatusUndelivered, store.StatusFailed, store.StatusWithdrawn, store.StatusExpired}

type storeCollector struct {
	st  metricsStore
	now func() time.Time
}

func (sc *storeCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descUp, descMessages, descInbox, descOldest, descRunDur, descRunEnd, descRunRows} {
		ch <- d
	}
}

func (sc *storeCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	up := 1.0
	defer func() { ch <- prometheus.MustNewConstMetric(descUp, prometheus.GaugeValue, up) }()
	totals, err := sc.st.StatusTotals(ctx)
	if err != nil {
		up = 0
		return
	}
	byStatus := map[string]float64{}
	for _, s := range statuses {
		byStatus[s] = 0
	}
	for _, t := range totals {
		byStatus[t.Status] = float64(t.Messages)
	}
	for s, n := range byStatus {
		ch <- prometheus.MustNewConstMetric(descMessages, prometheus.GaugeValue, n, s)
	}
	b, err := sc.st.InboxBacklog(ctx)
	if err != nil {
		up = 0
		return
	}
	now := sc.now()
	wait := func(arrived int64) float64 {
		if arrived == 0 {
			return 0
		}
		return now.Sub(store.FromMillis(arrived)).Seconds()
	}
	ch <- prometheus.MustNewConstMetric(descInbox, prometheus.GaugeValue, float64(b.Replies), store.InboxReply)
	ch <- prometheus.MustNewConstMetric(descInbox, prometheus.GaugeValue, float64(b.Cancellations), store.InboxCancel)
	ch <- prometheus.MustNewConstMetric(descOldest, prometheus.GaugeValue, wait(b.OldestReply), store.InboxReply)
	ch <- prometheus.MustNewConstMetric(descOldest, prometheus.GaugeValue, wait(b.OldestCancel), store.InboxCancel)
	run, err := sc.st.LastRun(ctx)
	if errors.Is(err, store.ErrNotFound) {
		return
	}
	if err != nil {
		up = 0
		return
	}
	ch <- prometheus.MustNewConstMetric(descRunDur, prometheus.GaugeValue, float64(run.FinishedAt-run.StartedAt)/1000)
	ch <- prometheus.MustNewConstMetric(descRunEnd, prometheus.GaugeValue, float64(run.FinishedAt)/1000)
	ch <- prometheus.MustNewConstMetric(descRunRows, prometheus.GaugeValue, float64(run.Valid), "valid")
	ch <- prometheus.MustNewConstMetric(descRunRows, prometheus.GaugeValue, float64(run.Duplicates), "duplicate")
	ch <- prometheus.MustNewConstMetric(descRunRows, prometheus.GaugeValue, float64(run.Rejected), "rejected")
}
