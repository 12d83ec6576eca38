package mockstation

import "golang.org/x/time/rate"

// newMessageLimit makes a connection's limit on the messages it sends: a
// token bucket that holds up to burst tokens and refills at perSecond
// tokens a second (no limit when negative); each message takes one. The
// station chose to close a connection whose bucket is empty rather than to
// slow it down: a client within the limits never notices it, and one
// beyond them is flooding (a resend after a reconnect stays far below the
// default burst). Only the connection's worker uses it.
func newMessageLimit(perSecond float64, burst int) *rate.Limiter {
	if perSecond < 0 {
		return rate.NewLimiter(rate.Inf, burst)
	}
	return rate.NewLimiter(rate.Limit(perSecond), burst)
}
