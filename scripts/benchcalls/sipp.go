package main

import (
	_ "embed"
	"encoding/csv"
	"errors"
	"fmt"
	"math"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/richiamo/richiamo/internal/voice/media"
)

// uacScenario is SIPp's side of the comparison: the same call as ours
// (PCMU both ways, a tone out, the patient's audio read back), held for
// HOLD_MS milliseconds.
//
//go:embed uac_g711.xml
var uacScenario string

// sippRun is what SIPp did with the same load.
type sippRun struct {
	placed, ok, failed int
	cpu                time.Duration // user+system CPU of the SIPp process, start to exit
	wall               time.Duration
	rssMB              float64
}

// runSIPp has SIPp place b.calls calls to the same simulated patients at
// the same rate. Each call is held for hold + ramp/2, so that the calls
// add up to the same call-seconds as ours (ours are all hung up together
// at the end of the hold; call i of ours lasts ramp - i/rate + hold), and
// all of them are up together for hold - ramp/2.
func runSIPp(b bench, dir string, echo bool) (sippRun, error) {
	ramp := time.Duration(float64(b.calls) / b.rate * float64(time.Second))
	hold := b.hold + ramp/2
	scen := strings.ReplaceAll(uacScenario, "HOLD_MS", strconv.FormatInt(hold.Milliseconds(), 10))
	if err := os.WriteFile(filepath.Join(dir, "uac_g711.xml"), []byte(scen), 0o644); err != nil {
		return sippRun{}, err
	}
	if err := os.WriteFile(filepath.Join(dir, "tone.ulaw"), toneULaw(440, time.Second), 0o644); err != nil {
		return sippRun{}, err
	}
	host, _, err := net.SplitHostPort(b.patientsAddr)
	if err != nil {
		return sippRun{}, fmt.Errorf("patients address %q: %w", b.patientsAddr, err)
	}
	// SIPp's -p 0 means its default 5060: take a free port instead.
	sipPort, err := freeUDPPort(host)
	if err != nil {
		return sippRun{}, err
	}
	statFile := filepath.Join(dir, "stat.csv")
	_ = os.Remove(statFile) // from the run before
	args := []string{
		b.patientsAddr,
		"-sf", "uac_g711.xml",
		"-s", "393330000000",
		"-i", host, "-p", strconv.Itoa(sipPort), "-mi", host, "-mp", strconv.Itoa(b.sippRTPMin),
		"-r", strconv.FormatFloat(b.rate, 'f', -1, 64), "-rp", "1000",
		"-l", strconv.Itoa(b.calls), "-m", strconv.Itoa(b.calls),
		"-max_socket", strconv.Itoa(4*b.calls + 100),
		"-timeout", strconv.Itoa(int((hold+ramp+time.Minute)/time.Second)) + "s",
		"-nostdin", "-trace_stat", "-stf", statFile, "-fd", "1",
		"-trace_err", "-error_file", filepath.Join(dir, "errors.log"),
	}
	if echo {
		// SIPp 3.6 offers its one media port in every call's SDP and reads
		// it only with -rtp_echo, which sends each packet back: without it
		// the patients' audio is dropped by the kernel, unread.
		args = append(args, "-rtp_echo")
	}
	cmd := exec.Command(b.sippBin, args...)
	cmd.Dir = dir
	out, err := os.Create(filepath.Join(dir, "screen.log"))
	if err != nil {
		return sippRun{}, err
	}
	defer out.Close()
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	fmt.Fprintf(os.Stderr, "benchcalls: SIPp places the same %d calls at %.0f/s, each held %s\n", b.calls, b.rate, hold.Round(time.Millisecond))
	start := time.Now()
	runErr := cmd.Run()
	r := sippRun{wall: time.Since(start)}
	if cmd.ProcessState == nil {
		return r, fmt.Errorf("sipp: %w", runErr)
	}
	ru := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	r.cpu = time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	r.rssMB = float64(ru.Maxrss) / 1024
	// SIPp exits 1 when a call failed: the figures still say how many.
	if code := cmd.ProcessState.ExitCode(); code != 0 && code != 1 {
		return r, fmt.Errorf("sipp exited %d (its screen and errors are in %s)", code, dir)
	}
	if err := r.readStats(statFile); err != nil {
		return r, err
	}
	how := "reading the patients' audio and echoing it"
	if !echo {
		how = "leaving the patients' audio unread"
	}
	fmt.Fprintf(os.Stderr, "benchcalls: SIPp %s: %d placed, %d completed, %d failed; CPU %.2fs over %.2fs (%.0f%% of one core), peak RSS %.0f MB\n",
		how, r.placed, r.ok, r.failed, r.cpu.Seconds(), r.wall.Seconds(), 100*r.cpu.Seconds()/r.wall.Seconds(), r.rssMB)
	return r, nil
}

// perCall is SIPp's CPU per call placed, in milliseconds.
func (r sippRun) perCall(calls int) float64 {
	return float64(r.cpu.Microseconds()) / 1000 / float64(calls)
}

// readStats takes the cumulative counters of the last line of SIPp's
// statistics file.
func (r *sippRun) readStats(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("sipp statistics: %w", err)
	}
	defer f.Close()
	cr := csv.NewReader(f)
	cr.Comma = ';'
	cr.FieldsPerRecord = -1
	rows, err := cr.ReadAll()
	if err != nil {
		return fmt.Errorf("sipp statistics %s: %w", path, err)
	}
	if len(rows) < 2 {
		return fmt.Errorf("sipp statistics %s: no figures", path)
	}
	head, last := rows[0], rows[len(rows)-1]
	col := func(name string) (int, error) {
		for i, h := range head {
			if h == name && i < len(last) {
				return strconv.Atoi(strings.TrimSpace(last[i]))
			}
		}
		return 0, fmt.Errorf("sipp statistics %s: no column %s", path, name)
	}
	var errs []error
	var e error
	r.placed, e = col("TotalCallCreated")
	errs = append(errs, e)
	r.ok, e = col("SuccessfulCall(C)")
	errs = append(errs, e)
	r.failed, e = col("FailedCall(C)")
	errs = append(errs, e)
	return errors.Join(errs...)
}

// toneULaw is d of a sine at hz, µ-law encoded, headerless: the file
// SIPp's rtp_stream sends 160 bytes a packet.
func toneULaw(hz float64, d time.Duration) []byte {
	n := int(d / time.Second * 8000)
	pcm := make([]int16, n)
	for i := range pcm {
		pcm[i] = int16(8000 * math.Sin(2*math.Pi*hz*float64(i)/8000))
	}
	return media.PCMU.Encode(pcm, nil)
}

// freeUDPPort is a UDP port on host that nothing holds right now.
func freeUDPPort(host string) (int, error) {
	c, err := net.ListenPacket("udp", net.JoinHostPort(host, "0"))
	if err != nil {
		return 0, err
	}
	defer c.Close()
	return c.LocalAddr().(*net.UDPAddr).Port, nil
}

// machine names the CPU and the cores the figures were taken on.
func machine() string {
	model := "unknown CPU"
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for l := range strings.SplitSeq(string(b), "\n") {
			if k, v, ok := strings.Cut(l, ":"); ok && strings.TrimSpace(k) == "model name" {
				model = strings.TrimSpace(v)
				break
			}
		}
	}
	return fmt.Sprintf("%s, %d cores", model, runtime.NumCPU())
}
