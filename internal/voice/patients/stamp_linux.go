package patients

import (
	"encoding/binary"
	"net"
	"syscall"
	"time"
	"unsafe"
)

// stampArrivals asks the kernel for each datagram's receive time on c.
func stampArrivals(c *net.UDPConn) bool {
	raw, err := c.SyscallConn()
	if err != nil {
		return false
	}
	var serr error
	if err := raw.Control(func(fd uintptr) {
		serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_TIMESTAMPNS, 1)
	}); err != nil || serr != nil {
		return false
	}
	return true
}

const timespecSize = int(unsafe.Sizeof(syscall.Timespec{}))

// oobSize is the control data a stamped datagram comes with.
var oobSize = syscall.CmsgSpace(timespecSize)

// arrival is the kernel's receive time in oob, or false.
func arrival(oob []byte) (time.Time, bool) {
	msgs, err := syscall.ParseSocketControlMessage(oob)
	if err != nil {
		return time.Time{}, false
	}
	for _, m := range msgs {
		if m.Header.Level != syscall.SOL_SOCKET || m.Header.Type != syscall.SCM_TIMESTAMPNS {
			continue
		}
		// struct timespec: two longs, of the platform's word.
		switch d := m.Data; {
		case timespecSize == 16 && len(d) >= 16:
			return time.Unix(int64(binary.NativeEndian.Uint64(d)), int64(binary.NativeEndian.Uint64(d[8:]))), true
		case timespecSize == 8 && len(d) >= 8:
			return time.Unix(int64(int32(binary.NativeEndian.Uint32(d))), int64(int32(binary.NativeEndian.Uint32(d[4:])))), true
		}
	}
	return time.Time{}, false
}
