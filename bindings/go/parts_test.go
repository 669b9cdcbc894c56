package obatch_test

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"

	obatch "github.com/obatch/obatch/bindings/go"
)

// Jobs of several batches ("parts"), the same in Node, Go and Ruby: an input
// over the server's 3 requests per file, with max_requests 3, runs as 4
// batches of 3, 3, 3 and 1; every result comes back in input order; each
// part has its own batch; a job of one batch has one part.

func partIDs(n int) []string {
	ids := make([]string, n)
	for i := range ids {
		ids[i] = fmt.Sprintf("p%d", i+1)
	}
	return ids
}

func requestCounts(parts []obatch.PartInfo) []uint64 {
	counts := make([]uint64, len(parts))
	for i, p := range parts {
		counts[i] = p.RequestsAdded
	}
	return counts
}

func TestPartedJob(t *testing.T) {
	srv := startServer(t, map[string]any{"steps": 1, "max_requests_per_file": 3})
	ctx := testContext(t)
	state := filepath.Join(t.TempDir(), "state", "jobs.db")
	b, err := obatch.New(srv.options(t, obatch.WithConfig("max_requests", "3"), obatch.WithState(state))...)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	ids := partIDs(10)
	for _, id := range ids {
		if _, err := b.Add(chat("part "+id), obatch.CustomID(id)); err != nil {
			t.Fatalf("add %s: %v", id, err)
		}
	}
	if parts, err := b.Parts(); err != nil || len(parts) != 0 {
		t.Fatalf("parts before submit: %v, %v", parts, err)
	}
	if err := b.Submit(ctx); err != nil {
		t.Fatal(err)
	}
	if info, err := b.Info(); err != nil || info.PartsTotal != 4 {
		t.Fatalf("after submit: parts total %d, %v", info.PartsTotal, err)
	}
	var ended []uint64
	info, err := b.Wait(ctx, func(i obatch.Info) { ended = append(ended, i.PartsEnded) })
	if err != nil {
		t.Fatalf("wait: %v", err)
	}
	if info.Phase != obatch.PhaseDone || info.RemoteStatus != "completed" || info.BatchID != "" {
		t.Errorf("info: phase %v, status %q, batch id %q", info.Phase, info.RemoteStatus, info.BatchID)
	}
	if info.PartsTotal != 4 || info.PartsSubmitted != 4 || info.PartsEnded != 4 ||
		info.PartsFailed != 0 || info.PartsRunning != 0 {
		t.Errorf("parts: total %d submitted %d ended %d failed %d running %d", info.PartsTotal,
			info.PartsSubmitted, info.PartsEnded, info.PartsFailed, info.PartsRunning)
	}
	if info.TokensEstimated == 0 || info.TokensEnqueued != 0 {
		t.Errorf("tokens: estimated %d, enqueued %d", info.TokensEstimated, info.TokensEnqueued)
	}
	if info.RequestsAdded != 10 || info.RequestsTotal != 10 || info.RequestsCompleted != 10 {
		t.Errorf("requests: added %d total %d completed %d", info.RequestsAdded, info.RequestsTotal, info.RequestsCompleted)
	}
	if len(ended) == 0 || ended[len(ended)-1] != 4 || !sort.SliceIsSorted(ended, func(i, j int) bool { return ended[i] < ended[j] }) {
		t.Errorf("progress: parts ended %v", ended)
	}

	// Every result, fetched in input order, from the one merged output.
	var got []string
	for r, err := range b.Results() {
		if err != nil {
			t.Fatal(err)
		}
		if r.Index != int64(len(got)) || !r.OK() {
			t.Errorf("%s: index %d, kind %v", r.CustomID, r.Index, r.Kind)
		}
		got = append(got, r.CustomID)
	}
	if !reflect.DeepEqual(got, ids) {
		t.Errorf("results: %v, want %v", got, ids)
	}
	if r, err := b.Lookup("p10"); err != nil || r.Index != 9 {
		t.Errorf("lookup p10: index %d, %v", r.Index, err)
	}
	f, err := os.Open(info.OutputPath)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var lines []string
	for sc := bufio.NewScanner(f); sc.Scan(); {
		var line struct {
			CustomID string `json:"custom_id"`
		}
		if err := json.Unmarshal(sc.Bytes(), &line); err != nil {
			t.Fatal(err)
		}
		lines = append(lines, line.CustomID)
	}
	if !reflect.DeepEqual(lines, ids) {
		t.Errorf("merged output: %v, want %v", lines, ids)
	}

	// Each part: its own batch, its requests.
	parts, err := b.Parts()
	if err != nil {
		t.Fatal(err)
	}
	if counts := requestCounts(parts); !reflect.DeepEqual(counts, []uint64{3, 3, 3, 1}) {
		t.Fatalf("parts' requests: %v, want [3 3 3 1]", counts)
	}
	seen := map[string]bool{}
	var tokens uint64
	for i, p := range parts {
		if p.Index != i || !strings.HasPrefix(p.BatchID, "batch_") || p.Phase != obatch.PhaseDone ||
			p.RemoteStatus != "completed" || p.Model != "gpt-4o-mini" {
			t.Errorf("part %d: %+v", i, p)
		}
		if p.RequestsCompleted != p.RequestsAdded || p.RequestsFailed != 0 || p.BytesTotal == 0 || p.TokensEstimated == 0 {
			t.Errorf("part %d counts: %+v", i, p)
		}
		seen[p.BatchID] = true
		tokens += p.TokensEstimated
	}
	if len(seen) != 4 || tokens != info.TokensEstimated {
		t.Errorf("%d distinct batches, tokens %d of %d", len(seen), tokens, info.TokensEstimated)
	}
	stats := srv.stats(t)
	if stats["batches_created"] != float64(4) || stats["uploads"] != float64(4) {
		t.Errorf("server: %v batches created, %v uploads", stats["batches_created"], stats["uploads"])
	}
	for _, sb := range stats["batches"].([]any) {
		if id := sb.(map[string]any)["id"].(string); !seen[id] {
			t.Errorf("the server's batch %s is no part", id)
		}
	}

	// The journal's job lists the same batches.
	j, err := obatch.ListJobs(obatch.WithState(state))
	if err != nil || len(j.Jobs) != 1 {
		t.Fatalf("jobs: %+v, %v", j, err)
	}
	var listed []struct {
		BatchID  string `json:"batch_id"`
		Requests uint64 `json:"requests"`
	}
	if err := json.Unmarshal(j.Jobs[0].PartsJSON, &listed); err != nil || j.Jobs[0].Parts != 4 || len(listed) != 4 {
		t.Fatalf("job parts %d, %s: %v", j.Jobs[0].Parts, j.Jobs[0].PartsJSON, err)
	}
	for i, p := range listed {
		if p.BatchID != parts[i].BatchID || p.Requests != parts[i].RequestsAdded {
			t.Errorf("journal part %d: %+v, want %s with %d", i, p, parts[i].BatchID, parts[i].RequestsAdded)
		}
	}
}

