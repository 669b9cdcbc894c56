package obatch

import (
	"strconv"

	"github.com/obatch/obatch/bindings/go/raw"
)

// Tokens and cost before anything is sent: one request's prompt tokens as
// OpenAI counts them, a text's tokens, and what an input file will cost.
// All local work (no network).

// Tokens is what one request body costs in tokens (obatch_tokens_t).
type Tokens struct {
	Encoding        string // "o200k_base" or "cl100k_base", as tiktoken maps the model
	EncodingAssumed bool   // the model is unknown to tiktoken: o200k_base assumed
	// Exact: the text with the encoding plus the counting guide's overheads
	// (chat: 3 a message, 1 a name, 3 to prime the reply; tools; images).
	PromptTokens uint64
	// An upper bound: max_completion_tokens / max_tokens / max_output_tokens
	// times n.
	OutputTokens  uint64
	OutputAssumed bool // no max given: 1000 assumed
	Images        uint64
	ImagesAssumed bool // an image of unknown size (a URL) or "auto" detail, counted as high detail
	Approximate   bool // tools or a response_format schema: the guide's rule of thumb, not exact
}

// CountTokens counts the prompt tokens of one request body (JSON) for the
// endpoint url ("/v1/chat/completions", "/v1/embeddings", "/v1/responses",
// "/v1/completions", ...). ErrJSON for a body that is not a JSON object.
func CountTokens(url string, body []byte) (Tokens, error) {
	if hasNUL(url) {
		return Tokens{}, &Error{Code: CodeInvalid, Op: "count tokens", Message: "a NUL byte in the url"}
	}
	text := string(body)
	if hasNUL(text) {
		return Tokens{}, &Error{Code: CodeJSON, Op: "count tokens", Message: "a NUL byte in the JSON text"}
	}
	t := raw.NewObatch_tokens_t()
	if t.Swigcptr() == 0 {
		return Tokens{}, &Error{Code: CodeNoMemory, Op: "count tokens"}
	}
	defer raw.DeleteObatch_tokens_t(t)
	errbuf := make([]byte, errbufSize)
	if rc := raw.Obatch_count_tokens(url, text, t, errbuf); rc != int(CodeOK) {
		return Tokens{}, newError(rc, "count tokens", cString(errbuf))
	}
	return Tokens{
		Encoding:        t.GetEncoding(),
		EncodingAssumed: t.GetEncoding_assumed() != 0,
		PromptTokens:    t.GetPrompt_tokens(),
		OutputTokens:    t.GetOutput_tokens(),
		OutputAssumed:   t.GetOutput_assumed() != 0,
		Images:          t.GetImages(),
		ImagesAssumed:   t.GetImages_assumed() != 0,
		Approximate:     t.GetApproximate() != 0,
	}, nil
}

// CountTextTokens counts the tokens of text alone with an encoding
// ("o200k_base", "cl100k_base"), as tiktoken's encode_ordinary does.
// ErrInvalid for an unknown encoding.
func CountTextTokens(encoding, text string) (uint64, error) {
	if hasNUL(encoding) {
		return 0, &Error{Code: CodeInvalid, Op: "count text tokens", Message: "a NUL byte in the encoding name"}
	}
	var n uint64
	if rc := raw.Obatch_count_text_tokens(encoding, text, &n); rc != int(CodeOK) {
		msg := ""
		if Code(rc) == CodeInvalid {
			// The C call has no message of its own: an unknown encoding is its
			// one invalid argument here.
			msg = "unknown encoding " + strconv.Quote(encoding) + " (o200k_base or cl100k_base)"
		}
		return 0, newError(rc, "count text tokens", msg)
	}
	return n, nil
}

