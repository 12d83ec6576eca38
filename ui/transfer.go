package ui

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"

	"charm.land/bubbles/v2/progress"
	tea "charm.land/bubbletea/v2"

	"dimtui/client"
	"dimtui/client/transfer"
	"dimtui/dimp"
	"dimtui/display"
)

// Files from the composer: /send PATH encrypts a file, uploads it to the
// station's upload service and sends its content; /save [PATH] downloads
// the selected file, decrypts it with the key its message carried and
// writes it. One transfer runs at a time in a pane; one that lasts more
// than a moment shows a progress bar in the footer.

// fileBackend is what /send and /save need of the backend; a
// *client.Client has it, a replay does not.
type fileBackend interface {
	SendFile(ctx context.Context, to dimp.ID, path string, progress transfer.Progress) (client.MessageID, error)
	SaveFile(ctx context.Context, fc *dimp.FileContent, dir string, progress transfer.Progress) (string, error)
}

// barAfter is how long a transfer runs before its progress bar shows.
const barAfter = 300 * time.Millisecond

// transferState is the pane's transfer under way.
type transferState struct {
	seq         int
	verb        string // "uploading", "downloading"
	name        string
	start       time.Time
	done, total int64
	bar         progress.Model
}

// transferProgressMsg reports the bytes a transfer has moved.
type transferProgressMsg struct {
	pane        PaneID
	seq         int
	done, total int64
	ch          <-chan tea.Msg
}

// transferDoneMsg ends a transfer.
type transferDoneMsg struct {
	pane PaneID
	seq  int
	err  error
	what string // said when it succeeded
}

// startTransfer runs fn in the background as the pane's transfer, with
// its progress reported to the pane.
func (p *Pane) startTransfer(verb, name string, fn func(ctx context.Context, progress transfer.Progress) (string, error)) tea.Cmd {
	if p.xfer != nil {
		return p.setFlash(fmt.Sprintf("%s %s is under way: one transfer at a time", p.xfer.verb, p.xfer.name), true)
	}
	p.xferSeq++
	seq, id, ctx := p.xferSeq, p.id, p.opt.Context
	p.xfer = &transferState{seq: seq, verb: verb, name: name, start: time.Now(), bar: newTransferBar()}
	ch := make(chan tea.Msg, 1)
	var last atomic.Int64
	report := func(done, total int64) {
		// At most one report waits; a newer one replaces none, the next
		// read takes the latest count anyway.
		if now := time.Now().UnixMilli(); now-last.Swap(now) < 50 && done < total {
			return
		}
		select {
		case ch <- transferProgressMsg{pane: id, seq: seq, done: done, total: total, ch: ch}:
		default:
		}
	}
	go func() {
		what, err := fn(ctx, report)
		// The end waits for the progress report, if one is unread.
		ch <- transferDoneMsg{pane: id, seq: seq, err: err, what: what}
	}()
	return waitTransfer(ch)
}

// newTransferBar is the footer's progress bar.
func newTransferBar() progress.Model {
	return progress.New(progress.WithWidth(20), progress.WithoutPercentage(), progress.WithFillCharacters('█', '░'))
}

// waitTransfer reads the next report of a transfer.
func waitTransfer(ch <-chan tea.Msg) tea.Cmd {
	return func() tea.Msg { return <-ch }
}

// transferProgress notes a transfer's bytes and waits for the next report.
func (p *Pane) transferProgress(msg transferProgressMsg) tea.Cmd {
	if p.xfer == nil || p.xfer.seq != msg.seq {
		return nil
	}
	p.xfer.done, p.xfer.total = msg.done, msg.total
	return waitTransfer(msg.ch)
}

// transferDone ends the pane's transfer and says how it went.
func (p *Pane) transferDone(msg transferDoneMsg) tea.Cmd {
	if p.xfer == nil || p.xfer.seq != msg.seq {
		return nil
	}
	x := p.xfer
	p.xfer = nil
	if msg.err != nil {
		if errors.Is(msg.err, context.Canceled) {
			return nil
		}
		p.notice(fmt.Sprintf("%s %s failed: %v", x.verb, x.name, msg.err), true)
		return p.setFlash(x.verb+" failed", true)
	}
	p.notice(msg.what, false)
	return nil
}

