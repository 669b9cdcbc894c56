package obatch_test

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"

	obatch "github.com/obatch/obatch/bindings/go"
)

// The job journal through the binding, with a journal of the test's own (the
// suite runs with OBATCH_STATE=off).

// runThree builds, submits and waits for the same three requests, and closes
// the batch; it returns the info after Submit, the final info and the
// results' "custom_id:kind".
func runThree(t *testing.T, opts []obatch.Option) (submitted, final obatch.Info, results []string) {
	t.Helper()
	ctx := testContext(t)
	b, err := obatch.New(opts...)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	for _, id := range []string{"j1", "j2", "j3"} {
		if _, err := b.Add(chat("journal "+id), obatch.CustomID(id)); err != nil {
			t.Fatal(err)
		}
	}
	if err := b.Submit(ctx); err != nil {
		t.Fatal(err)
	}
	if submitted, err = b.Info(); err != nil {
		t.Fatal(err)
	}
	if final, err = b.Wait(ctx, nil); err != nil {
		t.Fatalf("wait: %v", err)
	}
	for r, err := range b.Results() {
		if err != nil {
			t.Fatal(err)
		}
		results = append(results, r.CustomID+":"+r.Kind.String())
	}
	return submitted, final, results
}

var hex24 = regexp.MustCompile(`^[0-9a-f]{24}$`)

// The same input submitted again (the first batch done and closed) resumes
// its job: one batch at the provider. The journal lists the job; prune
// forgets it.
func TestJournalResumesListsAndPrunes(t *testing.T) {
	srv := startServer(t, map[string]any{"steps": 1})
	state := filepath.Join(t.TempDir(), "state", "jobs.db")

	_, first, _ := runThree(t, srv.options(t, obatch.WithState(state)))
	if first.JobOrigin != obatch.JobNew || !hex24.MatchString(first.JobID) || first.JournalPath != state {
		t.Fatalf("first: origin %v, job %q, journal %q", first.JobOrigin, first.JobID, first.JournalPath)
	}
	submitted, second, results := runThree(t, srv.options(t, obatch.WithState(state)))
	if submitted.JobOrigin != obatch.JobResumed || second.JobOrigin != obatch.JobResumed {
		t.Errorf("second: origin %v after submit, %v at the end; want resumed", submitted.JobOrigin, second.JobOrigin)
	}
	if second.JobID != first.JobID || second.BatchID != first.BatchID {
		t.Errorf("second: job %s batch %s; want job %s batch %s", second.JobID, second.BatchID, first.JobID, first.BatchID)
	}
	if got := strings.Join(results, ","); got != "j1:succeeded,j2:succeeded,j3:succeeded" {
		t.Errorf("second results: %s", got)
	}
	stats := srv.stats(t)
	if stats["batches_created"] != 1.0 || stats["uploads"] != 1.0 {
		t.Errorf("server stats: batches %v, uploads %v; want 1, 1", stats["batches_created"], stats["uploads"])
	}

	journal, err := obatch.ListJobs(obatch.WithState(state))
	if err != nil {
		t.Fatal(err)
	}
	if journal.Path != state || len(journal.Jobs) != 1 {
		t.Fatalf("journal %q: %d jobs, want %q with 1", journal.Path, len(journal.Jobs), state)
	}
	j := journal.Jobs[0]
	want := obatch.Job{
		ID: first.JobID, Step: "done", Provider: "openai", BaseURL: srv.BaseURL,
		Endpoint: "/v1/chat/completions", Model: "gpt-4o-mini", InputSHA256: j.InputSHA256,
		InputFileID: first.InputFileID, BatchID: first.BatchID, RemoteStatus: "completed",
		OutputFileID: first.OutputFileID, OutputPath: j.OutputPath, Requests: 3,
		InputBytes: first.BytesTotal, CreatedAt: j.CreatedAt, UpdatedAt: j.UpdatedAt,
		Parts: 0, PartsJSON: json.RawMessage("[]"), // one batch: BatchID
	}
	if !reflect.DeepEqual(j, want) {
		t.Errorf("job:\n got %+v\nwant %+v", j, want)
	}
	if !regexp.MustCompile(`^[0-9a-f]{64}$`).MatchString(j.InputSHA256) {
		t.Errorf("input sha256 %q", j.InputSHA256)
	}
	if _, err := os.Stat(j.OutputPath); err != nil {
		t.Errorf("output file: %v", err)
	}
	if j.CreatedAt.IsZero() || j.UpdatedAt.Before(j.CreatedAt) {
		t.Errorf("times: created %v, updated %v", j.CreatedAt, j.UpdatedAt)
	}

	if n, err := obatch.PruneJobs(obatch.WithState(state)); err != nil || n != 1 {
		t.Errorf("prune: %d, %v; want 1", n, err)
	}
	if journal, err := obatch.ListJobs(obatch.WithState(state)); err != nil || len(journal.Jobs) != 0 {
		t.Errorf("after prune: %d jobs, %v", len(journal.Jobs), err)
	}
	if n, err := obatch.PruneJobs(obatch.WithState(state)); err != nil || n != 0 {
		t.Errorf("prune again: %d, %v; want 0", n, err)
	}
	if _, err := obatch.ListJobs(obatch.WithState("off")); !errors.Is(err, obatch.ErrState) {
		t.Errorf("jobs of no journal: %v, want ErrState", err)
	}
}

