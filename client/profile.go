package client

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"dimtui/dimp"
)

// Profiles.
//
// A user's nickname and avatar are properties of its visa, which its meta
// key signs. SetProfile signs a new visa (the old one's properties, the
// new name and avatar, a new time) and sends it in a documents command,
// with the meta, to the station (which stores it: "Document received.")
// and to every contact, as dimchat's apps broadcast their visa:
//
//	{"type":136,"command":"document","cmd":"document","did":"bob@…","ID":"bob@…",
//	 "meta":{…},"documents":[{"did":"bob@…","data":"{\"type\":\"visa\",…,\"name\":\"Bobby\",…}","signature":"…"}],
//	 "document":{…the same visa…}}
//
// Peers learn a newer visa from such a push, from a documents answer, or
// from the visa attached to a message; the client then reports a
// ProfileEvent. A peer's documents are asked for again when they are
// stale, as dimples decides it: a message whose `SDT` (the sender's
// document time, which dimchat's apps attach) is newer than the visa the
// client holds, or, from a peer that sends no SDT, a visa learned or asked
// for longer than DocumentsExpiry ago; never more than once per
// DocumentsExpiry per peer (dimples' query expiry, 10 minutes):
//
//	{"type":136,"command":"document","cmd":"document","did":"alice@…","ID":"alice@…","last_time":1700000000.25}
//
// The station answers with the documents, or "Document not updated.".

// DocumentsExpiry is how long a peer's documents are taken as current, and
// the least time between two questions for them (dimples' QUERY_EXPIRES).
const DocumentsExpiry = 10 * time.Minute

// MaxNameRunes bounds a nickname: SetProfile refuses a longer one, and a
// peer's longer visa name is shown cut (ProfileEvent.Oversized).
const MaxNameRunes = 64

// maxAvatarURL bounds an avatar URL, in bytes.
const maxAvatarURL = 2048

// Errors of SetProfile and of peers' visas.
var (
	ErrProfileName   = errors.New("invalid nickname")
	ErrProfileAvatar = errors.New("invalid avatar URL")
	// ErrOversizedName: a peer's visa carries a name longer than
	// MaxNameRunes (it is shown cut).
	ErrOversizedName = errors.New("visa name too long")
)

// ProfileEvent reports a user's visa name and avatar as the client now
// knows them: a peer's when a visa newer than the one the client held
// came (a push, a documents answer, an attachment), the user's own after
// SetProfile.
type ProfileEvent struct {
	Time time.Time
	ID   dimp.ID
	// Name is the visa name made safe to show: trimmed, without control
	// characters, at most MaxNameRunes runes (see VisaName).
	Name string
	// Old is the name before ("" at the first visa known).
	Old string
	// Avatar is the visa's avatar URL when it is an http(s) URL of at
	// most 2 KiB, else "".
	Avatar string
	// Update: the visa replaced one the client held, with another name
	// or avatar: a change to tell the user about.
	Update bool
	// Oversized: the visa's name was longer than MaxNameRunes; Name is
	// its head. An ErrorEvent (ErrOversizedName) says so too.
	Oversized bool
	// Self: the user's own profile, re-signed by SetProfile.
	Self bool
	// NoticeID names the notice the history keeps of an Update in the
	// peer's conversation (see ProfileNotice); "" when none is kept.
	NoticeID string
}

// ProfileNotice is what the history keeps of a peer's new visa name, in
// their conversation.
type ProfileNotice struct {
	Name string `json:"name"`
	Old  string `json:"old,omitempty"`
}

func (e ProfileEvent) eventTime() time.Time { return e.Time }

// VisaName returns a visa's name made safe to show: trimmed, control and
// format characters dropped, at most MaxNameRunes runes (then oversized is
// true and "…" ends it). A nil visa has the name "".
func VisaName(visa *dimp.Document) (name string, oversized bool) {
	if visa == nil {
		return "", false
	}
	return boundName(visa.Name())
}

func boundName(s string) (string, bool) {
	var b strings.Builder
	n := 0
	for _, r := range strings.TrimSpace(s) {
		if unicode.IsControl(r) || unicode.Is(unicode.Cf, r) || r == utf8.RuneError {
			continue
		}
		if n == MaxNameRunes {
			return strings.TrimSpace(b.String()) + "…", true
		}
		b.WriteRune(r)
		n++
	}
	return strings.TrimSpace(b.String()), false
}

// visaAvatar returns a visa's avatar when it is an http(s) URL of a sane
// length.
func visaAvatar(visa *dimp.Document) string {
	if visa == nil {
		return ""
	}
	raw := visa.Property("avatar")
	if len(raw) > maxAvatarURL+2 {
		return ""
	}
	var s string
	if err := jsonString(raw, &s); err != nil || checkAvatar(s) != nil {
		return ""
	}
	return s
}

