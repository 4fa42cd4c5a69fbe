package web

import (
	"strings"
	"sync"
	"time"
)

// loginLimiter counts failed sign-ins per account name and per client
// address in fixed windows that start at the first failure. It lives in
// memory: a restart forgets the counts, and each engine process counts its
// own, which bounds guessing well enough for a console on a private network
// without a shared store write per attempt.
type loginLimiter struct {
	lim   LoginLimits
	mu    sync.Mutex
	fails map[string]*failWindow
}

type failWindow struct {
	n     int
	start time.Time
}

// maxTracked bounds the memory a flood of made-up names can take.
const maxTracked = 10000

func newLoginLimiter(l LoginLimits) *loginLimiter {
	return &loginLimiter{lim: l, fails: map[string]*failWindow{}}
}

func accountKey(name string) string { return "a:" + strings.ToLower(name) }
func ipKey(ip string) string        { return "i:" + ip }

// blocked returns how long the account or the address must wait, or 0.
func (l *loginLimiter) blocked(name, ip string, now time.Time) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	var wait time.Duration
	check := func(key string, limit int) {
		w := l.fails[key]
		if w == nil {
			return
		}
		end := w.start.Add(l.lim.Window)
		if !now.Before(end) {
			delete(l.fails, key)
			return
		}
		if w.n >= limit {
			wait = max(wait, end.Sub(now))
		}
	}
	check(accountKey(name), l.lim.PerAccount)
	check(ipKey(ip), l.lim.PerIP)
	return wait
}

// fail counts a failed attempt against both the account and the address.
func (l *loginLimiter) fail(name, ip string, now time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.fails) >= maxTracked {
		for k, w := range l.fails {
			if !now.Before(w.start.Add(l.lim.Window)) {
				delete(l.fails, k)
			}
		}
	}
	for _, k := range []string{accountKey(name), ipKey(ip)} {
		w := l.fails[k]
		if w == nil || !now.Before(w.start.Add(l.lim.Window)) {
			if len(l.fails) >= maxTracked {
				// Full of live windows: refuse to grow, the existing
				// ones still apply.
				continue
			}
			w = &failWindow{start: now}
			l.fails[k] = w
		}
		w.n++
	}
}

// succeed forgets an account's failures; the address's stay, so that one
// good password does not reset guessing at other accounts from there.
func (l *loginLimiter) succeed(name string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.fails, accountKey(name))
}
