package obatch_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	obatch "github.com/obatch/obatch/bindings/go"
)

type message struct {
	Role    string `json:"role"`
	Content string `json:"content"`
}

type chatRequest struct {
	Model    string    `json:"model"`
	Messages []message `json:"messages"`
}

func chat(text string) map[string]any {
	return map[string]any{
		"model":    "gpt-4o-mini",
		"messages": []map[string]string{{"role": "user", "content": text}},
	}
}

// addAll adds n requests q1..qn, with every kind of body the binding takes.
func addAll(t *testing.T, b *obatch.Batch, n int) []string {
	t.Helper()
	ids := make([]string, n)
	for i := range n {
		id := fmt.Sprintf("q%d", i+1)
		ids[i] = id
		text := fmt.Sprintf("question %d <&>", i+1)
		var body any
		switch i % 5 {
		case 0: // a map
			body = chat(text)
		case 1: // a struct
			body = chatRequest{Model: "gpt-4o-mini", Messages: []message{{"user", text}}}
		case 2: // JSON text as a string
			body = `{"model":"gpt-4o-mini","messages":[{"role":"user","content":"` + text + `"}]}`
		case 3: // JSON text as []byte
			body = []byte(`{"model":"gpt-4o-mini","messages":[{"role":"user","content":"` + text + `"}]}`)
		case 4: // json.RawMessage
			body = json.RawMessage(`{"model":"gpt-4o-mini","messages":[{"role":"user","content":"` + text + `"}]}`)
		}
		if _, err := b.Add(body, obatch.CustomID(id)); err != nil {
			t.Fatalf("add %s: %v", id, err)
		}
	}
	return ids
}

func testContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// The scenario every binding runs: build, submit, wait with progress, read
// every result by custom_id, one line failing.
func TestEndToEnd(t *testing.T) {
	srv := startServer(t, map[string]any{"steps": 1, "fail_custom_ids": []string{"q3"}})
	ctx := testContext(t)
	b, err := obatch.New(srv.options(t, obatch.WithMetadata("project", "go-test"))...)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()

	ids := addAll(t, b, 7)
	id, err := b.Add(chat("auto id")) // an automatic custom_id, returned
	if err != nil {
		t.Fatal(err)
	}
	if id != "request-8" {
		t.Fatalf("Add returned %q, want request-8", id)
	}
	ids = append(ids, id)
	if _, err := os.Stat(b.InputPath()); err != nil {
		t.Errorf("input file: %v", err)
	}
	if err := b.Submit(ctx); err != nil {
		t.Fatal(err)
	}

	var phases []obatch.Phase
	calls := 0
	info, err := b.Wait(ctx, func(i obatch.Info) {
		calls++
		if len(phases) == 0 || phases[len(phases)-1] != i.Phase {
			phases = append(phases, i.Phase)
		}
	})
	if err != nil {
		t.Fatalf("wait: %v (phases %v)", err, phases)
	}
	if info.Phase != obatch.PhaseDone || info.RemoteStatus != "completed" {
		t.Fatalf("info: phase %v, status %q", info.Phase, info.RemoteStatus)
	}
	if calls == 0 || phases[len(phases)-1] != obatch.PhaseDone {
		t.Errorf("progress: %d calls, phases %v", calls, phases)
	}
	if !strings.HasPrefix(info.BatchID, "batch_") || info.Provider != "openai" ||
		info.Endpoint != "/v1/chat/completions" || info.RequestsAdded != 8 {
		t.Errorf("info: %+v", info)
	}
	if info.OutputPath == "" || info.ErrorPath == "" {
		t.Errorf("result files: %q, %q", info.OutputPath, info.ErrorPath)
	}
	if info.RequestsTotal != 8 || info.RequestsFailed != 1 || info.RequestsCompleted != 7 {
		t.Errorf("counts: total %d completed %d failed %d", info.RequestsTotal, info.RequestsCompleted, info.RequestsFailed)
	}
	var meta struct {
		Metadata map[string]string `json:"metadata"`
	}
	if err := json.Unmarshal(info.BatchJSON, &meta); err != nil || meta.Metadata["project"] != "go-test" {
		t.Errorf("batch JSON metadata: %v %v", err, meta.Metadata)
	}

	// Every result, in input order, twice (each loop starts again).
	for round := range 2 {
		var got []string
		for r, err := range b.Results() {
			if err != nil {
				t.Fatal(err)
			}
			if r.Index != int64(len(got)) {
				t.Errorf("%s: index %d, want %d", r.CustomID, r.Index, len(got))
			}
			got = append(got, r.CustomID)
			if r.CustomID == "q3" {
				if r.Kind != obatch.HTTPError || r.StatusCode != 400 || r.OK() {
					t.Errorf("q3: kind %v status %d", r.Kind, r.StatusCode)
				}
				if r.Body == nil || r.Body["error"] == nil {
					t.Errorf("q3 body: %s", r.RawBody)
				}
				continue
			}
			if !r.OK() || r.StatusCode != 200 || r.RequestID == "" || len(r.Line) == 0 {
				t.Errorf("%s: %+v", r.CustomID, r)
			}
			choices, _ := r.Body["choices"].([]any)
			if len(choices) != 1 {
				t.Errorf("%s: parsed body %v", r.CustomID, r.Body)
			}
		}
		if strings.Join(got, ",") != strings.Join(ids, ",") {
			t.Errorf("round %d: results %v, want %v", round, got, ids)
		}
	}

	// One result by custom_id, decoded into a struct of our own.
	r, err := b.Lookup("q5")
	if err != nil {
		t.Fatal(err)
	}
	var reply struct {
		Choices []struct {
			Message message `json:"message"`
		} `json:"choices"`
	}
	if err := r.Decode(&reply); err != nil || len(reply.Choices) != 1 ||
		reply.Choices[0].Message.Content != "echo: q5" {
		t.Errorf("decode q5: %v %+v (%s)", err, reply, r.RawBody)
	}
	var line map[string]any
	if err := json.Unmarshal(r.Line, &line); err != nil || line["custom_id"] != "q5" {
		t.Errorf("raw line: %v %s", err, r.Line)
	}
	if _, err := b.Lookup("nope"); !errors.Is(err, obatch.ErrNotFound) {
		t.Errorf("lookup nope: %v", err)
	}
	stats := srv.stats(t)
	if stats["uploads"] != 1.0 || stats["batches_created"] != 1.0 {
		t.Errorf("server stats: uploads %v, batches %v", stats["uploads"], stats["batches_created"])
	}

	// The batch is listed at the provider.
	found := false
	for bi, err := range obatch.List(ctx, srv.options(t)...) {
		if err != nil {
			t.Fatal(err)
		}
		found = found || bi.BatchID == info.BatchID
	}
	if !found {
		t.Errorf("List: %s not found", info.BatchID)
	}
}

// A batch that ends "expired": Wait says so, finished results are there,
// the others come back Missing — none is dropped.
func TestExpiredHasMissingResults(t *testing.T) {
	srv := startServer(t, map[string]any{"steps": 1, "final_status": "expired", "partial_fraction": 0.5})
	ctx := testContext(t)
	b, err := obatch.New(srv.options(t)...)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	ids := addAll(t, b, 6)
	if err := b.Submit(ctx); err != nil {
		t.Fatal(err)
	}
	info, err := b.Wait(ctx, nil)
	if !errors.Is(err, obatch.ErrExpired) {
		t.Fatalf("wait: %v, want ErrExpired", err)
	}
	var e *obatch.Error
	if !errors.As(err, &e) || e.Code != obatch.CodeExpired || e.Op != "wait" || e.Message == "" {
		t.Errorf("error: %#v", e)
	}
	if info.Phase != obatch.PhaseDone || info.RemoteStatus != "expired" {
		t.Errorf("info: phase %v, status %q", info.Phase, info.RemoteStatus)
	}
	missing, ok := 0, 0
	n := 0
	for r, err := range b.Results() {
		if err != nil {
			t.Fatal(err)
		}
		if r.CustomID != ids[n] {
			t.Errorf("result %d: %s, want %s", n, r.CustomID, ids[n])
		}
		n++
		switch r.Kind {
		case obatch.Missing:
			missing++
			if r.Line != nil || r.RawBody != nil {
				t.Errorf("%s: missing with a line", r.CustomID)
			}
		case obatch.Succeeded:
			ok++
		}
	}
	if n != len(ids) || missing == 0 || ok == 0 {
		t.Errorf("results: %d (ok %d, missing %d), want %d with some missing", n, ok, missing, len(ids))
	}
}

