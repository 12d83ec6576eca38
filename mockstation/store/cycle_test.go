package store

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// BenchmarkMessageCycle stores messages in batches as the station does
// under load (many sessions' saves in one commit), then acknowledges them
// (queued, committed together), and reports the write-ahead log frames
// (4 KiB pages) written per message.
func BenchmarkMessageCycle(b *testing.B) {
	for _, batch := range []int{1, 16, 64} {
		b.Run(fmt.Sprint("batch=", batch), func(b *testing.B) {
			ctx := context.Background()
			defer func(idle time.Duration, ops int64) { checkpointIdle, checkpointOps = idle, ops }(checkpointIdle, checkpointOps)
			checkpointIdle, checkpointOps = time.Hour, 1<<62 // count every frame written
			s, err := Open(ctx, filepath.Join(b.TempDir(), "x.db"), Options{})
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			data := make([]byte, 1300)
			sig := func() string {
				raw := make([]byte, 128)
				rand.Read(raw)
				return base64.StdEncoding.EncodeToString(raw)
			}
			b.ResetTimer()
			for i := 0; i < b.N; i += batch {
				acks := make([]Ack, 0, batch)
				var wg sync.WaitGroup
				for k := range batch {
					m := Message{Receiver: fmt.Sprint("receiver-", k%10), Signature: sig(), Time: 1, Data: data}
					acks = append(acks, Ack{Receiver: m.Receiver, Signature: m.Signature})
					wg.Add(1)
					if err := s.SaveMessageAsync(ctx, m, func(int64, SaveResult, error) { wg.Done() }); err != nil {
						b.Fatal(err)
					}
				}
				wg.Wait()
				// As the station acknowledges: queued, committed together.
				wg.Add(len(acks))
				for _, a := range acks {
					if err := s.AckMessageAsync(ctx, a, func(bool, error) { wg.Done() }); err != nil {
						b.Fatal(err)
					}
				}
				wg.Wait()
			}
			b.StopTimer()
			var busy, log, done int
			if err := s.ck.QueryRow(`PRAGMA wal_checkpoint(PASSIVE)`).Scan(&busy, &log, &done); err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(float64(log)/float64(b.N), "frames/msg")
		})
	}
}
