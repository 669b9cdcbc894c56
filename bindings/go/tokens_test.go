package obatch_test

import (
	"encoding/json"
	"errors"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	obatch "github.com/obatch/obatch/bindings/go"
)

// Tokens and cost before anything is sent, the same in Node, Go and Ruby:
// the counting guide's figures ("hello world" is 2 tokens of o200k_base; a
// chat of one user message "x" is 3 + 1 + 1 + 3 = 8), and an estimate of a
// file of 2 gpt-4o-mini requests and 1 gpt-4o request with the built-in
// prices (batch mode at half the price). Nothing here needs a server.

const chatBody = `{"model":"gpt-4o-mini","messages":[{"role":"user","content":"x"}],"max_completion_tokens":5}`

func estimateLine(t *testing.T, id, model string) string {
	t.Helper()
	b, err := json.Marshal(map[string]any{
		"custom_id": id, "method": "POST", "url": "/v1/chat/completions",
		"body": map[string]any{"model": model, "messages": []map[string]string{{"role": "user", "content": "x"}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func writeTemp(t *testing.T, name, text string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// wantError checks err's code and that its message matches pattern.
func wantError(t *testing.T, err error, sentinel *obatch.Error, pattern string) {
	t.Helper()
	var e *obatch.Error
	if !errors.Is(err, sentinel) || !errors.As(err, &e) {
		t.Fatalf("want %v, got %v", sentinel.Code, err)
	}
	if pattern != "" && !regexp.MustCompile(pattern).MatchString(e.Message) {
		t.Errorf("message %q does not match %q", e.Message, pattern)
	}
}

func TestCountTextTokens(t *testing.T) {
	for _, enc := range []string{"o200k_base", "cl100k_base"} {
		if n, err := obatch.CountTextTokens(enc, "hello world"); err != nil || n != 2 {
			t.Errorf("%s: %d, %v; want 2", enc, n, err)
		}
	}
	if n, err := obatch.CountTextTokens("o200k_base", ""); err != nil || n != 0 {
		t.Errorf("empty text: %d, %v", n, err)
	}
	// The length is Go's: a NUL inside is text, not an end.
	if n, err := obatch.CountTextTokens("o200k_base", "hello\x00world"); err != nil || n <= 2 {
		t.Errorf("a NUL inside: %d, %v", n, err)
	}
	_, err := obatch.CountTextTokens("p50k_base", "x")
	wantError(t, err, obatch.ErrInvalid, "p50k_base")
}

func TestCountTokens(t *testing.T) {
	got, err := obatch.CountTokens("/v1/chat/completions", []byte(chatBody))
	if err != nil {
		t.Fatal(err)
	}
	want := obatch.Tokens{Encoding: "o200k_base", PromptTokens: 8, OutputTokens: 5}
	if got != want {
		t.Errorf("got %+v, want %+v", got, want)
	}
	noMax := strings.Replace(chatBody, `"max_completion_tokens":5`, `"n":2`, 1)
	if got, err := obatch.CountTokens("/v1/chat/completions", []byte(noMax)); err != nil ||
		got.OutputTokens != 2000 || !got.OutputAssumed {
		t.Errorf("no max, n 2: %+v, %v", got, err)
	}
	unknown := strings.Replace(chatBody, "gpt-4o-mini", "my-own-model", 1)
	if got, err := obatch.CountTokens("/v1/chat/completions", []byte(unknown)); err != nil ||
		got.Encoding != "o200k_base" || !got.EncodingAssumed {
		t.Errorf("an unknown model: %+v, %v", got, err)
	}
	for _, body := range []string{"[]", "42", `{"model": `, ""} {
		_, err := obatch.CountTokens("/v1/embeddings", []byte(body))
		wantError(t, err, obatch.ErrJSON, "not a JSON object")
	}
	_, err = obatch.CountTokens("/v1/chat/completions", []byte("{\"a\":\"\x00\"}"))
	wantError(t, err, obatch.ErrJSON, "NUL")
}

func TestEstimateFile(t *testing.T) {
	in := writeTemp(t, "in.jsonl", estimateLine(t, "a", "gpt-4o-mini")+"\n"+
		estimateLine(t, "b", "gpt-4o-mini")+"\n"+estimateLine(t, "c", "gpt-4o")+"\n")
	e, err := obatch.EstimateFile(in)
	if err != nil {
		t.Fatal(err)
	}
	if len(e.Models) != 2 || e.Models[0].Model != "gpt-4o-mini" || e.Models[1].Model != "gpt-4o" {
		t.Fatalf("models: %+v", e.Models)
	}
	mini, big := e.Models[0], e.Models[1]
	if mini.Encoding != "o200k_base" || mini.Requests != 2 || mini.PromptTokens != 16 ||
		mini.OutputTokens != 2000 || mini.OutputAssumed != 2 || mini.Batches != 1 {
		t.Errorf("gpt-4o-mini: %+v", mini)
	}
	if !mini.HasCost || mini.BatchCostUSD == nil || mini.DirectCostUSD == nil || *mini.DirectCostUSD <= 0 ||
		*mini.BatchCostUSD*2 != *mini.DirectCostUSD {
		t.Errorf("gpt-4o-mini's cost: %+v", mini)
	}
	if big.Requests != 1 || big.PromptTokens != 8 || !big.HasCost {
		t.Errorf("gpt-4o: %+v", big)
	}
	total := e.Total
	if total.Model != "" || total.Requests != 3 || total.PromptTokens != 24 || total.Batches != 2 ||
		!total.HasCost || math.Abs(*total.DirectCostUSD-(*mini.DirectCostUSD+*big.DirectCostUSD)) > 1e-12 {
		t.Errorf("total: %+v", total)
	}
	if !regexp.MustCompile(`^built in, 20\d\d-\d\d-\d\d$`).MatchString(e.Prices) {
		t.Errorf("prices %q", e.Prices)
	}
	// Config keys go to the config: with max_requests 1, a batch a request.
	if cut, err := obatch.EstimateFile(in, obatch.WithConfig("max_requests", "1")); err != nil || cut.Total.Batches != 3 {
		t.Errorf("max_requests 1: %+v, %v", cut, err)
	}

	// A price table of one's own; a model without a price has no cost, never a guess.
	prices := writeTemp(t, "prices.tsv", "# date: 2030-01-01\ngpt-4o-mini\t1000000\t-\t0\t500000\t0\n")
	own, err := obatch.EstimateFile(in, obatch.WithPrices(prices))
	if err != nil {
		t.Fatal(err)
	}
	if m := own.Models[0]; math.Abs(*m.DirectCostUSD-16) > 1e-9 || math.Abs(*m.BatchCostUSD-8) > 1e-9 {
		t.Errorf("own prices, gpt-4o-mini: %v %v", *m.DirectCostUSD, *m.BatchCostUSD)
	}
	if m := own.Models[1]; m.HasCost || m.BatchCostUSD != nil || m.DirectCostUSD != nil {
		t.Errorf("no price for gpt-4o: %+v", m)
	}
	if own.Total.HasCost || own.Total.DirectCostUSD != nil || own.Prices != prices+", 2030-01-01" {
		t.Errorf("own prices, total: %+v, %q", own.Total, own.Prices)
	}

	// Errors carry the library's message.
	_, err = obatch.EstimateFile(in, obatch.WithPrices(writeTemp(t, "bad.tsv", "gpt-4o\t1\t2\n")))
	wantError(t, err, obatch.ErrIO, `bad\.tsv line 1: 3 columns, not 6`)
	_, err = obatch.EstimateFile(writeTemp(t, "broken.jsonl", estimateLine(t, "a", "gpt-4o-mini")+"\n{oops\n"))
	wantError(t, err, obatch.ErrJSON, "line 2")
	_, err = obatch.EstimateFile(filepath.Join(t.TempDir(), "no-such-file.jsonl"))
	wantError(t, err, obatch.ErrIO, "no-such-file")
	_, err = obatch.EstimateFile(in, obatch.WithConfig("no_such_key", "1"))
	wantError(t, err, obatch.ErrConfig, "no_such_key")
}