func TestErrors(t *testing.T) {
	srv := startServer(t, nil)

	t.Run("bad JSON", func(t *testing.T) {
		b, err := obatch.New(srv.options(t)...)
		if err != nil {
			t.Fatal(err)
		}
		defer b.Close()
		_, err = b.Add(`{"model": "gpt-4o-mini", "messages": [`)
		if !errors.Is(err, obatch.ErrJSON) {
			t.Errorf("add bad text: %v", err)
		}
		_, err = b.Add(map[string]any{"f": func() {}}) // encoding/json refuses it
		var ute *json.UnsupportedTypeError
		if !errors.Is(err, obatch.ErrJSON) || !errors.As(err, &ute) {
			t.Errorf("add func: %v", err)
		}
		if _, err := b.Add(nil); !errors.Is(err, obatch.ErrJSON) {
			t.Errorf("add nil: %v", err)
		}
		if _, err := b.Add("{\"model\":\"gpt-4o-mini\"}\x00junk"); !errors.Is(err, obatch.ErrJSON) {
			t.Errorf("add NUL: %v", err)
		}
		if info, _ := b.Info(); info.RequestsAdded != 0 {
			t.Errorf("requests added: %d", info.RequestsAdded)
		}
	})

	t.Run("limit exceeded", func(t *testing.T) {
		// split "off": one batch, so a request over its limits is refused.
		b, err := obatch.New(srv.options(t, obatch.WithConfig("max_requests", "2"), obatch.WithConfig("split", "off"))...)
		if err != nil {
			t.Fatal(err)
		}
		defer b.Close()
		addAll(t, b, 2)
		_, err = b.Add(chat("one too many"))
		if !errors.Is(err, obatch.ErrLimit) || errors.Is(err, obatch.ErrJSON) {
			t.Fatalf("third add: %v, want ErrLimit", err)
		}
		var e *obatch.Error
		if !errors.As(err, &e) || e.Message == "" || !strings.Contains(err.Error(), e.Message) {
			t.Errorf("error text: %q", err)
		}
		// By default (split "auto") it goes into a part of its own instead.
		parted, err := obatch.New(srv.options(t, obatch.WithConfig("max_requests", "2"))...)
		if err != nil {
			t.Fatal(err)
		}
		defer parted.Close()
		addAll(t, parted, 2)
		if _, err := parted.Add(chat("a part of its own")); err != nil {
			t.Errorf("third add with split auto: %v", err)
		}
	})

	t.Run("duplicate custom_id", func(t *testing.T) {
		b, err := obatch.New(srv.options(t)...)
		if err != nil {
			t.Fatal(err)
		}
		defer b.Close()
		addAll(t, b, 1)
		if _, err := b.Add(chat("again"), obatch.CustomID("q1")); !errors.Is(err, obatch.ErrDuplicate) {
			t.Errorf("duplicate: %v", err)
		}
	})

	t.Run("unknown provider", func(t *testing.T) {
		b, err := obatch.New(obatch.WithProvider("no-such-provider"), obatch.WithWorkDir(t.TempDir()))
		if err == nil {
			defer b.Close()
			_, err = b.Add(chat("hi"))
		}
		if !errors.Is(err, obatch.ErrProvider) && !errors.Is(err, obatch.ErrConfig) {
			t.Errorf("unknown provider: %v", err)
		}
		// The library's message comes through, whichever call failed (a
		// constructor's is the C thread's last error).
		if !strings.Contains(fmt.Sprint(err), "no-such-provider") {
			t.Errorf("the error does not name the provider: %v", err)
		}
	})

	t.Run("open missing files", func(t *testing.T) {
		missing := filepath.Join(t.TempDir(), "gone.jsonl")
		_, err := obatch.FromFiles(obatch.ResultFiles{Input: missing, Output: missing})
		if !errors.Is(err, obatch.ErrIO) || !strings.Contains(fmt.Sprint(err), missing) {
			t.Errorf("open: %v, want ErrIO naming %s", err, missing)
		}
	})

	t.Run("unknown config key", func(t *testing.T) {
		_, err := obatch.New(obatch.WithConfig("no_such_key", "1"))
		var e *obatch.Error
		if !errors.Is(err, obatch.ErrConfig) || !errors.As(err, &e) || e.Message == "" {
			t.Errorf("unknown key: %v", err)
		}
	})

	t.Run("missing key", func(t *testing.T) {
		t.Setenv("OPENAI_API_KEY", "")
		os.Unsetenv("OPENAI_API_KEY")
		ctx := testContext(t)
		b, err := obatch.New(obatch.WithProvider("openai"), obatch.WithBaseURL(srv.BaseURL),
			obatch.WithWorkDir(t.TempDir()))
		if err == nil {
			defer b.Close()
			if _, err = b.Add(chat("hi")); err == nil {
				if err = b.Submit(ctx); err == nil {
					_, err = b.Wait(ctx, nil)
				}
			}
		}
		if !errors.Is(err, obatch.ErrAuth) {
			t.Errorf("missing key: %v", err)
		}
		if strings.Contains(fmt.Sprint(err), testKey) {
			t.Errorf("the error shows a key: %v", err)
		}
	})

	t.Run("refused key", func(t *testing.T) {
		ctx := testContext(t)
		b, err := obatch.New(srv.options(t, obatch.WithAPIKey("wrong-key"))...)
		if err != nil {
			t.Fatal(err)
		}
		defer b.Close()
		addAll(t, b, 1)
		if err := b.Submit(ctx); err != nil {
			t.Fatal(err)
		}
		if _, err := b.Wait(ctx, nil); !errors.Is(err, obatch.ErrAuth) || strings.Contains(err.Error(), "wrong-key") {
			t.Errorf("refused key: %v", err)
		}
	})

	t.Run("wrong phase", func(t *testing.T) {
		b, err := obatch.New(srv.options(t)...)
		if err != nil {
			t.Fatal(err)
		}
		defer b.Close()
		if _, err := b.Wait(testContext(t), nil); !errors.Is(err, obatch.ErrState) {
			t.Errorf("wait before submit: %v", err)
		}
		for _, err := range b.Results() {
			if !errors.Is(err, obatch.ErrState) {
				t.Errorf("results before done: %v", err)
			}
		}
		if _, err := b.Lookup("q1"); !errors.Is(err, obatch.ErrState) {
			t.Errorf("lookup before done: %v", err)
		}
	})
}

