package web

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/richiamo/richiamo/internal/store"
)

func TestTheServerBoundsEveryRequest(t *testing.T) {
	t.Parallel()
	srv := NewHTTPServer(http.NotFoundHandler())
	for _, tc := range []struct {
		name string
		got  time.Duration
	}{
		{"headers must arrive in time", srv.ReadHeaderTimeout},
		{"the whole request must arrive in time", srv.ReadTimeout},
		{"the answer must be taken in time", srv.WriteTimeout},
		{"an idle connection is closed", srv.IdleTimeout},
	} {
		if tc.got <= 0 || tc.got > 2*time.Minute {
			t.Errorf("%s: %s", tc.name, tc.got)
		}
	}
	if srv.ReadTimeout > 30*time.Second {
		t.Errorf("a slow client may hold a connection for %s", srv.ReadTimeout)
	}
	if srv.MaxHeaderBytes <= 0 || srv.MaxHeaderBytes > 64<<10 {
		t.Errorf("headers of %d bytes accepted", srv.MaxHeaderBytes)
	}
}

func TestBodyLimitRefusesWhatNoRouteTakes(t *testing.T) {
	t.Parallel()
	read := 0
	h := LimitBody(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err != nil {
			http.Error(w, err.Error(), http.StatusRequestEntityTooLarge)
			return
		}
		read = len(r.PostForm.Get("x"))
	}), 1024)
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	var mp bytes.Buffer
	mw := multipart.NewWriter(&mp)
	fw, _ := mw.CreateFormFile("file", "big.bin")
	_, _ = fw.Write(bytes.Repeat([]byte("x"), 100))
	_ = mw.Close()
	big := "x=" + strings.Repeat("a", 1<<20)
	for _, tc := range []struct {
		name, ctype string
		body        io.Reader
		want        int
	}{
		{"a small form is read", "application/x-www-form-urlencoded", strings.NewReader("x=abc"), http.StatusOK},
		{"a declared oversized body is refused unread", "application/x-www-form-urlencoded", strings.NewReader(big), http.StatusRequestEntityTooLarge},
		{"an oversized body without a length is cut", "application/x-www-form-urlencoded", io.MultiReader(strings.NewReader(big)), http.StatusRequestEntityTooLarge},
		{"a multipart upload is refused", mw.FormDataContentType(), bytes.NewReader(mp.Bytes()), http.StatusUnsupportedMediaType},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, err := http.Post(srv.URL, tc.ctype, tc.body)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tc.want {
				t.Fatalf("status %d, want %d", resp.StatusCode, tc.want)
			}
		})
	}
	if read != 3 {
		t.Fatalf("the small form was read as %d bytes", read)
	}
}

// postRaw posts a body as it is, with the client's cookies.
func (c *client) postRaw(path, ctype string, body io.Reader) page {
	c.t.Helper()
	req, err := http.NewRequest(http.MethodPost, c.base+path, body)
	if err != nil {
		c.t.Fatal(err)
	}
	req.Header.Set("Content-Type", ctype)
	return c.do(req)
}

func TestConsoleFormsRefuseOversizedAndMultipartBodies(t *testing.T) {
	t.Parallel()
	b := setup(t)
	anon := b.client(t)
	tok := anon.csrf(anon.get("/accesso"))
	huge := url.Values{"csrf": {tok}, "nome": {strings.Repeat("a", 1<<20)}, "password": {"x"}}.Encode()
	var mp bytes.Buffer
	mw := multipart.NewWriter(&mp)
	_ = mw.WriteField("csrf", tok)
	_ = mw.WriteField("nome", roleUsers[RoleOperator])
	_ = mw.WriteField("password", testPassword)
	fw, _ := mw.CreateFormFile("allegato", "big.bin")
	_, _ = fw.Write(bytes.Repeat([]byte("x"), 4096))
	_ = mw.Close()

	op := b.signedIn(t, roleUsers[RoleOperator])
	opTok := op.csrf(op.get("/panoramica"))
	for _, tc := range []struct {
		name  string
		c     *client
		path  string
		ctype string
		body  io.Reader
		want  int
	}{
		{"sign-in with a 1 MiB name", anon, "/accesso", "application/x-www-form-urlencoded", strings.NewReader(huge), http.StatusRequestEntityTooLarge},
		{"sign-in with a 1 MiB name sent in chunks", anon, "/accesso", "application/x-www-form-urlencoded", io.MultiReader(strings.NewReader(huge)), http.StatusRequestEntityTooLarge},
		{"sign-in as a multipart upload", anon, "/accesso", mw.FormDataContentType(), bytes.NewReader(mp.Bytes()), http.StatusUnsupportedMediaType},
		{"sign-out with a 1 MiB body", op, "/esci", "application/x-www-form-urlencoded",
			strings.NewReader(url.Values{"csrf": {opTok}, "x": {strings.Repeat("a", 1<<20)}}.Encode()), http.StatusRequestEntityTooLarge},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if p := tc.c.postRaw(tc.path, tc.ctype, tc.body); p.status != tc.want {
				t.Fatalf("status %d, want %d", p.status, tc.want)
			}
		})
	}
	// The operator is still signed in: the refused sign-out did nothing.
	if p := op.get("/panoramica"); p.status != http.StatusOK {
		t.Fatalf("overview after the refused sign-out: %d", p.status)
	}
	es, err := b.st.AuditEntries(context.Background(), store.AuditFilter{Action: actionLoginFailed})
	if err != nil {
		t.Fatal(err)
	}
	if len(es) != 0 {
		t.Fatalf("a refused form reached the audit log: %+v", es)
	}
}

