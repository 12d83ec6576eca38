package mockstation

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"sync"

	"dimtui/dimp"
	"dimtui/dimp/crypto"
	"dimtui/mockstation/store"
)

// cacheLimit bounds the in-memory caches in front of the store; past it a
// cache forgets an arbitrary half of its entries (the store still has them).
const cacheLimit = 1 << 16

// profileCache keeps the checked profiles (meta and visas) of the entities
// the station has seen. Profiles in it are never modified: an update stores
// a new one.
type profileCache struct {
	mu      sync.RWMutex // guards m and unsaved
	m       map[string]*dimp.Profile
	unsaved map[string]bool // profiles the store failed to take (see Server.learn)
}

func newProfileCache() *profileCache {
	return &profileCache{m: make(map[string]*dimp.Profile), unsaved: make(map[string]bool)}
}

// isUnsaved reports whether the cached profile of id holds what the store
// does not.
func (c *profileCache) isUnsaved(id string) bool {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.unsaved[id]
}

// setUnsaved records whether the cached profile of id holds what the store
// does not.
func (c *profileCache) setUnsaved(id string, unsaved bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !unsaved {
		delete(c.unsaved, id)
		return
	}
	if len(c.unsaved) >= cacheLimit {
		forgetHalf(c.unsaved)
	}
	c.unsaved[id] = true
}

func (c *profileCache) get(id string) *dimp.Profile {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.m[id]
}

func (c *profileCache) put(id string, p *dimp.Profile) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.m) >= cacheLimit {
		forgetHalf(c.m)
	}
	c.m[id] = p
}

// merge adds a visa to the cached profile of key (p when none is cached),
// keeping the newest visa of each terminal.
func (c *profileCache) merge(key string, p *dimp.Profile, visa *dimp.Document) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	base := c.m[key]
	if base == nil {
		if hasDocument(p, visa) { // a profile made from the same meta and visa
			if len(c.m) >= cacheLimit {
				forgetHalf(c.m)
			}
			c.m[key] = p
			return nil
		}
		base = p
	}
	docs := append(append([]*dimp.Document(nil), base.Visas...), visa)
	merged, err := dimp.NewProfile(base.ID, base.Meta, docs...)
	if err != nil {
		return err
	}
	if len(c.m) >= cacheLimit {
		forgetHalf(c.m)
	}
	c.m[key] = merged
	return nil
}

func forgetHalf[V any](m map[string]V) {
	n := len(m) / 2
	for k := range m {
		if n == 0 {
			return
		}
		delete(m, k)
		n--
	}
}

// profile returns what the station knows of id: its meta and newest visas,
// from the cache or the store; nil when it knows no meta.
func (s *Server) profile(ctx context.Context, id dimp.ID) (*dimp.Profile, error) {
	key := id.WithoutTerminal().String()
	if p := s.known.get(key); p != nil {
		return p, nil
	}
	raw, err := s.store.Meta(ctx, key)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	meta, err := dimp.ParseMeta(raw)
	if err != nil {
		return nil, fmt.Errorf("stored meta of %s: %w", key, err)
	}
	p, err := dimp.NewProfile(id.WithoutTerminal(), meta)
	if err != nil {
		return nil, fmt.Errorf("stored meta of %s: %w", key, err)
	}
	docs, err := s.store.Documents(ctx, key)
	if err != nil {
		return nil, err
	}
	for _, d := range docs {
		if d.Type != dimp.DocVisa {
			continue
		}
		doc, err := dimp.ParseDocument(d.Data)
		if err == nil {
			// One stored before the bound is not used: the station would
			// attach it to what it passes on, and answer searches with it.
			_, err = checkDocumentSize(doc)
		}
		if err == nil {
			err = p.AddDocument(doc)
		}
		if err != nil {
			s.log.Warn("stored visa skipped", "id", key, "err", err)
		}
	}
	s.known.put(key, p)
	return p, nil
}

// senderProfile returns the profile to verify rm with: built from the meta
// and visa attached to it when there are (they must be valid, match the
// sender and be signed by its meta), else what the station knows. A visa
// attached without a meta is checked against the known meta. It returns
// nil and no error when nothing is known of the sender.
func (s *Server) senderProfile(ctx context.Context, rm *dimp.ReliableMessage) (*dimp.Profile, error) {
	if rm.Meta != nil {
		return dimp.ProfileFromMessage(rm)
	}
	known, err := s.profile(ctx, rm.Sender)
	if err != nil || known == nil || rm.Visa == nil {
		return known, err
	}
	return dimp.NewProfile(known.ID, known.Meta, append(append([]*dimp.Document(nil), known.Visas...), rm.Visa)...)
}