// Wait honours its context: it returns ctx.Err() wrapped while the batch
// goes on; Cancel then ends it as cancelled.
func TestWaitContext(t *testing.T) {
	srv := startServer(t, map[string]any{"steps": 1000000})
	b, err := obatch.New(srv.options(t)...)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	addAll(t, b, 2)
	if err := b.Submit(context.Background()); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	start := time.Now()
	info, err := b.Wait(ctx, nil)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("wait: %v, want DeadlineExceeded", err)
	}
	// Generous: it only tells "returned at the deadline" from "waited for
	// the batch" (which never ends), on machines that may be loaded.
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("wait returned after %v", d)
	}
	if info.Phase.Ended() {
		t.Errorf("phase %v", info.Phase)
	}

	ctx2, cancel2 := context.WithCancel(context.Background())
	cancel2()
	if _, err := b.Wait(ctx2, nil); !errors.Is(err, context.Canceled) {
		t.Errorf("wait with a cancelled context: %v", err)
	}

	// Cancel: the fake server walks cancelling -> cancelled.
	post(t, srv.Root+"/_control/config", `{"steps": 1}`)
	if err := b.Cancel(); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Wait(testContext(t), nil); !errors.Is(err, obatch.ErrCancelled) {
		t.Errorf("wait after cancel: %v, want ErrCancelled", err)
	}
}

