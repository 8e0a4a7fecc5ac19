package train

import (
	"math"
	"testing"
)

func TestScheduleClosedForm(t *testing.T) {
	s, err := NewSchedule(1e-4, 1e-6, 0.01, 1000)
	if err != nil {
		t.Fatal(err)
	}
	if s.WarmupSteps != 10 {
		t.Fatalf("warm-up steps = %d, want 10 (1%% of 1000)", s.WarmupSteps)
	}
	cases := []struct {
		step int
		want float64
	}{
		{0, 1e-5},       // 1/10 of the way up
		{4, 5e-5},       // 5/10
		{9, 1e-4},       // top of the warm-up
		{10, 1e-4},      // cosine starts at the base rate
		{999, 1e-6},     // and ends at the minimum
		{10 + 989/2, 0}, // filled below: the half-way point
		{10 + 989/4, 0}, // a quarter
	}
	cases[5].want = 1e-6 + (1e-4-1e-6)*0.5*(1+math.Cos(math.Pi*float64(989/2)/989))
	cases[6].want = 1e-6 + (1e-4-1e-6)*0.5*(1+math.Cos(math.Pi*float64(989/4)/989))
	for _, c := range cases {
		if got := s.LearningRate(c.step); math.Abs(got-c.want) > 1e-15 {
			t.Errorf("lr(%d) = %.17g, want %.17g", c.step, got, c.want)
		}
	}
	// Half-way through the decay the rate is the mean of base and min.
	s2, _ := NewSchedule(2, 0, 0, 101)
	if got := s2.LearningRate(50); math.Abs(got-1) > 1e-12 {
		t.Errorf("mid-decay lr = %g, want 1", got)
	}
	// Monotone: up during warm-up, down after.
	for i := 1; i < 1000; i++ {
		prev, cur := s.LearningRate(i-1), s.LearningRate(i)
		if i < s.WarmupSteps && cur <= prev || i > s.WarmupSteps && cur > prev {
			t.Fatalf("schedule not monotone at step %d: %g -> %g", i, prev, cur)
		}
	}
}

func TestScheduleRejectsBadInput(t *testing.T) {
	for _, c := range []struct {
		base, min, warm float64
		total           int
	}{{1, 0, 0.01, 0}, {1, 0, 1, 10}, {0, 0, 0, 10}, {1, 2, 0, 10}, {1, 0, -0.1, 10}} {
		if _, err := NewSchedule(c.base, c.min, c.warm, c.total); err == nil {
			t.Errorf("NewSchedule(%v) accepted bad input", c)
		}
	}
}
