package obatch

import (
	"encoding/json"
	"strconv"
	"time"

	"github.com/obatch/obatch/bindings/go/raw"
)

// Phase is where a batch is locally (obatch_phase).
type Phase int

const (
	PhaseBuilding    Phase = 0 // accepting Add
	PhaseUploading   Phase = 1 // sending the input file
	PhaseCreating    Phase = 2 // creating the remote batch
	PhaseWaiting     Phase = 3 // the provider is running the batch
	PhaseDownloading Phase = 4 // fetching the output and error files
	PhaseDone        Phase = 5 // results can be read
	PhaseFailed      Phase = 6 // stopped; see Info.ErrorCode / ErrorMessage
)

var phaseNames = [...]string{"building", "uploading", "creating", "waiting", "downloading", "done", "failed"}

func (p Phase) String() string {
	if p >= 0 && int(p) < len(phaseNames) {
		return phaseNames[p]
	}
	return "phase(" + strconv.Itoa(int(p)) + ")"
}

// Ended reports a phase after which nothing changes any more.
func (p Phase) Ended() bool { return p == PhaseDone || p == PhaseFailed }

// JobOrigin says how a submitted batch came to its job in the journal
// (obatch_job_origin).
type JobOrigin int

const (
	JobNone      JobOrigin = 0 // no journal (state "off"), or not submitted
	JobNew       JobOrigin = 1 // a new job: this batch uploads and creates
	JobResumed   JobOrigin = 2 // the same input was submitted before: no second upload, no second batch
	JobFollowing JobOrigin = 3 // another live process runs the same job; this batch waits for it
	// The provider had this input's batch from another journal (another
	// machine, a lost jobs.db), made in the last 48 h: taken up, not paid for
	// again. Told once the provider was asked, after Submit.
	JobAdopted JobOrigin = 4
)

var originNames = [...]string{"none", "new", "resumed", "following", "adopted"}

func (o JobOrigin) String() string {
	if o >= 0 && int(o) < len(originNames) {
		return originNames[o]
	}
	return "origin(" + strconv.Itoa(int(o)) + ")"
}

// Info is a snapshot of a batch (obatch_info_t), copied into Go memory.
// Times are zero when unknown.
type Info struct {
	Phase            Phase
	Provider         string
	Endpoint         string
	Model            string // or the models joined by "," (providers that allow mixing)
	BatchID          string
	RemoteStatus     string // "validating" ... "cancelled", or ""
	CompletionWindow string
	InputFileID      string
	OutputFileID     string
	ErrorFileID      string
	OutputPath       string // the local result files; "" until downloaded
	ErrorPath        string // "" when the batch had no error file

	RequestsAdded     uint64 // requests in the local input
	RequestsTotal     uint64 // as reported by the provider
	RequestsCompleted uint64
	RequestsFailed    uint64
	BytesTotal        uint64 // size of the input file
	BytesUploaded     uint64
	BytesDownloaded   uint64
	InputTokens       uint64 // usage reported by the provider; 0: none
	OutputTokens      uint64
	TotalTokens       uint64

	CreatedAt    time.Time
	InProgressAt time.Time
	FinalizingAt time.Time
	CompletedAt  time.Time
	FailedAt     time.Time
	ExpiredAt    time.Time
	CancellingAt time.Time
	CancelledAt  time.Time
	ExpiresAt    time.Time // when the provider gives up on the batch

	ErrorCode    Code // what stopped the batch; 0 when nothing did
	ErrorMessage string

	BatchJSON json.RawMessage // the provider's batch object; nil when none

	JobID       string    // the job in the journal (24 hex); "" when none
	JobOrigin   JobOrigin // new, resumed, following, adopted; JobNone without a journal
	JournalPath string    // the journal holding the job; "" when it is off

	// A job of several batches ("parts"): an input over the provider's
	// limits of one batch (or WithConfig("max_requests", ...) /
	// "max_bytes") runs as several. Then BatchID, InputFileID, OutputFileID,
	// ErrorFileID and BatchJSON are empty (see Batch.Parts), the counts are
	// summed over the parts, and OutputPath / ErrorPath are the merged
	// files, in input order. A job of one batch has PartsTotal 1.
	PartsTotal      uint64
	PartsSubmitted  uint64 // parts whose batch was created
	PartsRunning    uint64 // being run now (not to come, not ended, not failed)
	PartsEnded      uint64 // ended with results (completed, expired, cancelled)
	PartsFailed     uint64 // whose batch failed (no results)
	TokensEstimated uint64 // prompt tokens of the whole input, estimated (4 bytes a token)
	TokensEnqueued  uint64 // the estimate over the parts whose batches run at the provider

	// Direct mode (WithConfig("mode", "direct"), or "auto" choosing it):
	// each request is sent as a normal request (full price, results in
	// minutes). Then Phase is PhaseWaiting while requests are sent,
	// RemoteStatus "in_progress" then "completed", BatchID and the file ids
	// are "", and RequestsCompleted / RequestsFailed count the results
	// written so far (2xx answers / the error file's lines).
	Mode              string // "batch" or "direct" ("" before Submit)
	ModeReason        string // why: the config's mode, or what "auto" weighed
	RequestsInFlight  uint64 // sent and not answered yet
	RequestsRetried   uint64 // sent again after a 408, 409, 429, 5xx or no answer
	Responses429      uint64 // "too many requests" answers seen
	RequestsPerMinute uint64 // sent in the last minute
	TokensPerMinute   uint64 // their prompt tokens (estimated)
	RPMLimit          uint64 // the limits followed: the lower of the config's rpm / tpm
	TPMLimit          uint64 // and the server's x-ratelimit-* headers; 0: none
}

