package jsonx

// Member is one member of an object: its name and raw value.
type Member struct {
	Name  string
	Value []byte
	taken bool
}

// Members is an object split into its members in input order, for a parser
// that takes the fields it knows one by one; what is left over becomes the
// unknown fields. It costs no hashing and, for the small objects of DIMP, a
// single allocation.
type Members struct {
	list  []Member
	short bool
	buf   [10]Member
}

// ParseMembers validates data as one JSON object and splits it.
func ParseMembers(data []byte) (*Members, error) {
	m := &Members{}
	m.list = m.buf[:0]
	s := scanner{data: data, collect: &m.list}
	s.skipSpace()
	if s.pos >= len(data) || data[s.pos] != '{' {
		_, err := ParseObject(data) // says why it is not an object
		return nil, err
	}
	if _, err := s.object(0, true); err != nil {
		return nil, err
	}
	s.skipSpace()
	if s.pos != len(data) {
		return nil, s.errorf(ErrSyntax, "data after the object")
	}
	m.short = s.short
	return m, nil
}

// MembersOf splits an already validated raw object value (nil stays nil).
func MembersOf(raw []byte) (*Members, error) {
	if len(raw) == 0 || raw[0] != '{' {
		return nil, wrongType("object", raw)
	}
	return ParseMembers(raw)
}

func (m *Members) find(name string) int {
	for i := len(m.list) - 1; i >= 0; i-- { // the last of repeated names wins
		if !m.list[i].taken && m.list[i].Name == name {
			return i
		}
	}
	return -1
}

// Take removes the member name and returns its value (nil when absent or null).
func (m *Members) Take(name string) []byte {
	i := m.find(name)
	if i < 0 {
		return nil
	}
	m.list[i].taken = true
	// Earlier members of the same name are dropped with it.
	for j := i - 1; j >= 0; j-- {
		if m.list[j].Name == name {
			m.list[j].taken = true
		}
	}
	if IsNull(m.list[i].Value) {
		return nil
	}
	return m.list[i].Value
}

// Get returns the value of name without taking it (nil when absent or null).
func (m *Members) Get(name string) []byte {
	i := m.find(name)
	if i < 0 || IsNull(m.list[i].Value) {
		return nil
	}
	return m.list[i].Value
}

// Has reports whether a member name is left.
func (m *Members) Has(name string) bool { return m.find(name) >= 0 }

// Expand renames short member names to long ones where the long name is
// absent (the reference SDK's optional key shortener): pairs are {long,
// short}. It does nothing unless a one-byte name was seen.
func (m *Members) Expand(pairs [][2]string) {
	if !m.short {
		return
	}
	for _, p := range pairs {
		if m.find(p[1]) < 0 || m.find(p[0]) >= 0 {
			continue
		}
		for i := range m.list { // a repeated short name is renamed each time
			if m.list[i].Name == p[1] {
				m.list[i].Name = p[0]
			}
		}
	}
}

// Rest returns the members not taken, as an Object; nil when none is left.
func (m *Members) Rest() Object {
	var o Object
	for _, mem := range m.list {
		if mem.taken {
			continue
		}
		if o == nil {
			o = make(Object, 4)
		}
		o[mem.Name] = mem.Value
	}
	return o
}
