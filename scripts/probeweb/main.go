// Command probeweb starts `richiamo serve` on loopback with a throwaway
// SQLite store and sends it what an unfriendly client would: oversized and
// multipart bodies to the webhooks and the sign-in form, a flood of failed
// sign-ins with long names, connections that trickle a byte every few
// seconds, and sign-ins that ask to be sent to another site afterwards. It
// prints what each did and, last, one line:
//
//	probe rss_mb_peak=… store_growth_mb=… held_slow_conns=… redirect_offsite=…
//
// Every part is bounded in count and time; the whole takes well under two
// minutes.
package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/richiamo/richiamo/internal/web"
)

const (
	token    = "0123456789abcdef0123456789abcdef"
	account  = "AC0123456789abcdef0123456789abcdef"
	user     = "amministratore"
	password = "password-della-sonda-1"
)

func main() {
	bin := flag.String("richiamo", "bin/richiamo", "the richiamo binary")
	campaign := flag.String("campaign", "campaigns/reminder.yaml", "the reminder campaign file")
	oversized := flag.Int("oversized", 48, "parallel oversized requests of each kind")
	floods := flag.Int("flood", 300, "failed sign-ins of the flood")
	slow := flag.Int("slow", 300, "connections that trickle a byte every -trickle")
	trickle := flag.Duration("trickle", 5*time.Second, "pause between the bytes of a slow connection")
	flag.Parse()
	log.SetFlags(0)
	log.SetPrefix("probe-web: ")

	dir, err := os.MkdirTemp("", "richiamo-probe-")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	camp, err := filepath.Abs(*campaign)
	if err != nil {
		log.Fatal(err)
	}
	addr := freeAddr()
	base := "http://" + addr
	cfg := fmt.Sprintf(`store:
  sqlite: richiamo.db
campaigns:
  reminder: %s
extract:
  inbox: inbox/*.csv
sms:
  twilio:
    account_sid: %s
    messaging_service_sid: MG0123456789abcdef0123456789abcdef
    base_url: http://127.0.0.1:9
web:
  listen: %s
  public_url: %s
log:
  level: error
`, camp, account, addr, base)
	cfgPath := filepath.Join(dir, "richiamo.yaml")
	must(os.WriteFile(cfgPath, []byte(cfg), 0o600))
	must(os.MkdirAll(filepath.Join(dir, "inbox"), 0o750))
	tmp := filepath.Join(dir, "tmp")
	must(os.MkdirAll(tmp, 0o750))
	env := append(os.Environ(), "RICHIAMO_TWILIO_AUTH_TOKEN="+token, "TMPDIR="+tmp)

	add := exec.Command(*bin, "user", "add", "--config", cfgPath, "--name", user, "--role", "admin", "--password-stdin")
	add.Env, add.Stdin, add.Stderr = env, strings.NewReader(password+"\n"), os.Stderr
	if err := add.Run(); err != nil {
		log.Fatalf("user add: %v", err)
	}
	var serveErr bytes.Buffer
	srv := exec.Command(*bin, "serve", "--config", cfgPath)
	srv.Env, srv.Stderr = env, &serveErr
	must(srv.Start())
	defer func() {
		_ = srv.Process.Kill()
		_ = srv.Wait()
	}()
	if err := waitHealthy(base); err != nil {
		log.Fatalf("serve did not start: %v\n%s", err, serveErr.String())
	}
	storeBefore := storeSize(dir)
	rssStart := rss(srv.Process.Pid, "VmRSS")
	fmt.Printf("serve up on %s: rss %.1f MB, store %.2f MB\n", addr, rssStart, float64(storeBefore)/1e6)

	statuses := oversizedRequests(base, *oversized)
	fmt.Printf("oversized and multipart requests: %s; temporary files left: %d\n", statuses, countFiles(tmp))

	// Before the flood, which blocks this address.
	offsite := redirects(base)
	fmt.Printf("sign-ins asking to be sent to another site: %d sent there\n", offsite)

	written, blocked := signInFlood(base, *floods)
	fmt.Printf("sign-in flood: %d failed attempts with 8 KiB names, %d refused as blocked\n", written, blocked)

	held := slowConnections(addr, *slow, *trickle)
	fmt.Printf("slow connections: %d opened, %d still held %s after the read timeout (%s)\n", *slow, held, slowMargin, web.ReadTimeout)

	rssPeak := rss(srv.Process.Pid, "VmHWM")
	growth := float64(storeSize(dir)-storeBefore) / 1e6
	if srv.ProcessState != nil {
		log.Fatalf("serve exited during the probe:\n%s", serveErr.String())
	}
	fmt.Printf("probe rss_mb_peak=%.1f store_growth_mb=%.2f held_slow_conns=%d redirect_offsite=%d\n", rssPeak, growth, held, offsite)
}

func must(err error) {
	if err != nil {
		log.Fatal(err)
	}
}

