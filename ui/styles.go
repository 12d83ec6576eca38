package ui

import (
	"hash/fnv"
	"image/color"

	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/textarea"
	"charm.land/bubbles/v2/textinput"
	"charm.land/lipgloss/v2"

	"dimtui/dimp"
)

// Styles holds every style the UI draws with. Build one with NewStyles for a
// dark or a light terminal background; the UI asks the terminal which one it
// has and rebuilds its Styles when the answer comes.
type Styles struct {
	Dark      bool // built for a dark background
	Presenter bool // the presenter theme (NewPresenterStyles)
	// Roomy leaves a blank line after every message, receipt and notice.
	Roomy bool

	// Colours the styles are made of, for the few places that need a colour
	// rather than a style.
	Accent, Good, Warn, Bad, Dim, Info color.Color
	// Screen is the background every cell is painted with; nil leaves the
	// terminal's own (the presenter theme paints its own: see
	// paintBackground).
	Screen color.Color

	// Status bar.
	StatusBar   lipgloss.Style // the bar's background
	StatusLabel lipgloss.Style // "session", "station", ...
	StatusValue lipgloss.Style
	StateGood   lipgloss.Style // the connection state badge: Running
	StateBusy   lipgloss.Style // Connecting, Connected, Handshaking
	StateBad    lipgloss.Style // Error, Default
	StepDone    lipgloss.Style // handshake steps already taken
	StepCurrent lipgloss.Style // the step the handshake is at
	StepNext    lipgloss.Style // steps still to come
	StepFailed  lipgloss.Style // Error after the steps

	// Panes.
	Border        lipgloss.Style // separators between panes
	Title         lipgloss.Style // a pane's title when it does not have the focus
	FocusedTitle  lipgloss.Style // a pane's title when it has the focus
	Footer        lipgloss.Style // the line of key hints at the bottom
	Flash         lipgloss.Style // a short confirmation in the footer
	FlashError    lipgloss.Style // a short error in the footer
	Selected      lipgloss.Style // the selection bar beside a message or row
	SelectedRow   lipgloss.Style // a selected row in a list
	CurrentRow    lipgloss.Style // the current conversation in the contacts
	ScrollHint    lipgloss.Style // "↓ 12 more"
	Empty         lipgloss.Style // placeholder text in an empty pane
	NamePalette   []color.Color  // names get one of these by a hash of the ID
	MyName        lipgloss.Style
	Time          lipgloss.Style
	Text          lipgloss.Style
	Recalled      lipgloss.Style // a message its sender recalled, struck out
	Notice        lipgloss.Style // system notices
	NoticeError   lipgloss.Style
	Receipt       lipgloss.Style // receipts, set apart from chat lines
	UnreadMarker  lipgloss.Style
	TickSending   lipgloss.Style
	TickAtStation lipgloss.Style
	TickDelivered lipgloss.Style
	TickRead      lipgloss.Style
	TickFailed    lipgloss.Style
	CardBorder    lipgloss.Style
	CardTitle     lipgloss.Style
	CardKey       lipgloss.Style
	CardValue     lipgloss.Style

	// Contacts.
	Online  lipgloss.Style
	Offline lipgloss.Style
	Badge   lipgloss.Style // unread count
	Tag     lipgloss.Style // "bot", "station"

	// Composer and completion.
	Prompt     lipgloss.Style
	Hint       lipgloss.Style
	HintActive lipgloss.Style

	// App-content form.
	FormBox        lipgloss.Style
	FormTitle      lipgloss.Style
	Label          lipgloss.Style
	LabelFocused   lipgloss.Style
	FieldError     lipgloss.Style
	FieldOK        lipgloss.Style
	Choice         lipgloss.Style
	ChoiceSelected lipgloss.Style

	// Inspector.
	DirIn        lipgloss.Style
	DirOut       lipgloss.Style
	Kind         lipgloss.Style
	Size         lipgloss.Style
	LayerTitle   lipgloss.Style
	LayerOK      lipgloss.Style
	LayerBad     lipgloss.Style
	LayerNote    lipgloss.Style
	JSONKey      lipgloss.Style
	JSONString   lipgloss.Style
	JSONLiteral  lipgloss.Style
	JSONPunct    lipgloss.Style
	InspectorSum lipgloss.Style

	// Step-through panel (workshop mode).
	PanelTitle lipgloss.Style // the panel's title
	PanelLabel lipgloss.Style // Signed, Encrypted, Station, Next
	PanelText  lipgloss.Style
	PanelStep  lipgloss.Style // where the frame is in the protocol
	PanelQueue lipgloss.Style // the frames held after the next one

	// Help overlay.
	HelpBox   lipgloss.Style
	HelpTitle lipgloss.Style
	HelpGroup lipgloss.Style
	HelpKey   lipgloss.Style
	HelpDesc  lipgloss.Style

	// Styles handed to the bubbles the UI uses.
	TextArea  textarea.Styles
	TextInput textinput.Styles
	Help      help.Styles
}