// checkName validates a nickname for SetProfile.
func checkName(name string) error {
	switch {
	case name == "":
		return fmt.Errorf("%w: empty", ErrProfileName)
	case !utf8.ValidString(name):
		return fmt.Errorf("%w: not UTF-8", ErrProfileName)
	case utf8.RuneCountInString(name) > MaxNameRunes:
		return fmt.Errorf("%w: %d characters, at most %d", ErrProfileName, utf8.RuneCountInString(name), MaxNameRunes)
	case strings.ContainsFunc(name, func(r rune) bool { return unicode.IsControl(r) || unicode.Is(unicode.Cf, r) }):
		return fmt.Errorf("%w: control characters", ErrProfileName)
	}
	return nil
}

// checkAvatar validates an avatar URL.
func checkAvatar(s string) error {
	if len(s) > maxAvatarURL {
		return fmt.Errorf("%w: %d bytes, at most %d", ErrProfileAvatar, len(s), maxAvatarURL)
	}
	u, err := url.Parse(s)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrProfileAvatar, err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("%w: %q is no http(s) URL", ErrProfileAvatar, s)
	}
	if strings.ContainsFunc(s, unicode.IsControl) {
		return fmt.Errorf("%w: control characters", ErrProfileAvatar)
	}
	return nil
}

// SetProfile sets the user's nickname (and avatar, when avatar is not "";
// it must be an http or https URL): it signs a new visa with them,
// persists the identity (Config.SaveIdentity), and sends the visa to the
// station and to every contact (see AddContacts); a ProfileEvent (Self)
// follows. name is trimmed and must be 1 to MaxNameRunes characters
// without control characters. Sent while disconnected, the visa goes out
// after the next handshake, with the announcement.
func (c *Client) SetProfile(ctx context.Context, name, avatar string) error {
	name = strings.TrimSpace(name)
	if err := checkName(name); err != nil {
		return err
	}
	avatar = strings.TrimSpace(avatar)
	if avatar != "" {
		if err := checkAvatar(avatar); err != nil {
			return err
		}
	}
	var err error
	if derr := c.do(ctx, func(l *loop) { err = l.setProfile(name, avatar) }); derr != nil {
		return derr
	}
	return err
}

// AddContacts names users the client should send the user's new visa to
// (SetProfile), beside those it exchanged messages with in this run: the
// contacts a history keeps, for example.
func (c *Client) AddContacts(ctx context.Context, ids []dimp.ID) error {
	return c.do(ctx, func(l *loop) {
		for _, id := range ids {
			if id.IsUser() && !id.IsBroadcast() && !id.SameAs(c.me.ID) {
				l.social().contacts[IDKey(id)] = id.WithoutTerminal()
			}
		}
	})
}

func (l *loop) setProfile(name, avatar string) error {
	me := l.packer.Me
	visa := dimp.NewDocument(me.ID.WithoutTerminal(), dimp.DocVisa)
	if old := me.Visa; old != nil {
		for _, p := range old.PropertyNames() {
			if p == "time" {
				continue
			}
			if err := visa.Set(p, rawJSON(old.Property(p))); err != nil {
				return fmt.Errorf("set profile: %w", err)
			}
		}
	}
	if err := visa.Set("name", name); err != nil {
		return fmt.Errorf("set profile: %w", err)
	}
	if avatar != "" {
		if err := visa.Set("avatar", avatar); err != nil {
			return fmt.Errorf("set profile: %w", err)
		}
	}
	if err := visa.Sign(me.SignKey); err != nil {
		return fmt.Errorf("set profile: %w", err)
	}
	if old := me.Visa; old != nil && visa.Time() <= old.Time() {
		return fmt.Errorf("set profile: the clock is behind the current visa (%.3f ≤ %.3f)", visa.Time(), old.Time())
	}
	next := *me
	next.Visa = visa
	if save := l.c.cfg.SaveIdentity; save != nil {
		if err := save(&next); err != nil {
			return fmt.Errorf("set profile: save identity: %w", err)
		}
	}
	oldName, _ := VisaName(me.Visa)
	l.packer.Me = &next
	l.peers[IDKey(me.ID)] = next.Profile()
	clear(l.attached) // the next message to each peer attaches the new visa
	if l.state == Running {
		docs := dimp.NewDocumentCommand(me.ID.WithoutTerminal(), me.Meta, []*dimp.Document{visa})
		if _, err := l.send(l.station, docs, false); err != nil {
			l.c.emit(l.ctx, errorf("send visa to the station: %w", err))
		}
		for _, to := range l.social().contacts {
			docs := dimp.NewDocumentCommand(me.ID.WithoutTerminal(), me.Meta, []*dimp.Document{visa})
			if _, err := l.send(to, docs, false); err != nil {
				l.c.emit(l.ctx, errorf("send visa to %s: %w", to, err))
			}
		}
	}
	shown, _ := VisaName(visa)
	l.c.emit(l.ctx, ProfileEvent{Time: time.Now(), ID: me.ID.WithoutTerminal(), Name: shown, Old: oldName,
		Avatar: visaAvatar(visa), Update: true, Self: true})
	return nil
}