func freeAddr() string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	must(err)
	defer ln.Close()
	return ln.Addr().String()
}

func waitHealthy(base string) error {
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get(base + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("no answer on %s/healthz: %v", base, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// rss reads a memory figure of /proc/PID/status in MB: VmRSS now, VmHWM
// the peak since the process started.
func rss(pid int, field string) float64 {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	must(err)
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), field+":"); ok {
			kb, _ := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 64)
			return kb / 1024
		}
	}
	return 0
}

func storeSize(dir string) int64 {
	var n int64
	for _, s := range []string{"", "-wal", "-shm"} {
		if fi, err := os.Stat(filepath.Join(dir, "richiamo.db"+s)); err == nil {
			n += fi.Size()
		}
	}
	return n
}

func countFiles(dir string) int {
	es, _ := os.ReadDir(dir)
	return len(es)
}

// zeros is a body of n bytes made as it is sent, so that the client holds
// none of it.
type zeros struct {
	n    int64
	fill byte
}

func (z *zeros) Read(p []byte) (int, error) {
	if z.n <= 0 {
		return 0, io.EOF
	}
	if int64(len(p)) > z.n {
		p = p[:z.n]
	}
	for i := range p {
		p[i] = z.fill
	}
	z.n -= int64(len(p))
	return len(p), nil
}

// formBody is "csrf=…&password=x&nome=" followed by n bytes of name, and
// its length.
func formBody(csrf string, n int64) (io.Reader, string, int64) {
	head := "csrf=" + csrf + "&password=x&nome="
	return io.MultiReader(strings.NewReader(head), &zeros{n: n, fill: 'a'}), "application/x-www-form-urlencoded", int64(len(head)) + n
}

// multipartBody is a sign-in form with a file part of n bytes.
func multipartBody(csrf string, n int64) (io.Reader, string, int64) {
	const boundary = "sonda-richiamo"
	head := "--" + boundary + "\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\n" + csrf + "\r\n" +
		"--" + boundary + "\r\nContent-Disposition: form-data; name=\"allegato\"; filename=\"a.bin\"\r\n" +
		"Content-Type: application/octet-stream\r\n\r\n"
	tail := "\r\n--" + boundary + "--\r\n"
	return io.MultiReader(strings.NewReader(head), &zeros{n: n, fill: 'x'}, strings.NewReader(tail)),
		"multipart/form-data; boundary=" + boundary, int64(len(head)+len(tail)) + n
}

// signInForm returns a sign-in cookie and the token that goes with it.
func signInForm(base string) (*http.Cookie, string) {
	resp, err := http.Get(base + "/accesso")
	must(err)
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	m := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindSubmatch(body)
	if m == nil {
		log.Fatalf("no token in the sign-in form (%s)", resp.Status)
	}
	for _, c := range resp.Cookies() {
		if c.Name == "richiamo_accesso" {
			return c, string(m[1])
		}
	}
	log.Fatal("no sign-in cookie")
	return nil, ""
}

