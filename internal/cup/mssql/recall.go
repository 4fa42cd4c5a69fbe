package mssql

import (
	"context"
	"database/sql"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/golang-sql/civil"

	"github.com/richiamo/richiamo/internal/cup"
)

var paramAgendas = regexp.MustCompile(`(?i)@agende\b`)

// ValidateRecallQuery checks a node's recall query: like the reminder
// query it takes @from and @to, and also @agende, the agenda codes as one
// comma-separated NVARCHAR (STRING_SPLIT(@agende, ',') in T-SQL).
func ValidateRecallQuery(node, q string) error {
	key := fmt.Sprintf("cup.nodes[%s].recall_query", node)
	switch {
	case strings.TrimSpace(q) == "":
		return fmt.Errorf("%s: empty", key)
	case !paramFrom.MatchString(q) || !paramTo.MatchString(q):
		return fmt.Errorf("%s: must use @from and @to", key)
	case !paramAgendas.MatchString(q):
		return fmt.Errorf("%s: must use @agende (the agenda codes)", key)
	}
	return nil
}

// FetchRecall reads the bookings of agendas with appointments in [from,
// to) through the node's recall query, completely, as Fetch does. A row
// whose number is a landline is kept as a booking: a landline can be
// called, though it cannot be sent an SMS.
func FetchRecall(ctx context.Context, n Node, query string, agendas []string, from, to time.Time) (*Result, error) {
	start := time.Now()
	if err := ValidateRecallQuery(n.Name, query); err != nil {
		return nil, &NodeError{Node: n.Name, Cause: CauseConfig, Err: err}
	}
	if len(agendas) == 0 {
		return nil, &NodeError{Node: n.Name, Cause: CauseConfig, Err: fmt.Errorf("no agenda to read")}
	}
	n.Query = query
	if err := n.Validate(); err != nil {
		return nil, &NodeError{Node: n.Name, Cause: CauseConfig, Err: err}
	}
	if !to.After(from) {
		return nil, &NodeError{Node: n.Name, Cause: CauseConfig,
			Err: fmt.Errorf("empty window from %s to %s", from.Format(time.RFC3339), to.Format(time.RFC3339))}
	}
	s, err := connect(ctx, n)
	if err != nil {
		return nil, err
	}
	defer s.close()
	res, err := s.readWith(ctx, true,
		sql.Named("from", civil.DateTimeOf(from.In(cup.Rome))),
		sql.Named("to", civil.DateTimeOf(to.In(cup.Rome))),
		sql.Named("agende", strings.Join(agendas, ",")))
	if err != nil {
		return nil, err
	}
	res.Elapsed = time.Since(start)
	return res, nil
}
