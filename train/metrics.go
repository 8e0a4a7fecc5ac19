package train

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"

	"github.com/synthfm/synthfm/internal/atomicfile"
)

// Record is one line of the metrics log (metrics.jsonl): a training step's
// numbers or a validation result (or both).
type Record struct {
	Step          int      `json:"step"`
	Epoch         float64  `json:"epoch"`
	Loss          *float64 `json:"loss,omitempty"`          // training objective (mean over the step's rounds)
	SegLoss       *float64 `json:"seg_loss,omitempty"`      // segmentation part of it
	LearningRate  *float64 `json:"lr,omitempty"`            // rate used by the step
	SamplesPerSec *float64 `json:"samples_per_s,omitempty"` // training throughput
	ValDice       *float64 `json:"val_dice,omitempty"`      // mean Dice on the synthetic validation set, one positive click
	// ValReal holds mean Dice at one positive click on each real manifest, by name.
	ValReal map[string]float64 `json:"val_real,omitempty"`
	Elapsed float64            `json:"elapsed_s"`
}

func ptr(v float64) *float64 { return &v }

// MetricsLog appends records to a JSONL file.
type MetricsLog struct {
	path string
	f    *os.File
}

// OpenMetricsLog opens (creating if needed) the JSONL log at path and drops
// any record after step keepUpTo, so that a run resumed from a checkpoint
// does not log the steps it repeats twice. keepUpTo < 0 starts a fresh log.
func OpenMetricsLog(path string, keepUpTo int) (*MetricsLog, error) {
	var kept bytes.Buffer
	if keepUpTo >= 0 {
		records, err := ReadMetrics(path)
		if err != nil && !os.IsNotExist(err) {
			return nil, err
		}
		enc := json.NewEncoder(&kept)
		for _, r := range records {
			if r.Step <= keepUpTo {
				if err := enc.Encode(r); err != nil {
					return nil, err
				}
			}
		}
	}
	if err := atomicfile.Write(path, atomicfile.Durable, func(w io.Writer) error { _, err := w.Write(kept.Bytes()); return err }); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("metrics log: %w", err)
	}
	return &MetricsLog{path: path, f: f}, nil
}

// Append writes one record as a JSON line.
func (m *MetricsLog) Append(r Record) error {
	b, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("metrics log: %w", err)
	}
	if _, err := m.f.Write(append(b, '\n')); err != nil {
		return fmt.Errorf("metrics log %s: %w", m.path, err)
	}
	return nil
}

// Close syncs and closes the file.
func (m *MetricsLog) Close() error {
	if err := m.f.Sync(); err != nil {
		m.f.Close()
		return err
	}
	return m.f.Close()
}

// ReadMetrics reads a JSONL metrics log. A final line cut short by a crash
// is ignored; any other malformed line is an error naming it.
func ReadMetrics(path string) ([]Record, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var records []Record
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 64*1024), 16<<20)
	line := 0
	var pendingErr error
	for sc.Scan() {
		line++
		if pendingErr != nil {
			return nil, pendingErr
		}
		var r Record
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			pendingErr = fmt.Errorf("metrics log %s line %d: %w", path, line, err)
			continue
		}
		records = append(records, r)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("metrics log %s: %w", path, err)
	}
	return records, nil
}

// movingAverage smooths values over a trailing window of n.
func movingAverage(values []float64, n int) []float64 {
	out := make([]float64, len(values))
	var sum float64
	for i, v := range values {
		sum += v
		if i >= n {
			sum -= values[i-n]
		}
		out[i] = sum / math.Min(float64(i+1), float64(n))
	}
	return out
}
