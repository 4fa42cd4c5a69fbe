// Command benchcalls measures how many concurrent calls the voice engine
// holds on this machine, and prints, as its last line:
//
//	calls target=… held=… late_frames_pct=… cpu_ms_per_call=… rss_mb=… setup_rate=… heard_late_pct=… heard_jitter_ms=… sipp_held=… sipp_cpu_ms_per_call=… cpu_ratio=… sipp_heard_late_pct=… sipp_heard_jitter_ms=… sipp_unread_cpu_ms_per_call=… cpu_ratio_unread=… sipp_unread_heard_late_pct=… sipp_unread_heard_jitter_ms=…
//
// It starts the simulated patients in a child process of the same binary
// (so that their CPU and memory are not counted as the caller's), with a
// mix that always answers at once and stays on the line. It then places
// -calls calls to them at -rate set-ups a second; each answered call plays
// a tone for its whole length, G.711 both ways. Once every attempt is over
// it holds the calls for -hold and hangs them all up.
//
// The figures: held is the calls answered and still up at the end of the
// hold; late_frames_pct is the share of the frames due on every call that
// the pacers sent late or gave up (voice.MediaStats.Late over the frames
// due since each answer); cpu_ms_per_call is the user+system CPU of this
// process from the first INVITE to the last hang-up, divided by the calls
// placed; rss_mb is this process's peak RSS; setup_rate is the calls
// answered per second of the ramp, from the first INVITE to the end of the
// last attempt.
//
// Then SIPp, a caller written in C++ for this load, places the same calls
// to the same simulated patients at the same rate (uac_g711.xml: PCMU
// both ways, a tone streamed with rtp_stream, the patients' audio read
// with -rtp_echo), each held so that its calls add up to the same
// call-seconds as ours. sipp_held is the calls SIPp completed;
// sipp_cpu_ms_per_call is the user+system CPU of the SIPp process, start
// to exit, divided by the calls placed; cpu_ratio is ours over SIPp's.
// SIPp 3.6 reads the audio sent to it only with -rtp_echo, which also
// sends every packet back: work ours does not do. So SIPp runs a second
// time without it (-sipp-unread), leaving the audio unread, and
// sipp_unread_cpu_ms_per_call and cpu_ratio_unread bound the comparison
// from the other side.
//
// SIPp keeps no record of its frames' timing, so the simulated patients
// count what reached them from either caller (patients.Heard): the
// frames late (more than half a frame behind the earliest of their call,
// by the kernel's receive time against the RTP timestamp) or missing, over
// the frames due (heard_late_pct, sipp_heard_late_pct,
// sipp_unread_heard_late_pct), and the mean difference of delay between
// consecutive frames (…_jitter_ms). With -peer they are left out. -sipp ""
// leaves SIPp out.
//
// Run it through scripts/bench-calls.sh (make bench-calls).
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/richiamo/richiamo/internal/voice"
	"github.com/richiamo/richiamo/internal/voice/patients"
)

func main() {
	var (
		calls    = flag.Int("calls", 1000, "concurrent calls to hold")
		rate     = flag.Float64("rate", 200, "call set-ups offered per second")
		hold     = flag.Duration("hold", 20*time.Second, "how long the calls are held once all are up")
		rtpMin   = flag.Int("rtp-port-min", 20000, "lowest RTP port of the caller")
		noRTP    = flag.Duration("no-rtp-timeout", 5*time.Second, "hang up a call whose far end sends no audio for this long (0: never)")
		ring     = flag.Duration("ring-timeout", 10*time.Second, "ring timeout of each call")
		serve    = flag.Bool("serve-patients", false, "internal: run the simulated patients (the child process)")
		listen   = flag.String("listen", "127.0.0.1:0", "SIP address of the simulated patients")
		verbose  = flag.Bool("v", false, "more progress on stderr")
		peer     = flag.String("peer", "", "SIP address of an answering peer already running (SIPp -sn uas -rtp_echo, say) instead of the simulated patients")
		procs    = flag.Int("patients-gomaxprocs", 0, "GOMAXPROCS of the simulated patients' process (0: Go's default)")
		sipp     = flag.String("sipp", "sipp", "SIPp binary that places the same calls for comparison (\"\": leave SIPp out)")
		sippBoth = flag.Bool("sipp-unread", true, "also run SIPp leaving the patients' audio unread (no -rtp_echo): its CPU without reading or echoing")
		sippRTP  = flag.Int("sipp-rtp-port-min", 40000, "SIPp's -mp: its calls' RTP ports are taken from there up")
	)
	flag.Parse()
	raiseFileLimit()
	var err error
	if *serve {
		err = servePatients(*listen)
	} else {
		err = run(bench{
			calls: *calls, rate: *rate, hold: *hold, rtpMin: *rtpMin,
			noRTP: *noRTP, ring: *ring, listen: *listen, verbose: *verbose, procs: *procs, patientsAddr: *peer,
			sippBin: *sipp, sippRTPMin: *sippRTP, sippUnread: *sippBoth,
		})
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "benchcalls:", err)
		os.Exit(1)
	}
}

