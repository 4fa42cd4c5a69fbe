package group

import (
	"bytes"
	"slices"
	"strings"
	"testing"
)

func TestReplanChangesOnlyWhatChanged(t *testing.T) {
	t.Parallel()
	A := Competitive
	list := athletes(clubSpec{"Virtus", A, 3})
	// The first plan had only the 16th; the 14th was agreed later and
	// holds the whole list, but the three keep their slots.
	slots := []Slot{slot(14, 9, 0, A, 5), slot(16, 9, 0, A, 3), slot(17, 9, 0, A, 2)}
	var prev []Previous
	for _, a := range list {
		prev = append(prev, Previous{FiscalCode: a.FiscalCode, Type: A, At: slots[1].At})
	}

	t.Run("two athletes added: one new day, the earliest", func(t *testing.T) {
		t.Parallel()
		longer := athletes(clubSpec{"Virtus", A, 5})
		p, dropped := Replan(prev, longer, slots)
		check(t, longer, slots, p)
		if len(dropped) != 0 || !slices.Equal(p.Days, []string{"2026-12-14", "2026-12-16"}) || p.ClubDays != 2 {
			t.Fatalf("days %v club-days %d dropped %v", p.Days, p.ClubDays, dropped)
		}
		if !slices.Equal(p.Changed, []string{longer[3].FiscalCode, longer[4].FiscalCode}) {
			t.Fatalf("changed %v", p.Changed)
		}
		for _, a := range p.Assigned[:3] {
			if a.Slot.Day() != "2026-12-16" {
				t.Fatalf("%s moved to %s", a.Athlete.FiscalCode, a.Slot.Day())
			}
		}
		// From scratch, the 14th alone would do.
		if fresh := Make(longer, slots); !slices.Equal(fresh.Days, []string{"2026-12-14"}) {
			t.Fatalf("from scratch %v", fresh.Days)
		}
	})

	t.Run("one withdrawn, one added: the new one takes the freed place", func(t *testing.T) {
		t.Parallel()
		changed := slices.Clone(list[1:])
		changed = append(changed, athletes(clubSpec{"Virtus", A, 4})[3])
		p, dropped := Replan(prev, changed, slots)
		check(t, changed, slots, p)
		if !slices.Equal(dropped, []string{list[0].FiscalCode}) || !slices.Equal(p.Days, []string{"2026-12-16"}) {
			t.Fatalf("days %v dropped %v", p.Days, dropped)
		}
	})

	t.Run("a changed visit type is planned again", func(t *testing.T) {
		t.Parallel()
		changed := slices.Clone(list)
		changed[2].Type = NonCompetitive
		withN := append(slices.Clone(slots), slot(15, 9, 0, NonCompetitive, 1))
		p, _ := Replan(prev, changed, withN)
		check(t, changed, withN, p)
		if !slices.Equal(p.Changed, []string{changed[2].FiscalCode}) || !slices.Equal(p.Days, []string{"2026-12-15", "2026-12-16"}) {
			t.Fatalf("changed %v days %v", p.Changed, p.Days)
		}
	})
}

func TestTheListsForTheCUPAndTheClub(t *testing.T) {
	t.Parallel()
	list := athletes(clubSpec{"Virtus", Competitive, 2}, clubSpec{"Virtus", NonCompetitive, 1})
	list[0].Phone = "+393331234567"
	s := slot(14, 9, 0, Competitive, 1)
	s.Place = "Medicina dello sport, via Roma 1"
	p := Make(list, []Slot{s})
	var cupList, club bytes.Buffer
	if err := WriteCUPList(&cupList, p); err != nil {
		t.Fatal(err)
	}
	if err := WriteClubList(&club, p); err != nil {
		t.Fatal(err)
	}
	wantCUP := "cognome;nome;data_nascita;codice_fiscale;cellulare;tipo_visita;societa;data;ora;struttura\n" +
		"Atleta01;Nome;01/01/0001;" + list[0].FiscalCode + ";+393331234567;agonistica;Virtus;14/12/2026;09:00;Medicina dello sport, via Roma 1\n"
	if cupList.String() != wantCUP {
		t.Fatalf("CUP list\n%s\nwant\n%s", cupList.String(), wantCUP)
	}
	lines := strings.Split(strings.TrimSpace(club.String()), "\n")
	if len(lines) != 4 || !strings.HasSuffix(lines[2], "non assegnato;;;;posti esauriti negli orari concordati per la visita agonistica") ||
		!strings.HasSuffix(lines[3], "non assegnato;;;;nessun orario concordato per la visita non agonistica") {
		t.Fatalf("club list\n%s", club.String())
	}
	if got := SMS(p.Assigned[0]); got != "CUP: visita di medicina dello sport (agonistica) prenotata per ATLETA01 NOME il 14/12/2026 alle 09:00 presso Medicina dello sport, via Roma 1. Portare un documento e la tessera sanitaria." {
		t.Fatalf("SMS %q", got)
	}
}
