package display

import (
	"errors"
	"fmt"
	"iter"
	"strconv"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"charm.land/glamour/v2"
	gansi "charm.land/glamour/v2/ansi"
	"charm.land/glamour/v2/styles"
	"github.com/charmbracelet/x/ansi"
	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/extension"
	east "github.com/yuin/goldmark/extension/ast"
	"github.com/yuin/goldmark/parser"
	gtext "github.com/yuin/goldmark/text"
)

// Markdown: a text content with "format": "markdown" (the station's admin
// replies, and clients that guess their text is markdown) drawn as styled
// lines by glamour. Rendering is not cheap (a short message costs a few
// hundred microseconds), so a caller renders a message once per width and
// keeps the lines; the renderers themselves are made once per width and
// theme and reused.

// MaxMarkdownBytes and MaxMarkdownLines bound the text RenderMarkdown
// parses as markdown; longer text is wrapped as plain text instead.
// glamour pads every line it draws to the full width, one styled cell at a
// time, so its cost follows lines × width (see renderCost); a peer's
// message must not hold the UI for seconds.
const (
	MaxMarkdownBytes = 8 << 10
	MaxMarkdownLines = 200
)

// ErrMarkdown is wrapped by RenderMarkdown's errors: the text could not be
// rendered, and the caller should show it as plain text.
var ErrMarkdown = errors.New("markdown not rendered")

// maxRenderers bounds the cached renderers: a few widths (the window is
// resized now and then) times two themes.
const maxRenderers = 16

// rendererKey names a cached renderer.
type rendererKey struct {
	width int
	dark  bool
}

// cachedRenderer is a renderer, a parser that reads the text as it does
// (to measure it first), and the lock that keeps their use to one
// goroutine at a time.
type cachedRenderer struct {
	mu    sync.Mutex
	tr    *glamour.TermRenderer
	p     parser.Parser
	width int
}

// renderers holds the TermRenderers made so far, by width and theme.
var renderers struct {
	mu sync.Mutex
	m  map[rendererKey]*cachedRenderer
}

// renderer returns the TermRenderer for width and theme, making it on
// first use.
func renderer(width int, dark bool) (*cachedRenderer, error) {
	k := rendererKey{width, dark}
	renderers.mu.Lock()
	defer renderers.mu.Unlock()
	if r, ok := renderers.m[k]; ok {
		return r, nil
	}
	tr, err := glamour.NewTermRenderer(
		glamour.WithStyles(markdownStyle(dark)),
		glamour.WithWordWrap(width),
	)
	if err != nil {
		return nil, fmt.Errorf("%w: make renderer: %w", ErrMarkdown, err)
	}
	if renderers.m == nil || len(renderers.m) >= maxRenderers {
		renderers.m = make(map[rendererKey]*cachedRenderer)
	}
	md := goldmark.New(goldmark.WithExtensions(extension.GFM, extension.DefinitionList))
	r := &cachedRenderer{tr: tr, p: md.Parser(), width: width}
	renderers.m[k] = r
	return r, nil
}

// markdownStyle is glamour's dark or light style fitted to a chat line: no
// margin or blank lines around the document (the conversation lays out
// its entries), and code blocks without syntax highlighting. The
// highlighter runs backtracking regular expressions picked by the peer's
// fence label over the peer's text, and it registers one theme for the
// whole process, so dark and light would share the first one made.
func markdownStyle(dark bool) gansi.StyleConfig {
	s := styles.LightStyleConfig
	if dark {
		s = styles.DarkStyleConfig
	}
	zero := uint(0)
	s.Document.Margin = &zero
	s.Document.BlockPrefix = ""
	s.Document.BlockSuffix = ""
	cb := s.CodeBlock
	cb.Chroma = nil
	cb.Theme = ""
	if cb.Margin != nil && *cb.Margin > 2 {
		two := uint(2)
		cb.Margin = &two
	}
	if cb.Color == nil && s.Code.Color != nil {
		cb.Color = s.Code.Color
	}
	s.CodeBlock = cb
	return s
}

