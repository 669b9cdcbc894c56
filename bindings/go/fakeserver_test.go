package obatch_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	obatch "github.com/obatch/obatch/bindings/go"
)

// The fake Batch API server of the C tests (tests/fake_server), one process
// per test on a free loopback port. Environment (CTest sets it):
// OBATCH_FAKE_SERVER (the script; default: found from this directory),
// OBATCH_PYTHON (its interpreter; default python3).

const testKey = "test-key" // the fake server's key

type fakeServer struct {
	Root    string // http://127.0.0.1:PORT
	BaseURL string // Root + "/v1"
}

func serverScript(t *testing.T) string {
	if s := os.Getenv("OBATCH_FAKE_SERVER"); s != "" {
		return s
	}
	s, err := filepath.Abs("../../tests/fake_server/fake_batch_server.py")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(s); err != nil {
		t.Skipf("fake server not found (%v); set OBATCH_FAKE_SERVER", err)
	}
	return s
}

// startServer starts the fake server with a config (steps, final_status,
// fail_custom_ids, ...); t.Cleanup stops it.
func startServer(t *testing.T, config map[string]any) *fakeServer {
	t.Helper()
	python := os.Getenv("OBATCH_PYTHON")
	if python == "" {
		python = "python3"
	}
	if config == nil {
		config = map[string]any{}
	}
	conf, err := json.Marshal(config)
	if err != nil {
		t.Fatal(err)
	}
	portFile := filepath.Join(t.TempDir(), "port")
	cmd := exec.Command(python, serverScript(t), "--port", "0", "--port-file", portFile,
		"--api-key", testKey, "--max-lifetime", "300", "--config", string(conf))
	cmd.Stdout = io.Discard
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatalf("fake server: %v", err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(os.Interrupt)
		select {
		case <-exited:
		case <-time.After(5 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
		}
	})
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case err := <-exited:
			t.Fatalf("fake server exited: %v\n%s", err, stderr.String())
		default:
		}
		if b, err := os.ReadFile(portFile); err == nil {
			if port, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil {
				root := fmt.Sprintf("http://127.0.0.1:%d", port)
				return &fakeServer{Root: root, BaseURL: root + "/v1"}
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatal("fake server wrote no port file within 10 s")
	return nil
}

// options points a batch at the server, with fast polling and the library's
// work files in the test's temporary directory.
func (s *fakeServer) options(t *testing.T, more ...obatch.Option) []obatch.Option {
	opts := []obatch.Option{
		obatch.WithProvider("openai"),
		obatch.WithBaseURL(s.BaseURL),
		obatch.WithAPIKey(testKey),
		obatch.WithPollInterval(20*time.Millisecond, 50*time.Millisecond),
		obatch.WithWorkDir(t.TempDir()),
	}
	return append(opts, more...)
}

// stats returns the server's counters (GET /_control/stats).
func (s *fakeServer) stats(t *testing.T) map[string]any {
	t.Helper()
	resp, err := http.Get(s.Root + "/_control/stats")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var m map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&m); err != nil {
		t.Fatal(err)
	}
	return m
}
