package cache

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/djsession/djsession/backends/testenv"
	"github.com/djsession/djsession/django"
	"github.com/djsession/djsession/django/storetest"
	"github.com/djsession/djsession/pickle/py"
)

// The tests below start their own servers on free loopback ports
// (redis-server, redis-sentinel, redis-cli --cluster create, memcached)
// and stop them when the test ends.

func needBinary(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	testenv.Require(t, name, err)
	return p
}

// freePort returns a free loopback port; with bus, port+10000 (Redis
// Cluster's bus) is free too.
func freePort(t *testing.T, bus bool) int {
	t.Helper()
	for range 50 {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		port := l.Addr().(*net.TCPAddr).Port
		l.Close()
		if !bus {
			return port
		}
		if port+10000 > 65535 {
			continue
		}
		if l2, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(port+10000)); err == nil {
			l2.Close()
			return port
		}
	}
	t.Fatal("no free port")
	return 0
}

// startProcess runs a server and kills it (and only it) when the test ends.
func startProcess(t *testing.T, dir, bin string, args ...string) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Dir = dir
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatalf("%s: %v", bin, err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
		if t.Failed() && out.Len() > 0 {
			t.Logf("%s %s output:\n%s", filepath.Base(bin), strings.Join(args, " "), lastLines(out.String(), 20))
		}
	})
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

func waitFor(t *testing.T, what string, limit time.Duration, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func ping(addr string) bool {
	rc := redis.NewClient(&redis.Options{Addr: addr, DialTimeout: 200 * time.Millisecond, MaxRetries: -1})
	defer rc.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	return rc.Ping(ctx).Err() == nil
}

// startRedis starts a redis-server with no persistence and returns its
// port.
func startRedis(t *testing.T, bus bool, extra ...string) int {
	t.Helper()
	bin := needBinary(t, "redis-server")
	port := freePort(t, bus)
	dir := t.TempDir()
	args := append([]string{"--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
		"--dir", dir, "--protected-mode", "no"}, extra...)
	startProcess(t, dir, bin, args...)
	addr := "127.0.0.1:" + strconv.Itoa(port)
	waitFor(t, "redis-server on "+addr, 5*time.Second, func() bool { return ping(addr) })
	return port
}

func addr(port int) string { return "127.0.0.1:" + strconv.Itoa(port) }

func runConformance(t *testing.T, url string, opts ...Option) {
	t.Helper()
	storetest.Run(t, storetest.Harness{
		New: func(t *testing.T, s *django.Settings) django.Store {
			st, err := Open(url, s, append([]Option{WithKeyPrefix(testPrefix())}, opts...)...)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { st.Close() })
			return st
		},
		RealTimeExpiry: true,
		NoClearExpired: true,
	})
}