// An expired job's missing requests become a batch of just those.
func TestRetryMissing(t *testing.T) {
	srv := startServer(t, map[string]any{"steps": 1, "final_status": "expired", "partial_fraction": 0.5})
	ctx := testContext(t)
	dir := t.TempDir()
	state := filepath.Join(dir, "state", "jobs.db")
	input := filepath.Join(dir, "input.jsonl")
	ids := []string{"m1", "m2", "m3", "m4", "m5", "m6"}
	var lines []byte
	for _, id := range ids {
		line, err := json.Marshal(map[string]any{"custom_id": id, "method": "POST", "url": "/v1/chat/completions", "body": chat(id)})
		if err != nil {
			t.Fatal(err)
		}
		lines = append(append(lines, line...), '\n')
	}
	if err := os.WriteFile(input, lines, 0o600); err != nil {
		t.Fatal(err)
	}

	b, err := obatch.New(srv.options(t, obatch.WithState(state))...)
	if err != nil {
		t.Fatal(err)
	}
	if err := b.AddFile(input); err != nil {
		t.Fatal(err)
	}
	if err := b.Submit(ctx); err != nil {
		t.Fatal(err)
	}
	info, err := b.Wait(ctx, nil)
	if !errors.Is(err, obatch.ErrExpired) {
		t.Fatalf("wait: %v, want ErrExpired", err)
	}
	jobID := info.JobID
	var missing []string
	for r, err := range b.Results() {
		if err != nil {
			t.Fatal(err)
		}
		if r.Kind == obatch.Missing {
			missing = append(missing, r.CustomID)
		}
	}
	b.Close()
	if len(missing) == 0 || len(missing) == len(ids) {
		t.Fatalf("missing %v: want some, not all", missing)
	}

	if code, err := httpPost(srv.Root+"/_control/config", `{"final_status": "completed"}`); err != nil || code != 200 {
		t.Fatalf("server config: %d %v", code, err)
	}
	retry, err := obatch.RetryMissing(jobID, srv.options(t, obatch.WithState(state))...)
	if err != nil {
		t.Fatal(err)
	}
	defer retry.Close()
	if ri, err := retry.Info(); err != nil || ri.Phase != obatch.PhaseBuilding || ri.RequestsAdded != uint64(len(missing)) {
		t.Fatalf("retry before submit: %+v, %v", ri, err)
	}
	if err := retry.Submit(ctx); err != nil {
		t.Fatal(err)
	}
	final, err := retry.Wait(ctx, nil)
	if err != nil {
		t.Fatalf("retry wait: %v", err)
	}
	if final.JobOrigin != obatch.JobNew || final.JobID == jobID {
		t.Errorf("retry: origin %v, job %s (retried %s)", final.JobOrigin, final.JobID, jobID)
	}
	var got []string
	for r, err := range retry.Results() {
		if err != nil {
			t.Fatal(err)
		}
		if !r.OK() {
			t.Errorf("%s: %v", r.CustomID, r.Kind)
		}
		got = append(got, r.CustomID)
	}
	if !reflect.DeepEqual(got, missing) {
		t.Errorf("retry results %v, want the missing %v", got, missing)
	}
	if n := srv.stats(t)["batches_created"]; n != 2.0 {
		t.Errorf("batches created: %v, want 2", n)
	}

	journal, err := obatch.ListJobs(obatch.WithState(state))
	if err != nil {
		t.Fatal(err)
	}
	realInput, _ := filepath.EvalSymlinks(input)
	if len(journal.Jobs) != 2 || journal.Jobs[0].ID != final.JobID || journal.Jobs[0].RetryOf != jobID ||
		journal.Jobs[1].ID != jobID || journal.Jobs[1].SourcePath != realInput ||
		journal.Jobs[1].RemoteStatus != "expired" {
		t.Errorf("journal: %+v", journal.Jobs)
	}

	// The library's own message comes through.
	_, err = obatch.RetryMissing(final.JobID, srv.options(t, obatch.WithState(state))...)
	if !errors.Is(err, obatch.ErrState) || !strings.Contains(err.Error(), "nothing to retry") {
		t.Errorf("retry of a complete job: %v", err)
	}
	_, err = obatch.RetryMissing("ffffffffffff", srv.options(t, obatch.WithState(state))...)
	var e *obatch.Error
	if !errors.Is(err, obatch.ErrNotFound) || !errors.As(err, &e) || !strings.Contains(e.Message, "no job ffffffffffff") {
		t.Errorf("retry of an unknown job: %v", err)
	}
	if _, err := obatch.RetryMissing("", srv.options(t)...); !errors.Is(err, obatch.ErrInvalid) {
		t.Errorf("retry of no job: %v", err)
	}
}
