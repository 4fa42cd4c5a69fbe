package mssql

import (
	"testing"
	"time"
)

func TestValuesBecomeExtractCells(t *testing.T) {
	t.Parallel()
	guid := []byte{0x78, 0x56, 0x34, 0x12, 0x34, 0x12, 0x78, 0x56, 0x12, 0x34, 0x56, 0x78, 0x9A, 0xBC, 0xDE, 0xF0}
	tests := []struct {
		name   string
		dbType string
		v      any
		want   string
	}{
		{"NULL", "NVARCHAR", nil, ""},
		{"text as is", "NVARCHAR", "  Città ", "  Città "},
		{"int", "INT", int64(120045), "120045"},
		{"negative bigint", "BIGINT", int64(-3), "-3"},
		{"phone in a float column", "FLOAT", float64(3331234567), "3331234567"},
		{"bit set", "BIT", true, "1"},
		{"bit clear", "BIT", false, "0"},
		{"phone in a numeric column", "DECIMAL", []byte("3331234567"), "3331234567"},
		{"money", "MONEY", []byte("36.1500"), "36.1500"},
		{"booking code as a uniqueidentifier", "UNIQUEIDENTIFIER", guid, "12345678-1234-5678-1234-56789ABCDEF0"},
		{"datetime2 is the wall clock", "DATETIME2", time.Date(2026, 3, 10, 8, 30, 45, 0, time.UTC), "10/03/2026 08:30"},
		{"datetime ignores a location it does not have", "DATETIME", time.Date(2026, 3, 10, 8, 30, 0, 0, time.FixedZone("X", 7200)), "10/03/2026 08:30"},
		{"smalldatetime", "SMALLDATETIME", time.Date(2026, 12, 31, 23, 59, 0, 0, time.UTC), "31/12/2026 23:59"},
		{"date", "DATE", time.Date(2026, 1, 15, 0, 0, 0, 0, time.UTC), "15/01/2026"},
		{"datetimeoffset in Rome's winter", "DATETIMEOFFSET", time.Date(2026, 3, 10, 7, 30, 0, 0, time.UTC), "10/03/2026 08:30"},
		{"datetimeoffset in Rome's summer", "DATETIMEOFFSET", time.Date(2026, 7, 10, 6, 30, 0, 0, time.UTC), "10/07/2026 08:30"},
		{"time", "TIME", time.Date(1, 1, 1, 14, 5, 0, 0, time.UTC), "14:05"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := cellText(tt.v, renderOf(tt.dbType))
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestBinaryIsNoCell(t *testing.T) {
	t.Parallel()
	if _, err := cellText([]byte{1, 2}, renderOf("VARBINARY")); err == nil {
		t.Error("a varbinary value became a cell")
	}
	if _, err := cellText(struct{}{}, renderValue); err == nil {
		t.Error("an unknown Go type became a cell")
	}
}
