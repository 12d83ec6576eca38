package ui

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/textarea"
	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"

	"dimtui/dimp"
	"dimtui/display"
)

// formField is a field of the app-content form, in Tab order.
type formField int

const (
	fieldTo formField = iota
	fieldType
	fieldApp
	fieldMod
	fieldAct
	fieldExtra
	fieldCount
)

func (f formField) label() string {
	return [...]string{"To", "Type", "App", "Mod", "Act", "Extra"}[f]
}

// The example content: what a field left empty sends, so that Enter on
// the form as it opens sends a content a DIM app knows (the drift bottle
// of dimchat's apps). Each field says so in its placeholder.
const (
	exampleApp   = "chat.dim.sechat"
	exampleMod   = "drift_bottle"
	exampleAct   = "throw"
	exampleExtra = `{"text": "hello", "n": 1}`
)

// example is what field sends when it is left empty; "" for a field that
// has none (To must be given, Type is a choice).
func (f formField) example() string {
	switch f {
	case fieldApp:
		return exampleApp
	case fieldMod:
		return exampleMod
	case fieldAct:
		return exampleAct
	case fieldExtra:
		return exampleExtra
	}
	return ""
}

// exampleHint is the placeholder of a field that has an example: the
// example, and that Enter takes it.
func exampleHint(field formField) string {
	return "example: " + field.example() + " — Enter takes it"
}

// appForm composes application (0xA0) or customized (0xCC) content: app,
// mod, act and extra fields as a JSON object, checked as they are typed.
type appForm struct {
	st                *Styles
	keys              KeyMap
	to, app, mod, act textinput.Model
	extra             textarea.Model
	typ               dimp.ContentType
	focus             formField
	touched           [fieldCount]bool // left once, or a send was tried
	resolve           func(string) (dimp.ID, error)
	width             int
}

// formResult is a content the form produced.
type formResult struct {
	to      dimp.ID
	content *dimp.AppContent
}

// newAppForm opens the form for a receiver (a name or an ID), resolving
// names with resolve.
func newAppForm(st *Styles, keys KeyMap, to string, resolve func(string) (dimp.ID, error)) *appForm {
	in := func(placeholder string) textinput.Model {
		t := textinput.New()
		t.Prompt = ""
		t.Placeholder = placeholder
		t.CharLimit = 256
		t.SetStyles(st.TextInput)
		return t
	}
	f := &appForm{
		st:      st,
		keys:    keys,
		to:      in("a name or an ID"),
		app:     in(exampleHint(fieldApp)),
		mod:     in(exampleHint(fieldMod)),
		act:     in(exampleHint(fieldAct)),
		typ:     dimp.ContentApplication,
		resolve: resolve,
	}
	f.to.SetValue(to)
	ta := textarea.New()
	ta.ShowLineNumbers = false
	ta.Prompt = "┃ "
	ta.Placeholder = exampleHint(fieldExtra) + "; {} sends no fields"
	ta.CharLimit = 16000
	ta.DynamicHeight = true
	ta.MinHeight = 3
	ta.MaxHeight = 6
	ta.MaxContentHeight = 400
	km := textarea.DefaultKeyMap()
	km.InsertNewline = key.NewBinding(key.WithKeys("alt+enter", "ctrl+j"))
	ta.KeyMap = km
	ta.SetStyles(st.TextArea)
	f.extra = ta
	f.setFocus(fieldApp)
	if to == "" {
		f.setFocus(fieldTo)
	}
	return f
}

// setStyles applies the styles, which changed.
func (f *appForm) setStyles() {
	for _, t := range []*textinput.Model{&f.to, &f.app, &f.mod, &f.act} {
		t.SetStyles(f.st.TextInput)
	}
	f.extra.SetStyles(f.st.TextArea)
}

// help: the form's keys, in the footer and at the bottom of the form.
func (f *appForm) help() []key.Binding {
	return []key.Binding{f.keys.FormSend, f.keys.FormNext, f.keys.FormToggle, f.keys.FormCancel}
}

// setSize sizes the form w cells wide; its height is what its fields take.
func (f *appForm) setSize(w, _ int) {
	f.width = w
	inner := max(w-4-9, 10) // box border and padding, label column
	for _, t := range []*textinput.Model{&f.to, &f.app, &f.mod, &f.act} {
		t.SetWidth(inner - 1)
	}
	f.extra.SetWidth(inner)
}

func (f *appForm) setFocus(to formField) {
	if f.focus != to {
		f.touched[f.focus] = true
	}
	f.focus = to
	for i, t := range []*textinput.Model{&f.to, nil, &f.app, &f.mod, &f.act} {
		if t == nil {
			continue
		}
		if formField(i) == to {
			t.Focus()
		} else {
			t.Blur()
		}
	}
	if to == fieldExtra {
		f.extra.Focus()
	} else {
		f.extra.Blur()
	}
}

