package voice

import (
	"context"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
)

// optionsTrunk is a SIP server on 127.0.0.1 that answers OPTIONS with code,
// or never answers when code is 0.
func optionsTrunk(t *testing.T, code int) string {
	t.Helper()
	conn, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ua, err := sipgo.NewUA(sipgo.WithUserAgent("trunk"))
	if err != nil {
		t.Fatal(err)
	}
	srv, err := sipgo.NewServer(ua)
	if err != nil {
		t.Fatal(err)
	}
	srv.OnOptions(func(req *sip.Request, tx sip.ServerTransaction) {
		if code != 0 {
			_ = tx.Respond(sip.NewResponseFromRequest(req, code, "Test", nil))
		}
	})
	var serving sync.WaitGroup
	serving.Go(func() { _ = srv.ServeUDP(conn) })
	t.Cleanup(func() {
		conn.Close()
		ua.Close()
		serving.Wait()
	})
	return conn.LocalAddr().String()
}

func optionsCaller(t *testing.T, cfg Config) *Caller {
	t.Helper()
	cfg.Bind = "127.0.0.1:0"
	cfg.RTPPortMin, cfg.RTPPortMax = 30000, 30999
	c, err := NewCaller(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func TestTheUserAgentAnswersItsOwnOptions(t *testing.T) {
	t.Parallel()
	for _, transport := range []string{"udp", "tcp"} {
		t.Run(transport, func(t *testing.T) {
			t.Parallel()
			c := optionsCaller(t, Config{Transport: transport})
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			r, ok := c.ProbeSelf(ctx)
			if !ok || !r.Up || r.Code != 200 || r.Detail != "" || r.RTT <= 0 {
				t.Fatalf("self probe: %+v %v, want up with 200", r, ok)
			}
			if _, ok := c.ProbeTrunk(ctx); ok {
				t.Error("a trunk was probed with none configured")
			}
		})
	}
}

func TestTrunkProbe(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		code   int
		up     bool
		detail string
	}{
		{"a trunk answering 200 is up", 200, true, ""},
		{"a trunk challenging the probe is up", 407, true, ""},
		{"a trunk without OPTIONS is up", 405, true, ""},
		{"a trunk out of service is down", 503, false, "503 Test"},
		{"a trunk refusing us is down", 403, false, "403 Test"},
		{"a trunk that never answers is down", 0, false, "no answer in"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := optionsCaller(t, Config{Proxy: "sip:" + optionsTrunk(t, tc.code)})
			ctx, cancel := context.WithTimeout(context.Background(), 700*time.Millisecond)
			defer cancel()
			r, ok := c.ProbeTrunk(ctx)
			if !ok || r.Up != tc.up || r.Code != tc.code || !strings.HasPrefix(r.Detail, tc.detail) || (tc.detail == "" && r.Detail != "") {
				t.Fatalf("trunk probe: %+v %v, want up %v, code %d, detail %q", r, ok, tc.up, tc.code, tc.detail)
			}
		})
	}
}

func TestOptionsUp(t *testing.T) {
	t.Parallel()
	for code, up := range map[int]bool{200: true, 202: true, 401: true, 407: true, 405: true, 501: true,
		0: false, 403: false, 404: false, 408: false, 480: false, 500: false, 503: false, 603: false} {
		if OptionsUp(code) != up {
			t.Errorf("OptionsUp(%d) = %v, want %v", code, !up, up)
		}
	}
}