// RenderMarkdown draws a peer's markdown text as lines at most width cells
// wide, styled with SGR sequences for a dark or a light background.
//
// The text comes from the network. Control characters (ESC, BEL, the C1
// controls) and bidirectional overrides are removed from it before it is
// parsed, as Sanitize does, so neither the text nor a link's address can
// carry an escape sequence; and the rendered lines keep only SGR (colour
// and emphasis) sequences, so glamour's OSC 8 hyperlinks are dropped too:
// a link reads as its text and its address.
//
// Text longer than MaxMarkdownBytes or MaxMarkdownLines, whose quotes and
// lists nest deeper than the width leaves room for, or that would take
// glamour more than about 50 ms (many nested lines at a great width) is
// not rendered: it is returned wrapped as plain text. A width under 1 is taken as 1. Errors wrap ErrMarkdown;
// the caller then shows the text plain.
func RenderMarkdown(text string, width int, dark bool) (lines []string, err error) {
	width = max(width, 1)
	text = Sanitize(text, true)
	if len(text) > MaxMarkdownBytes || strings.Count(text, "\n") >= MaxMarkdownLines {
		return plainLines(text, width), nil
	}
	r, err := renderer(width, dark)
	if err != nil {
		return nil, err
	}
	out, ok, err := r.render(text)
	if err != nil {
		return nil, err
	}
	if !ok {
		return plainLines(text, width), nil
	}
	out = strings.TrimRight(out, "\n")
	for _, l := range strings.Split(out, "\n") {
		lines = append(lines, fitStyled(keepSGR(l), width)...)
	}
	for len(lines) > 0 && lines[0] == "" {
		lines = lines[1:]
	}
	for len(lines) > 0 && lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	if len(lines) == 0 {
		lines = []string{""}
	}
	return lines, nil
}

// plainLines wraps text as plain lines at most width cells wide. (Wrap
// can leave a line a cell too wide where it breaks at hyphens, so its
// lines are cut again.)
func plainLines(text string, width int) []string {
	var lines []string
	for _, l := range Wrap(text, width) {
		lines = append(lines, fitStyled(l, width)...)
	}
	return lines
}

// render runs the renderer under its lock; ok is false when the text
// nests blocks deeper than the width allows (see maxNesting), and was not
// rendered. A panic in the third-party renderer on some input becomes an
// error: text from the network must not take the program down.
func (r *cachedRenderer) render(src string) (out string, ok bool, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	defer func() {
		if p := recover(); p != nil {
			out, ok, err = "", false, fmt.Errorf("%w: renderer panicked: %v", ErrMarkdown, p)
		}
	}()
	depth := nesting(r.p.Parse(gtext.NewReader([]byte(src))))
	if depth > maxNesting(r.width) || renderCost(src, r.width, depth) > maxRenderCost {
		return "", false, nil
	}
	out, err = r.tr.Render(src)
	if err != nil {
		return "", false, fmt.Errorf("%w: %w", ErrMarkdown, err)
	}
	return out, true, nil
}

// maxNesting is how deeply quotes and lists may nest in a text rendered
// width cells wide. Each level indents its content; glamour's time and
// output grow steeply with the depth (fifty nested quotes take seconds and
// tens of thousands of lines at 20 cells), and content indented to the
// edge is unreadable anyway.
func maxNesting(width int) int { return min(max(width/10, 1), 4) }

// maxRenderCost bounds renderCost: about 50 ms of glamour's time.
const maxRenderCost = 150_000

// renderCost estimates glamour's work for a text: it pads each line it
// draws to the width, once more for each block the line is nested in, so
// its time follows lines × width × (1 + depth)². Measured, a unit is about
// a third of a microsecond.
func renderCost(src string, width, depth int) int {
	lines := strings.Count(src, "\n") + 1 + len(src)/width
	return lines * width * (1 + depth) * (1 + depth)
}

// nesting returns the depth of the deepest quote or list in doc.
func nesting(doc ast.Node) int {
	depth, deepest := 0, 0
	_ = ast.Walk(doc, func(n ast.Node, entering bool) (ast.WalkStatus, error) {
		switch n.Kind() {
		case ast.KindBlockquote, ast.KindList, east.KindDefinitionList:
		default:
			return ast.WalkContinue, nil
		}
		if entering {
			depth++
			deepest = max(deepest, depth)
		} else {
			depth--
		}
		return ast.WalkContinue, nil
	})
	return deepest
}

