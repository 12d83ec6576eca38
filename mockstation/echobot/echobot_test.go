package echobot

import (
	"testing"

	"dimtui/dimp"
)

func TestIdentityIsKept(t *testing.T) {
	dir := t.TempDir()
	a, err := LoadOrCreate(dir)
	if err != nil {
		t.Fatal(err)
	}
	b, err := LoadOrCreate(dir)
	if err != nil {
		t.Fatal(err)
	}
	if !a.ID.Equal(b.ID) || a.ID.Name() != Name {
		t.Errorf("bot IDs %s then %s", a.ID, b.ID)
	}
}

func TestReply(t *testing.T) {
	if r, ok := Reply(dimp.NewText("hi there")).(*dimp.TextContent); !ok || r.Text != "echo: hi there" {
		t.Errorf("text reply %#v", r)
	}
	extra := dimp.Fields{}
	_ = extra.Set("level", 3)
	in := dimp.NewAppContent(dimp.ContentApplication, "chat.dim.demo", "game", "move", extra)
	r, ok := Reply(in).(*dimp.AppContent)
	if !ok || r.Type != dimp.ContentCustomized || r.App != "chat.dim.demo" || r.Mod != "game" || r.Act != "echo" ||
		string(r.Extra["level"]) != "3" {
		t.Errorf("app reply %#v", r)
	}
	if Reply(dimp.NewReport(dimp.ReportOnline)) != nil {
		t.Error("a command was answered")
	}
}