// Direct reports a job whose requests are sent as normal requests.
func (i *Info) Direct() bool { return i.Mode == "direct" }

// PartInfo is one batch ("part") of a job (obatch_part_info), copied into
// Go memory.
type PartInfo struct {
	Index             int    // 0-based, in input order
	Phase             Phase  // PhaseFailed also when its batch failed
	Model             string // the model of its requests
	BatchID           string // "" until its batch is created
	RemoteStatus      string
	RequestsAdded     uint64 // its requests
	RequestsTotal     uint64
	RequestsCompleted uint64
	RequestsFailed    uint64
	BytesTotal        uint64 // size of its input file
	TokensEstimated   uint64 // its prompt tokens, estimated
	ErrorMessage      string
}

// progress is the part of Info that Wait compares to decide whether to call
// the progress function again.
type progress struct {
	phase                                     Phase
	status                                    string
	added, total, completed, failed, up, down uint64
	errorCode                                 Code
	partsSubmitted, partsRunning              uint64
	partsEnded, partsFailed                   uint64
	inFlight                                  uint64
}

func (i *Info) progress() progress {
	return progress{i.Phase, i.RemoteStatus, i.RequestsAdded, i.RequestsTotal,
		i.RequestsCompleted, i.RequestsFailed, i.BytesUploaded, i.BytesDownloaded, i.ErrorCode,
		i.PartsSubmitted, i.PartsRunning, i.PartsEnded, i.PartsFailed, i.RequestsInFlight}
}

func unixTime(s int64) time.Time {
	if s == 0 {
		return time.Time{}
	}
	return time.Unix(s, 0)
}