// learn stores a checked meta and document (either may be nil) of the
// entity p describes, unless the station has them already, and refreshes
// the cached profile. Only a newer document replaces a stored one; saved
// reports whether doc was stored.
//
// The cache is refreshed first: the station answers from it, so that a new
// user whose visa the store cannot take (a full disk) still gets its
// handshake answered, encrypted to that visa, instead of nothing. The
// profile is then marked unsaved, and stored whole by the next learn that
// succeeds (or given again by the user after a restart).
//
// A document over maxDocumentJSON is an error, and nothing is learnt: p
// holds it too. Those from users are refused before (storeDocument,
// handleMessage), with a receipt; this keeps out those a neighbour station
// passes on.
func (s *Server) learn(ctx context.Context, p *dimp.Profile, meta *dimp.Meta, doc *dimp.Document) (saved bool, err error) {
	if doc != nil {
		if _, err := checkDocumentSize(doc); err != nil {
			return false, err
		}
	}
	key := p.ID.String()
	cached := s.known.get(key)
	known := doc != nil && hasDocument(cached, doc)
	var cacheErr error
	if doc == nil || doc.DocType() != dimp.DocVisa || known {
		if cached == nil {
			s.known.put(key, p)
		}
	} else if cacheErr = s.known.merge(key, p, doc); cacheErr == nil {
		s.index.put(p.ID, doc) // searchable at once, stored or not
	}
	unsaved := s.known.isUnsaved(key)
	fail := func(err error) (bool, error) {
		s.known.setUnsaved(key, true)
		return false, err
	}
	if meta != nil && cached == nil {
		if err := s.saveMeta(ctx, key, meta); err != nil {
			return fail(err)
		}
	}
	if doc != nil && !known {
		if saved, err = s.saveDocument(ctx, key, doc); err != nil {
			return fail(err)
		}
	}
	if unsaved {
		if err := s.saveProfile(ctx, key); err != nil {
			return fail(err)
		}
		s.known.setUnsaved(key, false)
	}
	if cached == nil {
		s.releaseUnknown(key) // what came over a link from this sender can be verified now
	}
	return saved, cacheErr
}

// saveProfile stores the cached profile of key, meta and visas: what an
// earlier learn could not store.
func (s *Server) saveProfile(ctx context.Context, key string) error {
	p := s.known.get(key)
	if p == nil {
		return nil // forgotten meanwhile: the user gives it again
	}
	if err := s.saveMeta(ctx, key, p.Meta); err != nil {
		return err
	}
	for _, v := range p.Visas {
		if _, err := s.saveDocument(ctx, key, v); err != nil {
			return err
		}
	}
	return nil
}

func (s *Server) saveMeta(ctx context.Context, key string, meta *dimp.Meta) error {
	raw, err := meta.MarshalJSON()
	if err != nil {
		return err
	}
	_, err = s.store.SaveMeta(ctx, key, raw)
	return err
}

func (s *Server) saveDocument(ctx context.Context, key string, doc *dimp.Document) (bool, error) {
	raw, err := doc.MarshalJSON()
	if err != nil {
		return false, err
	}
	return s.store.SaveDocument(ctx, store.Document{ID: key, Type: doc.DocType(),
		Terminal: doc.Terminal(), Time: doc.Time(), Data: raw})
}

// hasDocument reports whether p already holds d or a newer visa of the same
// terminal.
func hasDocument(p *dimp.Profile, d *dimp.Document) bool {
	if p == nil || d.DocType() != dimp.DocVisa {
		return false
	}
	for _, v := range p.Visas {
		if v.Terminal() == d.Terminal() && v.Time() >= d.Time() {
			return true
		}
	}
	return false
}

// meta returns the stored meta of id, nil when none.
func (s *Server) meta(ctx context.Context, id dimp.ID) (*dimp.Meta, error) {
	p, err := s.profile(ctx, id)
	if err != nil || p == nil {
		return nil, err
	}
	return p.Meta, nil
}

// listCache keeps users' block and mute lists, as sets of IDs without
// terminal, in front of the store.
type listCache struct {
	mu sync.RWMutex               // guards m
	m  map[string]map[string]bool // owner "\x00" name → members
}

func newListCache() *listCache { return &listCache{m: make(map[string]map[string]bool)} }

func listKey(owner, name string) string { return owner + "\x00" + name }

