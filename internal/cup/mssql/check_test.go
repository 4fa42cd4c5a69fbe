package mssql_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/richiamo/richiamo/internal/cup/mssql"
	"github.com/richiamo/richiamo/internal/cup/mssql/tdstest"
)

func TestCheckReportsEachNode(t *testing.T) {
	t.Parallel()
	tomorrow := from.Add(15 * time.Hour)
	t.Run("node that answers", func(t *testing.T) {
		t.Parallel()
		rows := append(dayRows(),
			booking("ASL1", "F-5", "06 1234 5678", wall(2026, 3, 10, 12, 0), "Gallo", "Rita"),
			booking("ASL1", "F-6", "333 1234571", wall(2026, 3, 11, 8, 0), "Conti", "Elia"))
		b := setup(t, "ASL1", rows)
		got := mssql.Check(context.Background(), b.node, tomorrow)
		if !got.OK || got.Error != "" || got.Cause != "" {
			t.Fatalf("check %+v, want ok", got)
		}
		if got.Node != "ASL1" || got.Bookings != 4 || got.Rejected != 1 {
			t.Errorf("check %+v, want node ASL1 with 4 bookings and 1 rejected", got)
		}
		if want := "Microsoft SQL Server 2022 (RTM) - 16.0.1000.6 (X64) (tdstest)"; got.Version != want {
			t.Errorf("version %q, want %q", got.Version, want)
		}
		// A round trip over TCP takes some time, however little.
		if got.LatencyMS <= 0 {
			t.Errorf("latency %v ms", got.LatencyMS)
		}
		qs := b.srv.Queries()
		if len(qs) != 2 || qs[0].Text != "SELECT @@VERSION" || qs[1].Params["from"].Value != wall(2026, 3, 10, 0, 0) {
			t.Errorf("queries %+v, want SELECT @@VERSION then the node's query for 10/03/2026", qs)
		}
	})

	for _, tc := range faultCases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := brokenNode(t, tc)
			got := mssql.Check(context.Background(), b.node, tomorrow)
			if got.OK || got.Cause != tc.cause || got.Node != "ASL1" || got.Error == "" {
				t.Fatalf("check %+v, want a failure with cause %q", got, tc.cause)
			}
			if strings.HasPrefix(got.Error, "node ") {
				t.Errorf("error %q repeats the node", got.Error)
			}
			// A failed query still tells which server answered.
			if tc.logsIn != (got.Version != "") {
				t.Errorf("version %q after a failure with cause %s", got.Version, got.Cause)
			}
			if got.Bookings != 0 || got.Rejected != 0 {
				t.Errorf("counts %d/%d from a failed node", got.Bookings, got.Rejected)
			}
		})
	}
}

func TestCheckResultJSON(t *testing.T) {
	t.Parallel()
	b := setup(t, "ASL1", nil)
	b.srv.SetFault(tdstest.Fault{Kind: tdstest.RefuseLogin})
	got, err := json.Marshal(mssql.Check(context.Background(), b.node, from))
	if err != nil {
		t.Fatal(err)
	}
	want := `{"node":"ASL1","ok":false,"latency_ms":0,"bookings_tomorrow":0,"rejected_tomorrow":0,` +
		`"error":"login failed: mssql: Login failed for user 'richiamo_reader'. (18456)","cause":"login"}`
	if string(got) != want {
		t.Errorf("JSON\n%s\nwant\n%s", got, want)
	}
}