// NewStyles returns the styles for a dark (dark = true) or light terminal
// background. Every colour has a light and a dark variant chosen for
// contrast on that background.
func NewStyles(dark bool) Styles {
	ld := lipgloss.LightDark(dark)
	c := func(light, darkc string) color.Color { return ld(lipgloss.Color(light), lipgloss.Color(darkc)) }
	return buildStyles(dark, palette{
		fg:     c("#1F2328", "#E6EDF3"),
		accent: c("#5A3FC0", "#B4A7FF"),
		good:   c("#1A7F37", "#56D364"),
		warn:   c("#8A5A00", "#E3B341"),
		bad:    c("#C2202D", "#FF7B72"),
		dim:    c("#57606A", "#8B949E"),
		info:   c("#0860C4", "#6CB6FF"),
		barBG:  c("#E4E8EE", "#262C36"),
		selBG:  c("#DDE3EC", "#2F3744"),
		border: c("#B6BEC8", "#444C56"),
		onFill: c("#FFFFFF", "#0D1117"),
		purple: c("#8250DF", "#D2A8FF"),
		names: []color.Color{
			c("#B3261E", "#FF8A80"), c("#1B6E20", "#7EE787"), c("#0550AE", "#79C0FF"), c("#8250DF", "#D2A8FF"),
			c("#9A4D00", "#FFA657"), c("#006D75", "#56D4DD"), c("#BF3989", "#FF9BCE"), c("#4D5B00", "#C9D15A"),
		},
	})
}

// NewPresenterStyles returns the presenter theme: high contrast for a
// projector at the back of a room. Text is pure black on white (or white
// on black), the colours are saturated, nothing is drawn in a faint grey,
// everything that carries meaning is bold, and the conversation leaves a
// blank line between messages. Make the terminal's font large as well:
// the theme cannot.
func NewPresenterStyles(dark bool) Styles {
	ld := lipgloss.LightDark(dark)
	c := func(light, darkc string) color.Color { return ld(lipgloss.Color(light), lipgloss.Color(darkc)) }
	st := buildStyles(dark, palette{
		fg:     c("#000000", "#FFFFFF"),
		accent: c("#0000C8", "#FFD400"),
		good:   c("#006400", "#00FF5F"),
		warn:   c("#8B4500", "#FFAF00"),
		bad:    c("#C00000", "#FF5F5F"),
		dim:    c("#262626", "#D0D0D0"),
		info:   c("#00008B", "#5FD7FF"),
		barBG:  c("#FFFFFF", "#000000"),
		selBG:  c("#D7D7FF", "#303030"),
		border: c("#000000", "#FFFFFF"),
		onFill: c("#FFFFFF", "#000000"),
		purple: c("#6A00A8", "#FF87FF"),
		names: []color.Color{
			c("#B00000", "#FF5F5F"), c("#006400", "#5FFF5F"), c("#0000C8", "#5FAFFF"), c("#6A00A8", "#FF87FF"),
			c("#8B4500", "#FFAF00"), c("#005F5F", "#00FFFF"), c("#A8005A", "#FF5FAF"), c("#4D4D00", "#FFFF5F"),
		},
	})
	st.Presenter, st.Roomy = true, true
	st.Screen = c("#FFFFFF", "#000000")
	for _, p := range []*lipgloss.Style{&st.Text, &st.Notice, &st.NoticeError, &st.Receipt, &st.Time, &st.StatusLabel,
		&st.StatusValue, &st.Footer, &st.CardKey, &st.CardValue, &st.StepNext, &st.StepDone, &st.LayerNote} {
		*p = p.Bold(true).Italic(false)
	}
	st.Border = st.Border.Bold(true)
	st.HelpBox = st.HelpBox.Border(lipgloss.ThickBorder())
	st.FormBox = st.FormBox.Border(lipgloss.ThickBorder())
	return st
}

