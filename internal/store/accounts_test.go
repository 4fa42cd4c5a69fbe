package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/richiamo/richiamo/internal/store"
	"github.com/richiamo/richiamo/internal/store/storetest"
)

func TestAccountsAndWebSessions(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		id, err := st.CreateUser(ctx, store.User{Name: "mrossi", Role: "operator", PasswordHash: "h"}, t0)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := st.CreateUser(ctx, store.User{Name: "mrossi", Role: "admin", PasswordHash: "h"}, t0); !errors.Is(err, store.ErrExists) {
			t.Fatalf("second account with the same name: %v", err)
		}
		if _, err := st.CreateUser(ctx, store.User{Name: "asl2", Role: "cup_manager", Node: "ASL2", PasswordHash: "h"}, t0); err != nil {
			t.Fatal(err)
		}
		u, err := st.UserByName(ctx, "mrossi")
		if err != nil || u.ID != id || u.Role != "operator" || u.Disabled || u.CreatedAt != t0.UnixMilli() {
			t.Fatalf("user %+v %v", u, err)
		}
		if _, err := st.UserByName(ctx, "nessuno"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("unknown user: %v", err)
		}
		us, err := st.Users(ctx)
		if err != nil || len(us) != 2 || us[0].Name != "asl2" || us[0].Node != "ASL2" {
			t.Fatalf("users %+v %v", us, err)
		}
		ws := store.WebSession{TokenHash: "th", UserID: id, CSRF: "c", CreatedAt: t0.UnixMilli(), SeenAt: t0.UnixMilli(), ExpiresAt: t0.Add(time.Hour).UnixMilli()}
		if err := st.CreateWebSession(ctx, ws); err != nil {
			t.Fatal(err)
		}
		got, gu, err := st.WebSessionUser(ctx, "th", t0.Add(time.Minute))
		if err != nil || got.CSRF != "c" || gu.Name != "mrossi" {
			t.Fatalf("session %+v %+v %v", got, gu, err)
		}
		if _, _, err := st.WebSessionUser(ctx, "th", t0.Add(2*time.Hour)); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("expired session: %v", err)
		}
		if err := st.ExtendWebSession(ctx, "th", t0.Add(time.Hour), t0.Add(3*time.Hour)); err != nil {
			t.Fatal(err)
		}
		if _, _, err := st.WebSessionUser(ctx, "th", t0.Add(2*time.Hour)); err != nil {
			t.Fatalf("extended session: %v", err)
		}
		if err := st.SetUserDisabled(ctx, id, true, t0); err != nil {
			t.Fatal(err)
		}
		if _, _, err := st.WebSessionUser(ctx, "th", t0.Add(time.Minute)); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("a disabled account's session: %v", err)
		}
		if u, _ := st.UserByID(ctx, id); !u.Disabled {
			t.Fatal("not disabled")
		}
		if err := st.SetUserDisabled(ctx, 9999, true, t0); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("disable unknown: %v", err)
		}
		if err := st.CreateWebSession(ctx, store.WebSession{TokenHash: "old", UserID: id, CSRF: "c", ExpiresAt: t0.UnixMilli()}); err != nil {
			t.Fatal(err)
		}
		if n, err := st.DeleteExpiredWebSessions(ctx, t0.Add(time.Second)); err != nil || n != 1 {
			t.Fatalf("expired sessions removed: %d %v", n, err)
		}
	})
}