// raiseFileLimit lifts the soft limit of open files to the hard one: each
// call holds a UDP socket on either side.
func raiseFileLimit() {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return
	}
	if lim.Cur < lim.Max {
		lim.Cur = lim.Max
		_ = syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim)
	}
}

// patientsMix answers every call at once and stays on the line: the key
// press the behaviour needs comes a day after the answer, and the patients
// hang up on their own only after a day.
func patientsMix() patients.Mix {
	seed := uint64(1)
	return patients.Mix{
		Seed: &seed,
		Behaviours: map[patients.Behaviour]patients.Rule{
			patients.AnswerAndPress: {Weight: 1, Digits: "1", After: 24 * time.Hour},
		},
		MaxCall: 24 * time.Hour,
	}
}

// servePatients is the child: it prints the SIP address on stdout and
// answers until its stdin closes (the parent is done or gone). For each
// line "heard" on its stdin it prints the callers' frames it has heard,
// late and missing so far.
func servePatients(listen string) error {
	srv, err := patients.NewServer(patients.Config{Listen: listen, Mix: patientsMix()})
	if err != nil {
		return err
	}
	fmt.Println(srv.Addr())
	signal.Ignore(os.Interrupt)
	in := bufio.NewScanner(os.Stdin)
	for in.Scan() {
		if in.Text() == "heard" {
			h := srv.Heard()
			fmt.Printf("%d %d %d %d %d\n", h.Frames, h.Late, h.Missing, h.JitterMicros, h.JitterN)
		}
	}
	return srv.Close()
}

// heard asks the simulated patients what they have heard so far; false
// with an outside peer.
func (b *bench) heard() (patients.Heard, bool, error) {
	var h patients.Heard
	if b.patientsStdin == nil {
		return h, false, nil
	}
	if _, err := io.WriteString(b.patientsStdin, "heard\n"); err != nil {
		return h, false, fmt.Errorf("simulated patients: %w", err)
	}
	line, err := b.patientsOut.ReadString('\n')
	if err != nil {
		return h, false, fmt.Errorf("simulated patients: %w", err)
	}
	if _, err := fmt.Sscanf(line, "%d %d %d %d %d", &h.Frames, &h.Late, &h.Missing, &h.JitterMicros, &h.JitterN); err != nil {
		return h, false, fmt.Errorf("simulated patients said %q: %w", line, err)
	}
	return h, true, nil
}

func jitterMS(h patients.Heard) float64 { return float64(h.Jitter().Microseconds()) / 1000 }

// heardSince asks the patients what they heard after *last, prints it
// for who, and returns the last line's figures named prefix_late_pct and
// prefix_jitter_ms ("" with an outside peer); *last becomes the answer.
func (b *bench) heardSince(last *patients.Heard, who, prefix string) (string, error) {
	now, ok, err := b.heard()
	if err != nil || !ok {
		return "", err
	}
	h := patients.Heard{Frames: now.Frames - last.Frames, Late: now.Late - last.Late, Missing: now.Missing - last.Missing,
		JitterMicros: now.JitterMicros - last.JitterMicros, JitterN: now.JitterN - last.JitterN}
	*last = now
	printHeard(who, h)
	return fmt.Sprintf(" %s_late_pct=%.3f %s_jitter_ms=%.2f", prefix, h.LatePercent(), prefix, jitterMS(h)), nil
}

func printHeard(who string, h patients.Heard) {
	fmt.Fprintf(os.Stderr, "benchcalls: the patients heard %s: %d frames, %d late, %d missing (%.3f%% late or missing), jitter %.2f ms\n",
		who, h.Frames, h.Late, h.Missing, h.LatePercent(), jitterMS(h))
}

type bench struct {
	calls         int
	rate          float64
	hold          time.Duration
	rtpMin        int
	noRTP, ring   time.Duration
	listen        string
	verbose       bool
	procs         int
	patientsAddr  string
	patientsStdin io.WriteCloser
	patientsOut   *bufio.Reader
	sippBin       string
	sippRTPMin    int
	sippUnread    bool
}

// startPatients runs this binary again as the simulated patients and
// returns their SIP address.
func startPatients(b *bench) (*exec.Cmd, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(self, "-serve-patients", "-listen", b.listen)
	cmd.Stderr = os.Stderr
	if b.procs > 0 {
		cmd.Env = append(os.Environ(), fmt.Sprintf("GOMAXPROCS=%d", b.procs))
	}
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	out := bufio.NewReader(stdout)
	line, err := out.ReadString('\n')
	if err != nil {
		stdin.Close()
		_ = cmd.Wait()
		return nil, fmt.Errorf("simulated patients did not start: %w", err)
	}
	b.patientsAddr = strings.TrimSpace(line)
	b.patientsStdin, b.patientsOut = stdin, out
	return cmd, nil
}

