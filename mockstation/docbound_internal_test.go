package mockstation

import (
	"slices"
	"testing"

	"dimtui/dimp"
)

// MaxDocumentJSON is maxDocumentJSON for the package's external tests.
const MaxDocumentJSON = maxDocumentJSON

// fitDocuments takes, newest first, the documents that fit in an answer
// (the newest counted twice), skips one that does not for older ones that
// do, and keeps the time order.
func TestFitDocuments(t *testing.T) {
	sized := func(sizes ...int) []sizedDocument {
		docs := make([]sizedDocument, len(sizes))
		for i, n := range sizes {
			docs[i] = sizedDocument{doc: &dimp.Document{Data: string(rune('a' + i))}, size: n}
		}
		return docs
	}
	const big = maxDocumentJSON
	for _, tc := range []struct {
		name      string
		docs      []sizedDocument
		base      int
		wantTaken []int // indexes into docs
	}{
		{"one", sized(2000), 1000, []int{0}},
		// 720 KiB holds 11 documents of 64 KiB: the newest twice, 9 more.
		{"many at the bound", sized(slices.Repeat([]int{big}, 12)...), 1000, []int{2, 3, 4, 5, 6, 7, 8, 9, 10, 11}},
		{"a small old one after a big one that does not fit",
			sized(append([]int{100}, slices.Repeat([]int{big}, 12)...)...), 1000, []int{0, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}},
		{"no room beside the rest", sized(2000), maxAnswerContent, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			taken, left := fitDocuments(tc.docs, tc.base)
			var want []*dimp.Document
			for _, i := range tc.wantTaken {
				want = append(want, tc.docs[i].doc)
			}
			if !slices.Equal(taken, want) {
				t.Errorf("took %d documents, want %v", len(taken), tc.wantTaken)
			}
			if len(taken)+len(left) != len(tc.docs) {
				t.Errorf("took %d and left %d of %d", len(taken), len(left), len(tc.docs))
			}
		})
	}
}