// transferView is the footer's line while a transfer runs: what, a bar
// and how much, once it has lasted barAfter.
func (p *Pane) transferView(w int) (string, bool) {
	x := p.xfer
	if x == nil || time.Since(x.start) < barAfter {
		return "", false
	}
	pct := 0.0
	if x.total > 0 {
		pct = float64(x.done) / float64(x.total)
	}
	amount := display.Size(int(x.done))
	if x.total > 0 {
		amount += " of " + display.Size(int(x.total)) + fmt.Sprintf(" (%d%%)", int(pct*100))
	}
	head := fmt.Sprintf(" %s %s ", x.verb, display.Truncate(display.Sanitize(x.name, false), 24))
	x.bar.SetWidth(min(20, max(w-len([]rune(head))-len(amount)-2, 4)))
	return display.Fit(head+x.bar.ViewAs(pct)+" "+amount, w), true
}

// sendFile is /send PATH: the file goes to the open conversation.
func (p *Pane) sendFile(arg string) tea.Cmd {
	fb, ok := p.b.(fileBackend)
	if !ok {
		return p.setFlash("/send: this session sends no files (a replay)", true)
	}
	path := expandHome(strings.TrimSpace(arg))
	if path == "" {
		return p.setFlash("/send PATH: which file", true)
	}
	st, err := os.Stat(path)
	switch {
	case err != nil:
		return p.setFlash("/send: "+err.Error(), true)
	case !st.Mode().IsRegular():
		return p.setFlash("/send: "+path+" is not a file", true)
	}
	to := p.chat.current.peer
	name := filepath.Base(path)
	return p.startTransfer("uploading", name, func(ctx context.Context, progress transfer.Progress) (string, error) {
		if _, err := fb.SendFile(ctx, to, path, progress); err != nil {
			return "", err
		}
		return fmt.Sprintf("%s (%s) encrypted with a fresh key and uploaded to the station; the key went in the message to %s",
			name, display.Size(int(st.Size())), display.Name(to)), nil
	})
}

// saveFile is /save [PATH]: the selected file, downloaded and decrypted,
// written into the directory PATH (or as the file PATH, in a directory
// that exists), by default the Downloads folder or the working directory.
func (p *Pane) saveFile(arg string) tea.Cmd {
	fb, ok := p.b.(fileBackend)
	if !ok {
		return p.setFlash("/save: this session downloads no files (a replay)", true)
	}
	e := p.chat.current.selected()
	var fc *dimp.FileContent
	if e != nil {
		fc, _ = e.content.(*dimp.FileContent)
	}
	if fc == nil {
		return p.setFlash("/save: select a file, image, audio or video message first (↑)", true)
	}
	dir, name, err := saveTarget(expandHome(strings.TrimSpace(arg)))
	if err != nil {
		return p.setFlash("/save: "+err.Error(), true)
	}
	want := *fc
	if name != "" {
		want.Filename = name
	}
	shown := fc.Filename
	if shown == "" {
		shown = "the file"
	}
	return p.startTransfer("downloading", shown, func(ctx context.Context, progress transfer.Progress) (string, error) {
		path, err := fb.SaveFile(ctx, &want, dir, progress)
		if err != nil {
			return "", err
		}
		return fmt.Sprintf("saved %s, decrypted with the key its message carried, to %s", shown, path), nil
	})
}

// saveTarget reads /save's PATH: a directory, or a file name in one;
// empty is the Downloads folder when there is one, else the working
// directory.
func saveTarget(arg string) (dir, name string, err error) {
	if arg == "" {
		if home, err := os.UserHomeDir(); err == nil {
			if st, err := os.Stat(filepath.Join(home, "Downloads")); err == nil && st.IsDir() {
				return filepath.Join(home, "Downloads"), "", nil
			}
		}
		wd, err := os.Getwd()
		return wd, "", err
	}
	if st, err := os.Stat(arg); err == nil {
		if st.IsDir() {
			return arg, "", nil
		}
		return "", "", fmt.Errorf("%s exists: name a directory or a new file", arg)
	}
	parent := filepath.Dir(arg)
	if st, err := os.Stat(parent); err != nil || !st.IsDir() {
		return "", "", fmt.Errorf("no directory %s", parent)
	}
	return parent, filepath.Base(arg), nil
}

// expandHome reads a leading ~/ as the home directory, as a shell would.
func expandHome(path string) string {
	if rest, ok := strings.CutPrefix(path, "~/"); ok {
		if home, err := os.UserHomeDir(); err == nil {
			return filepath.Join(home, rest)
		}
	}
	return path
}
