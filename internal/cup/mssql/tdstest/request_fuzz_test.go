package tdstest

import (
	"encoding/binary"
	"testing"
)

// FuzzRequestParsers feeds client messages of any shape to the parsers: a
// broken or hostile client must get an error, never a panic that would take
// down the test binary with every other test in it.
func FuzzRequestParsers(f *testing.F) {
	f.Add([]byte{preEncryption, 0, 6, 0, 1, preTerminator, encOn})
	login := make([]byte, 94)
	binary.LittleEndian.PutUint16(login[40:], 94)
	binary.LittleEndian.PutUint16(login[42:], 1)
	f.Add(append(login, 'u', 0))
	rpc := []byte{4, 0, 0, 0, 0xFF, 0xFF, 10, 0, 0, 0}
	rpc = append(rpc, 0, 0, typeNVarChar, 8, 0)
	rpc = append(rpc, latin1[:]...)
	rpc = append(rpc, 2, 0, 'x', 0)
	rpc = append(rpc, 5, '@', 0, 'f', 0, 'r', 0, 'o', 0, 'm', 0, 0, typeDateTime2N, 7, 8, 0, 0, 0, 0, 0, 0x1E, 0xDD, 0x0B)
	f.Add(rpc)
	f.Fuzz(func(t *testing.T, p []byte) {
		_, _ = parsePrelogin(p)
		_, _ = parseLogin7(p)
		_, _ = parseBatch(p)
		_, _, _ = parseRPC(p)
	})
}
