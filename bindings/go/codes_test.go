package obatch

import (
	"testing"

	"github.com/obatch/obatch/bindings/go/raw"
)

// The Go constants must be the header's numbers (SWIG reads them from C).
func TestCodesMatchHeader(t *testing.T) {
	codes := map[Code]raw.Enum_SS_obatch_code{
		CodeOK: raw.OBATCH_OK, CodeEnd: raw.OBATCH_END, CodeInvalid: raw.OBATCH_EINVAL,
		CodeNoMemory: raw.OBATCH_ENOMEM, CodeConfig: raw.OBATCH_ECONFIG, CodeJSON: raw.OBATCH_EJSON,
		CodeRequest: raw.OBATCH_EREQUEST, CodeDuplicate: raw.OBATCH_EDUPLICATE,
		CodeLimit: raw.OBATCH_ELIMIT, CodeModel: raw.OBATCH_EMODEL, CodeState: raw.OBATCH_ESTATE,
		CodeIO: raw.OBATCH_EIO, CodeProvider: raw.OBATCH_EPROVIDER, CodeAuth: raw.OBATCH_EAUTH,
		CodeNetwork: raw.OBATCH_ENETWORK, CodeHTTP: raw.OBATCH_EHTTP,
		CodeProtocol: raw.OBATCH_EPROTOCOL, CodeInsecure: raw.OBATCH_EINSECURE,
		CodeTimeout: raw.OBATCH_ETIMEOUT, CodeNotFound: raw.OBATCH_ENOTFOUND,
		CodeFailed: raw.OBATCH_EFAILED, CodeExpired: raw.OBATCH_EEXPIRED,
		CodeCancelled: raw.OBATCH_ECANCELLED, CodeInternal: raw.OBATCH_EINTERNAL,
		CodeAborted: raw.OBATCH_EABORTED,
	}
	for c, want := range codes {
		if int(c) != int(want) {
			t.Errorf("%s: Go %d, C %d", c, int(c), int(want))
		}
	}
	sentinels := []*Error{ErrInvalid, ErrNoMemory, ErrConfig, ErrJSON, ErrRequest, ErrDuplicate,
		ErrLimit, ErrModel, ErrState, ErrIO, ErrProvider, ErrAuth, ErrNetwork, ErrHTTP,
		ErrProtocol, ErrInsecure, ErrTimeout, ErrNotFound, ErrFailed, ErrExpired, ErrCancelled,
		ErrInternal, ErrAborted}
	if len(sentinels) != len(codes)-2 {
		t.Errorf("%d sentinels for %d error codes", len(sentinels), len(codes)-2)
	}
	seen := map[Code]bool{}
	for _, s := range sentinels {
		if seen[s.Code] || s.Code >= 0 {
			t.Errorf("sentinel %v", s.Code)
		}
		seen[s.Code] = true
	}
	phases := map[Phase]raw.Enum_SS_obatch_phase{
		PhaseBuilding: raw.OBATCH_PHASE_BUILDING, PhaseUploading: raw.OBATCH_PHASE_UPLOADING,
		PhaseCreating: raw.OBATCH_PHASE_CREATING, PhaseWaiting: raw.OBATCH_PHASE_WAITING,
		PhaseDownloading: raw.OBATCH_PHASE_DOWNLOADING, PhaseDone: raw.OBATCH_PHASE_DONE,
		PhaseFailed: raw.OBATCH_PHASE_FAILED,
	}
	for p, want := range phases {
		if int(p) != int(want) {
			t.Errorf("%s: Go %d, C %d", p, int(p), int(want))
		}
	}
	kinds := map[ResultKind]raw.Enum_SS_obatch_result_kind{
		Succeeded: raw.OBATCH_RESULT_SUCCEEDED, HTTPError: raw.OBATCH_RESULT_HTTP_ERROR,
		Failed: raw.OBATCH_RESULT_ERROR, Missing: raw.OBATCH_RESULT_MISSING,
	}
	for k, want := range kinds {
		if int(k) != int(want) {
			t.Errorf("%s: Go %d, C %d", k, int(k), int(want))
		}
	}
	origins := map[JobOrigin]raw.Enum_SS_obatch_job_origin{
		JobNone: raw.OBATCH_JOB_NONE, JobNew: raw.OBATCH_JOB_NEW,
		JobResumed: raw.OBATCH_JOB_RESUMED, JobFollowing: raw.OBATCH_JOB_FOLLOWING,
		JobAdopted: raw.OBATCH_JOB_ADOPTED,
	}
	for o, want := range origins {
		if int(o) != int(want) {
			t.Errorf("%s: Go %d, C %d", o, int(o), int(want))
		}
	}
	if raw.OBATCH_JOB_VERSION != 2 || raw.NewObatch_job_t().GetVersion() != uint(raw.OBATCH_JOB_VERSION) {
		t.Errorf("obatch_job_t is not made with OBATCH_JOB_INIT")
	}
	if raw.OBATCH_INFO_VERSION != 5 || raw.NewObatch_info_t().GetVersion() != uint(raw.OBATCH_INFO_VERSION) {
		t.Errorf("obatch_info_t is not made with OBATCH_INFO_INIT")
	}
	if raw.OBATCH_TOKENS_VERSION != 1 || raw.NewObatch_tokens_t().GetVersion() != uint(raw.OBATCH_TOKENS_VERSION) {
		t.Errorf("obatch_tokens_t is not made with OBATCH_TOKENS_INIT")
	}
	if raw.OBATCH_ESTIMATE_VERSION != 1 ||
		raw.NewObatch_estimate_row_t().GetVersion() != uint(raw.OBATCH_ESTIMATE_VERSION) {
		t.Errorf("obatch_estimate_row_t is not made with OBATCH_ESTIMATE_ROW_INIT")
	}
}
