package mockstation

import (
	"testing"
	"time"
)

// TestMessageLimit holds a connection to its burst at once and to its rate
// after that, on a clock of the test's own: 5 messages at once, then one
// every 200 ms at 5 a second, and never more than the burst after a pause.
func TestMessageLimit(t *testing.T) {
	lim := newMessageLimit(5, 5)
	t0 := time.Now()
	for i := range 5 {
		if !lim.AllowN(t0, 1) {
			t.Fatalf("message %d of the burst refused", i+1)
		}
	}
	if lim.AllowN(t0, 1) {
		t.Fatal("a sixth message at once was taken, past the burst of 5")
	}
	if lim.AllowN(t0.Add(150*time.Millisecond), 1) {
		t.Fatal("a message 150 ms later was taken: the rate is 1 per 200 ms")
	}
	if !lim.AllowN(t0.Add(200*time.Millisecond), 1) {
		t.Fatal("a message 200 ms later was refused: the rate is 1 per 200 ms")
	}
	later := t0.Add(time.Hour)
	for i := range 5 {
		if !lim.AllowN(later, 1) {
			t.Fatalf("after a pause, message %d of the burst refused", i+1)
		}
	}
	if lim.AllowN(later, 1) {
		t.Fatal("a pause saved up more than the burst")
	}
}

// TestMessageLimitOff: a negative rate (Config.RateLimit) is no limit.
func TestMessageLimitOff(t *testing.T) {
	lim := newMessageLimit(-1, DefaultRateBurst)
	now := time.Now()
	for i := range 3 * DefaultRateBurst {
		if !lim.AllowN(now, 1) {
			t.Fatalf("message %d refused without a limit", i+1)
		}
	}
}
