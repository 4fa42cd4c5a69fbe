package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"

	"github.com/richiamo/richiamo/internal/voice/patients"
)

func cmdSimulate(ctx context.Context, e *env, args []string) error {
	return subcommands(ctx, e, "simulate", "Stand in for the other side of a call, to try campaigns and to test.",
		[]command{{"patients", "answer SIP calls as a mix of patients would", simulatePatients}}, args)
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
