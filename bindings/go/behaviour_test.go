package obatch_test

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/obatch/obatch/bindings/go"
	"github.com/obatch/obatch/bindings/go/raw"
)

// Rows of the behaviour table in bindings/README.md that the other test
// files do not already cover (each row has a test in every binding).

// Add returns the custom_id, also the generated one, and WithModel fills
// the model of a map body that names none.
func TestAddReturnsTheIDAndWithModelFillsTheModel(t *testing.T) {
	b, err := obatch.New(obatch.WithProvider("openai"), obatch.WithModel("gpt-4o-mini"),
		obatch.WithConfig("custom_id_prefix", "row"), obatch.WithWorkDir(t.TempDir()))
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	msgs := []map[string]string{{"role": "user", "content": "x"}}
	first, err := b.Add(map[string]any{"messages": msgs})
	if err != nil || first != "row-1" {
		t.Fatalf("Add = %q, %v; want row-1", first, err)
	}
	named, err := b.Add(map[string]any{"messages": msgs}, obatch.CustomID("mine"))
	if err != nil || named != "mine" {
		t.Fatalf("Add = %q, %v; want mine", named, err)
	}
	third, err := b.Add(map[string]any{"messages": msgs, "model": nil})
	if err != nil || third != "row-3" {
		t.Fatalf("Add = %q, %v; want row-3", third, err)
	}
	info, err := b.Info()
	if err != nil || info.Model != "gpt-4o-mini" || info.RequestsAdded != 3 {
		t.Fatalf("info: model %q, %d added, %v", info.Model, info.RequestsAdded, err)
	}
	// A body that names its model keeps it: a second model is refused for a
	// provider with one model per batch only, and openai allows several.
	if _, err := b.Add(map[string]any{"messages": msgs, "model": "gpt-4o"}); err != nil {
		t.Fatal(err)
	}
	if info, _ := b.Info(); info.Model != "gpt-4o-mini,gpt-4o" {
		t.Fatalf("models %q", info.Model)
	}
}

// A closed batch answers ErrInvalid to every call, as in Node and Ruby.
func TestAClosedBatchIsErrInvalid(t *testing.T) {
	b, err := obatch.New(obatch.WithProvider("openai"), obatch.WithWorkDir(t.TempDir()))
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Add(`{"model":"gpt-4o-mini","messages":[]}`); !errors.Is(err, obatch.ErrInvalid) {
		t.Fatalf("Add after Close: %v", err)
	}
	if _, err := b.Info(); !errors.Is(err, obatch.ErrInvalid) {
		t.Fatalf("Info after Close: %v", err)
	}
	if _, err := b.Wait(context.Background(), nil); !errors.Is(err, obatch.ErrInvalid) {
		t.Fatalf("Wait after Close: %v", err)
	}
}

// A constructor's error carries the library's own message.
func TestConstructorErrorsCarryTheLibrarysMessage(t *testing.T) {
	_, err := obatch.New(obatch.WithProvider("nosuch"))
	if !errors.Is(err, obatch.ErrProvider) || !containsAll(err.Error(), "nosuch", "openai") {
		t.Fatalf("unknown provider: %v", err)
	}
	_, err = obatch.FromFiles(obatch.ResultFiles{Output: "/nonexistent/out.jsonl"})
	if !errors.Is(err, obatch.ErrIO) || !containsAll(err.Error(), "/nonexistent/out.jsonl") {
		t.Fatalf("missing file: %v", err)
	}
}

func containsAll(s string, parts ...string) bool {
	for _, p := range parts {
		if !strings.Contains(s, p) {
			return false
		}
	}
	return true
}

// The raw layer is the escape hatch: importable, and usable on a Batch's
// handle for what the package does not wrap.
func TestRawEscapeHatch(t *testing.T) {
	if raw.Obatch_version() != obatch.Version() {
		t.Fatalf("raw version %q", raw.Obatch_version())
	}
	b, err := obatch.New(obatch.WithProvider("openai"), obatch.WithWorkDir(t.TempDir()))
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if err := b.Raw("add", func(h uintptr) int {
		return raw.Obatch_add(h, `{"model":"gpt-4o-mini","messages":[{"role":"user","content":"x"}]}`, "via-raw", "")
	}); err != nil {
		t.Fatal(err)
	}
	err = b.Raw("add", func(h uintptr) int { return raw.Obatch_add(h, `{"bad`, "x", "") })
	if !errors.Is(err, obatch.ErrJSON) || !strings.Contains(err.Error(), "JSON") {
		t.Fatalf("a raw failure: %v", err)
	}
	if info, _ := b.Info(); info.RequestsAdded != 1 {
		t.Fatalf("%d added", info.RequestsAdded)
	}
}

// FromFiles reads result files already on disk (Node: Batch.fromFiles, Ruby:
// Batch.from_files); nothing is sent.
func TestFromFilesReadsResultsOnDisk(t *testing.T) {
	dir := t.TempDir()
	out := dir + "/out.jsonl"
	lines := `{"id":"r1","custom_id":"a","response":{"status_code":200,"request_id":"x","body":{"ok":1}},"error":null}` + "\n" +
		`{"id":"r2","custom_id":"b","response":{"status_code":200,"request_id":"y","body":{"ok":2}},"error":null}` + "\n"
	if err := os.WriteFile(out, []byte(lines), 0o600); err != nil {
		t.Fatal(err)
	}
	b, err := obatch.FromFiles(obatch.ResultFiles{Output: out})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	var ids []string
	for r, err := range b.Results() {
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, r.CustomID)
	}
	if strings.Join(ids, ",") != "a,b" {
		t.Fatalf("results %v", ids)
	}
	r, err := b.Lookup("b")
	if err != nil || r.StatusCode != 200 {
		t.Fatalf("lookup b: %+v, %v", r, err)
	}
}
