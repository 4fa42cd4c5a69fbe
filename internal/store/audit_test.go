package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/richiamo/richiamo/internal/store"
	"github.com/richiamo/richiamo/internal/store/storetest"
)

func TestAuditEntriesFilterAndPage(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		for i, a := range []string{"login_ok", "export", "login_ok", "claim"} {
			if err := st.AddAudit(ctx, store.AuditEntry{At: t0.Add(time.Duration(i) * time.Second).UnixMilli(), Actor: "mrossi", Role: "operator", Action: a, Remote: "10.0.0.1"}); err != nil {
				t.Fatal(err)
			}
		}
		all, err := st.AuditEntries(ctx, store.AuditFilter{})
		if err != nil || len(all) != 4 || all[0].Action != "claim" {
			t.Fatalf("all %+v %v", all, err)
		}
		logins, _ := st.AuditEntries(ctx, store.AuditFilter{Action: "login_ok"})
		if len(logins) != 2 {
			t.Fatalf("logins %+v", logins)
		}
		older, _ := st.AuditEntries(ctx, store.AuditFilter{BeforeID: all[1].ID, Limit: 10})
		if len(older) != 2 || older[0].ID != all[2].ID {
			t.Fatalf("page %+v", older)
		}
		if none, _ := st.AuditEntries(ctx, store.AuditFilter{Actor: "nessuno"}); len(none) != 0 {
			t.Fatalf("actor filter %+v", none)
		}
	})
}

const deskExtract = "nodo;codice_prenotazione;cellulare;data_ora_appuntamento;cognome;nome\n" +
	"ASL1;A-1;3331000001;01/12/2026 10:30;Rossi;Mario\n" +
	"ASL1;A-2;3331000002;01/12/2026 11:00;Bianchi;Anna\n" +
	"ASL2;B-1;3331000001;01/12/2026 12:00;Rossi;Mario\n" +
	"ASL2;B-2;3471000003;01/12/2026 12:30;Greco;Luca\n" +
	"ASL2;B-3;;01/12/2026 12:30;Neri;Sara\n" +
	"ASL2;B-4;075 1234567;01/12/2026 12:30;Conti;Paolo\n" +
	"ASL1;A-3;3331000009;31/11/2026 09:00;Ferri;Lia\n"
