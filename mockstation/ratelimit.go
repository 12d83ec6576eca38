package mockstation

import (
	"math"
	"time"
)

// bucket is a token bucket: it holds up to burst tokens, refills at rate
// tokens per second, and each message takes one. The station chose to
// close a connection whose bucket is empty rather than to slow it down: a
// client within the limits never notices it, and one beyond them is
// flooding (a resend after a reconnect stays far below the default burst).
// It is used by the connection's worker only.
type bucket struct {
	rate   float64 // tokens per second; +Inf when unlimited
	burst  float64
	tokens float64
	last   time.Time
}

func newBucket(rate float64, burst int) bucket {
	if rate < 0 {
		rate = math.Inf(1)
	}
	return bucket{rate: rate, burst: float64(burst), tokens: float64(burst), last: time.Now()}
}

// take takes one token, reporting false when there is none.
func (b *bucket) take() bool {
	if math.IsInf(b.rate, 1) {
		return true
	}
	now := time.Now()
	b.tokens = math.Min(b.burst, b.tokens+now.Sub(b.last).Seconds()*b.rate)
	b.last = now
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}
