package obatch_test

import (
	"net/http"
	"os/exec"
	"strings"
	"testing"
)

func httpPost(url, body string) (int, error) {
	resp, err := http.Post(url, "application/json", strings.NewReader(body))
	if err != nil {
		return 0, err
	}
	resp.Body.Close()
	return resp.StatusCode, nil
}

// goCommand runs the go command (go test puts GOROOT/bin first in PATH).
func goCommand(t *testing.T, args ...string) *exec.Cmd {
	t.Helper()
	goExe, err := exec.LookPath("go")
	if err != nil {
		t.Skipf("no go command: %v", err)
	}
	return exec.Command(goExe, args...)
}

func command(name string, args ...string) *exec.Cmd { return exec.Command(name, args...) }
