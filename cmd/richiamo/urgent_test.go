package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/richiamo/richiamo/internal/cli/base"
	"github.com/richiamo/richiamo/internal/cup"
	"github.com/richiamo/richiamo/internal/store"
)

func TestUrgentRequestAndResult(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	db := filepath.Join(dir, "richiamo.db")
	cfg := filepath.Join(dir, "richiamo.yaml")
	if err := os.WriteFile(cfg, []byte("store:\n  sqlite: "+db+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	st, err := store.Open(ctx, store.Options{SQLitePath: db})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	at := time.Date(2027, 3, 12, 9, 0, 0, 0, cup.Rome)
	if err := st.InTx(ctx, func(tx *store.Tx) error {
		id, err := tx.StartImport(ctx, "x.csv", testNow)
		if err != nil {
			return err
		}
		return tx.UpsertBookings(ctx, id, []cup.Booking{
			{Node: "asl1", Code: "PRE001", Phone: "+393330000001", At: at, Agenda: "TAC", Surname: "Rossi", Name: "Mario"},
			{Node: "asl1", Code: "PRE002", Phone: "+393330000002", At: at.Add(time.Hour), Agenda: "TAC", Surname: "Bianchi", Name: "Anna"},
		}, testNow)
	}); err != nil {
		t.Fatal(err)
	}
	st.Close()

	var out, errb bytes.Buffer
	code := run(ctx, testEnv(&out, &errb), []string{"urgent", "request", "--config", cfg, "--node", "asl1", "--codes", "PRE001,PRE002,PRE404",
		"--new-date", "2027-03-15 10:30", "--by", "2027-03-11 18:00", "--user", "cup.asl1", "--name", "urgente-tac", "--json"})
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	var created struct {
		Move     int64    `json:"move"`
		Bookings int      `json:"bookings"`
		Calls    int      `json:"calls"`
		SMS      int      `json:"sms"`
		Missing  []string `json:"missing_codes"`
	}
	if err := json.Unmarshal(out.Bytes(), &created); err != nil {
		t.Fatalf("%v: %s", err, out.String())
	}
	if created.Move != 1 || created.Bookings != 2 || created.Calls != 2 || created.SMS != 2 || strings.Join(created.Missing, ",") != "PRE404" {
		t.Fatalf("%s", out.String())
	}
	out.Reset()
	if code := run(ctx, testEnv(&out, &errb), []string{"urgent", "result", "--config", cfg, "--move", "1"}); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	want := "nodo;codice_prenotazione;data_appuntamento;esito;numero;numeri_provati;scelta;azione;sms;lavorazione\n" +
		"asl1;PRE001;12/03/2027 09:00;in corso;;1 di 1;;;da inviare;\n" +
		"asl1;PRE002;12/03/2027 10:00;in corso;;1 di 1;;;da inviare;\n"
	if out.String() != want {
		t.Fatalf("result\n%s\nwant\n%s", out.String(), want)
	}
	// A move by in the past is a usage error, before the store is opened.
	if code := run(ctx, testEnv(&out, &errb), []string{"urgent", "request", "--config", cfg, "--node", "asl1", "--codes", "PRE001",
		"--by", "2027-03-01 18:00"}); code != base.ExitUsage {
		t.Fatalf("exit %d", code)
	}
}
