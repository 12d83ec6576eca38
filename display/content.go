package display

import (
	"encoding/json"

	"dimtui/dimp"
)

// How a DIM content is named in one line: the inspector's rows, the
// conversation's cards, the step-through panel and the workshop's
// explanations and transcripts call a content the same way.

// ContentTitle names a content for a title line: "text “Hello”",
// "receipt “Message delivered.”", "documents query for bob".
func ContentTitle(c dimp.Content) string {
	switch c := c.(type) {
	case *dimp.HandshakeCommand:
		return c.Title
	case *dimp.TextContent:
		return "text “" + Truncate(Sanitize(c.Text, false), 24) + "”"
	case *dimp.ReceiptCommand:
		return "receipt “" + Sanitize(c.Text, false) + "”"
	case *dimp.AppContent:
		return AppType(c.Type) + " " + Sanitize(c.App+"/"+c.Mod+"/"+c.Act, false)
	case *dimp.DocumentCommand:
		if c.IsQuery() {
			return "documents query for " + Name(c.ID)
		}
		return "documents of " + Name(c.ID)
	case *dimp.SearchCommand:
		return SearchTitle(c)
	case dimp.Command:
		return "command " + Sanitize(CommandName(c), false)
	}
	return c.Header().Type.String() + " content"
}

// AppType names an app content's type with its number.
func AppType(t dimp.ContentType) string {
	if t == dimp.ContentCustomized {
		return "customized 0xCC"
	}
	return "application 0xA0"
}

// SearchTitle names a search question or answer for a title line.
func SearchTitle(c *dimp.SearchCommand) string {
	switch {
	case c.IsAnswer():
		return "search answer, " + Plural(len(c.Users), "user")
	case c.IsOnlineQuery():
		return "search: who is online"
	}
	return "search “" + Truncate(Sanitize(c.Query(), false), 24) + "”"
}

// CommandName reads a command's name from its JSON (as the peer wrote it:
// sanitize it to show it).
func CommandName(c dimp.Content) string {
	var v struct {
		Command string `json:"command"`
		Cmd     string `json:"cmd"`
	}
	if err := json.Unmarshal(dimp.MarshalContent(c), &v); err != nil {
		return "?"
	}
	if v.Command != "" {
		return v.Command
	}
	return v.Cmd
}
