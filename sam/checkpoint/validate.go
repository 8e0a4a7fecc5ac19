package checkpoint

import (
	"bufio"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
)

// Spec is the name and shape a model expects for one tensor.
type Spec struct {
	Name  string
	Shape []int
}

// MismatchError lists every difference between a state dict and the tensors
// a model expects. Its message names the first problem and counts the rest.
type MismatchError struct {
	Missing    []Spec   // expected but absent
	Unexpected []string // present but not expected
	WrongShape []ShapeMismatch
	first      string
}

// ShapeMismatch is a tensor present with another shape than expected.
type ShapeMismatch struct {
	Name      string
	Got, Want []int
}

func (e *MismatchError) Error() string {
	msg := "checkpoint does not match the model: " + e.first
	var more []string
	if n := len(e.Missing); n > 0 {
		more = append(more, fmt.Sprintf("%d missing", n))
	}
	if n := len(e.WrongShape); n > 0 {
		more = append(more, fmt.Sprintf("%d wrongly shaped", n))
	}
	if n := len(e.Unexpected); n > 0 {
		more = append(more, fmt.Sprintf("%d unexpected", n))
	}
	if len(e.Missing)+len(e.WrongShape)+len(e.Unexpected) > 1 {
		msg += " (in all: " + strings.Join(more, ", ") + ")"
	}
	return msg
}

// Validate checks that sd holds exactly the tensors in specs with their
// shapes. It returns nil or a *MismatchError whose message names the first
// missing or wrongly shaped tensor in spec order, or else the first
// unexpected tensor in the state dict's order.
func Validate(sd *StateDict, specs []Spec) error {
	e := &MismatchError{}
	expected := make(map[string]bool, len(specs))
	for _, s := range specs {
		expected[s.Name] = true
		t, ok := sd.Get(s.Name)
		switch {
		case !ok:
			e.Missing = append(e.Missing, s)
			if e.first == "" {
				e.first = fmt.Sprintf("tensor %q (shape %v) is missing", s.Name, s.Shape)
			}
		case !slices.Equal(t.Shape, s.Shape):
			e.WrongShape = append(e.WrongShape, ShapeMismatch{s.Name, t.Shape, s.Shape})
			if e.first == "" {
				e.first = fmt.Sprintf("tensor %q has shape %v, the model expects %v", s.Name, t.Shape, s.Shape)
			}
		}
	}
	for _, name := range sd.names {
		if !expected[name] {
			e.Unexpected = append(e.Unexpected, name)
			if e.first == "" {
				e.first = fmt.Sprintf("unexpected tensor %q (shape %v)", name, sd.tensors[name].Shape)
			}
		}
	}
	if e.first == "" {
		return nil
	}
	return e
}

// ReadKeyList reads a key list in the format of the shared sam-keys
// fixtures: one tensor a line, "name<TAB>[d0, d1, ...]<TAB>dtype".
func ReadKeyList(path string) ([]Spec, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("checkpoint: %w", err)
	}
	defer f.Close()
	var specs []Spec
	sc := bufio.NewScanner(f)
	for line := 1; sc.Scan(); line++ {
		text := strings.TrimSpace(sc.Text())
		if text == "" || strings.HasPrefix(text, "#") {
			continue
		}
		fields := strings.Split(text, "\t")
		if len(fields) < 2 {
			return nil, fmt.Errorf("checkpoint: %s:%d: want name<TAB>[shape], got %q", path, line, text)
		}
		shape, err := parseShape(fields[1])
		if err != nil {
			return nil, fmt.Errorf("checkpoint: %s:%d: %w", path, line, err)
		}
		specs = append(specs, Spec{Name: fields[0], Shape: shape})
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("checkpoint: %s: %w", path, err)
	}
	return specs, nil
}

// parseShape parses "[1, 64, 64, 768]" (or "[]" for a scalar).
func parseShape(s string) ([]int, error) {
	s = strings.TrimSpace(s)
	if !strings.HasPrefix(s, "[") || !strings.HasSuffix(s, "]") {
		return nil, fmt.Errorf("shape %q is not in brackets", s)
	}
	body := strings.TrimSpace(s[1 : len(s)-1])
	shape := []int{}
	if body == "" {
		return shape, nil
	}
	for _, part := range strings.Split(body, ",") {
		d, err := strconv.Atoi(strings.TrimSpace(part))
		if err != nil || d < 0 {
			return nil, fmt.Errorf("shape %q: bad dimension %q", s, part)
		}
		shape = append(shape, d)
	}
	return shape, nil
}
