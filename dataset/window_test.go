package dataset

import (
	"testing"

	"github.com/synthfm/synthfm/medimg"
)

func TestNamedWindowPresets(t *testing.T) {
	for _, name := range WindowPresets() {
		w, err := ParseNamedWindow(name)
		if err != nil || w.Mode != "ct" || w.Width <= 0 {
			t.Errorf("preset %q: %+v %v", name, w, err)
		}
	}
	w, err := ParseNamedWindow(DefaultWindow)
	if err != nil || w.Level != 40 || w.Width != 400 {
		t.Errorf("default CT window %+v %v, want level 40 width 400 (method.md §6)", w, err)
	}
	if w, err := ParseNamedWindow(" -600, 1500 "); err != nil || w.Name != "-600,1500" || w.Level != -600 || w.Width != 1500 {
		t.Errorf("custom window: %+v %v", w, err)
	}
	for _, bad := range []string{"", "purple", "40", "40,-1", "40,abc"} {
		if _, err := ParseNamedWindow(bad); err == nil {
			t.Errorf("ParseNamedWindow(%q) accepted", bad)
		}
	}
}

func TestDefaultWindowFollowsTheImage(t *testing.T) {
	u8, _ := medimg.NewVolume(2, 2, 1, 1, "uint8")
	ct, _ := medimg.NewVolume(2, 2, 1, 1, "int16")
	ct.Data[0] = -1024
	mr, _ := medimg.NewVolume(2, 2, 1, 1, "float32")
	mr.Data[0] = 812.5
	for _, tc := range []struct {
		v    *medimg.Volume
		want string
	}{{u8, "none"}, {ct, DefaultWindow}, {mr, "auto"}} {
		lo, _ := tc.v.Range()
		if got := DefaultWindowFor(tc.v, lo).Name; got != tc.want {
			t.Errorf("%s volume: default window %q, want %q", tc.v.DType, got, tc.want)
		}
	}
}

func TestRenderSliceByHand(t *testing.T) {
	// Slice 1 of a 3×2×2 CT volume under window 40,400. The clipped range
	// is [-160, 240] (inside the volume's [-1000, 1000]), so a value x maps
	// to trunc((clip(x) + 160) / 400 · 255).
	v, _ := medimg.NewVolume(3, 2, 2, 1, "int16")
	copy(v.Data[6:], []float32{-1000, -160, 40, 240, 1000, 140})
	w, _ := ParseNamedWindow("40,400")
	img := RenderSlice(v, 1, w.Mapping(v))
	want := []uint8{0, 0, 127, 255, 255, 191}
	for p, g := range want {
		if img.Pix[3*p] != g || img.Pix[3*p+1] != g || img.Pix[3*p+2] != g {
			t.Errorf("pixel %d: %v, want grey %d", p, img.Pix[3*p:3*p+3], g)
		}
	}
	// Colour pictures keep their colours whatever the window.
	rgb, _ := medimg.NewVolume(2, 1, 1, 3, "uint8")
	copy(rgb.Data, []float32{255, 0, 10, 1, 2, 3})
	img = RenderSlice(rgb, 0, w.Mapping(rgb))
	for i, x := range []uint8{255, 0, 10, 1, 2, 3} {
		if img.Pix[i] != x {
			t.Fatalf("RGB sample %d = %d, want %d", i, img.Pix[i], x)
		}
	}
}
