package demo

import (
	"context"
	"strings"
	"testing"
)

// A --theme other than dark or light stops every command before anything
// starts, and the error names the flag.
func TestThemeFlagIsChecked(t *testing.T) {
	ctx := context.Background()
	for name, run := range map[string]func() error{
		"demo":   func() error { return Run(ctx, Config{Theme: "blue"}) },
		"chat":   func() error { return Chat(ctx, ChatConfig{Theme: "blue"}) },
		"replay": func() error { return Replay(ctx, ReplayConfig{Theme: "blue", Transcript: "missing.jsonl"}) },
	} {
		if err := run(); err == nil || !strings.HasPrefix(err.Error(), "--theme: ") {
			t.Errorf("%s --theme blue: %v", name, err)
		}
	}
	for _, name := range []string{"", "dark", "light", "Light"} {
		if _, err := themeOption(name); err != nil {
			t.Errorf("--theme %q: %v", name, err)
		}
	}
}