// list returns the members of owner's list name, loading them from the
// store on first use.
func (s *Server) list(ctx context.Context, owner, name string) (map[string]bool, error) {
	key := listKey(owner, name)
	s.lists.mu.RLock()
	set, ok := s.lists.m[key]
	s.lists.mu.RUnlock()
	if ok {
		return set, nil
	}
	members, _, err := s.store.List(ctx, owner, name)
	if err != nil {
		return nil, err
	}
	set = make(map[string]bool, len(members))
	for _, m := range members {
		set[m] = true
	}
	s.lists.mu.Lock()
	if len(s.lists.m) >= cacheLimit {
		forgetHalf(s.lists.m)
	}
	s.lists.m[key] = set
	s.lists.mu.Unlock()
	return set, nil
}

// setList stores owner's list name and updates the cache.
func (s *Server) setList(ctx context.Context, owner, name string, members []dimp.ID, at float64) (bool, error) {
	ids := make([]string, 0, len(members))
	set := make(map[string]bool, len(members))
	for _, m := range members {
		k := m.WithoutTerminal().String()
		if !set[k] {
			set[k] = true
			ids = append(ids, k)
		}
	}
	stored, err := s.store.SetList(ctx, owner, name, ids, at)
	if err != nil || !stored {
		return false, err
	}
	s.lists.mu.Lock()
	s.lists.m[listKey(owner, name)] = set
	s.lists.mu.Unlock()
	return true, nil
}

// blocked reports whether the receiver has blocked the sender of rm, or the
// group it exposes.
func (s *Server) blocked(ctx context.Context, receiver string, rm *dimp.ReliableMessage) (bool, error) {
	set, err := s.list(ctx, receiver, dimp.CmdBlock)
	if err != nil || len(set) == 0 {
		return false, err
	}
	if set[rm.Sender.WithoutTerminal().String()] {
		return true, nil
	}
	return !rm.Group.IsZero() && set[rm.Group.WithoutTerminal().String()], nil
}

// answerKeyCache keeps, per user, the message key of the station's own
// messages to that user (receipts, answers) with that key encrypted to the
// user's visa keys: the `keys` member those messages carry. Reusing a key
// per direction is what DIM peers do; it spares the station an RSA
// encryption per answer. An entry is made again when the user's
// encryption keys change.
type answerKeyCache struct {
	mu sync.Mutex // guards m
	m  map[string]*answerKey
}

// answerKey is one user's entry in answerKeyCache. It is never modified.
type answerKey struct {
	to   string // the user's encryption keys it was made for (see keyPrint)
	pw   crypto.SymmetricKey
	keys map[string]string // pw encrypted to each of them, as Encrypt wrote it
}

func newAnswerKeyCache() *answerKeyCache { return &answerKeyCache{m: make(map[string]*answerKey)} }

// get returns the entry for r, nil when there is none for r's keys.
func (c *answerKeyCache) get(r dimp.Recipient) *answerKey {
	c.mu.Lock()
	k := c.m[r.ID.String()]
	c.mu.Unlock()
	if k == nil || k.to != keyPrint(r.Keys) {
		return nil
	}
	return k
}

// put stores the key made for r.
func (c *answerKeyCache) put(r dimp.Recipient, pw crypto.SymmetricKey, keys map[string]string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.m) >= cacheLimit {
		forgetHalf(c.m)
	}
	c.m[r.ID.String()] = &answerKey{to: keyPrint(r.Keys), pw: pw, keys: keys}
}

// keyPrint writes down encryption keys (terminal, algorithm and key data
// of each, length-prefixed) without keeping the key objects, which may
// hold on to the frame they were parsed from.
func keyPrint(keys []dimp.TerminalKey) string {
	var b []byte
	for _, k := range keys {
		for _, part := range [][]byte{[]byte(k.Terminal), []byte(k.Key.Algorithm()), k.Key.Data()} {
			b = binary.AppendUvarint(b, uint64(len(part)))
			b = append(b, part...)
		}
	}
	return string(b)
}

// sharedProfile returns the cached profile of p's entity when it holds
// every visa p does (or newer ones), else p: sessions of one user then
// share one profile instead of each keeping the copy its handshake
// carried.
func (s *Server) sharedProfile(p *dimp.Profile) *dimp.Profile {
	known := s.known.get(p.ID.String())
	if known == nil || known == p {
		return p
	}
	for _, v := range p.Visas {
		if !hasDocument(known, v) {
			return p
		}
	}
	return known
}
