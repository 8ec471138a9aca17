package pickle

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"os/exec"
	"testing"
)

// pyStream runs a CPython oracle: it writes each input to the command's
// stdin as one JSON line and returns the JSON line it answers for each, in
// order. A command that fails, or answers a different number of lines,
// fails the test with its stderr.
func pyStream[In, Out any](t *testing.T, cmd *exec.Cmd, inputs []In) []Out {
	t.Helper()
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	werr := make(chan error, 1)
	go func() {
		w := bufio.NewWriter(stdin)
		enc := json.NewEncoder(w)
		for _, in := range inputs {
			if err := enc.Encode(in); err != nil {
				werr <- err
				return
			}
		}
		werr <- errors.Join(w.Flush(), stdin.Close())
	}()
	sc := bufio.NewScanner(stdout)
	sc.Buffer(nil, 1<<30)
	var res []Out
	for sc.Scan() {
		var o Out
		if err := json.Unmarshal(sc.Bytes(), &o); err != nil {
			t.Fatal(err)
		}
		res = append(res, o)
	}
	if err := <-werr; err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil || len(res) != len(inputs) {
		t.Fatalf("oracle: %v (%d answers for %d inputs): %s", err, len(res), len(inputs), stderr.String())
	}
	return res
}
