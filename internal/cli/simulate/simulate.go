// Package simulate is the `richiamo simulate` command: simulated patients
// answering calls, and a simulated Twilio.
package simulate

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/richiamo/richiamo/internal/cli/base"
	"github.com/richiamo/richiamo/internal/config"
	"github.com/richiamo/richiamo/internal/remind"
	"github.com/richiamo/richiamo/internal/sms/twiliotest"
	"github.com/richiamo/richiamo/internal/voice/patients"
)

// Cmd is the `simulate` command.
var Cmd = base.Command{Name: "simulate", Summary: "answer calls as simulated patients (simulate patients --mix FILE)", Run: cmdSimulate}

func cmdSimulate(ctx context.Context, e *base.Env, args []string) error {
	return base.Subcommands(ctx, e, "simulate", "Stand in for the other side of a call, to try campaigns and to test.",
		[]base.Command{{Name: "patients", Summary: "answer SIP calls as a mix of patients would", Run: simulatePatients},
			{Name: "twilio", Summary: "stand in for Twilio's messaging API and webhooks", Run: simulateTwilio}}, args)
}

func simulatePatients(ctx context.Context, e *base.Env, args []string) error {
	var (
		asJSON          bool
		listen          string
		mix             string
		tlsCert, tlsKey string
	)
	fs := base.NewFlags(e, "simulate patients", "--listen ADDR --mix FILE [--tls-cert FILE --tls-key FILE] [--json]", `
Answer SIP calls as a mix of patients would: answer and press a key, be
busy (486), never answer (180 until the caller cancels), hang up during the
prompt, press a key the menu does not offer. The mix file (YAML) weighs the
behaviours, may give numbers ending in some digits one behaviour, and holds
the seed that makes a run reproducible; see testdata/patients-mix.yaml.

With --tls-cert and --tls-key (PEM) it answers over TLS instead of UDP,
for trying voice.trunk.transport: tls.

Runs until interrupted, then prints how many calls each behaviour took.
With --json: {"seed", "calls", "behaviours": {…}}.`, nil)
	fs.BoolVar(&asJSON, "json", false, "print the summary as one JSON object")
	fs.StringVar(&listen, "listen", "127.0.0.1:5080", "the SIP address to answer on, host:port (UDP; TCP with --tls-cert)")
	fs.StringVar(&mix, "mix", "", "the mix file")
	fs.StringVar(&tlsCert, "tls-cert", "", "answer over TLS with this certificate (PEM)")
	fs.StringVar(&tlsKey, "tls-key", "", "the key of --tls-cert (PEM)")
	if err := base.Parse(fs, args); err != nil {
		return err
	}
	if mix == "" {
		return base.Usage(errors.New("--mix is required"))
	}
	m, err := patients.ReadMix(mix)
	if err != nil {
		return base.Usage(err)
	}
	var tc *tls.Config
	switch {
	case tlsCert != "" && tlsKey != "":
		cert, err := tls.LoadX509KeyPair(tlsCert, tlsKey)
		if err != nil {
			return base.Usage(fmt.Errorf("--tls-cert, --tls-key: %w", err))
		}
		tc = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	case tlsCert != "" || tlsKey != "":
		return base.Usage(errors.New("--tls-cert and --tls-key go together"))
	}
	log := slog.New(slog.NewTextHandler(e.Stderr, nil))
	srv, err := patients.NewServer(patients.Config{Listen: listen, Mix: m, TLS: tc, Log: log})
	if err != nil {
		return err
	}
	where := "sip:" + srv.Addr()
	if tc != nil {
		where += ";transport=tls"
	}
	fmt.Fprintf(e.Stderr, "simulated patients answering on %s (seed %d); stop with Ctrl-C\n", where, srv.Seed())
	<-ctx.Done()
	closeErr := srv.Close()
	sum := srv.Summary()
	if asJSON {
		if err := base.WriteJSON(e.Stdout, sum); err != nil {
			return err
		}
	} else {
		writeSummary(e, sum)
	}
	return closeErr
}

func writeSummary(e *base.Env, sum patients.Summary) {
	fmt.Fprintf(e.Stdout, "calls received: %d (seed %d)\n", sum.Calls, sum.Seed)
	for _, b := range patients.Behaviours {
		fmt.Fprintf(e.Stdout, "  %-22s %d\n", b, sum.By[b])
	}
	h := sum.Heard
	fmt.Fprintf(e.Stdout, "callers' audio heard: %d frames, %d late, %d missing (%.2f%% late or missing), jitter %.2f ms\n",
		h.Frames, h.Late, h.Missing, h.LatePercent(), float64(h.Jitter().Microseconds())/1000)
}

