package readiness

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
)

// Status is the outcome of one check.
type Status string

// The outcomes, in rising severity.
const (
	Pass Status = "PASS"
	Warn Status = "WARN"
	Fail Status = "FAIL"
)

func (s Status) rank() int {
	switch s {
	case Fail:
		return 2
	case Warn:
		return 1
	}
	return 0
}

// Result is the outcome of one requirement: what was seen and what to do.
type Result struct {
	ID       string   `json:"id"` // R1..R6, OAuth
	Title    string   `json:"title"`
	Status   Status   `json:"status"`
	Evidence []string `json:"evidence"`
	Action   string   `json:"action,omitempty"`
}

// Report is one Result per requirement, in order.
type Report struct {
	URL     string   `json:"url"`
	Results []Result `json:"results"`
}

// Worst is the most severe status of the report.
func (r Report) Worst() Status {
	w := Pass
	for _, res := range r.Results {
		if res.Status.rank() > w.rank() {
			w = res.Status
		}
	}
	return w
}

// ExitCode is the command's exit status: 0 when every check passed, 1
// with warnings only, 2 with any failure.
func (r Report) ExitCode() int { return r.Worst().rank() }

// WriteJSON writes the report as indented JSON, with the overall verdict
// (the worst status) and the exit status it gives, so that a machine
// reading the output needs neither the exit code nor its own reckoning.
func (r Report) WriteJSON(w io.Writer) error {
	out := struct {
		URL        string   `json:"url"`
		Verdict    Status   `json:"verdict"`
		ExitStatus int      `json:"exitStatus"`
		Results    []Result `json:"results"`
	}{r.URL, r.Worst(), r.ExitCode(), r.Results}
	b, err := json.MarshalIndent(out, "", "  ")
	if err != nil {
		return fmt.Errorf("encode report: %w", err)
	}
	_, err = w.Write(append(b, '\n'))
	return err
}

// WriteText writes the report as a table: one block per requirement with
// its status, each piece of evidence on its own line, then the action.
func (r Report) WriteText(w io.Writer) error {
	fmt.Fprintf(w, "Hybrid readiness of %s\n\n", r.URL)
	tw := tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tSTATUS\tREQUIREMENT / EVIDENCE / ACTION")
	for _, res := range r.Results {
		fmt.Fprintf(tw, "%s\t%s\t%s\n", res.ID, res.Status, res.Title)
		for _, e := range res.Evidence {
			fmt.Fprintf(tw, "\t\t- %s\n", e)
		}
		if res.Action != "" {
			fmt.Fprintf(tw, "\t\taction: %s\n", res.Action)
		}
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	_, err := fmt.Fprintf(w, "\nResult: %s\n", strings.ToLower(string(r.Worst())))
	return err
}
