package voice

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/richiamo/richiamo/internal/testkit"
)

func TestRegistrationRefreshedAndWithdrawn(t *testing.T) {
	t.Parallel()
	s := startSIPp(t, "register.xml")
	c := newTestCaller(t, Config{Registrar: s.proxy(), Username: "cup", Password: "s3cret"})
	first := c.Registration()
	if !first.Registered || first.Registrar != s.proxy() || first.LastError != "" {
		t.Fatalf("after start: %+v", first)
	}
	if left := time.Until(first.Expires); left <= 0 || left > 6*time.Second {
		t.Errorf("the registrar granted 6s; the binding lapses in %s", left)
	}
	// The refresh gets 503 and is retried before the binding lapses; the
	// retry is granted 30s.
	var sawFailure bool
	testkit.WaitFor(t, func() error {
		r := c.Registration()
		if strings.Contains(r.LastError, "503") {
			sawFailure = true
			if !r.Registered {
				t.Errorf("unregistered by a failed refresh before the binding lapsed: %+v", r)
			}
		}
		if r.LastError == "" && r.Expires.Sub(first.Expires) > 20*time.Second {
			if !r.Registered {
				t.Errorf("refreshed but not registered: %+v", r)
			}
			return nil
		}
		return fmt.Errorf("no successful refresh: %+v", r)
	}, 10*time.Second)
	if !sawFailure {
		t.Error("the failed refresh was not reported by Registration")
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if r := c.Registration(); r.Registered || !r.Expires.IsZero() {
		t.Errorf("after Close: %+v", r)
	}
	s.wait() // SIPp got the REGISTER with Expires: 0
}

func TestRegistrationWithAWrongPasswordFailsTheStart(t *testing.T) {
	t.Parallel()
	s := startSIPp(t, "register.xml")
	c, err := NewCaller(Config{Bind: "127.0.0.1:0", Registrar: s.proxy(), Username: "cup", Password: "guess", Log: testkit.Logger(t)})
	if err == nil {
		c.Close()
		t.Fatal("started with a wrong password")
	}
	if !strings.Contains(err.Error(), s.proxy()) || !strings.Contains(err.Error(), "403") {
		t.Errorf("the error does not name the registrar and the code: %v", err)
	}
	s.wait()
}

func TestGrantedExpiryAndRefreshTimes(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ granted, refresh time.Duration }{
		{6 * time.Second, 3 * time.Second},
		{2 * time.Minute, time.Minute},
		{10 * time.Minute, 9 * time.Minute},
		{time.Hour, 59 * time.Minute},
	} {
		if got := refreshAfter(tc.granted); got != tc.refresh {
			t.Errorf("granted %s: refresh after %s, want %s", tc.granted, got, tc.refresh)
		}
	}
}
