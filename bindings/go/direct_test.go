package obatch_test

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	obatch "github.com/obatch/obatch/bindings/go"
)

// Direct mode, the same in Node, Go and Ruby: each request sent as a normal
// request to a server with no Batch API; every result read back by
// custom_id in input order, the one the server refuses in the error file;
// "auto" choosing each mode on each side of direct_below; an rpm equal to
// the server's limit meeting no 429.

// directRun adds the requests d1..dn (the text of those in fail with
// "FAIL400", which the fake server answers 400), submits and waits.
func directRun(t *testing.T, srv *fakeServer, n int, fail map[int]bool, opts ...obatch.Option) (*obatch.Batch, obatch.Info, []string) {
	t.Helper()
	ctx := testContext(t)
	b, err := obatch.New(srv.options(t, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	texts := make([]string, n)
	for i := range n {
		texts[i] = fmt.Sprintf("direct %d", i+1)
		if fail[i+1] {
			texts[i] += " FAIL400"
		}
		if _, err := b.Add(chat(texts[i]), obatch.CustomID(fmt.Sprintf("d%d", i+1))); err != nil {
			t.Fatal(err)
		}
	}
	if err := b.Submit(ctx); err != nil {
		t.Fatal(err)
	}
	info, err := b.Wait(ctx, nil)
	if err != nil {
		t.Fatalf("wait: %v", err)
	}
	return b, info, texts
}

// checkDirectResults reads every result: each custom_id once, in input
// order; the successes echo texts[i] (the fake server's normal requests
// echo the text sent, its batches the custom_id), the failures are 400s.
func checkDirectResults(t *testing.T, b *obatch.Batch, texts []string, fail map[int]bool) (usage tokens) {
	t.Helper()
	var got, want []string
	for r, err := range b.Results() {
		if err != nil {
			t.Fatal(err)
		}
		i := len(got)
		got = append(got, r.CustomID)
		if r.Index != int64(i) {
			t.Errorf("%s: index %d, want %d", r.CustomID, r.Index, i)
		}
		if fail[i+1] {
			if r.Kind != obatch.HTTPError || r.StatusCode != 400 {
				t.Errorf("%s: kind %v status %d, want an HTTP error 400", r.CustomID, r.Kind, r.StatusCode)
			}
			continue
		}
		var body struct {
			Choices []struct {
				Message struct{ Content string }
			}
			Usage struct {
				PromptTokens     uint64 `json:"prompt_tokens"`
				CompletionTokens uint64 `json:"completion_tokens"`
			}
		}
		if !r.OK() || r.StatusCode != 200 || r.Decode(&body) != nil || len(body.Choices) != 1 ||
			body.Choices[0].Message.Content != "echo: "+texts[i] {
			t.Errorf("%s: kind %v status %d body %s", r.CustomID, r.Kind, r.StatusCode, r.RawBody)
		}
		usage.in += body.Usage.PromptTokens
		usage.out += body.Usage.CompletionTokens
	}
	for i := range texts {
		want = append(want, fmt.Sprintf("d%d", i+1))
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("results: %v, want %v", got, want)
	}
	return usage
}

type tokens struct{ in, out uint64 }

func countLines(t *testing.T, path string) int {
	t.Helper()
	if path == "" {
		return 0
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	n := 0
	for sc := bufio.NewScanner(f); sc.Scan(); {
		n++
	}
	return n
}

func TestDirectModeWithoutBatchAPI(t *testing.T) {
	srv := startServer(t, map[string]any{"no_batch_api": true})
	fail := map[int]bool{7: true}
	b, info, texts := directRun(t, srv, 12, fail,
		obatch.WithConfig("mode", "direct"), obatch.WithConfig("concurrency", "4"))
	if !info.Direct() || info.Mode != "direct" || info.ModeReason == "" {
		t.Errorf("mode %q (%q)", info.Mode, info.ModeReason)
	}
	if info.Phase != obatch.PhaseDone || info.RemoteStatus != "completed" || info.BatchID != "" || info.InputFileID != "" {
		t.Errorf("info: phase %v, status %q, batch %q, file %q", info.Phase, info.RemoteStatus, info.BatchID, info.InputFileID)
	}
	if info.RequestsAdded != 12 || info.RequestsCompleted != 11 || info.RequestsFailed != 1 || info.RequestsInFlight != 0 {
		t.Errorf("requests: added %d completed %d failed %d in flight %d",
			info.RequestsAdded, info.RequestsCompleted, info.RequestsFailed, info.RequestsInFlight)
	}
	if got := checkDirectResults(t, b, texts, fail); info.InputTokens != got.in || info.OutputTokens != got.out ||
		info.TotalTokens != got.in+got.out || got.in == 0 {
		t.Errorf("usage: info %d + %d = %d, the answers' %+v", info.InputTokens, info.OutputTokens, info.TotalTokens, got)
	}
	if info.PartsTotal != 1 || info.PartsSubmitted != 1 || info.PartsEnded != 1 || info.PartsRunning != 0 {
		t.Errorf("parts: total %d submitted %d ended %d running %d", info.PartsTotal, info.PartsSubmitted, info.PartsEnded, info.PartsRunning)
	}
	if n := countLines(t, info.OutputPath); n != 11 {
		t.Errorf("output file %q: %d lines, want 11", info.OutputPath, n)
	}
	if n := countLines(t, info.ErrorPath); n != 1 {
		t.Errorf("error file %q: %d lines, want 1", info.ErrorPath, n)
	}
	stats := srv.stats(t)
	if stats["direct_requests"] != float64(12) || stats["batches_created"] != float64(0) {
		t.Errorf("server: %v direct requests, %v batches", stats["direct_requests"], stats["batches_created"])
	}
	if peak := stats["direct_in_flight_peak"].(float64); peak > 4 {
		t.Errorf("server saw %v requests in flight, concurrency 4", peak)
	}
}

func TestDirectAutoBelowThreshold(t *testing.T) {
	srv := startServer(t, map[string]any{"no_batch_api": true})
	b, info, texts := directRun(t, srv, 3, nil,
		obatch.WithConfig("mode", "auto"), obatch.WithConfig("direct_below", "5"))
	if info.Mode != "direct" || !strings.Contains(info.ModeReason, "5") || info.Phase != obatch.PhaseDone {
		t.Errorf("auto with 3 requests: mode %q (%q), phase %v", info.Mode, info.ModeReason, info.Phase)
	}
	checkDirectResults(t, b, texts, nil)
}

func TestDirectAutoAtThresholdRunsBatch(t *testing.T) {
	srv := startServer(t, map[string]any{"steps": 1})
	b, info, texts := directRun(t, srv, 6, nil,
		obatch.WithConfig("mode", "auto"), obatch.WithConfig("direct_below", "5"))
	if info.Mode != "batch" || info.ModeReason == "" || !strings.HasPrefix(info.BatchID, "batch_") {
		t.Errorf("auto with 6 requests: mode %q (%q), batch %q", info.Mode, info.ModeReason, info.BatchID)
	}
	for i := range texts {
		texts[i] = fmt.Sprintf("d%d", i+1)
	}
	checkDirectResults(t, b, texts, nil)
	if stats := srv.stats(t); stats["direct_requests"] != float64(0) {
		t.Errorf("server: %v direct requests in batch mode", stats["direct_requests"])
	}
}

func TestDirectRPMAtTheServersLimit(t *testing.T) {
	srv := startServer(t, map[string]any{"no_batch_api": true, "direct_rpm": 600})
	b, info, texts := directRun(t, srv, 10, nil,
		obatch.WithConfig("mode", "direct"), obatch.WithConfig("rpm", "600"))
	if info.Responses429 != 0 || info.RPMLimit == 0 || info.RPMLimit > 600 || info.RequestsCompleted != 10 {
		t.Errorf("429s %d, rpm limit %d, completed %d", info.Responses429, info.RPMLimit, info.RequestsCompleted)
	}
	checkDirectResults(t, b, texts, nil)
	if stats := srv.stats(t); stats["direct_429s"] != float64(0) {
		t.Errorf("server: %v 429s", stats["direct_429s"])
	}
}

// The same input submitted again through the same journal once its job has
// ended: nothing is sent again, and the counts and usage are the first run's.
func TestDirectFinishedJobSubmittedAgain(t *testing.T) {
	srv := startServer(t, map[string]any{"no_batch_api": true})
	state := filepath.Join(t.TempDir(), "state", "jobs.db")
	fail := map[int]bool{2: true}
	opts := []obatch.Option{obatch.WithConfig("mode", "direct"), obatch.WithState(state)}
	_, first, _ := directRun(t, srv, 3, fail, opts...)
	b, again, texts := directRun(t, srv, 3, fail, opts...)
	if first.RequestsCompleted != 2 || first.RequestsFailed != 1 || first.InputTokens == 0 {
		t.Errorf("first run: completed %d failed %d, %d input tokens", first.RequestsCompleted, first.RequestsFailed, first.InputTokens)
	}
	if again.JobID != first.JobID || again.RequestsCompleted != 2 || again.RequestsFailed != 1 ||
		again.InputTokens != first.InputTokens || again.OutputTokens != first.OutputTokens ||
		again.TotalTokens != first.TotalTokens {
		t.Errorf("again: job %s (first %s), completed %d failed %d, tokens %d/%d/%d (first %d/%d/%d)",
			again.JobID, first.JobID, again.RequestsCompleted, again.RequestsFailed, again.InputTokens,
			again.OutputTokens, again.TotalTokens, first.InputTokens, first.OutputTokens, first.TotalTokens)
	}
	checkDirectResults(t, b, texts, fail)
	if stats := srv.stats(t); stats["direct_requests"] != float64(3) {
		t.Errorf("server: %v direct requests, want 3 (none sent again)", stats["direct_requests"])
	}
}