func TestCloseTwiceAndUseAfterClose(t *testing.T) {
	b, err := obatch.New(obatch.WithProvider("openai"), obatch.WithWorkDir(t.TempDir()))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.Add(chat("hi")); err != nil {
		t.Fatal(err)
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Add(chat("hi")); !errors.Is(err, obatch.ErrInvalid) {
		t.Errorf("add after close: %v", err)
	}
	if _, err := b.Info(); !errors.Is(err, obatch.ErrInvalid) {
		t.Errorf("info after close: %v", err)
	}
	if b.InputPath() != "" {
		t.Errorf("input path after close")
	}
}

func TestVersion(t *testing.T) {
	if v := obatch.Version(); v == "" || strings.Count(v, ".") != 2 {
		t.Errorf("version %q", v)
	}
	var major, minor, patch uint
	if _, err := fmt.Sscanf(obatch.Version(), "%d.%d.%d", &major, &minor, &patch); err != nil ||
		obatch.VersionNumber() != major*10000+minor*100+patch {
		t.Errorf("version number %d for %q (%v)", obatch.VersionNumber(), obatch.Version(), err)
	}
	if !strings.Contains(obatch.ErrLimit.Error(), obatch.CodeLimit.String()) {
		t.Errorf("sentinel text %q", obatch.ErrLimit.Error())
	}
}

func post(t *testing.T, url, body string) {
	t.Helper()
	resp, err := httpPost(url, body)
	if err != nil {
		t.Fatal(err)
	}
	if resp != 200 {
		t.Fatalf("POST %s: %d", url, resp)
	}
}

// The README example, run as a program against the fake server.
func TestQuickstartExample(t *testing.T) {
	srv := startServer(t, map[string]any{"steps": 0})
	exe := filepath.Join(t.TempDir(), "quickstart")
	build := goCommand(t, "build", "-o", exe, "./examples/quickstart")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	cmd := command(exe)
	cmd.Env = append(os.Environ(), "OPENAI_BASE_URL="+srv.BaseURL, "OPENAI_API_KEY="+testKey,
		"TMPDIR="+t.TempDir())
	cmd.Dir = t.TempDir()
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("quickstart: %v\n%s", err, out)
	}
	text := string(out)
	for _, want := range []string{"completed", "request-1 -> 200", "request-2 -> 200", "request-3 -> 200"} {
		if !strings.Contains(text, want) {
			t.Errorf("output lacks %q:\n%s", want, text)
		}
	}
}

// A Batch may be shared by goroutines: calls are serialised.
func TestConcurrentUse(t *testing.T) {
	b, err := obatch.New(obatch.WithProvider("openai"), obatch.WithWorkDir(t.TempDir()))
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	done := make(chan error)
	for g := range 4 {
		go func() {
			var err error
			for i := range 25 {
				if _, err = b.Add(chat("hi"), obatch.CustomID(fmt.Sprintf("g%d-%d", g, i))); err != nil {
					break
				}
				_, _ = b.Info()
			}
			done <- err
		}()
	}
	for range 4 {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
	if info, err := b.Info(); err != nil || info.RequestsAdded != 100 {
		t.Errorf("requests added: %d, %v", info.RequestsAdded, err)
	}
}

func TestAddMany(t *testing.T) {
	srv := startServer(t, nil)
	b, err := obatch.New(srv.options(t)...)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	body := `{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}]}`
	n, err := b.AddMany([]byte(body + "\n" + body + "\n" + body))
	if err != nil || n != 3 {
		t.Fatalf("AddMany: %d, %v", n, err)
	}
	if n, err := b.AddMany(nil); err != nil || n != 0 {
		t.Errorf("AddMany(nil): %d, %v", n, err)
	}
	// All or nothing: a bad body on line 2 adds nothing and is named.
	n, err = b.AddMany([]byte(body + "\n{\"model\":\"gpt-4o-mini\",\"messages\":[}\n" + body + "\n"))
	if !errors.Is(err, obatch.ErrJSON) || n != 0 || !strings.Contains(err.Error(), "line 2: ") {
		t.Errorf("bad line 2: %d, %v", n, err)
	}
	if info, _ := b.Info(); info.RequestsAdded != 3 {
		t.Errorf("requests added: %d, want 3", info.RequestsAdded)
	}
	if id, err := b.Add(body); err != nil || id != "request-4" {
		t.Errorf("add after: %q, %v", id, err)
	}
}
