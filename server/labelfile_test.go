package server

import "testing"

func TestLabelFormatForRejectsUnknown(t *testing.T) {
	if _, err := labelFormatFor(".mha"); err == nil {
		t.Error("accepted .mha")
	}
}