// formAction is what a key did to the form.
type formAction int

const (
	formContinue formAction = iota
	formSend                // the form is valid and should be sent
	formCancel
)

// update handles a message. On formSend the result is in the return value.
func (f *appForm) update(msg tea.Msg) (formAction, *formResult, tea.Cmd) {
	keys := f.keys
	if k, ok := msg.(tea.KeyPressMsg); ok {
		switch {
		case key.Matches(k, keys.FormCancel):
			return formCancel, nil, nil
		case key.Matches(k, keys.FormSend):
			res, err := f.result()
			if err != nil {
				for i := range f.touched {
					f.touched[i] = true
				}
				if bad := f.firstInvalid(); bad >= 0 {
					f.setFocus(bad)
				}
				return formContinue, nil, nil
			}
			return formSend, res, nil
		case f.focus == fieldExtra && (k.String() == "up" || k.String() == "down"):
			// Arrows move inside the extra field's lines.
		case key.Matches(k, keys.FormNext):
			f.setFocus((f.focus + 1) % fieldCount)
			return formContinue, nil, nil
		case key.Matches(k, keys.FormPrev):
			f.setFocus((f.focus + fieldCount - 1) % fieldCount)
			return formContinue, nil, nil
		case f.focus == fieldType && key.Matches(k, keys.FormToggle):
			if f.typ == dimp.ContentApplication {
				f.typ = dimp.ContentCustomized
			} else {
				f.typ = dimp.ContentApplication
			}
			return formContinue, nil, nil
		}
	}
	var cmd tea.Cmd
	switch f.focus {
	case fieldTo:
		f.to, cmd = f.to.Update(msg)
	case fieldApp:
		f.app, cmd = f.app.Update(msg)
	case fieldMod:
		f.mod, cmd = f.mod.Update(msg)
	case fieldAct:
		f.act, cmd = f.act.Update(msg)
	case fieldExtra:
		f.extra, cmd = f.extra.Update(msg)
	}
	return formContinue, nil, cmd
}

// typed returns what the user typed in a text field, trimmed.
func (f *appForm) typed(field formField) string {
	switch field {
	case fieldTo:
		return strings.TrimSpace(f.to.Value())
	case fieldApp:
		return strings.TrimSpace(f.app.Value())
	case fieldMod:
		return strings.TrimSpace(f.mod.Value())
	case fieldAct:
		return strings.TrimSpace(f.act.Value())
	case fieldExtra:
		return strings.TrimSpace(f.extra.Value())
	}
	return ""
}

// value returns what a text field sends: what was typed in it, else its
// example.
func (f *appForm) value(field formField) string {
	if v := f.typed(field); v != "" {
		return v
	}
	return field.example()
}

// fieldError checks one field; "" when it is fine. A field left empty
// that has an example is fine: the example is sent.
func (f *appForm) fieldError(field formField) string {
	switch field {
	case fieldTo:
		v := f.typed(fieldTo)
		if v == "" {
			return "who receives it: a name or an ID"
		}
		if _, err := f.resolve(v); err != nil {
			return err.Error()
		}
	case fieldExtra:
		if _, err := parseExtra(f.value(fieldExtra)); err != nil {
			return err.Error()
		}
	}
	return ""
}

func (f *appForm) firstInvalid() formField {
	for i := range fieldCount {
		if f.fieldError(i) != "" {
			return i
		}
	}
	return -1
}

// result builds the content, or says what is wrong.
func (f *appForm) result() (*formResult, error) {
	if bad := f.firstInvalid(); bad >= 0 {
		return nil, fmt.Errorf("%s: %s", bad.label(), f.fieldError(bad))
	}
	to, _ := f.resolve(f.typed(fieldTo))
	extra, _ := parseExtra(f.value(fieldExtra))
	c := dimp.NewAppContent(f.typ, f.value(fieldApp), f.value(fieldMod), f.value(fieldAct), extra)
	return &formResult{to: to, content: c}, nil
}

// reservedExtra are the content members the form sets itself.
func reservedExtra() []string {
	return []string{"type", "sn", "time", "group", "app", "mod", "act"}
}

