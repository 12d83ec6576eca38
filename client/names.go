package client

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"dimtui/dimp"
)

// Names (ANS).
//
// A short name ("moky", "station") is resolved by the station's address
// name service: the client sends an `ans` command with the name and the
// station answers with the same command and its records (spec:
// protocol.md §9.4; dimtui's station adds `ambiguous`, see
// dimp.AnsCommand):
//
//	→ {"type":136,"command":"ans","cmd":"ans","names":"moky"}
//	← {"type":136,"command":"ans","cmd":"ans","names":"moky","records":{"moky":"moky@4DnqXW…"}}
//	← {"type":136,"command":"ans","cmd":"ans","names":"twin","records":{},"missed":[],
//	   "ambiguous":{"twin":["twin@4Dn…","twin@4WD…"]}}
//
// The answer names no question: it is matched to the oldest question for
// the same names.

// Errors of ResolveName.
var (
	// ErrNameUnknown: the station knows no ID for the name.
	ErrNameUnknown = errors.New("no user of that name")
	// ErrNameAmbiguous: several users go by the name; the error is an
	// *AmbiguousNameError listing them.
	ErrNameAmbiguous = errors.New("several users go by that name")
	// ErrNameInvalid: the name cannot be asked for (empty, white space
	// inside, too long).
	ErrNameInvalid = errors.New("not a name to look up")
	// ErrNameRefused: the station did not answer the question (it has no
	// name service, or refused the question); the error says its words.
	ErrNameRefused = errors.New("the station does not resolve names")
	// ErrNameTimeout: no answer came in time.
	ErrNameTimeout = errors.New("no answer from the station's name service")
)

// AmbiguousNameError is ErrNameAmbiguous with the IDs the name stands for.
type AmbiguousNameError struct {
	Name string
	IDs  []dimp.ID
}

func (e *AmbiguousNameError) Error() string {
	ids := make([]string, len(e.IDs))
	for i, id := range e.IDs {
		ids[i] = id.String()
	}
	return fmt.Sprintf("%q: %v: %s", e.Name, ErrNameAmbiguous, strings.Join(ids, ", "))
}

// Is makes errors.Is(err, ErrNameAmbiguous) hold.
func (e *AmbiguousNameError) Is(target error) bool { return target == ErrNameAmbiguous }

// maxNameQuery bounds a name asked for, in bytes (the station's bound).
const maxNameQuery = 128

// nameAsk is an ANS question waiting for its answer.
type nameAsk struct {
	names string
	id    MessageID
	done  chan nameAnswer // buffered: the loop never waits on it
}

type nameAnswer struct {
	ans     *dimp.AnsCommand
	refused string // the station's receipt when it did not answer
}

// ResolveName asks the station which user a short name stands for and
// waits for the answer (at most Config.QueryTimeout). It returns the ID;
// for a name several users go by, their IDs and an *AmbiguousNameError
// (errors.Is ErrNameAmbiguous); for an unknown name, ErrNameUnknown.
func (c *Client) ResolveName(ctx context.Context, name string) ([]dimp.ID, error) {
	name = strings.TrimSpace(name)
	switch {
	case name == "", strings.ContainsFunc(name, func(r rune) bool { return r <= ' ' || r == 0x7f }):
		return nil, fmt.Errorf("%w: %q", ErrNameInvalid, name)
	case len(name) > maxNameQuery || !utf8.ValidString(name):
		return nil, fmt.Errorf("%w: %d bytes, at most %d", ErrNameInvalid, len(name), maxNameQuery)
	}
	ask := &nameAsk{names: name, done: make(chan nameAnswer, 1)}
	var err error
	if derr := c.do(ctx, func(l *loop) {
		if l.state != Running || l.station.IsZero() {
			err = ErrNotRunning
			return
		}
		ask.id, err = l.send(l.station, dimp.NewAnsQuery(name), false)
		if err == nil {
			s := l.social()
			s.names = append(s.names, ask)
		}
	}); derr != nil {
		return nil, derr
	}
	if err != nil {
		return nil, err
	}
	timer := time.NewTimer(c.cfg.QueryTimeout)
	defer timer.Stop()
	var a nameAnswer
	select {
	case a = <-ask.done:
	case <-timer.C:
		c.forgetAsk(ask)
		return nil, fmt.Errorf("%w in %s: %q", ErrNameTimeout, c.cfg.QueryTimeout, name)
	case <-ctx.Done():
		c.forgetAsk(ask)
		return nil, ctx.Err()
	case <-c.done:
		return nil, ErrClosed
	}
	switch {
	case a.ans == nil:
		return nil, fmt.Errorf("%w: %s", ErrNameRefused, a.refused)
	case !a.ans.Records[name].IsZero():
		return []dimp.ID{a.ans.Records[name]}, nil
	case len(a.ans.Ambiguous[name]) > 0:
		ids := append([]dimp.ID(nil), a.ans.Ambiguous[name]...)
		return ids, &AmbiguousNameError{Name: name, IDs: ids}
	}
	return nil, fmt.Errorf("%w: %q", ErrNameUnknown, name)
}

// forgetAsk drops a question nobody waits for any more.
func (c *Client) forgetAsk(ask *nameAsk) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	_ = c.do(ctx, func(l *loop) { l.takeAsk(func(a *nameAsk) bool { return a == ask }) })
}

// takeAsk removes and returns the first question that match accepts.
func (l *loop) takeAsk(match func(*nameAsk) bool) *nameAsk {
	s := l.social()
	for i, a := range s.names {
		if match(a) {
			s.names = append(s.names[:i:i], s.names[i+1:]...)
			return a
		}
	}
	return nil
}

// onAns hands the station's answer to the question it answers.
func (l *loop) onAns(rm *dimp.ReliableMessage, c *dimp.AnsCommand) {
	if !l.isStation(rm.Sender) || !c.IsAnswer() {
		return
	}
	names := strings.Join(c.Names, " ")
	ask := l.takeAsk(func(a *nameAsk) bool { return a.names == names })
	if ask == nil {
		return
	}
	if o := l.outbox[ask.id]; o != nil {
		l.setDelivery(o, AtStation, "answered")
	}
	ask.done <- nameAnswer{ans: c}
}

// ansRefused ends the question a station's receipt refused ("Command not
// support." from a station without a name service, "ANS command error.").
func (l *loop) ansRefused(o *outgoing, text string) {
	if ask := l.takeAsk(func(a *nameAsk) bool { return a.id == o.id }); ask != nil {
		ask.done <- nameAnswer{refused: text}
	}
}