// A job of one batch reports PartsTotal 1; its one part is the job.
func TestOneBatchJobHasOnePart(t *testing.T) {
	srv := startServer(t, map[string]any{"steps": 1, "max_requests_per_file": 3})
	ctx := testContext(t)
	b, err := obatch.New(srv.options(t, obatch.WithConfig("max_requests", "3"))...)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	ids := addAll(t, b, 3)
	if err := b.Submit(ctx); err != nil {
		t.Fatal(err)
	}
	info, err := b.Wait(ctx, nil)
	if err != nil {
		t.Fatalf("wait: %v", err)
	}
	if info.PartsTotal != 1 || info.PartsEnded != 1 || info.PartsFailed != 0 || !strings.HasPrefix(info.BatchID, "batch_") {
		t.Errorf("info: parts total %d ended %d failed %d, batch %q", info.PartsTotal, info.PartsEnded, info.PartsFailed, info.BatchID)
	}
	parts, err := b.Parts()
	if err != nil || len(parts) != 1 {
		t.Fatalf("parts: %+v, %v", parts, err)
	}
	if p := parts[0]; p.BatchID != info.BatchID || p.RequestsAdded != 3 || p.Phase != obatch.PhaseDone {
		t.Errorf("part: %+v", p)
	}
	var got []string
	for r, err := range b.Results() {
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, r.CustomID)
	}
	if !reflect.DeepEqual(got, ids) {
		t.Errorf("results: %v, want %v", got, ids)
	}
	if n := srv.stats(t)["batches_created"]; n != float64(1) {
		t.Errorf("batches created: %v", n)
	}
}

// CheckFile tells the parts submitting a file would make.
func TestCheckFileParts(t *testing.T) {
	path := filepath.Join(t.TempDir(), "in.jsonl")
	var text strings.Builder
	for _, id := range partIDs(10) {
		line, err := json.Marshal(map[string]any{"custom_id": id, "method": "POST", "url": "/v1/chat/completions",
			"body": chat("check " + id)})
		if err != nil {
			t.Fatal(err)
		}
		text.Write(append(line, '\n'))
	}
	if err := os.WriteFile(path, []byte(text.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := obatch.CheckFile(path, 0, obatch.WithProvider("openai"), obatch.WithConfig("max_requests", "3"))
	if err != nil || c.Count != 0 {
		t.Fatalf("check: %+v, %v", c, err)
	}
	if c.Info.PartsTotal != 4 {
		t.Errorf("parts total %d", c.Info.PartsTotal)
	}
	if counts := requestCounts(c.Parts); !reflect.DeepEqual(counts, []uint64{3, 3, 3, 1}) {
		t.Errorf("parts' requests: %v, want [3 3 3 1]", counts)
	}
	for i, p := range c.Parts {
		if p.Index != i || p.Model != "gpt-4o-mini" || p.BatchID != "" || p.BytesTotal == 0 || p.TokensEstimated == 0 {
			t.Errorf("part %d: %+v", i, p)
		}
	}
	one, err := obatch.CheckFile(path, 0, obatch.WithProvider("openai"), obatch.WithConfig("split", "off"))
	if err != nil || one.Info.PartsTotal != 1 {
		t.Errorf("split off: parts total %d, %v", one.Info.PartsTotal, err)
	}
}