// keepSGR rewrites one rendered line keeping only its text and its SGR
// sequences: any other escape sequence (hyperlinks, cursor moves, titles)
// and any control character is dropped. Trailing blanks that show nothing
// (spaces without a background colour, and the styles around them) are
// cut, and a line that used a style ends with a reset.
func keepSGR(line string) string {
	var (
		b       strings.Builder
		styled  bool // an SGR was written
		bg      bool // the current style has a background colour
		keepLen int  // bytes of b up to the last thing that shows
	)
	b.Grow(len(line))
	for seq := range sequences(line) {
		switch {
		case seq[0] == ansi.ESC:
			if !isSGR(seq) {
				continue
			}
			b.WriteString(seq)
			styled = true
			bg = sgrBackground(seq[2:len(seq)-1], bg)
		default:
			r, _ := utf8.DecodeRuneInString(seq)
			if r == utf8.RuneError && len(seq) == 1 || unicode.IsControl(r) {
				continue
			}
			b.WriteString(seq)
			if strings.TrimSpace(seq) != "" || bg {
				keepLen = b.Len()
			}
		}
	}
	out := b.String()[:keepLen]
	if styled && keepLen > 0 {
		out += "\x1b[m"
	}
	return out
}

// sequences yields a line's pieces in order: each escape sequence, each
// grapheme or other character, and a byte the decoder cannot read alone.
func sequences(line string) iter.Seq[string] {
	return func(yield func(string) bool) {
		var state byte
		for s := line; len(s) > 0; {
			seq, _, n, newState := ansi.DecodeSequence(s, state, nil)
			if n <= 0 {
				n = 1
				seq = s[:1]
			}
			state = newState
			s = s[n:]
			if !yield(seq) {
				return
			}
		}
	}
}

// isSGR reports a Select Graphic Rendition sequence: CSI, parameters of
// digits, ';' and ':', and 'm'.
func isSGR(seq string) bool {
	if len(seq) < 3 || !strings.HasPrefix(seq, "\x1b[") || seq[len(seq)-1] != 'm' {
		return false
	}
	for _, c := range []byte(seq[2 : len(seq)-1]) {
		if (c < '0' || c > '9') && c != ';' && c != ':' {
			return false
		}
	}
	return true
}

// sgrBackground says whether a background colour is set after the SGR
// parameters params, given whether one was set before.
func sgrBackground(params string, bg bool) bool {
	if params == "" {
		return false
	}
	ps := strings.Split(params, ";")
	for i := 0; i < len(ps); i++ {
		p, err := strconv.Atoi(strings.SplitN(ps[i], ":", 2)[0])
		if err != nil {
			continue
		}
		switch {
		case p == 0 || p == 49:
			bg = false
		case p >= 40 && p <= 47 || p >= 100 && p <= 107:
			bg = true
		case p == 48 || p == 38 || p == 58:
			if p == 48 {
				bg = true
			}
			if strings.Contains(ps[i], ":") || i+1 >= len(ps) {
				continue
			}
			// Skip the colour's arguments: 5;n or 2;r;g;b.
			switch ps[i+1] {
			case "5":
				i += 2
			case "2":
				i += 4
			}
		}
	}
	return bg
}

// fitStyled splits a styled line that is wider than width into lines of
// width cells (code blocks are not wrapped by glamour), carrying the style
// that is open at each cut onto the next line.
func fitStyled(line string, width int) []string {
	if ansi.StringWidth(line) <= width {
		return []string{line}
	}
	parts := strings.Split(ansi.Hardwrap(line, width, true), "\n")
	open := ""
	for i, p := range parts {
		p = open + p
		open = openStyle(p)
		if open != "" {
			p += "\x1b[m"
		}
		parts[i] = p
	}
	return parts
}

// openStyle returns the last SGR sequence of a line if no reset follows
// it, else "".
func openStyle(line string) string {
	open := ""
	for seq := range sequences(line) {
		if isSGR(seq) {
			if seq == "\x1b[m" || seq == "\x1b[0m" {
				open = ""
			} else {
				open = seq
			}
		}
	}
	return open
}
