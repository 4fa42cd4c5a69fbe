package mssql_test

import (
	"context"
	"errors"
	"net"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/richiamo/richiamo/internal/cup/mssql"
	"github.com/richiamo/richiamo/internal/cup/mssql/tdstest"
)

// dayRows are four bookings of the test day.
func dayRows() [][]any {
	return [][]any{
		booking("ASL1", "F-1", "333 1234567", wall(2026, 3, 10, 8, 0), "Rossi", "Mario"),
		booking("ASL1", "F-2", "333 1234568", wall(2026, 3, 10, 9, 0), "Bianchi", "Anna"),
		booking("ASL1", "F-3", "333 1234569", wall(2026, 3, 10, 10, 0), "Verdi", "Sara"),
		booking("ASL1", "F-4", "333 1234570", wall(2026, 3, 10, 11, 0), "Neri", "Ugo"),
	}
}

// hangUp is a listener that accepts connections and closes them at once,
// as a port forwarded to a node that is down does.
func hangUp(t *testing.T) (host string, port int) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	})
	t.Cleanup(func() {
		ln.Close()
		wg.Wait()
	})
	h, p, _ := net.SplitHostPort(ln.Addr().String())
	port, _ = strconv.Atoi(p)
	return h, port
}

// faultCase breaks node ASL1 in one way.
type faultCase struct {
	name string
	// opts changes the server before it starts; fault is set once it runs;
	// node changes the node's settings.
	opts  func(*tdstest.Options)
	fault tdstest.Fault
	node  func(t *testing.T, n *mssql.Node)
	cause string
	// mends is true when clearing the server's fault makes the next read
	// succeed, as the next schedule tick would.
	mends bool
	// logsIn is true when the node logs in and fails at its query, so
	// that a check still learns the server's version.
	logsIn bool
}

var faultCases = []faultCase{
	{name: "wrong password", cause: mssql.CauseLogin,
		node: func(_ *testing.T, n *mssql.Node) { n.Password = "password-sbagliata" }},
	{name: "login refused", fault: tdstest.Fault{Kind: tdstest.RefuseLogin}, cause: mssql.CauseLogin, mends: true},
	{name: "database the login cannot open", cause: mssql.CauseLogin,
		node: func(_ *testing.T, n *mssql.Node) { n.Database = "CUP_STORICO" }},
	{name: "login left without an answer", fault: tdstest.Fault{Kind: tdstest.StallLogin}, cause: mssql.CauseTimeout, mends: true,
		node: func(_ *testing.T, n *mssql.Node) { n.ConnectTimeout = 300 * time.Millisecond }},
	{name: "view that does not exist", cause: mssql.CauseQuery, logsIn: true,
		node: func(_ *testing.T, n *mssql.Node) {
			n.Query = strings.Replace(n.Query, "dbo.richiamo_prenotazioni", "dbo.prenotazioni", 1)
		}},
	{name: "error token in answer to the query", cause: mssql.CauseQuery, mends: true, logsIn: true,
		fault: tdstest.Fault{Kind: tdstest.QueryError, Error: tdstest.Error{Number: 229, State: 5, Class: 14,
			Message: "The SELECT permission was denied on the object 'richiamo_prenotazioni', database 'CUP', schema 'dbo'."}}},
	{name: "connection cut halfway through the rows", fault: tdstest.Fault{Kind: tdstest.DropMidResult, AfterRows: 2}, cause: mssql.CauseNetwork, mends: true, logsIn: true},
	{name: "query left without an answer", fault: tdstest.Fault{Kind: tdstest.StallQuery}, cause: mssql.CauseTimeout, mends: true, logsIn: true,
		node: func(_ *testing.T, n *mssql.Node) { n.QueryTimeout = time.Second }},
	{name: "query stalled after some rows", fault: tdstest.Fault{Kind: tdstest.StallQuery, AfterRows: 2}, cause: mssql.CauseTimeout, mends: true, logsIn: true,
		node: func(_ *testing.T, n *mssql.Node) { n.QueryTimeout = time.Second }},
	{name: "certificate of an unknown authority", cause: mssql.CauseTLS,
		node: func(_ *testing.T, n *mssql.Node) { n.CAFile = "" }},
	{name: "certificate for another name", cause: mssql.CauseTLS,
		node: func(_ *testing.T, n *mssql.Node) { n.ServerName = "cup-asl1.sanita.example" }},
	{name: "server that cannot encrypt", cause: mssql.CauseTLS,
		opts: func(o *tdstest.Options) { o.Encryption = tdstest.EncryptionNone },
		node: func(_ *testing.T, n *mssql.Node) { n.Encrypt, n.CAFile = "", "" }},
	{name: "server that hangs up", cause: mssql.CauseNetwork,
		node: func(t *testing.T, n *mssql.Node) { n.Server, n.Port = hangUp(t) }},
	{name: "result without the phone column", cause: mssql.CauseQuery, logsIn: true,
		opts: func(o *tdstest.Options) {
			o.Columns = o.Columns[:3]
			for i := range o.Rows {
				o.Rows[i] = o.Rows[i][:3]
			}
		}},
	{name: "CA file that is not there", cause: mssql.CauseConfig,
		node: func(t *testing.T, n *mssql.Node) { n.CAFile = filepath.Join(t.TempDir(), "missing.pem") }},
	{name: "query without the window", cause: mssql.CauseConfig,
		node: func(_ *testing.T, n *mssql.Node) { n.Query = "SELECT * FROM dbo.richiamo_prenotazioni" }},
}