// EstimateRow is one model of an estimate, or the total
// (obatch_estimate_row_t). The request counts EncodingAssumed ...
// Approximate say how many requests each caveat of Tokens applies to.
type EstimateRow struct {
	Model           string // "" for the total
	Encoding        string // "" for the total
	Requests        uint64
	PromptTokens    uint64 // exact
	OutputTokens    uint64 // an upper bound
	EncodingAssumed uint64 // requests counted with an assumed encoding
	OutputAssumed   uint64 // requests without a max (1000 assumed)
	Images          uint64
	ImagesAssumed   uint64
	Approximate     uint64 // requests with tools or a schema
	Batches         uint64 // the batches Submit cuts them into
	// HasCost is false for a model without a price (for the total: some
	// model has none); then both costs are nil: a cost is never guessed.
	HasCost       bool
	BatchCostUSD  *float64 // in batch mode
	DirectCostUSD *float64 // with direct requests
}

// Estimate is what an input file will cost (obatch_estimate_file).
type Estimate struct {
	Models []EstimateRow // one per model, in the order their first requests come
	Total  EstimateRow   // over every model (Model "")
	Prices string        // where the prices came from and their date: "built in, 2026-03-21" or "PATH, DATE"
}

// WithPrices gives EstimateFile a price table of the format of
// data/prices/openai.tsv (default: the built-in one). Other calls ignore it.
func WithPrices(path string) Option { return func(c *config) { c.prices = path } }

// EstimateFile says what an input file will cost before anything is sent:
// per model, requests, exact prompt tokens, output tokens (an upper bound),
// the batches, and the cost in batch mode and with direct requests from a
// dated price table (USD). The file gets every check of AddFile first: a
// file with a problem fails (CheckFile lists them). opts: the config, and
// WithPrices.
func EstimateFile(path string, opts ...Option) (*Estimate, error) {
	var c config
	for _, o := range opts {
		if o != nil {
			o(&c)
		}
	}
	if hasNUL(path) || hasNUL(c.prices) {
		return nil, &Error{Code: CodeInvalid, Op: "estimate", Message: "a NUL byte in a path"}
	}
	conf, err := newConfig(opts)
	if err != nil {
		return nil, err
	}
	defer raw.Obatch_config_destroy(conf)
	var h uintptr
	errbuf := make([]byte, errbufSize)
	// "" crosses as NULL: the built-in prices.
	if rc := raw.Obatch_estimate_file(&h, conf, path, c.prices, errbuf); rc != int(CodeOK) || h == 0 {
		if h != 0 {
			raw.Obatch_estimate_destroy(h)
		}
		return nil, newError(rc, "estimate "+path, cString(errbuf))
	}
	defer raw.Obatch_estimate_destroy(h)
	row := raw.NewObatch_estimate_row_t()
	if row.Swigcptr() == 0 {
		return nil, &Error{Code: CodeNoMemory, Op: "estimate"}
	}
	defer raw.DeleteObatch_estimate_row_t(row)
	var rows []EstimateRow
	for {
		rc := raw.Obatch_estimate_next(h, row)
		if rc == int(CodeEnd) {
			break
		}
		if rc != int(CodeOK) {
			return nil, newError(rc, "estimate "+path, "")
		}
		rows = append(rows, readEstimateRow(row))
	}
	if len(rows) == 0 || rows[len(rows)-1].Model != "" {
		return nil, &Error{Code: CodeInternal, Op: "estimate " + path, Message: "no total row"}
	}
	return &Estimate{
		Models: rows[:len(rows)-1],
		Total:  rows[len(rows)-1],
		Prices: raw.Obatch_estimate_prices(h),
	}, nil
}

func readEstimateRow(r raw.Obatch_estimate_row_t) EstimateRow {
	row := EstimateRow{
		Model:           r.GetModel(),
		Encoding:        r.GetEncoding(),
		Requests:        r.GetRequests(),
		PromptTokens:    r.GetPrompt_tokens(),
		OutputTokens:    r.GetOutput_tokens(),
		EncodingAssumed: r.GetEncoding_assumed(),
		OutputAssumed:   r.GetOutput_assumed(),
		Images:          r.GetImages(),
		ImagesAssumed:   r.GetImages_assumed(),
		Approximate:     r.GetApproximate(),
		Batches:         r.GetBatches(),
		HasCost:         r.GetHas_cost() != 0,
	}
	if row.HasCost {
		batch, direct := r.GetBatch_cost_usd(), r.GetDirect_cost_usd()
		row.BatchCostUSD, row.DirectCostUSD = &batch, &direct
	}
	return row
}
