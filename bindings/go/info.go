package obatch

import (
	"encoding/json"
	"strconv"
	"time"

	"github.com/obatch/obatch/bindings/go/internal/raw"
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
}

// progress is the part of Info that Wait compares to decide whether to call
// the progress function again.
type progress struct {
	phase                                     Phase
	status                                    string
	added, total, completed, failed, up, down uint64
	errorCode                                 Code
}

func (i *Info) progress() progress {
	return progress{i.Phase, i.RemoteStatus, i.RequestsAdded, i.RequestsTotal,
		i.RequestsCompleted, i.RequestsFailed, i.BytesUploaded, i.BytesDownloaded, i.ErrorCode}
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
	}
	if s := ci.GetBatch_json(); s != "" {
		info.BatchJSON = json.RawMessage(s)
	}
	return info
}