func simulateTwilio(ctx context.Context, e *base.Env, args []string) error {
	var (
		asJSON                bool
		listen, account       string
		statusURL, inboundURL string
		delay                 time.Duration
		rate                  float64
		faults                base.MultiFlag
	)
	fs := base.NewFlags(e, "simulate twilio", "--listen ADDR [--account-sid SID] [--inbound-url URL] [--status-callback URL] [--fault F…] [--json]", `
Stand in for Twilio, so that the whole SMS flow can be tried without a
Twilio account: the Messages API (point sms.twilio.base_url at --listen's
address, with the same account SID and auth token), delivery reports
signed with the auth token and posted, after --delivery-delay, to each
message's status callback (or --status-callback), and patients' replies on
command, posted signed to --inbound-url (the engine's public URL and
`+remind.InboundPath+`).

The auth token is read from `+config.EnvTwilioAuthToken+` (never a flag,
so that it does not show in the process list); the account SID from
--account-sid or `+config.EnvTwilioAccountSID+`.

--fault queues a fault for the next sends, in order, one of:
  `+twiliotest.FaultNames+`.

The control endpoints, with the account SID and auth token as basic auth:

`+twiliotest.ControlHelp+`

For example, a patient's reply:
  curl -u "$SID:$`+config.EnvTwilioAuthToken+`" -d from=+393331234567 -d to=+390000000000 \
       -d body=SI http://ADDR/control/inbound

Runs until interrupted, then prints its counters (with --json as one JSON
object: url, account_sid, send_requests, accepted, rate_limited,
faults_injected, delivered, undelivered, failed, callback_errors,
inbound_forwarded).`, nil)
	fs.BoolVar(&asJSON, "json", false, "print the counters as one JSON object")
	fs.StringVar(&listen, "listen", "127.0.0.1:8089", "the address to serve the API and the control endpoints on, host:port")
	fs.StringVar(&account, "account-sid", "", "the account SID (default: "+config.EnvTwilioAccountSID+", or a test one)")
	fs.StringVar(&statusURL, "status-callback", "", "delivery reports of messages that name no status callback go here")
	fs.StringVar(&inboundURL, "inbound-url", "", "where patients' replies are posted (the engine's public URL + "+remind.InboundPath+")")
	fs.DurationVar(&delay, "delivery-delay", 2*time.Second, "time from accepting a message to reporting it sent and delivered")
	fs.Float64Var(&rate, "rate-limit", 0, "messages accepted per second, beyond which a send is answered 429 (0: unlimited)")
	fs.Var(&faults, "fault", "a fault for the next send (repeatable, in order)")
	if err := base.Parse(fs, args); err != nil {
		return err
	}
	token := e.Getenv(config.EnvTwilioAuthToken)
	if token == "" {
		return base.Usage(fmt.Errorf("set %s to the auth token the engine is configured with", config.EnvTwilioAuthToken))
	}
	if account == "" {
		account = e.Getenv(config.EnvTwilioAccountSID)
	}
	var queued []twiliotest.Fault
	for _, f := range faults {
		ft, err := twiliotest.ParseFault(f)
		if err != nil {
			return base.Usage(fmt.Errorf("--fault: %w", err))
		}
		queued = append(queued, ft)
	}
	log := slog.New(slog.NewTextHandler(e.Stderr, nil))
	srv, err := twiliotest.Start(twiliotest.Options{Listen: listen, AccountSID: account, AuthToken: token, DeliveryDelay: delay,
		RateLimit: rate, StatusCallback: statusURL, Control: true, InboundURL: inboundURL,
		Logf: func(format string, args ...any) { log.Info(fmt.Sprintf(format, args...)) }})
	if err != nil {
		return err
	}
	srv.ScriptNext(queued...)
	fmt.Fprintf(e.Stderr, "Twilio imitation at %s (account %s): set sms.twilio.base_url to it; stop with Ctrl-C\n", srv.URL(), srv.AccountSID())
	<-ctx.Done()
	srv.Close()
	st := srv.Stats()
	if asJSON {
		return base.WriteJSON(e.Stdout, st)
	}
	fmt.Fprintf(e.Stdout, "Twilio imitation at %s, account %s\n", st.URL, st.AccountSID)
	fmt.Fprintf(e.Stdout, "  send requests %d: %d accepted, %d rate limited, %d faults injected\n", st.Requests, st.Accepted, st.RateLimited, st.Faults)
	fmt.Fprintf(e.Stdout, "  delivery: %d delivered, %d undelivered, %d failed; %d status callbacks not taken\n", st.Delivered, st.Undelivered, st.Failed, st.CallbackErrors)
	fmt.Fprintf(e.Stdout, "  replies forwarded: %d\n", st.Inbound)
	return nil
}
