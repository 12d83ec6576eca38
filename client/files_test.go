package client_test

import (
	"bytes"
	"context"
	"errors"
	"image"
	"image/color"
	"image/png"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"dimtui/client"
	"dimtui/client/transfer"
	"dimtui/dimp"
)

// writePNG writes a small picture to dir and returns its path and bytes.
func writePNG(t *testing.T, dir, name string) (string, []byte) {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 40, 30))
	for y := range 30 {
		for x := range 40 {
			img.Set(x, y, color.RGBA{R: uint8(6 * x), G: uint8(8 * y), B: 128, A: 255})
		}
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, b.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	return p, b.Bytes()
}

func entries(t *testing.T, dir string) []string {
	t.Helper()
	des, err := os.ReadDir(dir)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		t.Fatal(err)
	}
	var names []string
	for _, de := range des {
		names = append(names, de.Name())
	}
	return names
}

// TestSendAndSaveFile: alice sends bob a picture through the station's
// upload service. Bob gets an image content with the download URL, the
// key, the IV and a thumbnail, and saves the very bytes alice sent; a
// second save does not overwrite the first. A content pointing at a local
// file, or at a file replaced on the station, saves nothing; a file past
// Config.MaxFile is not sent.
func TestSendAndSaveFile(t *testing.T) {
	stationDir := t.TempDir()
	st := startStation(t, stationDir, "")
	const maxFile = 64 << 10
	aliceID := newUser(t, "alice")
	alice := connectWith(t, client.Config{URL: st.url, Identity: aliceID, MaxFile: maxFile})
	bob := connect(t, st.url, newUser(t, "bob"))
	alice.waitRunning()
	bob.waitRunning()
	ctx := context.Background()

	src, want := writePNG(t, t.TempDir(), "holiday photo.png")
	id, err := alice.c.SendFile(ctx, bob.c.Me(), src, nil)
	if err != nil {
		t.Fatal(err)
	}
	var fc *dimp.FileContent
	bob.waitFor("alice's picture", 15*time.Second, func(evs []client.Event) bool {
		for _, ev := range evs {
			if m, ok := ev.(client.MessageEvent); ok && m.ID == id {
				fc, _ = m.Message.Content.(*dimp.FileContent)
				return true
			}
		}
		return false
	})
	if fc == nil || fc.Type != dimp.ContentImage {
		t.Fatalf("bob got %+v, want an image content (0x12)", fc)
	}
	if u, err := url.Parse(fc.URL); err != nil || u.Scheme != "http" || !strings.Contains(u.Path, "/download/") {
		t.Errorf("URL %q", fc.URL)
	}
	if fc.Filename != "holiday photo.png" || len(fc.Key) == 0 || fc.Extra["IV"] == nil || fc.Data != "" {
		t.Errorf("filename %q, key %s, IV %s, data %d bytes", fc.Filename, fc.Key, fc.Extra["IV"], len(fc.Data))
	}
	if !strings.HasPrefix(string(fc.Thumbnail), `"data:image/`) {
		t.Errorf("thumbnail %.40s…, want a data URI", fc.Thumbnail)
	}
	// The station holds ciphertext, not the picture.
	stored := filepath.Join(stationDir, "uploads", aliceID.ID.Address().String(), path.Base(fc.URL))
	onStation, err := os.ReadFile(stored)
	if err != nil {
		t.Fatalf("the upload on the station: %v", err)
	}
	if bytes.Contains(onStation, want[:16]) {
		t.Error("the station holds the picture in the clear")
	}

	saveDir := t.TempDir()
	first, err := bob.c.SaveFile(ctx, fc, saveDir, nil)
	if err != nil {
		t.Fatal(err)
	}
	if filepath.Dir(first) != saveDir || filepath.Base(first) != "holiday photo.png" {
		t.Errorf("saved as %s", first)
	}
	if got, err := os.ReadFile(first); err != nil || !bytes.Equal(got, want) {
		t.Fatalf("saved %d bytes (%v), want the %d alice sent", len(got), err, len(want))
	}
	second, err := bob.c.SaveFile(ctx, fc, saveDir, nil)
	if err != nil {
		t.Fatal(err)
	}
	if second == first || filepath.Base(second) != "holiday photo (1).png" {
		t.Errorf("second save: %s (first %s)", second, first)
	}
	for _, p := range []string{first, second} {
		if got, err := os.ReadFile(p); err != nil || !bytes.Equal(got, want) {
			t.Errorf("%s: %d bytes, %v", p, len(got), err)
		}
	}

	local := *fc
	local.URL = "file:///etc/passwd"
	emptyDir := t.TempDir()
	if _, err := bob.c.SaveFile(ctx, &local, emptyDir, nil); !errors.Is(err, transfer.ErrNotHTTP) {
		t.Errorf("a file: URL: %v, want ErrNotHTTP", err)
	}
	if got := entries(t, emptyDir); len(got) != 0 {
		t.Errorf("a file: URL wrote %v", got)
	}

	// Someone with the station's disk swaps the file for other bytes.
	swapped := bytes.Clone(onStation)
	for i := range swapped {
		swapped[i] ^= 0x5a
	}
	if err := os.WriteFile(stored, swapped, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := bob.c.SaveFile(ctx, fc, emptyDir, nil); !errors.Is(err, transfer.ErrDigest) {
		t.Errorf("replaced on the station: %v, want ErrDigest", err)
	}
	if got := entries(t, emptyDir); len(got) != 0 {
		t.Errorf("the replaced file wrote %v", got)
	}

	big := filepath.Join(t.TempDir(), "big.bin")
	if err := os.WriteFile(big, make([]byte, maxFile+1), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := alice.c.SendFile(ctx, bob.c.Me(), big, nil); !errors.Is(err, transfer.ErrTooLarge) {
		t.Errorf("a file past MaxFile: %v, want ErrTooLarge", err)
	}
	if got := entries(t, filepath.Dir(stored)); len(got) != 1 {
		t.Errorf("the station keeps %v, want alice's picture only", got)
	}
}
