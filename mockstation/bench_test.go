package mockstation_test

import (
	"fmt"
	"sync"
	"testing"

	"github.com/coder/websocket"

	"dimtui/dimp"
	"dimtui/mockstation"
)

// BenchmarkRoute measures messages routed per second between pairs of
// clients: each sender pipelines b.N messages to its receiver, which
// acknowledges each; every message is verified, stored, pushed and
// acknowledged (deleted). It is a rough figure for the station alone; the
// load tool measures the real thing.
func BenchmarkRoute(b *testing.B) {
	for _, pairs := range []int{1, 8} {
		b.Run(fmt.Sprintf("pairs=%d", pairs), func(b *testing.B) {
			st := startStation(b, mockstation.Config{RateLimit: -1})
			type pair struct{ from, to *client }
			var ps []pair
			for i := range pairs {
				from := connect(b, st.url, user(b, fmt.Sprint("sender", i)))
				to := connect(b, st.url, user(b, fmt.Sprint("receiver", i)))
				from.know(to.me)
				to.know(from.me)
				ps = append(ps, pair{from, to})
			}
			// Seal outside the timer: the clients' work is not the station's.
			msgs := make([][][]byte, pairs)
			for i, p := range ps {
				for range b.N {
					raw, _ := p.from.seal(p.to.me.ID, dimp.NewText("bench"), false).MarshalJSON()
					msgs[i] = append(msgs[i], raw)
				}
			}
			b.ResetTimer()
			var wg sync.WaitGroup
			for i, p := range ps {
				wg.Add(3)
				go func() {
					defer wg.Done()
					for _, raw := range msgs[i] {
						if err := p.from.ws.Write(b.Context(), websocket.MessageBinary, raw); err != nil {
							b.Error(err)
							return
						}
					}
				}()
				go func() {
					defer wg.Done()
					for range msgs[i] { // the receipts
						<-p.from.frames
					}
				}()
				go func() {
					defer wg.Done()
					for range msgs[i] {
						raw := <-p.to.frames
						rm, err := dimp.ParseReliableMessage(raw)
						if err != nil {
							b.Error(err)
							return
						}
						p.to.writeFrame(websocket.MessageText, fmt.Appendf(nil, `ACK:{"signature":%q}`, rm.SignatureText()))
					}
				}()
			}
			wg.Wait()
			b.StopTimer()
			b.ReportMetric(float64(b.N*pairs)/b.Elapsed().Seconds(), "msg/s")
		})
	}
}