func TestSignInFloodFromABlockedAddressWritesOneLine(t *testing.T) {
	t.Parallel()
	b := setupWith(t, setupOpts{login: LoginLimits{PerAccount: 100, PerIP: 3, Window: time.Hour}})
	c := b.client(t)
	long := strings.Repeat("n", 8000)
	for i := range 3 {
		if p := c.login(fmt.Sprintf("%s%d", long, i), "wrong-password"); p.status != http.StatusUnauthorized {
			t.Fatalf("attempt %d: %d", i, p.status)
		}
	}
	for i := range 20 {
		if p := c.login(fmt.Sprintf("%s%d", long, i), "wrong-password"); p.status != http.StatusTooManyRequests {
			t.Fatalf("attempt %d after the block: %d", i, p.status)
		}
	}
	ctx := context.Background()
	failed, _ := b.st.AuditEntries(ctx, store.AuditFilter{Action: actionLoginFailed})
	blocked, _ := b.st.AuditEntries(ctx, store.AuditFilter{Action: actionLoginBlocked})
	if len(failed) != 3 || len(blocked) != 1 {
		t.Fatalf("%d failed and %d blocked lines, want 3 and 1", len(failed), len(blocked))
	}
	for _, e := range append(failed, blocked...) {
		if len(e.Actor) > maxNameLen {
			t.Fatalf("the audit log keeps a name of %d bytes", len(e.Actor))
		}
	}
	// The form shows back no more of the name than was kept.
	if p := c.login(long, "x"); strings.Contains(p.body, long) {
		t.Fatal("the form echoes the whole name")
	}
}

func TestSignInLimiterKeepsCountingThroughAFlood(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC)
	junk := func(l *loginLimiter, n int) {
		for i := range n {
			l.fail(fmt.Sprintf("junk-%d-%d", n, i), fmt.Sprintf("10.0.%d.%d", i%323/256, i%323%256), t0)
		}
	}
	blocked := func(l *loginLimiter, name, ip string) bool {
		wait, _ := l.blocked(name, ip, t0)
		return wait > 0
	}
	t.Run("an account tried after the table filled up is blocked", func(t *testing.T) {
		l := newLoginLimiter(LoginLimits{PerAccount: 5, PerIP: 30, Window: time.Hour})
		junk(l, maxTracked)
		for i := 0; !blocked(l, "admin", "192.168.1.1"); i++ {
			if i == 1000 {
				t.Fatal("1,000 wrong passwords for admin and still not blocked")
			}
			l.fail("admin", "192.168.1.1", t0)
		}
	})
	t.Run("an account under attack stays blocked while a flood goes on", func(t *testing.T) {
		l := newLoginLimiter(LoginLimits{PerAccount: 5, PerIP: 30, Window: time.Hour})
		for range 5 {
			l.fail("admin", "192.168.1.1", t0)
		}
		for range 3 {
			junk(l, maxTracked/2)
			if !blocked(l, "admin", "192.168.1.2") {
				t.Fatal("the flood freed the account under attack")
			}
		}
	})
	t.Run("memory stays bounded", func(t *testing.T) {
		l := newLoginLimiter(LoginLimits{PerAccount: 5, PerIP: 30, Window: time.Hour})
		junk(l, 3*maxTracked)
		if len(l.fails) > maxTracked || l.recent.Len() != len(l.fails) {
			t.Fatalf("%d names and addresses held (%d in order)", len(l.fails), l.recent.Len())
		}
	})
	t.Run("only the first refused attempt of a block is worth writing", func(t *testing.T) {
		l := newLoginLimiter(LoginLimits{PerAccount: 2, PerIP: 30, Window: time.Hour})
		l.fail("mario", "10.0.0.1", t0)
		l.fail("mario", "10.0.0.1", t0)
		var firsts int
		for range 10 {
			if _, first := l.blocked("mario", "10.0.0.1", t0); first {
				firsts++
			}
		}
		if firsts != 1 {
			t.Fatalf("%d attempts reported as the first of the block", firsts)
		}
	})
}

func TestAfterSignInTheRedirectStaysOnTheConsole(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ name, dopo, want string }{
		{"a console page", "/promemoria/cerca?codice=A1", "/promemoria/cerca?codice=A1"},
		{"nothing asked", "", "/panoramica"},
		{"another site", "https://evil.example/", "/panoramica"},
		{"another site without scheme", "//evil.example", "/panoramica"},
		{"a backslash browsers read as a slash", "/\\evil.example", "/panoramica"},
		{"a tab browsers drop", "/\t/evil.example", "/panoramica"},
		{"a line break browsers drop", "/\n/evil.example", "/panoramica"},
		{"a space before the slashes", "/ /evil.example", "/panoramica"},
		{"a backslash further on", "/a\\..\\\\evil.example", "/panoramica"},
		{"a relative path", "evil.example", "/panoramica"},
		{"the sign-in page itself", "/accesso?dopo=/panoramica", "/panoramica"},
		{"a NUL byte", "/panoramica\x00", "/panoramica"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := localPath(tc.dopo); got != tc.want {
				t.Fatalf("localPath(%q) = %q, want %q", tc.dopo, got, tc.want)
			}
		})
	}
	t.Run("through the form", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		c := b.client(t)
		form := c.get("/accesso?dopo=%2F%09%2Fevil.example")
		p := c.post("/accesso", url.Values{"csrf": {c.csrf(form)}, "nome": {roleUsers[RoleOperator]},
			"password": {testPassword}, "dopo": {"/\t/evil.example"}})
		if p.status != http.StatusSeeOther || p.header.Get("Location") != "/panoramica" {
			t.Fatalf("status %d, Location %q", p.status, p.header.Get("Location"))
		}
	})
}
