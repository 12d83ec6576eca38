package mockstation

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"dimtui/dimp"
)

// The address name service (ANS): an `ans` command to the station names
// short names ("station", "moky") and is answered with the IDs they stand
// for, as dimples' station answers it (spec/station.md §3.4), with one
// addition for names that stand for several IDs (see dimp.AnsCommand).
//
// A name resolves, in this order, to:
//
//  1. a record: the station's own (station, anyone, everyone, archivist,
//     ...), then Config.Names (the echo bot's name, names given with
//     --ans);
//  2. nothing, when it is a reserved word of the protocol without a record
//     ("admin", "key"...): nobody can take such a name by calling
//     themselves so in their visa;
//  3. itself, when it is an ID (as dimples parses any ID it is asked for);
//  4. the users registered under it: those whose visa name or ID name is
//     the name, letter case aside. One user: a record. Several: the name is
//     ambiguous, and the answer lists them (at most ansMaxCandidates).
//
// Names are words: the question separates them with white space, so a
// visa name with a space in it cannot be asked for.
const (
	ansMaxNames      = 16  // names in one question
	ansMaxNameBytes  = 128 // bytes of one name
	ansMaxCandidates = 20  // IDs listed for an ambiguous name
)

// ansText is the receipt refusing a question the station cannot answer,
// as dimples words it; its `error` says what is wrong.
const ansText = "ANS command error."

// reservedNames are words of the protocol nobody may register as a short
// name: roles, entity kinds, message parts and command names (dimples
// keeps a list of the same kind).
var reservedNames = wordSet(`all everyone anyone owner founder admin administrator assistant
		member master monitor archivist announcer station stations provider bot robot root supervisor
		dim dimp dkd mkm id address meta document profile visa bulletin entity user group contact
		key keys data signature message envelope sender receiver content command history time sn type
		handshake receipt login report block mute ans search users text file image audio video page
		invite expel join quit reset query hire fire resign register suicide found abdicate`)

func wordSet(words string) map[string]bool {
	set := map[string]bool{}
	for _, w := range strings.Fields(words) {
		set[w] = true
	}
	return set
}

// errANS is an ANS question the station refuses.
var errANS = errors.New("ANS question refused")

// ansRecords are the records every station of this kind has, beside
// Config.Names: its own ID and the broadcast IDs.
func (s *Server) ansRecords() map[string]dimp.ID {
	r := map[string]dimp.ID{
		"station":   s.me.ID,
		"anyone":    dimp.Anyone,
		"owner":     dimp.Anyone,
		"everyone":  dimp.Everyone,
		"all":       dimp.Everyone,
		"stations":  dimp.EveryStations,
		"archivist": dimp.Archivist,
		"founder":   dimp.Founder,
	}
	for name, id := range s.cfg.Names {
		if name = strings.ToLower(strings.TrimSpace(name)); name != "" && !id.IsZero() {
			r[name] = id
		}
	}
	return r
}

// ansCommand answers an ANS question; an answer (another station's) is
// taken without a word.
func (c *conn) ansCommand(in *inbound, cmd *dimp.AnsCommand) dimp.Content {
	if cmd.IsAnswer() {
		return nil
	}
	refuse := func(err error) dimp.Content {
		r := newReceipt(ansText, in.rm, cmd.SN)
		setExtra(r, "error", err.Error())
		return r
	}
	switch {
	case len(cmd.Names) == 0:
		return refuse(fmt.Errorf("%w: no names", errANS))
	case len(cmd.Names) > ansMaxNames:
		return refuse(fmt.Errorf("%w: %d names, at most %d", errANS, len(cmd.Names), ansMaxNames))
	}
	for _, n := range cmd.Names {
		if len(n) > ansMaxNameBytes {
			return refuse(fmt.Errorf("%w: a name of %d bytes, at most %d", errANS, len(n), ansMaxNameBytes))
		}
	}
	res, err := c.srv.resolveNames(c.ctx, cmd.Names)
	if err != nil {
		c.logger().Error("ans", "err", err)
		return newReceipt("Station error: names not resolved.", in.rm, cmd.SN)
	}
	return res
}

// resolveNames answers names: records, missed and ambiguous names.
func (s *Server) resolveNames(ctx context.Context, names []string) (*dimp.AnsCommand, error) {
	res := dimp.NewAnsQuery(names...)
	res.Records, res.Missed = map[string]dimp.ID{}, []string{}
	records := s.ansRecords()
	var registered map[string][]dimp.ID // lower-case name → users, read once
	for _, name := range names {
		low := strings.ToLower(name)
		if id, ok := records[low]; ok {
			res.Records[name] = id
			continue
		}
		if reservedNames[low] {
			res.Missed = append(res.Missed, name)
			continue
		}
		if id, err := dimp.ParseID(name); err == nil {
			res.Records[name] = id
			continue
		}
		if registered == nil {
			var err error
			if registered, err = s.registeredNames(ctx, names); err != nil {
				return nil, err
			}
		}
		switch ids := registered[low]; {
		case len(ids) == 0:
			res.Missed = append(res.Missed, name)
		case len(ids) == 1:
			res.Records[name] = ids[0]
		default:
			if res.Ambiguous == nil {
				res.Ambiguous = map[string][]dimp.ID{}
			}
			res.Ambiguous[name] = ids[:min(len(ids), ansMaxCandidates)]
		}
	}
	return res, nil
}

// registeredNames finds the users registered under any of names: whose
// visa name or ID name is one of them, letter case aside. The IDs of each
// name are in ID order.
func (s *Server) registeredNames(ctx context.Context, names []string) (map[string][]dimp.ID, error) {
	want := map[string]bool{}
	for _, n := range names {
		want[strings.ToLower(n)] = true
	}
	entries, err := s.index.snapshot(ctx, s.store)
	if err != nil {
		return nil, err
	}
	found := map[string]map[string]dimp.ID{}
	add := func(name string, id dimp.ID) {
		if found[name] == nil {
			found[name] = map[string]dimp.ID{}
		}
		found[name][id.String()] = id
	}
	for _, e := range entries {
		if want[e.name] {
			add(e.name, e.id)
		}
		if n := strings.ToLower(e.id.Name()); n != e.name && want[n] {
			add(n, e.id)
		}
	}
	out := make(map[string][]dimp.ID, len(found))
	for name, ids := range found {
		for _, k := range slices.Sorted(maps.Keys(ids)) {
			out[name] = append(out[name], ids[k])
		}
	}
	return out, nil
}
