package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/richiamo/richiamo/internal/config"
	"github.com/richiamo/richiamo/internal/remind"
	"github.com/richiamo/richiamo/internal/sms/twiliotest"
	"github.com/richiamo/richiamo/internal/voice/patients"
)

func cmdSimulate(ctx context.Context, e *env, args []string) error {
	return subcommands(ctx, e, "simulate", "Stand in for the other side of a call, to try campaigns and to test.",
		[]command{{"patients", "answer SIP calls as a mix of patients would", simulatePatients},
			{"twilio", "stand in for Twilio's messaging API and webhooks", simulateTwilio}}, args)
}

func simulatePatients(ctx context.Context, e *env, args []string) error {
	var (
		asJSON          bool
		listen          string
		mix             string
		tlsCert, tlsKey string
	)
	fs := newFlags(e, "simulate patients", "--listen ADDR --mix FILE [--tls-cert FILE --tls-key FILE] [--json]", `
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
	if err := parse(fs, args); err != nil {
		return err
	}
	if mix == "" {
		return usageError{errors.New("--mix is required")}
	}
	m, err := patients.ReadMix(mix)
	if err != nil {
		return usageError{err}
	}
	var tc *tls.Config
	switch {
	case tlsCert != "" && tlsKey != "":
		cert, err := tls.LoadX509KeyPair(tlsCert, tlsKey)
		if err != nil {
			return usageError{fmt.Errorf("--tls-cert, --tls-key: %w", err)}
		}
		tc = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	case tlsCert != "" || tlsKey != "":
		return usageError{errors.New("--tls-cert and --tls-key go together")}
	}
	log := slog.New(slog.NewTextHandler(e.stderr, nil))
	srv, err := patients.NewServer(patients.Config{Listen: listen, Mix: m, TLS: tc, Log: log})
	if err != nil {
		return err
	}
	where := "sip:" + srv.Addr()
	if tc != nil {
		where += ";transport=tls"
	}
	fmt.Fprintf(e.stderr, "simulated patients answering on %s (seed %d); stop with Ctrl-C\n", where, srv.Seed())
	<-ctx.Done()
	closeErr := srv.Close()
	sum := srv.Summary()
	if asJSON {
		if err := writeJSON(e.stdout, sum); err != nil {
			return err
		}
	} else {
		writeSummary(e, sum)
	}
	return closeErr
}

func writeSummary(e *env, sum patients.Summary) {
	fmt.Fprintf(e.stdout, "calls received: %d (seed %d)\n", sum.Calls, sum.Seed)
	for _, b := range patients.Behaviours {
		fmt.Fprintf(e.stdout, "  %-22s %d\n", b, sum.By[b])
	}
}

func simulateTwilio(ctx context.Context, e *env, args []string) error {
	var (
		asJSON                bool
		listen, account       string
		statusURL, inboundURL string
		delay                 time.Duration
		rate                  float64
		faults                multiFlag
	)
	fs := newFlags(e, "simulate twilio", "--listen ADDR [--account-sid SID] [--inbound-url URL] [--status-callback URL] [--fault F…] [--json]", `
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
	if err := parse(fs, args); err != nil {
		return err
	}
	token := e.getenv(config.EnvTwilioAuthToken)
	if token == "" {
		return usageError{fmt.Errorf("set %s to the auth token the engine is configured with", config.EnvTwilioAuthToken)}
	}
	if account == "" {
		account = e.getenv(config.EnvTwilioAccountSID)
	}
	var queued []twiliotest.Fault
	for _, f := range faults {
		ft, err := twiliotest.ParseFault(f)
		if err != nil {
			return usageError{fmt.Errorf("--fault: %w", err)}
		}
		queued = append(queued, ft)
	}
	log := slog.New(slog.NewTextHandler(e.stderr, nil))
	srv, err := twiliotest.Start(twiliotest.Options{Listen: listen, AccountSID: account, AuthToken: token, DeliveryDelay: delay,
		RateLimit: rate, StatusCallback: statusURL, Control: true, InboundURL: inboundURL,
		Logf: func(format string, args ...any) { log.Info(fmt.Sprintf(format, args...)) }})
	if err != nil {
		return err
	}
	srv.ScriptNext(queued...)
	fmt.Fprintf(e.stderr, "Twilio imitation at %s (account %s): set sms.twilio.base_url to it; stop with Ctrl-C\n", srv.URL(), srv.AccountSID())
	<-ctx.Done()
	srv.Close()
	st := srv.Stats()
	if asJSON {
		return writeJSON(e.stdout, st)
	}
	fmt.Fprintf(e.stdout, "Twilio imitation at %s, account %s\n", st.URL, st.AccountSID)
	fmt.Fprintf(e.stdout, "  send requests %d: %d accepted, %d rate limited, %d faults injected\n", st.Requests, st.Accepted, st.RateLimited, st.Faults)
	fmt.Fprintf(e.stdout, "  delivery: %d delivered, %d undelivered, %d failed; %d status callbacks not taken\n", st.Delivered, st.Undelivered, st.Failed, st.CallbackErrors)
	fmt.Fprintf(e.stdout, "  replies forwarded: %d\n", st.Inbound)
	return nil
}
