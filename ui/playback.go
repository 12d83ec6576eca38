package ui

import (
	"fmt"
	"strconv"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"dimtui/workshop"
)

// Playback is a backend that plays a recorded session back, offline (a
// workshop.ReplayClient): its pane says so. The status bar shows the
// transcript's name, "offline", the frames played and the pace instead of
// a connection; the composer says that nothing is sent; + and - on an
// empty line change the pace of the whole replay.
type Playback interface {
	Progress() workshop.Progress
	SetSpeed(speed float64)
}

var _ Playback = (*workshop.ReplayClient)(nil)

// The paces + and - step through; 0 (no pauses) is past the fastest.
var playbackSpeeds = []float64{0.25, 0.5, 1, 2, 4, 8, 16}

// nextSpeed is the pace after speed, one step faster (dir 1) or slower
// (dir -1); 0 plays without pauses.
func nextSpeed(speed float64, dir int) float64 {
	if speed <= 0 {
		if dir > 0 {
			return 0
		}
		return playbackSpeeds[len(playbackSpeeds)-1]
	}
	i := 0
	for i < len(playbackSpeeds)-1 && playbackSpeeds[i] < speed {
		i++
	}
	switch {
	case dir > 0 && playbackSpeeds[i] > speed:
		return playbackSpeeds[i]
	case dir > 0 && i == len(playbackSpeeds)-1:
		return 0
	case dir > 0:
		return playbackSpeeds[i+1]
	case playbackSpeeds[i] < speed:
		return playbackSpeeds[i]
	}
	return playbackSpeeds[max(i-1, 0)]
}

// speedText writes a pace as the status bar shows it.
func speedText(speed float64) string {
	if speed <= 0 {
		return "no pauses"
	}
	return strconv.FormatFloat(speed, 'f', -1, 64) + "×"
}

// progressText is the status bar's account of a replay: the frames played,
// the pace and its keys; at the end, that it ended.
func progressText(p workshop.Progress) string {
	if p.Ended {
		return fmt.Sprintf("ended · %d/%d frames", p.Played, p.Total)
	}
	return fmt.Sprintf("frame %d/%d · %s · +/- pace", p.Played, p.Total, speedText(p.Speed))
}

// startPlayback marks a pane whose backend is a replay: the composer says
// why it sends nothing.
func (p *Pane) startPlayback() {
	pb, ok := p.b.(Playback)
	if !ok {
		return
	}
	p.playback = pb
	p.composer.setOffline("replay · offline: nothing is sent",
		"A replay sends nothing: /commands work; f8 next frame, + and - the pace")
	p.syncPlayback()
}

// syncPlayback takes the replay's progress for the status bar to show.
func (p *Pane) syncPlayback() {
	if p.playback == nil {
		return
	}
	prog := p.playback.Progress()
	p.status.replay = &prog
}

// playbackKey changes the pace of a replay with + and - on an empty line
// of the focused pane's composer (or over the full-screen panel); ok is
// false for other keys and outside a replay.
func (a *App) playbackKey(k tea.KeyPressMsg) (cmd tea.Cmd, ok bool) {
	dir := 0
	switch {
	case key.Matches(k, a.keys.Faster):
		dir = 1
	case key.Matches(k, a.keys.Slower):
		dir = -1
	default:
		return nil, false
	}
	p := a.panes[a.focused]
	full := a.ws != nil && a.ws.full.shown
	if p.playback == nil || (!full && !p.composerIdle()) {
		return nil, false
	}
	speed := nextSpeed(p.playback.Progress().Speed, dir)
	p.playback.SetSpeed(speed)
	for _, q := range a.panes {
		q.syncPlayback()
	}
	return p.setFlash("replay pace: "+speedText(speed), false), true
}
