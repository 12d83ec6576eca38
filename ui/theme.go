package ui

import (
	"fmt"
	"image/color"
	"strconv"
	"strings"

	"github.com/charmbracelet/x/ansi"
)

// Theme says which background the styles are made for: one given (the
// --theme flag), or the terminal's, found out.
type Theme int

const (
	// ThemeAuto asks the terminal for its background colour; until it
	// answers, and when it never does, COLORFGBG says, else dark.
	ThemeAuto Theme = iota
	ThemeDark
	ThemeLight
)

// ParseTheme reads a theme's name: dark, light, or auto ("" too).
func ParseTheme(s string) (Theme, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "", "auto":
		return ThemeAuto, nil
	case "dark":
		return ThemeDark, nil
	case "light":
		return ThemeLight, nil
	}
	return ThemeAuto, fmt.Errorf("theme %q: use dark or light", s)
}

// WithThemeChoice chooses the theme: ThemeDark and ThemeLight fix it;
// ThemeAuto asks the terminal for its background colour and starts with
// what colorfgbg (the value of the COLORFGBG variable some terminals set)
// says, or dark when it says nothing.
func WithThemeChoice(t Theme, colorfgbg string) AppOption {
	switch t {
	case ThemeDark:
		return WithTheme(true)
	case ThemeLight:
		return WithTheme(false)
	}
	dark, ok := darkFromCOLORFGBG(colorfgbg)
	return func(a *App) {
		a.fixedTheme, a.dark = false, dark || !ok
		*a.styles = NewStyles(a.dark)
	}
}

// darkFromCOLORFGBG reads COLORFGBG ("15;0", or "15;default;0" in rxvt):
// its last field is the background's colour in the 16-colour palette,
// dark for 0–6 and 8, light for 7 and 9–15. ok is false when it names no
// such colour.
func darkFromCOLORFGBG(v string) (dark, ok bool) {
	if v == "" {
		return false, false
	}
	fields := strings.Split(v, ";")
	bg, err := strconv.Atoi(strings.TrimSpace(fields[len(fields)-1]))
	if err != nil || bg < 0 || bg > 15 {
		return false, false
	}
	return bg <= 6 || bg == 8, true
}

// paintBackground gives every cell of a screen the background bg where it
// would have the terminal's: at the start of each line, and again after
// each SGR sequence that resets the attributes or the background. The
// presenter theme paints its own background so that its text never lands
// on a terminal background it was not made for.
func paintBackground(screen string, bg color.Color) string {
	paint := ansi.NewStyle().BackgroundColor(bg).String()
	var b strings.Builder
	b.Grow(len(screen) * 5 / 4)
	p := ansi.NewParser()
	var state byte
	b.WriteString(paint)
	for len(screen) > 0 {
		seq, _, n, next := ansi.DecodeSequence(screen, state, p)
		state = next
		screen = screen[n:]
		switch {
		case seq == "\n":
			b.WriteString(ansi.ResetStyle + "\n" + paint)
			continue
		case ansi.HasCsiPrefix(seq) && ansi.Cmd(p.Command()).Final() == 'm':
			b.WriteString(seq)
			if resetsBackground(p.Params()) {
				b.WriteString(paint)
			}
			continue
		}
		b.WriteString(seq)
	}
	b.WriteString(ansi.ResetStyle)
	return b.String()
}

// resetsBackground reports whether an SGR sequence's parameters leave the
// background at the terminal's: a reset (no parameter, or 0) or 49, not
// followed by a background of its own.
func resetsBackground(params ansi.Params) bool {
	if len(params) == 0 {
		return true
	}
	reset := false
	for i := 0; i < len(params); i++ {
		switch params[i].Param(0) {
		case 0, 49:
			reset = true
		case 48:
			reset = false
			fallthrough
		case 38, 58:
			var c color.Color
			if n := ansi.ReadStyleColor(params[i:], &c); n > 1 {
				i += n - 1
			}
		}
	}
	return reset
}
