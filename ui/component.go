package ui

import "charm.land/bubbles/v2/key"

// component is one part of the screen: the status bar, the contacts, the
// conversation, the inspector and the composer of a pane, the boxes over
// it (the app-content form, the search results), and the help over every
// pane. The pane gives it its size; it draws itself in exactly that many
// cells with view, which changes nothing (what depends on the size, such
// as a scroll position kept in range, is settled in setSize and in the
// component's own methods); help names its keys for the footer.
//
// What a component does with a message is its update method, whose result
// tells the pane what else to do (open a chat, close the box, send the
// content made): that differs from one component to the next, so it is not
// part of the interface. A component's fields change only through its own
// methods.
type component interface {
	setSize(w, h int)
	view() string
	help() []key.Binding
}

// focusable is a component that can have the keyboard; it draws itself
// as focused or not.
type focusable interface {
	component
	setFocus(focused bool)
}

// Every part of the screen has the shape.
var (
	_ component = (*statusBar)(nil)
	_ component = (*appForm)(nil)
	_ component = (*searchBox)(nil)
	_ component = (*helpOverlay)(nil)
	_ focusable = (*contactsView)(nil)
	_ focusable = (*convView)(nil)
	_ focusable = (*inspector)(nil)
	_ focusable = (*composer)(nil)
)

// keepInView returns the first row to show of a list of n rows, in a
// window h rows high that showed from row top, so that row sel (-1: none)
// shows and the window is not left empty below the last row.
func keepInView(top, sel, n, h int) int {
	if sel >= 0 {
		if sel < top {
			top = sel
		}
		if sel >= top+h {
			top = sel - h + 1
		}
	}
	return max(min(top, n-h), 0)
}