var noRedirect = &http.Client{Timeout: 60 * time.Second,
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

// oversizedRequests sends, n at a time, 10 MB bodies to the status webhook
// with a junk signature and to the sign-in form, declared and in chunks,
// and 40 MB multipart sign-ins. It returns the answers counted by status.
func oversizedRequests(base string, n int) string {
	ck, csrf := signInForm(base)
	type kind struct {
		name, path string
		body       func() (io.Reader, string, int64)
	}
	const mb = 1 << 20
	kinds := []kind{
		{"webhook", "/webhooks/twilio/status", func() (io.Reader, string, int64) {
			head := "MessageSid=SM1&MessageStatus=delivered&Junk="
			return io.MultiReader(strings.NewReader(head), &zeros{n: 10 * mb, fill: 'j'}), "application/x-www-form-urlencoded", int64(len(head)) + 10*mb
		}},
		{"sign-in", "/accesso", func() (io.Reader, string, int64) { return formBody(csrf, 10*mb) }},
		{"multipart", "/accesso", func() (io.Reader, string, int64) { return multipartBody(csrf, 40*mb) }},
	}
	var mu sync.Mutex
	counts := map[string]int{}
	var wg sync.WaitGroup
	for _, k := range kinds {
		for _, chunked := range []bool{false, true} {
			for range n {
				wg.Go(func() {
					body, ctype, length := k.body()
					req, err := http.NewRequest(http.MethodPost, base+k.path, body)
					must(err)
					req.Header.Set("Content-Type", ctype)
					req.Header.Set("X-Twilio-Signature", "junk")
					req.AddCookie(ck)
					req.ContentLength = -1
					if !chunked {
						req.ContentLength = length
					}
					status := "error"
					if resp, err := noRedirect.Do(req); err == nil {
						_, _ = io.Copy(io.Discard, resp.Body)
						resp.Body.Close()
						status = strconv.Itoa(resp.StatusCode)
					} else if errors.Is(err, context.DeadlineExceeded) {
						status = "timeout"
					} else {
						// The server answered and closed before the whole
						// body was sent.
						status = "closed"
					}
					mu.Lock()
					counts[k.name+" "+status]++
					mu.Unlock()
				})
			}
		}
	}
	wg.Wait()
	var parts []string
	for _, k := range kinds {
		for _, s := range []string{"413", "415", "403", "closed", "error", "timeout", "200", "401"} {
			if c := counts[k.name+" "+s]; c > 0 {
				parts = append(parts, fmt.Sprintf("%s %s×%d", k.name, s, c))
			}
		}
	}
	return strings.Join(parts, ", ")
}

// signInFlood sends n failed sign-ins with 8 KiB names, 8 at a time, and
// counts the answers: 401 (counted and written) and 429 (blocked). A few
// more than the limit fail rather than block: the attempts in flight when
// it is reached are still checked.
func signInFlood(base string, n int) (failed, blocked int64) {
	ck, csrf := signInForm(base)
	var wg sync.WaitGroup
	next := int64(-1)
	for range 8 {
		wg.Go(func() {
			for {
				i := atomic.AddInt64(&next, 1)
				if i >= int64(n) {
					return
				}
				form := url.Values{"csrf": {csrf}, "password": {"sbagliata"}, "nome": {fmt.Sprintf("%08d%s", i, strings.Repeat("n", 8<<10))}}
				req, err := http.NewRequest(http.MethodPost, base+"/accesso", strings.NewReader(form.Encode()))
				must(err)
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				req.AddCookie(ck)
				resp, err := noRedirect.Do(req)
				if err != nil {
					continue
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				switch resp.StatusCode {
				case http.StatusUnauthorized:
					atomic.AddInt64(&failed, 1)
				case http.StatusTooManyRequests:
					atomic.AddInt64(&blocked, 1)
				}
			}
		})
	}
	wg.Wait()
	return failed, blocked
}

// slowMargin is how long after the read timeout a slow connection counts
// as held.
const slowMargin = 3 * time.Second

// slowConnections opens n connections; half trickle their headers, half a
// sign-in body after complete headers, one byte every trickle. It returns
// how many the server still holds slowMargin after its read timeout.
func slowConnections(addr string, n int, trickle time.Duration) int {
	var closed atomic.Int64
	done := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			log.Printf("slow connection %d: %v", i, err)
			closed.Add(1)
			continue
		}
		head := "POST /accesso HTTP/1.1\r\nHost: " + addr + "\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 10000\r\n\r\n"
		if i%2 == 0 {
			// Headers whole, then the body a byte at a time.
			_, _ = conn.Write([]byte(head))
			head = strings.Repeat("a", 10000)
		}
		wg.Go(func() {
			// The server closing the connection ends this read.
			_, _ = io.Copy(io.Discard, conn)
			closed.Add(1)
		})
		wg.Go(func() {
			defer conn.Close()
			t := time.NewTicker(trickle)
			defer t.Stop()
			for j := 0; j < len(head); j++ {
				if _, err := conn.Write([]byte{head[j]}); err != nil {
					return
				}
				select {
				case <-done:
					return
				case <-t.C:
				}
			}
		})
	}
	time.Sleep(web.ReadTimeout + slowMargin)
	held := n - int(closed.Load())
	close(done)
	wg.Wait()
	return held
}

// redirects signs in asking to be sent to another site afterwards and
// counts the answers that do send there.
func redirects(base string) int {
	offsite := 0
	origin, _ := url.Parse(base)
	for _, dopo := range []string{"/\t/evil.example", "//evil.example", "/\\evil.example", "https://evil.example/", "/\n/evil.example", "/ /evil.example"} {
		ck, csrf := signInForm(base)
		form := url.Values{"csrf": {csrf}, "nome": {user}, "password": {password}, "dopo": {dopo}}
		req, err := http.NewRequest(http.MethodPost, base+"/accesso", strings.NewReader(form.Encode()))
		must(err)
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.AddCookie(ck)
		resp, err := noRedirect.Do(req)
		if err != nil {
			// A Location a client cannot even parse counts as offsite: a
			// browser may read it as another host.
			offsite++
			continue
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusSeeOther {
			log.Fatalf("sign-in with dopo=%q: %s, not signed in", dopo, resp.Status)
		}
		loc := resp.Header.Get("Location")
		// Browsers drop tabs and line breaks and read a backslash as a
		// slash before resolving.
		clean := strings.NewReplacer("\t", "", "\n", "", "\r", "", "\\", "/").Replace(loc)
		u, err := origin.Parse(clean)
		if err != nil || u.Host != origin.Host {
			offsite++
			fmt.Printf("redirect after sign-in with dopo=%q: %d %q\n", dopo, resp.StatusCode, loc)
		}
	}
	return offsite
}
