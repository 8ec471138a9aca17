package hostiletest

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// The CLI's bounds: its CPU time (user + system, which unlike wall time
// does not grow when the machine is busy) within timeLimit, and the peak
// resident size of the process within maxRSS. On Linux a child's ru_maxrss
// starts from the test process's own peak at the moment of exec (exec
// records the old address space's high-water mark), so the figure is an
// upper bound, and only a figure above the test process's own peak is the
// child's.
const maxRSS = 256 << 20

// maxStdin is the CLI's own bound on what it reads from stdin: a larger
// input is a usage error (exit 2), not a rejected value.
const maxStdin = 16 << 20

// cliJob is one `djsession decode` run.
type cliJob struct {
	name      string
	args      []string
	stdin     []byte
	want      string
	forbidden []string
}

// buildCLI builds cmd/djsession once into a temporary folder.
func buildCLI(t *testing.T) string {
	t.Helper()
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("the go command is needed to build cmd/djsession: %v", err)
	}
	bin := filepath.Join(t.TempDir(), "djsession")
	cmd := exec.Command(goBin, "build", "-o", bin, "github.com/djsession/djsession/cmd/djsession")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build ./cmd/djsession: %v\n%s", err, out)
	}
	return bin
}

// cliJobs returns the decode runs of one entry: session_data entries with
// the default engine (db; file decodes with the same code), cookies with
// signed_cookies, unsigned text with both, and cache values with --engine
// cache --base64 in their format.
func cliJobs(e loaded) []cliJob {
	now := strconv.Itoa(corpusTime + 60)
	base := []string{"decode", "--now", now}
	var jobs []cliJob
	if e.Kind == "cache" {
		args := append(base, "--engine", "cache", "--base64", "--cache-format", e.Cache.Format)
		if e.Cache.Serializer != "" {
			args = append(args, "--cache-serializer", e.Cache.Serializer)
		}
		if e.Cache.Compressor != "" {
			args = append(args, "--cache-compressor", e.Cache.Compressor)
		}
		if e.Cache.Flags != nil {
			args = append(args, "--cache-flags", strconv.FormatUint(uint64(*e.Cache.Flags), 10))
		}
		return []cliJob{{
			name: e.Name + ": decode (" + e.Cache.String() + ")", args: append(args, "-"),
			stdin: []byte(base64.StdEncoding.EncodeToString(e.value)), want: e.want(true),
			forbidden: []string{secretKey},
		}}
	}
	if e.serializer() == "pickle" {
		base = append(base, "--serializer", "pickle")
	}
	forbidden := secrets(string(e.value))
	if e.Signed != "cookie" {
		session := e.want(e.Signed == "session" || e.Signed == "legacy")
		jobs = append(jobs, cliJob{name: e.Name + ": decode (db)", args: append(append([]string{}, base...), "-"), want: session})
	}
	if e.Signed == "cookie" || e.Signed == "" {
		jobs = append(jobs, cliJob{name: e.Name + ": decode --engine signed_cookies",
			args: append(append([]string{}, base...), "--engine", "signed_cookies", "-"), want: e.want(e.Signed == "cookie")})
	}
	for i := range jobs {
		jobs[i].stdin, jobs[i].forbidden = e.value, forbidden
	}
	return jobs
}

