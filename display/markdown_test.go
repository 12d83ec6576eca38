package display

import (
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/charmbracelet/x/ansi"
)

// stationReply is what the station's "active users" command answers: a
// text content with "format": "markdown".
const stationReply = "Totally 2 users\n\n| ID | Sockets |\n|----|---------|\n" +
	"| moky@4DnqXWdTV8wuZgfqSCX9GjE2kNq7HJrUgQ | _('127.0.0.1', 54321)_ |\n" +
	"| hulk@4YeVEN3aUnvC1DNUufCq1bs9zoBSJTzVEj | _('127.0.0.1', 54322)_ |\n\n2 active users."

// plain is what a person reads of rendered lines.
func plain(lines []string) string { return ansi.Strip(strings.Join(lines, "\n")) }

func render(t *testing.T, text string, width int) []string {
	t.Helper()
	lines, err := RenderMarkdown(text, width, true)
	if err != nil {
		t.Fatal(err)
	}
	return lines
}

func TestRenderMarkdownDropsMarkup(t *testing.T) {
	md := "# Station status\n\nAll **good** and *calm*, see `uptime`.\n\n- one\n- two\n\n1. first\n2. second\n\n```\nlet x = 1\n```\n\n> quoted"
	lines := render(t, md, 60)
	got := plain(lines)
	for _, want := range []string{"Station status", "good", "calm", "uptime", "one", "two", "first", "second", "let x = 1", "quoted"} {
		if !strings.Contains(got, want) {
			t.Errorf("%q missing from\n%s", want, got)
		}
	}
	for _, markup := range []string{"# ", "**", "```", "- one", "*calm*"} {
		if strings.Contains(got, markup) {
			t.Errorf("raw markup %q left in\n%s", markup, got)
		}
	}
	if j := strings.Join(lines, "\n"); !strings.Contains(j, "1mgood") {
		t.Errorf("bold text is not drawn bold: %q", j)
	}
}

func TestRenderMarkdownStationTable(t *testing.T) {
	got := plain(render(t, stationReply, 80))
	if strings.Contains(got, "|----") || strings.Contains(got, "_('") {
		t.Errorf("table markup left in\n%s", got)
	}
	for _, want := range []string{"Totally 2 users", "ID", "Sockets", "moky@", "('127.0.0.1', 54321)", "2 active users."} {
		if !strings.Contains(got, want) {
			t.Errorf("%q missing from\n%s", want, got)
		}
	}
}

func TestRenderMarkdownLinksAsText(t *testing.T) {
	got := plain(render(t, "See [the spec](https://example.org/dimp) now.", 80))
	if !strings.Contains(got, "the spec") || !strings.Contains(got, "https://example.org/dimp") {
		t.Errorf("a link should read as its text and address:\n%s", got)
	}
}

// TestRenderMarkdownNoEscapes: nothing a peer writes reaches the terminal
// as a control sequence; only SGR sequences the renderer made are left.
func TestRenderMarkdownNoEscapes(t *testing.T) {
	evil := []string{
		"click \x1b]8;;http://evil\x07here\x1b]8;;\x07 please",
		"wipe \x1b[2J the screen \x1b[H",
		"[a link](http://ok\x1b]8;;http://evil\x07/x) and [b](http://x/\x1b]0;title\x07)",
		"<http://auto\x1b]52;c;AAAA\x07link>",
		"eight-bit \u009b2J CSI and \u009d8;;http://evil\u009c OSC",
		"# head \x1b[31mred\x1b[0m\n\n```\ncode \x1b[2J\n```",
		"![img](http://i/\x1b[2J.png)",
		"bidi \u202eevil\u202c and bell \x07",
	}
	for _, text := range evil {
		for _, dark := range []bool{true, false} {
			lines, err := RenderMarkdown(text, 40, dark)
			if err != nil {
				t.Fatal(err)
			}
			for _, l := range lines {
				assertOnlySGR(t, text, l)
			}
		}
	}
}

// assertOnlySGR fails unless every escape sequence in line is SGR and no
// other control character is left.
func assertOnlySGR(t *testing.T, in, line string) {
	t.Helper()
	var state byte
	for s := line; len(s) > 0; {
		seq, _, n, st := ansi.DecodeSequence(s, state, nil)
		state, s = st, s[n:]
		if seq[0] == ansi.ESC {
			if !isSGR(seq) {
				t.Errorf("input %q: sequence %q reached the output %q", in, seq, line)
			}
			continue
		}
		for _, r := range seq {
			if unsafeRune(r) {
				t.Errorf("input %q: control %U reached the output %q", in, r, line)
			}
		}
	}
}

