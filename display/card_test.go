package display

import (
	"strings"
	"testing"

	"dimtui/dimp"
)

// Each standard content reads as what it is, from the JSON a dimchat app
// sends: the parts a person looks for are there, and nothing is a dump.
func TestContentCards(t *testing.T) {
	moky := dimp.NewID("moky", dimp.BTCAddress([]byte("moky's key"), 0), "")
	for _, tc := range []struct {
		name, json string
		title      string
		lines      []string
	}{
		{"file", `{"type":16,"sn":1,"filename":"report.pdf","size":2048,"URL":"https://files.example/up/0123456789abcdef0123456789abcdef.pdf","key":{"algorithm":"AES","data":"x"}}`,
			"[file] report.pdf · 2.0 kB · application/pdf", []string{"at https://files.example/…/01234567…bcdef.pdf", "encrypted, its key in the message: /save fetches and decrypts it"}},
		{"image", `{"type":18,"sn":2,"filename":"cat.jpg","URL":"https://files.example/c","thumbnail":"data:image/jpeg;base64,AAAA"}`,
			"[image] cat.jpg", []string{"no key: /save fetches it as it is"}},
		{"not http", `{"type":16,"sn":3,"filename":"x","URL":"file:///etc/passwd"}`,
			"[file] x", []string{"✗ not an http(s) address"}},
		{"no URL", `{"type":20,"sn":4,"filename":"song.mp3"}`, "[audio] song.mp3", []string{"✗ neither an address nor the data"}},
		{"page", `{"type":32,"sn":5,"title":"DIM","URL":"https://dim.chat/","desc":"decentralized messaging"}`,
			"[page] DIM", []string{"https://dim.chat/", "decentralized messaging"}},
		{"card", `{"type":51,"sn":6,"did":"` + moky.String() + `","name":"Albert Moky","avatar":"https://a.example/m.png"}`,
			"[name card] Albert Moky", []string{moky.String(), "avatar https://a.example/m.png"}},
		{"quote", `{"type":55,"sn":7,"text":"agreed","origin":{"sender":"` + moky.String() + `","type":1,"sn":3,"text":"shall we?"}}`,
			"[quote] agreed", []string{"▎moky: “shall we?”"}},
		{"money", `{"type":65,"sn":8,"currency":"DIMT","amount":12.5}`, "[transfer] 12.5 DIMT", nil},
		{"array", `{"type":202,"sn":10,"contents":[{"type":1,"text":"a"},{"type":1,"text":"b"},{"type":1,"text":"c"},{"type":1,"text":"d"},{"type":1,"text":"e"},{"type":1,"text":"f"}]}`,
			"[array] 6 contents", []string{"text “a”", "text “d”", "… 2 more"}},
		{"unknown", `{"type":123,"sn":9,"x":1}`, "[content 0x7B] a content this client does not show", nil},
	} {
		c, err := dimp.ParseContent([]byte(tc.json))
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		title, lines, ok := ContentCard(c)
		if !ok {
			t.Fatalf("%s: no card", tc.name)
		}
		if !strings.HasPrefix(title, tc.title) && title != tc.title {
			t.Errorf("%s: title %q, want %q", tc.name, title, tc.title)
		}
		all := strings.Join(lines, "\n")
		for _, want := range tc.lines {
			if !strings.Contains(all, want) {
				t.Errorf("%s: lines %q, want %q among them", tc.name, lines, want)
			}
		}
		if strings.Contains(title+all, `"sn"`) {
			t.Errorf("%s: a JSON dump: %q %q", tc.name, title, lines)
		}
	}
	// Text and application content are shown otherwise.
	if _, _, ok := ContentCard(dimp.NewText("hi")); ok {
		t.Error("a text as a card")
	}
}