// palette is the colours a theme is made of.
type palette struct {
	fg, accent, good, warn, bad, dim, info color.Color
	barBG, selBG, border                   color.Color
	onFill                                 color.Color // text on a filled badge
	purple                                 color.Color // outgoing frames
	names                                  []color.Color
}

// buildStyles makes every style from a palette.
func buildStyles(dark bool, p palette) Styles {
	fg, accent, good, warn, bad, dim, info := p.fg, p.accent, p.good, p.warn, p.bad, p.dim, p.info
	barBG, selBG, border := p.barBG, p.selBG, p.border
	onFill := p.onFill

	s := Styles{Dark: dark, Accent: accent, Good: good, Warn: warn, Bad: bad, Dim: dim, Info: info}
	base := lipgloss.NewStyle()

	s.StatusBar = base.Background(barBG).Foreground(fg)
	s.StatusLabel = base.Background(barBG).Foreground(dim)
	s.StatusValue = base.Background(barBG).Foreground(fg)
	s.StateGood = base.Bold(true).Foreground(onFill).Background(good).Padding(0, 1)
	s.StateBusy = base.Bold(true).Foreground(onFill).Background(warn).Padding(0, 1)
	s.StateBad = base.Bold(true).Foreground(onFill).Background(bad).Padding(0, 1)
	s.StepDone = base.Background(barBG).Foreground(good)
	s.StepCurrent = base.Bold(true).Background(accent).Foreground(onFill)
	s.StepNext = base.Background(barBG).Foreground(dim)
	s.StepFailed = base.Bold(true).Background(barBG).Foreground(bad)

	s.Border = base.Foreground(border)
	s.Title = base.Foreground(dim).Bold(true)
	s.FocusedTitle = base.Foreground(accent).Bold(true)
	s.Footer = base.Foreground(dim)
	s.Flash = base.Foreground(good)
	s.FlashError = base.Foreground(bad)
	s.Selected = base.Foreground(accent)
	s.SelectedRow = base.Background(selBG).Foreground(fg)
	s.CurrentRow = base.Foreground(accent).Bold(true)
	s.ScrollHint = base.Foreground(dim).Italic(true)
	s.Empty = base.Foreground(dim).Italic(true)
	s.NamePalette = p.names
	s.MyName = base.Foreground(accent).Bold(true)
	s.Time = base.Foreground(dim)
	s.Text = base.Foreground(fg)
	s.Recalled = base.Foreground(dim).Strikethrough(true)
	s.Notice = base.Foreground(info)
	s.NoticeError = base.Foreground(bad)
	s.Receipt = base.Foreground(dim).Italic(true)
	s.UnreadMarker = base.Foreground(warn).Bold(true)
	s.TickSending = base.Foreground(dim)
	s.TickAtStation = base.Foreground(dim)
	s.TickDelivered = base.Foreground(good)
	s.TickRead = base.Foreground(info).Bold(true)
	s.TickFailed = base.Foreground(bad).Bold(true)
	s.CardBorder = base.Foreground(accent)
	s.CardTitle = base.Foreground(accent).Bold(true)
	s.CardKey = base.Foreground(dim)
	s.CardValue = base.Foreground(fg)

	s.Online = base.Foreground(good)
	s.Offline = base.Foreground(dim)
	s.Badge = base.Bold(true).Foreground(onFill).Background(warn)
	s.Tag = base.Foreground(dim).Italic(true)

	s.Prompt = base.Foreground(accent).Bold(true)
	s.Hint = base.Foreground(dim)
	s.HintActive = base.Foreground(accent).Bold(true)

	s.FormBox = base.Border(lipgloss.RoundedBorder()).BorderForeground(accent).Padding(0, 1)
	s.FormTitle = base.Foreground(accent).Bold(true)
	s.Label = base.Foreground(dim)
	s.LabelFocused = base.Foreground(accent).Bold(true)
	s.FieldError = base.Foreground(bad)
	s.FieldOK = base.Foreground(good)
	s.Choice = base.Foreground(dim)
	s.ChoiceSelected = base.Foreground(accent).Bold(true).Underline(true)

	s.DirIn = base.Foreground(info).Bold(true)
	s.DirOut = base.Foreground(p.purple).Bold(true)
	s.Kind = base.Foreground(fg)
	s.Size = base.Foreground(dim)
	s.LayerTitle = base.Bold(true).Foreground(onFill).Background(accent).Padding(0, 1)
	s.LayerOK = base.Foreground(good).Bold(true)
	s.LayerBad = base.Foreground(bad).Bold(true)
	s.LayerNote = base.Foreground(dim).Italic(true)
	s.JSONKey = base.Foreground(info)
	s.JSONString = base.Foreground(good)
	s.JSONLiteral = base.Foreground(warn)
	s.JSONPunct = base.Foreground(dim)
	s.InspectorSum = base.Foreground(dim)

	s.PanelTitle = base.Bold(true).Foreground(onFill).Background(warn).Padding(0, 1)
	s.PanelLabel = base.Bold(true).Foreground(accent)
	s.PanelText = base.Foreground(fg)
	s.PanelStep = base.Bold(true).Foreground(info)
	s.PanelQueue = base.Foreground(dim)

	s.HelpBox = base.Border(lipgloss.RoundedBorder()).BorderForeground(accent).Padding(0, 2)
	s.HelpTitle = base.Foreground(accent).Bold(true)
	s.HelpGroup = base.Foreground(fg).Bold(true).Underline(true)
	s.HelpKey = base.Foreground(accent).Bold(true)
	s.HelpDesc = base.Foreground(fg)

	s.TextArea = textarea.DefaultStyles(dark)
	for _, st := range []*textarea.StyleState{&s.TextArea.Focused, &s.TextArea.Blurred} {
		st.CursorLine = base
		st.Prompt = s.Prompt
		st.Placeholder = base.Foreground(dim)
		st.EndOfBuffer = base
	}
	s.TextArea.Blurred.Text = base.Foreground(dim)
	s.TextArea.Cursor.Color = accent
	s.TextArea.Cursor.Blink = false

	s.TextInput = textinput.DefaultStyles(dark)
	s.TextInput.Focused.Prompt = s.Prompt
	s.TextInput.Blurred.Prompt = base.Foreground(dim)
	s.TextInput.Focused.Placeholder = base.Foreground(dim)
	s.TextInput.Blurred.Placeholder = base.Foreground(dim)
	s.TextInput.Cursor.Color = accent
	s.TextInput.Cursor.Blink = false

	s.Help = help.DefaultStyles(dark)
	s.Help.ShortKey = base.Foreground(accent)
	s.Help.ShortDesc = base.Foreground(dim)
	s.Help.ShortSeparator = base.Foreground(border)
	return s
}

// NameStyle returns the style of a user's name: one of the palette's colours,
// chosen by a hash of the ID without its terminal, so that a user keeps the
// same colour in every run and on every screen.
func (s *Styles) NameStyle(id dimp.ID) lipgloss.Style {
	return lipgloss.NewStyle().Bold(true).Foreground(s.NamePalette[nameColorIndex(id, len(s.NamePalette))])
}

// nameColorIndex hashes an ID to an index in a palette of n colours.
func nameColorIndex(id dimp.ID, n int) int {
	h := fnv.New32a()
	h.Write([]byte(id.WithoutTerminal().String()))
	return int(h.Sum32() % uint32(n))
}