func TestRenderMarkdownWidth(t *testing.T) {
	md := stationReply + "\n\n# A heading that is rather long for a narrow column\n\n" +
		"A paragraph with a https://example.org/a/very/long/address/that/does/not/break and words.\n\n" +
		"```\nfunc aVeryLongLineOfCode(withArguments, thatGoOn, andOn, andOnForever) error { return nil }\n```\n\n" +
		"- a list item that wraps around because it is long\n  - nested item, also long enough to wrap\n\n" +
		"| a | b | c |\n|---|---|---|\n| 1 | 2 | 3 |\n\n---\n\nend"
	for _, width := range []int{1, 5, 12, 20, 33, 60, 120} {
		lines := render(t, md, width)
		if len(lines) == 0 {
			t.Fatalf("width %d: no lines", width)
		}
		for i, l := range lines {
			if w := ansi.StringWidth(l); w > width {
				t.Errorf("width %d: line %d is %d cells: %q", width, i, w, l)
			}
			assertOnlySGR(t, md, l)
		}
	}
	if lines := render(t, "hello", 0); plain(lines) != "h\ne\nl\nl\no" && plain(lines) != "hello" {
		t.Errorf("width 0: %q", lines)
	}
}

func TestRenderMarkdownThemes(t *testing.T) {
	dark, err := RenderMarkdown("# Hi\n\nsome *text*", 40, true)
	if err != nil {
		t.Fatal(err)
	}
	light, err := RenderMarkdown("# Hi\n\nsome *text*", 40, false)
	if err != nil {
		t.Fatal(err)
	}
	if plain(dark) != plain(light) {
		t.Errorf("themes differ in text:\n%s\n---\n%s", plain(dark), plain(light))
	}
	if strings.Join(dark, "\n") == strings.Join(light, "\n") {
		t.Error("dark and light draw the same colours")
	}
}

func TestRenderMarkdownFallsBackToPlain(t *testing.T) {
	long := strings.Repeat("- **item**\n", MaxMarkdownLines+1)
	big := strings.Repeat("**word** ", MaxMarkdownBytes/9+1)
	deep := strings.Repeat("> ", 12) + "deep"
	for name, text := range map[string]string{"many lines": long, "many bytes": big, "deep quotes": deep} {
		lines, err := RenderMarkdown(text, 40, true)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		want := plainLines(Sanitize(text, true), 40)
		if strings.Join(lines, "\n") != strings.Join(want, "\n") {
			t.Errorf("%s: not shown as plain text", name)
		}
	}
	// Within the bounds the same text is rendered.
	got := plain(render(t, "> > quoted twice", 40))
	if strings.Contains(got, ">") {
		t.Errorf("two levels of quotes at 40 cells should render: %q", got)
	}
}

func TestRenderMarkdownConcurrent(t *testing.T) {
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			for j := range 5 {
				if _, err := RenderMarkdown(fmt.Sprintf("**%d** and *%d*", i, j), 20+i%3, i%2 == 0); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
}

func TestRenderMarkdownEmpty(t *testing.T) {
	for _, text := range []string{"", "\n\n", "   "} {
		lines, err := RenderMarkdown(text, 20, true)
		if err != nil || len(lines) != 1 || ansi.Strip(lines[0]) != strings.TrimSpace(ansi.Strip(lines[0])) {
			t.Errorf("%q: %q, %v", text, lines, err)
		}
	}
}

// BenchmarkRenderMarkdown measures what a message costs to render once
// (the caller keeps the lines): a station reply, a chat message, a message
// at the bounds, and a 10,000-line message, which is wrapped as plain
// text.
func BenchmarkRenderMarkdown(b *testing.B) {
	var list, huge strings.Builder
	for i := range MaxMarkdownLines - 1 {
		fmt.Fprintf(&list, "- item **%d** with `code`\n", i)
	}
	for i := range 10000 {
		fmt.Fprintf(&huge, "- item **%d** with `code` and some words\n", i)
	}
	cases := []struct {
		name  string
		text  string
		width int
	}{
		{"station reply", stationReply, 80},
		{"chat message", "Hi **there**, the build is at https://example.org/b/42 — see `make test`.", 80},
		{"199-line list at 120", list.String(), 120},
		{"10000 lines", huge.String(), 80},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := RenderMarkdown(c.text, c.width, true); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