// placed is one call attempt of the run.
type placed struct {
	call   *voice.Call
	res    voice.Result
	cancel context.CancelFunc // stops the prompt
	played chan struct{}      // closed when the prompt goroutine returns
}

func run(b bench) error {
	if b.calls <= 0 || b.rate <= 0 || b.hold <= 0 {
		return errors.New("-calls, -rate and -hold must be above 0")
	}
	if b.sippBin != "" {
		p, err := exec.LookPath(b.sippBin)
		if err != nil {
			return fmt.Errorf("-sipp %s: %w (apt-get install sip-tester, or -sipp \"\" to leave SIPp out)", b.sippBin, err)
		}
		b.sippBin = p
	}
	peerPID := 0
	if b.patientsAddr == "" {
		child, err := startPatients(&b)
		if err != nil {
			return err
		}
		peerPID = child.Process.Pid
		defer func() {
			b.patientsStdin.Close()
			_ = child.Wait()
		}()
	}
	host, _, err := net.SplitHostPort(b.patientsAddr)
	if err != nil {
		return fmt.Errorf("patients address %q: %w", b.patientsAddr, err)
	}
	ramp := time.Duration(float64(b.calls)/b.rate*float64(time.Second)) + b.ring
	// Every call keeps playing until it is hung up.
	promptLen := ramp + b.hold + time.Minute
	caller, err := voice.NewCaller(voice.Config{
		Bind:         net.JoinHostPort(host, "0"),
		RTPPortMin:   b.rtpMin,
		RTPPortMax:   b.rtpMin + 4*b.calls + 100, // twice the even ports needed
		RingTimeout:  b.ring,
		MaxDuration:  promptLen + time.Minute,
		NoRTPTimeout: b.noRTP,
	})
	if err != nil {
		return err
	}
	defer caller.Close()
	prompt := voice.Tone(440, promptLen)
	fmt.Fprintf(os.Stderr, "benchcalls: peer on %s (pid %d: 0 is an outside peer), caller on %s; %d calls at %.0f/s, hold %s\n",
		b.patientsAddr, peerPID, caller.Addr(), b.calls, b.rate, b.hold)

	var (
		attempts = make([]placed, b.calls)
		answered atomic.Int64
		failed   atomic.Int64
		ended    atomic.Int64 // answered calls over
		wg       sync.WaitGroup
	)
	heard0, _, err := b.heard()
	if err != nil {
		return err
	}
	cpu0 := cpuTime()
	start := time.Now()
	stopProgress := progress(start, func() string {
		return fmt.Sprintf("answered=%d failed=%d up=%d", answered.Load(), failed.Load(), answered.Load()-ended.Load())
	})
	interval := time.Duration(float64(time.Second) / b.rate)
	for i := range b.calls {
		// Absolute deadlines: a late wake-up does not slow the ramp.
		if d := time.Until(start.Add(time.Duration(i) * interval)); d > 0 {
			time.Sleep(d)
		}
		wg.Go(func() {
			to := fmt.Sprintf("sip:39333%07d@%s", i, b.patientsAddr)
			call, res := caller.Place(context.Background(), voice.Request{To: to})
			p := placed{call: call, res: res, played: make(chan struct{})}
			if call == nil {
				failed.Add(1)
				if b.verbose || failed.Load() <= 5 {
					fmt.Fprintf(os.Stderr, "benchcalls: call %d: %s (%s %d) %v\n", i, res.Outcome, res.Cause, res.SIPCode, res.Err)
				}
				close(p.played)
				attempts[i] = p
				return
			}
			var ctx context.Context
			ctx, p.cancel = context.WithCancel(context.Background())
			attempts[i] = p
			answered.Add(1)
			go func() {
				defer close(p.played)
				_ = call.PlayWhole(ctx, prompt)
			}()
			go func() {
				<-call.Done()
				ended.Add(1)
			}()
		})
	}
	wg.Wait()
	rampEnd := time.Now()
	rampDur := rampEnd.Sub(start)
	n := answered.Load()
	fmt.Fprintf(os.Stderr, "benchcalls: ramp over in %.2fs: %d answered, %d failed; holding %s\n",
		rampDur.Seconds(), n, failed.Load(), b.hold)

	lateAtRamp, sentAtRamp := mediaTotals(attempts)
	time.Sleep(b.hold)
	snap := time.Now()
	var (
		held, late, sent, received, due int64
		causes                          = map[voice.Cause]int{}
	)
	for _, p := range attempts {
		if p.call == nil {
			continue
		}
		st := p.call.MediaStats()
		late += st.Late
		sent += st.Sent
		received += st.Received
		// Frames due from the answer to now; at least those sent.
		due += max(st.Sent, int64(snap.Sub(p.res.Answer)/(20*time.Millisecond)))
		select {
		case <-p.call.Done():
			causes[p.call.Result().Cause]++
		default:
			held++
		}
	}
	stopProgress()
	fmt.Fprintf(os.Stderr, "benchcalls: at the end of the hold: %d of %d up; frames sent %d, late or given up %d, received %d\n",
		held, n, sent, late, received)
	if hs := sent - sentAtRamp; hs > 0 {
		fmt.Fprintf(os.Stderr, "benchcalls: during the hold alone: %d frames sent, %d late or given up (%.3f%%)\n",
			hs, late-lateAtRamp, 100*float64(late-lateAtRamp)/float64(hs))
	}
	for c, k := range causes {
		fmt.Fprintf(os.Stderr, "benchcalls: %d calls ended early: %s\n", k, c)
	}

	var hang sync.WaitGroup
	for _, p := range attempts {
		if p.call == nil {
			continue
		}
		hang.Go(func() {
			p.cancel()
			p.call.Hangup()
			<-p.played
		})
	}
	hang.Wait()
	cpu := cpuTime() - cpu0
	end := time.Now()
	fmt.Fprintf(os.Stderr, "benchcalls: all hung up after %.2fs; caller CPU %.2fs over %.2fs (%.0f%% of one core)\n",
		end.Sub(snap).Seconds(), cpu.Seconds(), end.Sub(start).Seconds(), 100*cpu.Seconds()/end.Sub(start).Seconds())

	latePct := 0.0
	if due > 0 {
		latePct = 100 * float64(late) / float64(due)
	}
	ours := float64(cpu.Microseconds()) / 1000 / float64(b.calls)
	line := fmt.Sprintf("calls target=%d held=%d late_frames_pct=%.3f cpu_ms_per_call=%.1f rss_mb=%.0f setup_rate=%.1f",
		b.calls, held, latePct, ours, peakRSSMB(), float64(n)/rampDur.Seconds())
	last := heard0
	fields, err := b.heardSince(&last, "from ours", "heard")
	if err != nil {
		return err
	}
	line += fields
	if b.sippBin != "" {
		dir, err := os.MkdirTemp("", "richiamo-bench-sipp-")
		if err != nil {
			return err
		}
		sr, err := runSIPp(b, dir, true)
		if err != nil {
			return fmt.Errorf("sipp: %w (its files are in %s)", err, dir)
		}
		theirs := sr.perCall(b.calls)
		line += fmt.Sprintf(" sipp_held=%d sipp_cpu_ms_per_call=%.1f cpu_ratio=%.2f", sr.ok, theirs, ours/theirs)
		fields, err := b.heardSince(&last, "from SIPp", "sipp_heard")
		if err != nil {
			return err
		}
		line += fields
		if b.sippUnread {
			ur, err := runSIPp(b, dir, false)
			if err != nil {
				return fmt.Errorf("sipp without -rtp_echo: %w (its files are in %s)", err, dir)
			}
			u := ur.perCall(b.calls)
			line += fmt.Sprintf(" sipp_unread_cpu_ms_per_call=%.1f cpu_ratio_unread=%.2f", u, ours/u)
			fields, err := b.heardSince(&last, "from SIPp leaving their audio unread", "sipp_unread_heard")
			if err != nil {
				return err
			}
			line += fields
		}
		os.RemoveAll(dir)
	}
	fmt.Println("machine:", machine())
	fmt.Println(line)
	return nil
}

// mediaTotals adds up the late and sent frames of the answered calls.
func mediaTotals(attempts []placed) (late, sent int64) {
	for _, p := range attempts {
		if p.call != nil {
			st := p.call.MediaStats()
			late += st.Late
			sent += st.Sent
		}
	}
	return late, sent
}

// progress prints a line a second to stderr until stopped.
func progress(start time.Time, line func() string) (stop func()) {
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		t := time.NewTicker(time.Second)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case now := <-t.C:
				fmt.Fprintf(os.Stderr, "benchcalls: %5.1fs %s process_cpu=%.2fs\n", now.Sub(start).Seconds(), line(), cpuTime().Seconds())
			}
		}
	})
	return func() { close(done); wg.Wait() }
}

// cpuTime is the user+system CPU of this process so far (not of its
// children).
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// peakRSSMB is this process's peak resident set, in MiB (ru_maxrss is in
// KiB on Linux).
func peakRSSMB() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return float64(ru.Maxrss) / 1024
}