// TestSentinel: a primary, a replica and one sentinel; the store finds the
// primary through the sentinel (go-redis FailoverClient).
func TestSentinel(t *testing.T) {
	t.Parallel()
	sentinelBin := needBinary(t, "redis-sentinel")
	primary := startRedis(t, false)
	replica := startRedis(t, false, "--replicaof", "127.0.0.1", strconv.Itoa(primary))
	sport := freePort(t, false)
	dir := t.TempDir()
	conf := filepath.Join(dir, "sentinel.conf")
	err := os.WriteFile(conf, []byte(fmt.Sprintf("port %d\nbind 127.0.0.1\nprotected-mode no\ndir %s\n"+
		"sentinel monitor djsmaster 127.0.0.1 %d 1\nsentinel down-after-milliseconds djsmaster 5000\n", sport, dir, primary)), 0o600)
	if err != nil {
		t.Fatal(err)
	}
	startProcess(t, dir, sentinelBin, conf)
	sc := redis.NewSentinelClient(&redis.Options{Addr: addr(sport), DialTimeout: 200 * time.Millisecond, MaxRetries: -1})
	defer sc.Close()
	waitFor(t, "the sentinel to know the primary", 10*time.Second, func() bool {
		ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
		defer cancel()
		a, err := sc.GetMasterAddrByName(ctx, "djsmaster").Result()
		return err == nil && len(a) == 2 && a[1] == strconv.Itoa(primary)
	})
	url := "redis+sentinel://" + addr(sport) + "/djsmaster/2"
	runConformance(t, url)
	// The data is on the primary, in database 2.
	s, _ := storetest.Settings()
	st, err := Open(url, s)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ctx := testCtx(t)
	key, _ := django.NewSessionKey()
	if err := st.Save(ctx, record(key, 60, "a", "b"), true); err != nil {
		t.Fatal(err)
	}
	rc := redis.NewClient(&redis.Options{Addr: addr(primary), DB: 2})
	defer rc.Close()
	if n, err := rc.Exists(ctx, st.CacheKey(key)).Result(); err != nil || n != 1 {
		t.Fatalf("session not on the primary's db 2: %v %v", n, err)
	}

	// replica_reads: Load reads a replica, as django-redis's
	// SentinelClient does, once the sentinel knows one.
	waitFor(t, "the sentinel to know the replica", 30*time.Second, func() bool {
		ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
		defer cancel()
		r, err := sc.Replicas(ctx, "djsmaster").Result()
		return err == nil && len(r) > 0
	})
	str, err := Open(url+"?replica_reads=true", s)
	if err != nil {
		t.Fatal(err)
	}
	defer str.Close()
	getranges := func(port int) int {
		c := redis.NewClient(&redis.Options{Addr: addr(port)})
		defer c.Close()
		info, err := c.Info(ctx, "commandstats").Result()
		if err != nil {
			t.Fatal(err)
		}
		_, rest, ok := strings.Cut(info, "cmdstat_getrange:calls=")
		if !ok {
			return 0
		}
		n, _ := strconv.Atoi(rest[:strings.IndexByte(rest, ',')])
		return n
	}
	before := getranges(primary)
	key2, _ := django.NewSessionKey()
	if err := str.Save(ctx, record(key2, 60, "c", "d"), true); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the session to reach the replica", 10*time.Second, func() bool {
		d, found, err := str.Load(ctx, key2)
		return err == nil && found && d.Len() == 1
	})
	if n := getranges(replica); n == 0 {
		t.Errorf("replica_reads: the replica answered no GETRANGE")
	}
	if after := getranges(primary); after != before {
		t.Errorf("replica_reads: the primary answered %d GETRANGE", after-before)
	}
}

