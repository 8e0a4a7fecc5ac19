// Package store writes generated samples to disk (PNG pairs or NPZ shards plus a JSONL manifest), resumes interrupted runs and draws contact sheets.
//
// Every file appears under its final name only when complete: it is
// written to a temporary name in the same folder and renamed. The
// manifest is appended one whole line per sample after the sample's
// files are in place, so it always lists only complete samples; a torn
// last line (a killed process) is cut off when the run resumes.
package store