// parseExtra reads the extra fields: empty, or a JSON object whose members
// are not ones the content sets itself.
func parseExtra(s string) (dimp.Fields, error) {
	s = strings.TrimSpace(s)
	fields := dimp.Fields{}
	if s == "" {
		return fields, nil
	}
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	var obj map[string]json.RawMessage
	if err := dec.Decode(&obj); err != nil {
		var syn *json.SyntaxError
		var typ *json.UnmarshalTypeError
		switch {
		case errors.As(err, &syn):
			// Offset counts the byte that was wrong: it is at Offset-1.
			line, col := position(s, int(syn.Offset)-1)
			return nil, fmt.Errorf("line %d, column %d: %s", line, col, syn.Error())
		case errors.As(err, &typ):
			return nil, fmt.Errorf("extra must be a JSON object {…}, not %s", typ.Value)
		case errors.Is(err, io.ErrUnexpectedEOF):
			return nil, errors.New("JSON is incomplete: a brace or quote is missing")
		}
		return nil, fmt.Errorf("JSON error: %w", err)
	}
	if obj == nil {
		return nil, errors.New("extra must be a JSON object {…}, not null")
	}
	if dec.More() {
		return nil, errors.New("only one JSON object, please")
	}
	for k, v := range obj {
		for _, r := range reservedExtra() {
			if k == r {
				return nil, fmt.Errorf("%q is set by the form, not in extra", k)
			}
		}
		var buf bytes.Buffer
		if err := json.Compact(&buf, v); err != nil {
			return nil, fmt.Errorf("field %q: %w", k, err)
		}
		fields[k] = buf.Bytes()
	}
	return fields, nil
}

// position turns a byte offset in s into a 1-based line and column.
func position(s string, off int) (line, col int) {
	off = max(min(off, len(s)), 0)
	line = 1 + strings.Count(s[:off], "\n")
	col = off - strings.LastIndex(s[:off], "\n")
	return line, col
}

// view draws the form as a box width cells wide.
func (f *appForm) view() string {
	st := f.st
	var b strings.Builder
	b.WriteString(st.FormTitle.Render("Application content") + "\n\n")
	labelFor := func(field formField) string {
		s := st.Label
		if f.focus == field {
			s = st.LabelFocused
		}
		return s.Render(display.Fit(field.label(), 7)) + "  "
	}
	errLine := func(field formField) {
		if !f.touched[field] && field != fieldExtra {
			return
		}
		if e := f.fieldError(field); e != "" {
			b.WriteString(strings.Repeat(" ", 9) + st.FieldError.Render("✗ "+display.Truncate(e, max(f.width-15, 10))) + "\n")
		}
	}
	b.WriteString(labelFor(fieldTo) + f.to.View() + "\n")
	errLine(fieldTo)
	choice := func(t dimp.ContentType) string {
		label := display.AppType(t)
		if f.typ == t {
			return st.ChoiceSelected.Render("● " + label)
		}
		return st.Choice.Render("○ " + label)
	}
	b.WriteString(labelFor(fieldType) + choice(dimp.ContentApplication) + "   " + choice(dimp.ContentCustomized) + "\n")
	b.WriteString(labelFor(fieldApp) + f.app.View() + "\n")
	errLine(fieldApp)
	b.WriteString(labelFor(fieldMod) + f.mod.View() + "\n")
	errLine(fieldMod)
	b.WriteString(labelFor(fieldAct) + f.act.View() + "\n")
	errLine(fieldAct)
	extraLines := strings.Split(f.extra.View(), "\n")
	for i, l := range extraLines {
		if i == 0 {
			b.WriteString(labelFor(fieldExtra) + l + "\n")
		} else {
			b.WriteString(strings.Repeat(" ", 9) + l + "\n")
		}
	}
	if e := f.fieldError(fieldExtra); e != "" {
		for i, l := range display.Wrap("✗ "+e, max(f.width-15, 10)) {
			if i > 0 {
				l = "  " + l
			}
			b.WriteString(strings.Repeat(" ", 9) + st.FieldError.Render(l) + "\n")
		}
	} else {
		// What will be sent: the example's fields while the field is empty.
		extra, _ := parseExtra(f.value(fieldExtra))
		ok := fmt.Sprintf("✓ JSON object, %s", display.Plural(len(extra), "field"))
		if f.typed(fieldExtra) == "" {
			ok = fmt.Sprintf("✓ the example: JSON object, %s", display.Plural(len(extra), "field"))
		}
		b.WriteString(strings.Repeat(" ", 9) + st.FieldOK.Render(display.Truncate(ok, max(f.width-15, 10))) + "\n")
	}
	b.WriteString("\n")
	var hs []string
	for _, h := range f.help() {
		hs = append(hs, st.Help.ShortKey.Render(h.Help().Key)+" "+st.Help.ShortDesc.Render(h.Help().Desc))
	}
	b.WriteString(strings.Join(hs, st.Help.ShortSeparator.Render(" · ")))
	return st.FormBox.Width(f.width).Render(b.String())
}
