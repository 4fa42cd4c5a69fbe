// Package call is the `richiamo call` command: one test call through the
// trunk or to a SIP URI.
package call

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/richiamo/richiamo/internal/calendar"
	"github.com/richiamo/richiamo/internal/cli/base"
	"github.com/richiamo/richiamo/internal/engine"
	"github.com/richiamo/richiamo/internal/voice"
	"github.com/richiamo/richiamo/internal/voice/media"
)

// Cmd is the `call` command.
var Cmd = base.Command{Name: "call", Summary: "place one test call through the trunk or to a SIP URI", Run: cmdCall}

func cmdCall(ctx context.Context, e *base.Env, args []string) error {
	var (
		c           base.Common
		to, say     string
		bind        string
		ringTimeout time.Duration
		collect     int
		first       time.Duration
		inter       time.Duration
	)
	fs := base.NewFlags(e, "call", "--to URI|NUMBER [--ring-timeout D] [--say FILE.wav] [--collect N] [--json]", `
Place one test call: through the configured trunk (voice.trunk), or
straight to a SIP URI when no trunk is set. When answered, play --say (an
8 kHz mono WAV in 16-bit PCM, A-law or µ-law, or raw .al/.ul G.711; a short
tone when not given), collect --collect keys (a key stops the prompt), hang
up and print the outcome, the SIP code, the keys and how long it rang and
talked. With --json: {"outcome", "sip_code", "digits", "ring_ms",
"talk_ms", …}.

Outcomes: answered, busy, no_answer, rejected, unavailable, invalid_number,
congestion, failed. The exit status is 0 when the far end answered, refused
or let it ring, and 3 for congestion or failed (the trunk or this side).
A number is called only inside the operating window (see the calendar
settings), unless --anytime. Times are in Europe/Rome. The trunk's password
comes from RICHIAMO_SIP_PASSWORD.`, &c)
	fs.StringVar(&to, "to", "", "a SIP URI (sip:user@host:port) or a number to call through the trunk")
	fs.DurationVar(&ringTimeout, "ring-timeout", 0, "how long to let it ring (default: voice.ring_timeout)")
	fs.StringVar(&say, "say", "", "the prompt to play when answered")
	fs.IntVar(&collect, "collect", 0, "how many keys to wait for after the prompt")
	fs.DurationVar(&first, "first-key", 10*time.Second, "how long to wait for the first key")
	fs.DurationVar(&inter, "next-key", 5*time.Second, "how long to wait for each following key")
	fs.StringVar(&bind, "bind", "", "local SIP address host:port (default: voice.bind; port 0 picks a free one)")
	var anytime bool
	fs.BoolVar(&anytime, "anytime", false, "call a number even outside the operating window (a test phone of yours)")
	if err := base.Parse(fs, args); err != nil {
		return err
	}
	if to == "" {
		return base.Usage(errors.New("--to is required"))
	}
	if collect < 0 || collect > 64 {
		return base.Usage(fmt.Errorf("--collect %d: between 0 and 64 keys", collect))
	}
	if ringTimeout < 0 || first <= 0 || inter <= 0 {
		return base.Usage(errors.New("--ring-timeout, --first-key and --next-key must be positive"))
	}
	cfg, err := base.LoadConfig(e, c)
	if err != nil {
		return err
	}
	if cfg.Voice.Trunk.Proxy == "" && !strings.HasPrefix(to, "sip:") && !strings.HasPrefix(to, "sips:") {
		return base.Usage(errors.New("--to must be a sip: URI when no trunk is configured (voice.trunk.proxy)"))
	}
	if number := !strings.HasPrefix(to, "sip:") && !strings.HasPrefix(to, "sips:"); number && !anytime {
		cal, err := engine.Calendar(cfg)
		if err != nil {
			return err
		}
		if now := e.Now(); !cal.Open(now) {
			return base.Usage(fmt.Errorf("it is %s in Rome, outside the operating window: a patient is not called now (next opening %s); --anytime calls a test phone of yours all the same",
				calendar.Minute(now), calendar.Minute(cal.NextOpen(now))))
		}
	}
	var prompt *media.Audio
	if say != "" {
		if prompt, err = voice.ReadAudio(say); err != nil {
			return base.Usage(err)
		}
	} else {
		// Two beeps at the Italian tone frequency: enough to hear that
		// audio gets through.
		beep := voice.Tone(425, 400*time.Millisecond)
		prompt = media.Concat(beep, voice.Silence(200*time.Millisecond), beep)
	}

	vc := engine.VoiceConfig(cfg)
	if bind != "" {
		vc.Bind = bind
	}
	vc.Log = engine.NewLogger(e.Stderr, cfg)
	caller, err := voice.NewCaller(vc)
	if err != nil {
		return err
	}
	defer caller.Close()

	call, res := caller.Place(ctx, voice.Request{To: to, RingTimeout: ringTimeout})
	if call != nil {
		if _, err := call.Play(ctx, prompt); err == nil && collect > 0 {
			_, _ = call.Collect(ctx, collect, first, inter) // the keys are in the result, a timeout is an answer too
		}
		res = call.Hangup()
	}

	// Times are read by people: Rome's wall clock, with its offset.
	for _, t := range []*time.Time{&res.Start, &res.Ringing, &res.Answer, &res.End} {
		if !t.IsZero() {
			*t = t.In(calendar.Rome)
		}
	}
	if c.JSON {
		out := struct {
			voice.Result
			Error string `json:"error,omitempty"`
		}{Result: res}
		if res.Err != nil {
			out.Error = res.Err.Error()
		}
		if err := base.WriteJSON(e.Stdout, out); err != nil {
			return err
		}
	} else {
		fmt.Fprintln(e.Stdout, callLine(res))
	}
	if res.Outcome == voice.Congestion || res.Outcome == voice.Failed {
		msg := string(res.Outcome)
		if res.Err != nil {
			msg += ": " + res.Err.Error()
		}
		return base.Exit(base.ExitCallFailed, errors.New(msg))
	}
	return nil
}

// callLine is the one line an operator reads after a test call.
func callLine(r voice.Result) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s", r.Outcome)
	if r.SIPCode != 0 {
		fmt.Fprintf(&b, " sip_code=%d", r.SIPCode)
	}
	if r.Reason != "" && r.SIPCode >= 300 {
		fmt.Fprintf(&b, " reason=%q", r.Reason)
	}
	fmt.Fprintf(&b, " rang=%v ring_ms=%d talk_ms=%d", r.Rang, r.RingMS, r.TalkMS)
	if r.Digits != "" {
		fmt.Fprintf(&b, " digits=%s", r.Digits)
	}
	if r.Cause != "" {
		fmt.Fprintf(&b, " cause=%s", r.Cause)
	}
	return b.String()
}
