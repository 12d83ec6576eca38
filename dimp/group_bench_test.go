package dimp

import (
	"fmt"
	"testing"
	"time"
)

// BenchmarkGroupSeal measures the two ways dimchat's clients seal a
// message to a group of n other members, interleaved in one loop so that
// a noisy machine slows both alike:
//
//	each-ns/op   one message per member, each sealed alone with a fresh key
//	             (what a client does under 16 members, first messages)
//	once-ns/op   sealed once, the key encrypted for every member, then
//	             split into a copy per member (16 members and more)
//	once/each    the ratio
func BenchmarkGroupSeal(b *testing.B) {
	alice := newTestUser(b, "alice", MetaMKM, mustECC(b))
	group, _, err := NewGroupID(alice.SignKey, "")
	if err != nil {
		b.Fatal(err)
	}
	var members []*Profile
	for i := range 64 {
		members = append(members, newTestUser(b, fmt.Sprintf("m%d", i), MetaMKM, mustECC(b)).Profile())
	}
	for _, n := range []int{4, 15, 16, 64} {
		b.Run(fmt.Sprintf("members=%d", n), func(b *testing.B) {
			to := members[:n]
			var each, once time.Duration
			for b.Loop() {
				text := NewText("hello crew")
				text.Group = group
				start := time.Now()
				p := NewPacker(alice)
				for _, m := range to {
					if _, err := p.Seal(NewInstantMessage(alice.ID, m.ID, text), []*Profile{m}, SealOptions{}); err != nil {
						b.Fatal(err)
					}
				}
				mid := time.Now()
				rm, err := NewPacker(alice).Seal(NewInstantMessage(alice.ID, group, text), to, SealOptions{})
				if err != nil {
					b.Fatal(err)
				}
				ids := make([]ID, n)
				for i, m := range to {
					ids[i] = m.ID
				}
				if copies := rm.Split(ids); len(copies) != n {
					b.Fatalf("%d copies for %d members", len(copies), n)
				}
				each, once = each+mid.Sub(start), once+time.Since(mid)
			}
			b.ReportMetric(float64(each.Nanoseconds())/float64(b.N), "each-ns/op")
			b.ReportMetric(float64(once.Nanoseconds())/float64(b.N), "once-ns/op")
			b.ReportMetric(float64(once)/float64(each), "once/each")
		})
	}
}
