package store_test

import (
	"context"
	"testing"

	"github.com/richiamo/richiamo/internal/cup"
	"github.com/richiamo/richiamo/internal/store"
	"github.com/richiamo/richiamo/internal/store/storetest"
)

func TestACUPManagerReadsOnlyItsNodesRejectedRows(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		rs := []cup.Rejection{
			{File: "e.csv", Line: 2, Reason: cup.ReasonLandline, Node: "ASL2"},
			{File: "e.csv", Line: 3, Reason: cup.ReasonMissingPhone, Node: "ASL1"},
			{File: "e.csv", Line: 4, Reason: cup.ReasonLandline, Node: "ASL2"},
			{File: "e.csv", Line: 5, Reason: cup.ReasonControlCharacter},
		}
		if err := st.InTx(ctx, func(tx *store.Tx) error { return tx.AddRejections(ctx, 7, rs) }); err != nil {
			t.Fatal(err)
		}
		reasons, err := st.NodeRejectionReasons(ctx, 7, "ASL2")
		if err != nil || len(reasons) != 1 || reasons[0].Reason != string(cup.ReasonLandline) || reasons[0].Rows != 2 {
			t.Fatalf("ASL2's reasons %+v %v", reasons, err)
		}
		rows, err := st.NodeRejections(ctx, 7, "ASL2", 100)
		if err != nil || len(rows) != 2 || rows[0].Line != 2 || rows[1].Line != 4 {
			t.Fatalf("ASL2's rows %+v %v", rows, err)
		}
		by, err := st.NodeRejectionsByReason(ctx, 7, "ASL1", string(cup.ReasonLandline), 100)
		if err != nil || len(by) != 0 {
			t.Fatalf("ASL1's landlines %+v %v", by, err)
		}
		all, err := st.NodeRejections(ctx, 7, "", 100)
		if err != nil || len(all) != 4 {
			t.Fatalf("every node's rows %+v %v", all, err)
		}
	})
}