// keptName is the visa name the history keeps for a user met in an
// earlier run; "" when there is none.
func (l *loop) keptName(id dimp.ID) string {
	h := l.c.cfg.History
	if h == nil || !id.IsUser() || id.IsBroadcast() || IDKey(id) == IDKey(l.c.me.ID) {
		return ""
	}
	name, err := h.ContactName(l.ctx, id)
	if err != nil {
		l.c.log.Warn("history: contact not read", "id", id, "err", err)
	}
	name, _ = boundName(name) // as VisaName bounds it (older runs kept the raw name)
	return name
}

// profileLearned follows learn: a visa newer than the one held, with
// another name or avatar, is reported; an oversized name is reported as
// such. A peer's first visa this run whose name is not the one an earlier
// run kept (known) is reported as a change too: they renamed themselves
// while dimtui was not running. The peer's documents count as asked for
// now.
func (l *loop) profileLearned(old, p *dimp.Profile, known string) {
	if p.ID.IsGroup() || p.ID.Type() == dimp.Station || IDKey(p.ID) == IDKey(l.c.me.ID) {
		return
	}
	l.social().docAsked[IDKey(p.ID)] = time.Now()
	visa := p.Visa()
	if visa == nil {
		return
	}
	var before *dimp.Document
	if old != nil {
		before = old.Visa()
	}
	if before != nil && before.Time() >= visa.Time() {
		return
	}
	name, oversized := VisaName(visa)
	oldName, _ := VisaName(before)
	ev := ProfileEvent{Time: time.Now(), ID: p.ID, Name: name, Old: oldName, Avatar: visaAvatar(visa),
		Oversized: oversized}
	ev.Update = before != nil && (name != oldName || ev.Avatar != visaAvatar(before))
	if before == nil && known != "" && name != known {
		ev.Old, ev.Update = known, true
		oldName = known
	}
	if ev.Update && name != oldName {
		ev.NoticeID = l.noticeID("profile", p.ID)
	}
	if oversized {
		l.c.emit(l.ctx, ErrorEvent{Time: ev.Time, Err: fmt.Errorf("visa of %s: %w: %d bytes, shown as its first %d characters",
			p.ID, ErrOversizedName, len(visa.Name()), MaxNameRunes)})
	}
	l.c.emit(l.ctx, ev)
}

// checkDocuments asks again for the documents of a message's sender when
// they are stale (see the top of this file).
func (l *loop) checkDocuments(rm *dimp.ReliableMessage) {
	if !rm.Sender.IsUser() || rm.Sender.IsBroadcast() {
		return
	}
	k := IDKey(rm.Sender)
	p := l.peers[k]
	if p == nil || p.Visa() == nil {
		return // unknown peers are asked for when their messages come
	}
	s := l.social()
	now := time.Now()
	if at, ok := s.docAsked[k]; ok && now.Sub(at) < DocumentsExpiry {
		return
	}
	known := p.Visa().Time()
	if raw, ok := rm.Extra["SDT"]; ok {
		var sdt float64
		if jsonNumber(raw, &sdt) != nil || sdt <= known {
			return // told it is current (or told nothing readable)
		}
	}
	s.docAsked[k] = now
	q := dimp.NewDocumentCommand(rm.Sender.WithoutTerminal(), nil, nil)
	q.LastTime = known
	if _, err := l.send(dimp.AnyStation, q, false); err != nil {
		l.c.emit(l.ctx, errorf("query %s: %w", rm.Sender, err))
	}
}

// rawJSON is a property value copied as it was written.
type rawJSON []byte

// MarshalJSON returns the value as it is.
func (r rawJSON) MarshalJSON() ([]byte, error) {
	if len(r) == 0 {
		return []byte("null"), nil
	}
	return r, nil
}

func jsonString(raw []byte, s *string) error  { return json.Unmarshal(raw, s) }
func jsonNumber(raw []byte, f *float64) error { return json.Unmarshal(raw, f) }