// readInfo copies a filled obatch_info_t; its strings live only until the
// next call on the handle that filled it.
func readInfo(ci raw.Obatch_info_t) Info {
	info := Info{
		Phase:             Phase(ci.GetPhase()),
		Provider:          ci.GetProvider(),
		Endpoint:          ci.GetEndpoint(),
		Model:             ci.GetModel(),
		BatchID:           ci.GetBatch_id(),
		RemoteStatus:      ci.GetRemote_status(),
		CompletionWindow:  ci.GetCompletion_window(),
		InputFileID:       ci.GetInput_file_id(),
		OutputFileID:      ci.GetOutput_file_id(),
		ErrorFileID:       ci.GetError_file_id(),
		OutputPath:        ci.GetOutput_path(),
		ErrorPath:         ci.GetError_path(),
		RequestsAdded:     ci.GetRequests_added(),
		RequestsTotal:     ci.GetRequests_total(),
		RequestsCompleted: ci.GetRequests_completed(),
		RequestsFailed:    ci.GetRequests_failed(),
		BytesTotal:        ci.GetBytes_total(),
		BytesUploaded:     ci.GetBytes_uploaded(),
		BytesDownloaded:   ci.GetBytes_downloaded(),
		InputTokens:       ci.GetInput_tokens(),
		OutputTokens:      ci.GetOutput_tokens(),
		TotalTokens:       ci.GetTotal_tokens(),
		CreatedAt:         unixTime(ci.GetCreated_at()),
		InProgressAt:      unixTime(ci.GetIn_progress_at()),
		FinalizingAt:      unixTime(ci.GetFinalizing_at()),
		CompletedAt:       unixTime(ci.GetCompleted_at()),
		FailedAt:          unixTime(ci.GetFailed_at()),
		ExpiredAt:         unixTime(ci.GetExpired_at()),
		CancellingAt:      unixTime(ci.GetCancelling_at()),
		CancelledAt:       unixTime(ci.GetCancelled_at()),
		ExpiresAt:         unixTime(ci.GetExpires_at()),
		ErrorCode:         Code(ci.GetError_code()),
		ErrorMessage:      ci.GetError_message(),
		JobID:             ci.GetJob_id(),
		JobOrigin:         JobOrigin(ci.GetJob_origin()),
		JournalPath:       ci.GetJournal_path(),
		PartsTotal:        ci.GetParts_total(),
		PartsSubmitted:    ci.GetParts_submitted(),
		PartsRunning:      ci.GetParts_running(),
		PartsEnded:        ci.GetParts_ended(),
		PartsFailed:       ci.GetParts_failed(),
		TokensEstimated:   ci.GetTokens_estimated(),
		TokensEnqueued:    ci.GetTokens_enqueued(),
		Mode:              ci.GetMode(),
		ModeReason:        ci.GetMode_reason(),
		RequestsInFlight:  ci.GetRequests_in_flight(),
		RequestsRetried:   ci.GetRequests_retried(),
		Responses429:      ci.GetResponses_429(),
		RequestsPerMinute: ci.GetRequests_per_minute(),
		TokensPerMinute:   ci.GetTokens_per_minute(),
		RPMLimit:          ci.GetRpm_limit(),
		TPMLimit:          ci.GetTpm_limit(),
	}
	if s := ci.GetBatch_json(); s != "" {
		info.BatchJSON = json.RawMessage(s)
	}
	return info
}

// readPart copies a part filled by obatch_part_info / obatch_check_part.
func readPart(index int, ci raw.Obatch_info_t) PartInfo {
	return PartInfo{
		Index:             index,
		Phase:             Phase(ci.GetPhase()),
		Model:             ci.GetModel(),
		BatchID:           ci.GetBatch_id(),
		RemoteStatus:      ci.GetRemote_status(),
		RequestsAdded:     ci.GetRequests_added(),
		RequestsTotal:     ci.GetRequests_total(),
		RequestsCompleted: ci.GetRequests_completed(),
		RequestsFailed:    ci.GetRequests_failed(),
		BytesTotal:        ci.GetBytes_total(),
		TokensEstimated:   ci.GetTokens_estimated(),
		ErrorMessage:      ci.GetError_message(),
	}
}

// readParts reads every part with partAt (obatch_part_info or
// obatch_check_part on one handle), from 0 until ErrNotFound. It returns
// the first other failing code, with the parts read so far.
func readParts(ci raw.Obatch_info_t, partAt func(index uint64, ci raw.Obatch_info_t) int) ([]PartInfo, int) {
	parts := []PartInfo{}
	for i := 0; ; i++ {
		rc := partAt(uint64(i), ci)
		if rc == int(CodeNotFound) {
			return parts, 0
		}
		if rc < 0 {
			return parts, rc
		}
		parts = append(parts, readPart(i, ci))
	}
}
