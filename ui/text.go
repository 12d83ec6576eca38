package ui

import (
	"sort"

	"dimtui/dimp"
)

// idKey is the key of a peer in maps: its ID without the terminal.
func idKey(id dimp.ID) string { return id.WithoutTerminal().String() }

// sortedKeys returns a map's keys in order.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