// TestHostileCorpusCLI runs `djsession decode` on every corpus entry, for
// the engines that store what it is: exit 1 for a rejected value (0 and a
// JSON object for the controls), no crash, nothing secret on stderr, within
// the time and memory bounds.
func TestHostileCorpusCLI(t *testing.T) {
	corpus := loadCorpus(t)
	bin := buildCLI(t)
	var jobs []cliJob
	for _, e := range corpus {
		jobs = append(jobs, cliJobs(e)...)
	}

	var (
		b          bounds
		mu         sync.Mutex
		maxRSSSeen int64
		maxRSSAt   string
		maxStderr  int
		wg         sync.WaitGroup
	)
	start := time.Now()
	ch := make(chan cliJob)
	// One run per core.
	for w := 0; w < runtime.GOMAXPROCS(0); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range ch {
				rss, stderrLen := runCLI(t, bin, j, &b)
				mu.Lock()
				if rss > maxRSSSeen {
					maxRSSSeen, maxRSSAt = rss, j.name
				}
				maxStderr = max(maxStderr, stderrLen)
				mu.Unlock()
			}
		}()
	}
	for _, j := range jobs {
		ch <- j
	}
	close(ch)
	wg.Wait()
	var self syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &self)
	t.Logf("%d runs in %v; most CPU %v (%s); largest child peak RSS above this process's own (%.1f MiB): %.1f MiB (%s); longest stderr %d bytes",
		len(jobs), time.Since(start).Round(time.Millisecond), b.maxDur.Round(time.Millisecond), b.maxDurAt,
		float64(self.Maxrss)/1024, float64(maxRSSSeen)/(1<<20), maxRSSAt, maxStderr)
	t.Logf("most CPU in all: %s", b.slowest(5))
}

// runCLI runs one job and checks it; it returns the peak RSS in bytes and
// the length of stderr.
func runCLI(t *testing.T, bin string, j cliJob, b *bounds) (int64, int) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*limitTime())
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, j.args...)
	// Only the secret key: no SESSION_ENGINE, DATABASE_URL, ... from the
	// environment may change what decode does.
	cmd.Env = []string{"DJANGO_SECRET_KEY=" + secretKey}
	cmd.Stdin = bytes.NewReader(j.stdin)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if err != nil && cmd.ProcessState == nil {
		t.Errorf("%s: %v", j.name, err)
		return 0, 0
	}
	if ctx.Err() != nil {
		t.Errorf("%s: killed after %v", j.name, 3*limitTime())
	}
	b.record(t, j.name, cmd.ProcessState.UserTime()+cmd.ProcessState.SystemTime(), 0)
	// The child's own peak is known only when it exceeds this process's
	// (see maxRSS); otherwise report 0.
	var rss int64
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		var self syscall.Rusage
		_ = syscall.Getrusage(syscall.RUSAGE_SELF, &self)
		if ru.Maxrss > self.Maxrss {
			rss = ru.Maxrss * 1024 // kilobytes on Linux
		}
	}
	code := cmd.ProcessState.ExitCode()
	errText := stderr.String()
	what := fmt.Sprintf("%s: exit %d, stderr %.300q", j.name, code, errText)
	if code < 0 || strings.Contains(errText, "panic:") || strings.Contains(errText, "goroutine ") ||
		strings.Contains(errText, "fatal error:") {
		t.Errorf("%s: crashed", what)
		return rss, len(errText)
	}
	if rss > maxRSS {
		t.Errorf("%s: peak RSS %d MiB (limit %d MiB)", j.name, rss>>20, maxRSS>>20)
	}
	// Errors name the reason in a line or two; they never echo a large
	// input back.
	if len(errText) > 4096 {
		t.Errorf("%s: %d bytes on stderr", j.name, len(errText))
	}
	checkNoSecret(t, j.name+" stderr", errText, j.forbidden)
	switch {
	case j.want == reject && code == 2 && len(j.stdin) > maxStdin && strings.Contains(errText, "larger than"):
		// Refused before decoding: too large to be a stored value.
	case j.want == reject && code != 1:
		t.Errorf("%s: want exit 1 (rejected)", what)
	case j.want == accept && code != 0:
		t.Errorf("%s: want exit 0 (a control entry or a value Django reads)", what)
	case j.want == anyOK && code != 0 && code != 1:
		t.Errorf("%s: want exit 0 or 1", what)
	}
	if code == 0 {
		var obj map[string]any
		if err := json.Unmarshal(stdout.Bytes(), &obj); err != nil {
			t.Errorf("%s: stdout is not a JSON object: %v (%.200q)", j.name, err, stdout.String())
		}
	} else if stdout.Len() != 0 {
		t.Errorf("%s: exit %d with output on stdout: %.200q", j.name, code, stdout.String())
	}
	return rss, len(errText)
}