// brokenNode starts node ASL1's server broken as tc says.
func brokenNode(t *testing.T, tc faultCase) bundle {
	t.Helper()
	opts := tdstest.Options{Columns: columns, Rows: dayRows(), Encryption: tdstest.EncryptionOffered}
	if tc.opts != nil {
		tc.opts(&opts)
	}
	b := setupWith(t, "ASL1", opts)
	b.srv.SetFault(tc.fault)
	if tc.node != nil {
		tc.node(t, &b.node)
	}
	return b
}

func TestAFailingNodeIsReportedAndTheOtherServed(t *testing.T) {
	t.Parallel()
	for _, tc := range faultCases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			broken := brokenNode(t, tc)
			healthy := setup(t, "AO", [][]any{booking("AO", "G-1", "340 1112223", wall(2026, 3, 10, 12, 0), "Russo", "Lucia")})

			// Read both nodes at once, as a schedule tick does.
			var wg sync.WaitGroup
			var brokenRes, healthyRes *mssql.Result
			var brokenErr, healthyErr error
			wg.Go(func() { brokenRes, brokenErr = mssql.Fetch(context.Background(), broken.node, from, to) })
			wg.Go(func() { healthyRes, healthyErr = mssql.Fetch(context.Background(), healthy.node, from, to) })
			wg.Wait()

			var ne *mssql.NodeError
			if !errors.As(brokenErr, &ne) {
				t.Fatalf("broken node: %v, want a *NodeError", brokenErr)
			}
			if ne.Node != "ASL1" || ne.Cause != tc.cause {
				t.Errorf("NodeError for node %q with cause %q, want ASL1 and %q: %v", ne.Node, ne.Cause, tc.cause, ne)
			}
			if brokenRes != nil {
				t.Errorf("broken node returned %d rows with its error", brokenRes.Rows)
			}
			msg := brokenErr.Error()
			if !strings.HasPrefix(msg, "node ASL1: ") {
				t.Errorf("message %q does not start with the node", msg)
			}
			for _, leak := range []string{"1234567", "1234568", broken.srv.Password()} {
				if strings.Contains(msg, leak) {
					t.Errorf("message %q discloses %q", msg, leak)
				}
			}
			t.Logf("%v", brokenErr)

			if healthyErr != nil {
				t.Fatalf("healthy node: %v", healthyErr)
			}
			if len(healthyRes.Bookings()) != 1 {
				t.Errorf("healthy node gave %v", outcomes(t, healthyRes))
			}

			if !tc.mends {
				return
			}
			// The next tick reads the node afresh: every row once, none
			// left over from the failed read.
			broken.srv.SetFault(tdstest.Fault{})
			res, err := mssql.Fetch(context.Background(), broken.node, from, to)
			if err != nil {
				t.Fatalf("after the fault: %v", err)
			}
			if len(res.Bookings()) != 4 || res.Rows != 4 {
				t.Errorf("after the fault: %v, want the day's 4 bookings", outcomes(t, res))
			}
		})
	}
}