// TestCluster: three primaries made with redis-cli --cluster create.
func TestCluster(t *testing.T) {
	t.Parallel()
	cli := needBinary(t, "redis-cli")
	var ports []int
	var addrs []string
	for range 3 {
		p := startRedis(t, true, "--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf",
			"--cluster-node-timeout", "5000")
		ports = append(ports, p)
		addrs = append(addrs, addr(p))
	}
	out, err := exec.Command(cli, append(append([]string{"--cluster", "create"}, addrs...), "--cluster-yes")...).CombinedOutput()
	if err != nil {
		t.Fatalf("redis-cli --cluster create: %v\n%s", err, out)
	}
	for _, a := range addrs {
		waitFor(t, "cluster_state:ok on "+a, 10*time.Second, func() bool {
			rc := redis.NewClient(&redis.Options{Addr: a, MaxRetries: -1})
			defer rc.Close()
			info, err := rc.ClusterInfo(context.Background()).Result()
			return err == nil && strings.Contains(info, "cluster_state:ok")
		})
	}
	url := "redis+cluster://" + strings.Join(addrs, ",")
	runConformance(t, url)
	// Sessions spread over the primaries, and List finds them all.
	s, _ := storetest.Settings()
	st, err := Open(url, s, WithKeyPrefix(testPrefix()))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ctx := testCtx(t)
	want := map[string]bool{}
	for range 30 {
		key, _ := django.NewSessionKey()
		if err := st.Save(ctx, record(key, 60), true); err != nil {
			t.Fatal(err)
		}
		want[key] = true
	}
	holders := map[int]bool{}
	for _, p := range ports {
		rc := redis.NewClient(&redis.Options{Addr: addr(p)})
		n, _ := rc.DBSize(ctx).Result()
		rc.Close()
		if n > 0 {
			holders[p] = true
		}
	}
	if len(holders) < 2 {
		t.Errorf("sessions on %d primaries, want them spread", len(holders))
	}
	got := 0
	if err := st.List(ctx, func(in django.Info) error {
		if want[in.SessionKey] {
			got++
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if got != len(want) {
		t.Errorf("List found %d of %d sessions", got, len(want))
	}
}

// TestReplicatedRouting: with several servers in LOCATION, writes go to the
// first and reads to one of the others (spec §6.2, §7.5). Two independent
// servers stand in for a primary and its replica, so where each command
// went is visible.
func TestReplicatedRouting(t *testing.T) {
	t.Parallel()
	primary, replica := startRedis(t, false), startRedis(t, false)
	s, _ := storetest.Settings()
	st, err := Open("redis://"+addr(primary)+","+addr(replica)+"/0", s)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ctx := testCtx(t)
	key, _ := django.NewSessionKey()
	if err := st.Save(ctx, record(key, 60, "on", "primary"), true); err != nil {
		t.Fatal(err)
	}
	if _, found, err := st.Load(ctx, key); found || err != nil {
		t.Fatalf("read went to the primary: %v %v", found, err)
	}
	rp := redis.NewClient(&redis.Options{Addr: addr(primary)})
	rr := redis.NewClient(&redis.Options{Addr: addr(replica)})
	defer rp.Close()
	defer rr.Close()
	raw, err := rp.Get(ctx, st.CacheKey(key)).Bytes()
	if err != nil {
		t.Fatalf("write did not reach the primary: %v", err)
	}
	if err := rr.Set(ctx, st.CacheKey(key), raw, time.Minute).Err(); err != nil {
		t.Fatal(err)
	}
	d, found, err := st.Load(ctx, key)
	if !found || err != nil {
		t.Fatalf("read from the replica: %v %v", found, err)
	}
	if v, _ := d.GetStr("on"); !v.Equal(py.Str("primary")) {
		t.Fatalf("read %s", v.Repr())
	}
	// The same server twice behaves as one server: the full suite.
	runConformance(t, "redis://"+addr(primary)+","+addr(primary)+"/0")
}

// TestReplicaWrites: with ?replica_read_only=false (django-redis's
// REPLICA_READ_ONLY = False) a write the first server refuses — it is
// down, or answers READONLY — lands on the next one, where reads go; by
// default it fails. Deletes are not retried.
func TestReplicaWrites(t *testing.T) {
	t.Parallel()
	live := startRedis(t, false)
	// A read-only replica of a primary that is not there: SET answers
	// READONLY.
	readOnly := startRedis(t, false, "--replicaof", "127.0.0.1", strconv.Itoa(freePort(t, false)))
	dead := freePort(t, false)
	s, _ := storetest.Settings()
	ctx := testCtx(t)
	for _, tc := range []struct {
		name    string
		first   int
		wantErr error // without the option
	}{
		{"down", dead, ErrUnavailable},
		{"READONLY", readOnly, ErrServer},
	} {
		t.Run(tc.name, func(t *testing.T) {
			servers := "redis://" + addr(tc.first) + "," + addr(live) + "/0"
			strict, err := Open(servers+"?dial_timeout=1s", s)
			if err != nil {
				t.Fatal(err)
			}
			defer strict.Close()
			key, _ := django.NewSessionKey()
			if err := strict.Save(ctx, record(key, 60, "a", "b"), true); !errors.Is(err, tc.wantErr) {
				t.Fatalf("without replica_read_only=false: Save = %v, want %v", err, tc.wantErr)
			}
			st, err := Open(servers+"?dial_timeout=1s&replica_read_only=false", s)
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			for _, mustCreate := range []bool{true, false} {
				if err := st.Save(ctx, record(key, 60, "created", strconv.FormatBool(mustCreate)), mustCreate); err != nil {
					t.Fatalf("Save(mustCreate=%v): %v", mustCreate, err)
				}
				d, found, err := st.Load(ctx, key)
				if err != nil || !found {
					t.Fatalf("Load after Save(mustCreate=%v): %v %v", mustCreate, found, err)
				}
				if v, _ := d.GetStr("created"); !v.Equal(py.Str(strconv.FormatBool(mustCreate))) {
					t.Errorf("read %s", v.Repr())
				}
			}
			// A second create of the same key is a conflict on the
			// server that holds it, not a success elsewhere.
			if err := st.Save(ctx, record(key, 60, "a", "b"), true); !errors.Is(err, django.ErrCreateConflict) {
				t.Errorf("second create: %v", err)
			}
			if err := st.Delete(ctx, key); err == nil {
				t.Error("Delete was retried on the replica (django-redis does not)")
			}
			rl := redis.NewClient(&redis.Options{Addr: addr(live)})
			defer rl.Close()
			if err := rl.Del(ctx, st.CacheKey(key)).Err(); err != nil {
				t.Fatal(err)
			}
		})
	}
	// No server answers: the write fails after trying each (and the first
	// twice), without hanging.
	st, err := Open("redis://"+addr(dead)+","+addr(freePort(t, false))+"/0?dial_timeout=1s&replica_read_only=false", s)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	key, _ := django.NewSessionKey()
	if err := st.Save(ctx, record(key, 60, "a", "b"), true); !errors.Is(err, ErrUnavailable) {
		t.Errorf("all down: %v", err)
	}
}

func TestNextServer(t *testing.T) {
	// django-redis's order: untried servers at random, then the first.
	seen := map[int]bool{}
	for range 200 {
		i := nextServer([]int{0}, 3)
		if i != 1 && i != 2 {
			t.Fatalf("after [0] of 3: %d", i)
		}
		seen[i] = true
	}
	if !seen[1] || !seen[2] {
		t.Errorf("not random: %v", seen)
	}
	if i := nextServer([]int{0, 2}, 3); i != 1 {
		t.Errorf("after [0 2] of 3: %d", i)
	}
	if i := nextServer([]int{0, 2, 1}, 3); i != 0 {
		t.Errorf("all tried: %d, want the first again", i)
	}
	if i := nextServer([]int{0}, 1); i != 0 {
		t.Errorf("one server: %d", i)
	}
}

// TestShardPlacement: django-redis's ShardClient ring over two servers puts
// each session where django-redis would (the node names are the LOCATION
// strings django-environ makes), and the suite passes over the shards.
func TestShardPlacement(t *testing.T) {
	t.Parallel()
	a, b := startRedis(t, false), startRedis(t, false)
	url := "redis://" + addr(a) + "," + addr(b) + "/3?client_class=django_redis.client.ShardClient"
	runConformance(t, url)
	s, _ := storetest.Settings()
	st, err := Open(url, s)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	nodes := []string{"redis://" + addr(a) + "/3", "redis://" + addr(b) + "/3"}
	ring := NewHashRing(nodes)
	clients := map[string]*redis.Client{
		nodes[0]: redis.NewClient(&redis.Options{Addr: addr(a), DB: 3}),
		nodes[1]: redis.NewClient(&redis.Options{Addr: addr(b), DB: 3}),
	}
	defer clients[nodes[0]].Close()
	defer clients[nodes[1]].Close()
	ctx := testCtx(t)
	per := map[string]int{}
	for range 40 {
		key, _ := django.NewSessionKey()
		if err := st.Save(ctx, record(key, 60), true); err != nil {
			t.Fatal(err)
		}
		ck := st.CacheKey(key)
		want := ring.Node(ck)
		per[want]++
		for name, rc := range clients {
			n, _ := rc.Exists(ctx, ck).Result()
			if (n == 1) != (name == want) {
				t.Errorf("%s: on %s = %v, ring says %s", ck, name, n == 1, want)
			}
		}
	}
	if len(per) != 2 {
		t.Errorf("sessions on %d shards", len(per))
	}
}

// startMemcached starts a memcached and returns its port.
func startMemcached(t *testing.T) int {
	t.Helper()
	bin := needBinary(t, "memcached")
	port := freePort(t, false)
	args := []string{"-l", "127.0.0.1", "-p", strconv.Itoa(port), "-U", "0", "-m", "16"}
	if os.Geteuid() == 0 {
		args = append(args, "-u", "root")
	}
	startProcess(t, t.TempDir(), bin, args...)
	waitFor(t, "memcached", 5*time.Second, func() bool {
		c, err := net.DialTimeout("tcp", addr(port), 200*time.Millisecond)
		if err == nil {
			c.Close()
		}
		return err == nil
	})
	return port
}

// TestMemcachedServerChoice: with three memcached servers, Django's
// PyMemcacheCache (pymemcache rendezvous hashing) and PyLibMCCache
// (libmemcached modula) find the sessions our store wrote and the other way
// round, so both sides pick the same server for every key.
func TestMemcachedServerChoice(t *testing.T) {
	t.Parallel()
	havePython(t)
	ports := []int{startMemcached(t), startMemcached(t), startMemcached(t)}
	var hosts []string
	for _, p := range ports {
		hosts = append(hosts, addr(p))
	}
	location := strings.Join(hosts, ",")
	s, _ := storetest.Settings()
	ctx := testCtx(t)
	for _, tc := range []struct{ scheme, backend string }{
		{"pymemcache", "django.core.cache.backends.memcached.PyMemcacheCache"},
		{"pylibmc", "django.core.cache.backends.memcached.PyLibMCCache"},
	} {
		t.Run(tc.scheme, func(t *testing.T) {
			st, err := Open(tc.scheme+"://"+location, s)
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			var ours []string
			for i := range 20 {
				key, _ := django.NewSessionKey()
				if err := st.Save(ctx, record(key, 300, "n", strconv.Itoa(i)), true); err != nil {
					t.Fatal(err)
				}
				ours = append(ours, key)
			}
			in, _ := json.Marshal(map[string]any{"backend": tc.backend, "location": hosts, "keys": ours, "n": 20})
			out := runPython(t, `
need("django", "pymemcache", "pylibmc")
import json, sys
p = json.load(sys.stdin)
from django.conf import settings
settings.configure(CACHES={"default": {"BACKEND": p["backend"], "LOCATION": p["location"]}},
                   SESSION_ENGINE="django.contrib.sessions.backends.cache")
import django
django.setup()
from django.contrib.sessions.backends.cache import SessionStore
read = [SessionStore(k).load().get("n") for k in p["keys"]]
written = []
for i in range(p["n"]):
    s = SessionStore()
    s["n"] = "django-%d" % i
    s.save()
    written.append(s.session_key)
print(json.dumps({"read": read, "written": written}))
`, in)
			var res struct {
				Read    []*string `json:"read"`
				Written []string  `json:"written"`
			}
			if err := json.Unmarshal(out, &res); err != nil {
				t.Fatalf("python output %q: %v", out, err)
			}
			for i, v := range res.Read {
				if v == nil || *v != strconv.Itoa(i) {
					t.Errorf("Django did not find our session %d on the server it picks", i)
				}
			}
			for i, key := range res.Written {
				d, found, err := st.Load(ctx, key)
				if err != nil || !found {
					t.Errorf("Django's session %d not found on the server we pick: %v", i, err)
					continue
				}
				if v, _ := d.GetStr("n"); !v.Equal(py.Str(fmt.Sprintf("django-%d", i))) {
					t.Errorf("session %d: %s", i, v.Repr())
				}
			}
		})
	}
}

// TestUnixSockets: unix:///path?db=N and redis:///path (Redis), and
// memcache:///path (memcached).
func TestUnixSockets(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	sock := filepath.Join(dir, "redis.sock")
	startRedis(t, false, "--unixsocket", sock, "--unixsocketperm", "700")
	for _, u := range []string{"unix://" + sock + "?db=3", "redis://" + sock + "?db=4"} {
		t.Run(u, func(t *testing.T) { runConformance(t, u) })
	}
	mcSock := filepath.Join(dir, "mc.sock")
	args := []string{"-s", mcSock, "-m", "16"}
	if os.Geteuid() == 0 {
		args = append(args, "-u", "root")
	}
	startProcess(t, dir, needBinary(t, "memcached"), args...)
	waitFor(t, "memcached socket", 5*time.Second, func() bool {
		c, err := net.Dial("unix", mcSock)
		if err == nil {
			c.Close()
		}
		return err == nil
	})
	s, _ := storetest.Settings()
	st, err := Open("memcache://"+mcSock, s)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	conflicts(t, st)
}
