package remind

import (
	"testing"
	"time"
)

func TestSenderLeftUnsetFollowsTheDefaultDiscipline(t *testing.T) {
	t.Parallel()
	s := &Sender{ReconcileAfter: 0}
	s.init()
	if s.Rate != DefaultRate || s.Concurrency != DefaultConcurrency || s.MaxAttempts != DefaultMaxAttempts ||
		s.RetryBase != DefaultRetryBase || s.Lease != DefaultLease {
		t.Fatalf("defaults: %+v", s)
	}
	if s.ReconcileAfter != 0 {
		t.Fatalf("a reconcile_after of 0 asks the provider at once, kept: %s", s.ReconcileAfter)
	}
	s = &Sender{Rate: 2, Concurrency: 1, MaxAttempts: 1, RetryBase: time.Second, Lease: time.Minute}
	s.init()
	if s.Rate != 2 || s.Concurrency != 1 || s.MaxAttempts != 1 || s.RetryBase != time.Second || s.Lease != time.Minute {
		t.Fatalf("settings given were changed: %+v", s)
	}
}
