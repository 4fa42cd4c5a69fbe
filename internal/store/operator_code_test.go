package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/richiamo/richiamo/internal/store"
	"github.com/richiamo/richiamo/internal/store/storetest"
)

func TestAnAccountsOperatorCode(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		id, err := st.CreateUser(ctx, store.User{Name: "mrossi", Role: "operator", OperatorCode: "042", PasswordHash: "h"}, t0)
		if err != nil {
			t.Fatal(err)
		}
		if u, err := st.UserByID(ctx, id); err != nil || u.OperatorCode != "042" {
			t.Fatalf("created with 042: %+v %v", u, err)
		}
		later := t0.Add(time.Hour)
		if err := st.SetUserOperatorCode(ctx, id, "117", later); err != nil {
			t.Fatal(err)
		}
		us, err := st.Users(ctx)
		if err != nil || len(us) != 1 || us[0].OperatorCode != "117" || us[0].UpdatedAt != later.UnixMilli() {
			t.Fatalf("after setting 117: %+v %v", us, err)
		}
		if err := st.SetUserOperatorCode(ctx, id, "", later); err != nil {
			t.Fatal(err)
		}
		if u, err := st.UserByName(ctx, "mrossi"); err != nil || u.OperatorCode != "" {
			t.Fatalf("cleared: %+v %v", u, err)
		}
		if err := st.SetUserOperatorCode(ctx, id+1, "9", later); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("an account that does not exist: %v", err)
		}
	})
}
