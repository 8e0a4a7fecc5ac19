package eval

import (
	"fmt"
	"strconv"
	"strings"
)

// PromptConfig is a number of positive and negative clicks.
type PromptConfig struct{ Pos, Neg int }

func (c PromptConfig) String() string { return fmt.Sprintf("(%d,%d)", c.Pos, c.Neg) }

// MaxPositives and MaxNegatives bound the clicks of one prompt
// configuration: each object's clicks are simulated and segmented one
// configuration at a time, so the work per object grows with them (and a
// million clicks ran for many minutes on one object). Interactive
// segmentation uses a handful; method.md §4 at most 3 of each.
const (
	MaxPositives = 20
	MaxNegatives = 20
)

// Check reports a configuration outside 1..MaxPositives positives and
// 0..MaxNegatives negatives.
func (c PromptConfig) Check() error {
	if c.Pos < 1 || c.Neg < 0 {
		return fmt.Errorf("prompt configuration %d,%d: want at least one positive and no negative count of negatives", c.Pos, c.Neg)
	}
	if c.Pos > MaxPositives || c.Neg > MaxNegatives {
		return fmt.Errorf("prompt configuration %d,%d: at most %d positives and %d negatives", c.Pos, c.Neg, MaxPositives, MaxNegatives)
	}
	return nil
}

// DefaultConfigs are method.md §4's four columns: (1,0) (3,0) (1,1) (3,3).
func DefaultConfigs() []PromptConfig {
	return []PromptConfig{{1, 0}, {3, 0}, {1, 1}, {3, 3}}
}

// ParseConfigs reads a list like "1,0 3,0 1,1 3,3" (parentheses and
// semicolons are also accepted as separators).
func ParseConfigs(s string) ([]PromptConfig, error) {
	s = strings.NewReplacer("(", " ", ")", " ", ";", " ").Replace(s)
	var out []PromptConfig
	seen := map[PromptConfig]bool{}
	for _, f := range strings.Fields(s) {
		p, n, ok := strings.Cut(f, ",")
		pos, err1 := strconv.Atoi(p)
		neg, err2 := strconv.Atoi(n)
		if !ok || err1 != nil || err2 != nil || pos < 1 || neg < 0 {
			return nil, fmt.Errorf("prompt configuration %q is not POSITIVES,NEGATIVES with at least one positive", f)
		}
		c := PromptConfig{pos, neg}
		if err := c.Check(); err != nil {
			return nil, err
		}
		if !seen[c] {
			seen[c] = true
			out = append(out, c)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no prompt configuration in %q", s)
	}
	return out, nil
}
