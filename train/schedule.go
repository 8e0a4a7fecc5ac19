package train

import (
	"fmt"
	"math"
)

// Schedule is the learning-rate schedule: a linear warm-up from 0 to Base
// over WarmupSteps steps, then a cosine decay from Base to Min at TotalSteps.
// It is a pure function of the step, so a resumed run continues it exactly.
type Schedule struct {
	Base        float64 // peak learning rate, reached at the end of the warm-up
	Min         float64 // learning rate at the last step
	WarmupSteps int     // steps of linear warm-up (0 for none)
	TotalSteps  int     // steps in the whole run
}

// NewSchedule returns the schedule for a run of totalSteps steps with a
// warm-up over warmupFraction of them (rounded up, at least one step when
// warmupFraction > 0).
func NewSchedule(base, min float64, warmupFraction float64, totalSteps int) (Schedule, error) {
	if totalSteps < 1 {
		return Schedule{}, fmt.Errorf("schedule: total steps %d must be at least 1", totalSteps)
	}
	if warmupFraction < 0 || warmupFraction >= 1 {
		return Schedule{}, fmt.Errorf("schedule: warm-up fraction %g must be in [0, 1)", warmupFraction)
	}
	if base <= 0 || min < 0 || min > base {
		return Schedule{}, fmt.Errorf("schedule: need 0 <= min (%g) <= base (%g) and base > 0", min, base)
	}
	warmup := int(math.Ceil(warmupFraction * float64(totalSteps)))
	if warmup >= totalSteps {
		warmup = totalSteps - 1
	}
	return Schedule{Base: base, Min: min, WarmupSteps: warmup, TotalSteps: totalSteps}, nil
}

// LearningRate is the rate used by the update at step (0-based).
// During warm-up it is Base·(step+1)/WarmupSteps; after it the cosine
// Min + (Base−Min)·(1+cos(π·p))/2 with p = (step−WarmupSteps)/(TotalSteps−WarmupSteps−1)
// going from 0 at the first step after warm-up to 1 at the last step.
func (s Schedule) LearningRate(step int) float64 {
	if step < 0 {
		step = 0
	}
	if step < s.WarmupSteps {
		return s.Base * float64(step+1) / float64(s.WarmupSteps)
	}
	decaySteps := s.TotalSteps - s.WarmupSteps - 1
	if decaySteps <= 0 {
		return s.Base
	}
	p := float64(step-s.WarmupSteps) / float64(decaySteps)
	if p > 1 {
		p = 1
	}
	return s.Min + (s.Base-s.Min)*0.5*(1+math.Cos(math.Pi*p))
}
