package web

import (
	"container/list"
	"strings"
	"sync"
	"time"
)

// loginLimiter counts failed sign-ins per account name and per client
// address in fixed windows that start at the first failure. It lives in
// memory: a restart forgets the counts, and each engine process counts its
// own, which bounds guessing well enough for a console on a private network
// without a shared store write per attempt.
//
// It holds at most max names and addresses. When full, the one whose last
// failure or refused attempt is the oldest is forgotten, so that a flood of
// made-up names cannot stop a name or an address from being counted: the
// one under attack is touched at every attempt and stays.
type loginLimiter struct {
	lim   LoginLimits
	max   int
	mu    sync.Mutex
	fails map[string]*list.Element // of *failWindow
	// recent orders the windows by last touch, most recent first.
	recent *list.List
}

type failWindow struct {
	key   string
	n     int
	start time.Time
	// refused counts the attempts refused while blocked in this window.
	refused int
}

// maxTracked bounds the memory a flood of made-up names can take.
const maxTracked = 10000

func newLoginLimiter(l LoginLimits) *loginLimiter {
	return &loginLimiter{lim: l, max: maxTracked, fails: map[string]*list.Element{}, recent: list.New()}
}

func accountKey(name string) string { return "a:" + strings.ToLower(name) }
func ipKey(ip string) string        { return "i:" + ip }

// live returns the key's window if it has not ended, forgetting an ended one.
func (l *loginLimiter) live(key string, now time.Time) (*list.Element, *failWindow) {
	e := l.fails[key]
	if e == nil {
		return nil, nil
	}
	w := e.Value.(*failWindow)
	if !now.Before(w.start.Add(l.lim.Window)) {
		l.recent.Remove(e)
		delete(l.fails, key)
		return nil, nil
	}
	return e, w
}

// blocked returns how long the account or the address must wait, or 0.
// first is true for the first attempt refused in a block of the account or
// of the address, the one worth writing to the audit log; later ones are
// only counted.
func (l *loginLimiter) blocked(name, ip string, now time.Time) (wait time.Duration, first bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	check := func(key string, limit int) {
		e, w := l.live(key, now)
		if w == nil || w.n < limit {
			return
		}
		wait = max(wait, w.start.Add(l.lim.Window).Sub(now))
		w.refused++
		if w.refused == 1 {
			first = true
		}
		l.recent.MoveToFront(e)
	}
	check(accountKey(name), l.lim.PerAccount)
	check(ipKey(ip), l.lim.PerIP)
	return wait, first
}

// fail counts a failed attempt against both the account and the address.
func (l *loginLimiter) fail(name, ip string, now time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, k := range []string{accountKey(name), ipKey(ip)} {
		e, w := l.live(k, now)
		if w == nil {
			for len(l.fails) >= l.max {
				old := l.recent.Back()
				l.recent.Remove(old)
				delete(l.fails, old.Value.(*failWindow).key)
			}
			w = &failWindow{key: k, start: now}
			e = l.recent.PushFront(w)
			l.fails[k] = e
		}
		w.n++
		l.recent.MoveToFront(e)
	}
}

// succeed forgets an account's failures; the address's stay, so that one
// good password does not reset guessing at other accounts from there.
func (l *loginLimiter) succeed(name string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if e := l.fails[accountKey(name)]; e != nil {
		l.recent.Remove(e)
		delete(l.fails, accountKey(name))
	}
}
