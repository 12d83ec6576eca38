package transfer_test

import (
	"bytes"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/md5"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"dimtui/client/transfer"
	"dimtui/dimp"
	"dimtui/mockstation"
)

func testUser(t *testing.T) dimp.ID {
	t.Helper()
	return dimp.NewID("alice", dimp.BTCAddress([]byte("alice"), 0x08), "")
}

// station serves a real station's handler, its upload service included.
func station(t *testing.T, cfg mockstation.Config) (*httptest.Server, string) {
	t.Helper()
	if cfg.DataDir == "" {
		cfg.DataDir = t.TempDir()
	}
	srv, err := mockstation.New(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(func() {
		ts.Close()
		srv.Close()
	})
	return ts, cfg.DataDir
}

func TestRoundTripThroughStation(t *testing.T) {
	ts, dir := station(t, mockstation.Config{})
	plain := bytes.Repeat([]byte("a photo of a cat\n"), 5000)
	ct, key, iv, err := transfer.Encrypt(plain)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(ct, plain[:32]) {
		t.Fatal("ciphertext holds the plaintext")
	}
	var ups []int64
	url, err := transfer.Upload(t.Context(), ts.Client(), ts.URL, testUser(t), ct, "cat.JPG",
		func(done, total int64) { ups = append(ups, done) })
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(url, ts.URL+"/download/") || !strings.HasSuffix(url, ".jpg") {
		t.Errorf("url %s", url)
	}
	if len(ups) == 0 {
		t.Error("no upload progress")
	}
	// The station keeps ciphertext only.
	stored, _ := filepath.Glob(filepath.Join(dir, "uploads", "*", "*"))
	if len(stored) != 1 {
		t.Fatalf("stored: %v", stored)
	}
	if b, _ := os.ReadFile(stored[0]); !bytes.Equal(b, ct) {
		t.Error("the station keeps something else than the ciphertext")
	}

	// The content as it is sent, and as the receiver parses it.
	fc := &dimp.FileContent{Head: dimp.NewHead(transfer.ContentType("cat.JPG", plain)), Filename: "cat.JPG"}
	transfer.Attach(fc, url, key, iv)
	if fc.Type != dimp.ContentImage {
		t.Errorf("type %#x", fc.Type)
	}
	raw := dimp.MarshalContent(fc)
	var wire map[string]any
	json.Unmarshal(raw, &wire)
	if wire["IV"] != iv || wire["URL"] != url || wire["key"] == nil {
		t.Fatalf("content on the wire: %s", raw)
	}
	parsed, err := dimp.ParseContent(raw)
	if err != nil {
		t.Fatal(err)
	}
	got := parsed.(*dimp.FileContent)

	var downs []int64
	data, err := transfer.Download(t.Context(), ts.Client(), got.URL, 0, func(done, total int64) {
		downs = append(downs, done)
		if total != int64(len(ct)) {
			t.Errorf("total %d", total)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(downs) == 0 || downs[len(downs)-1] != int64(len(ct)) {
		t.Errorf("download progress %v", downs)
	}
	if err := transfer.CheckDigest(got.URL, data); err != nil {
		t.Error(err)
	}
	opened, err := transfer.DecryptContent(got, data)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(opened, plain) {
		t.Fatal("round trip changed the file")
	}
}

// TestIVWhereAppsPutIt decrypts by hand as dimchat's apps do: AES-CBC
// with the key's data and the content's IV.
func TestIVWhereAppsPutIt(t *testing.T) {
	plain := []byte("sixteen bytes!!!and more")
	ct, key, iv, err := transfer.Encrypt(plain)
	if err != nil {
		t.Fatal(err)
	}
	var km struct{ Algorithm, Data string }
	if err := json.Unmarshal(key, &km); err != nil || km.Algorithm != "AES" {
		t.Fatalf("key %s", key)
	}
	k, _ := base64.StdEncoding.DecodeString(km.Data)
	ivb, _ := base64.StdEncoding.DecodeString(iv)
	if len(k) != 32 || len(ivb) != 16 {
		t.Fatalf("key %d bytes, IV %d", len(k), len(ivb))
	}
	block, _ := aes.NewCipher(k)
	out := make([]byte, len(ct))
	cipher.NewCBCDecrypter(block, ivb).CryptBlocks(out, ct)
	if pad := int(out[len(out)-1]); !bytes.Equal(out[:len(out)-pad], plain) {
		t.Fatal("not AES-256-CBC/PKCS#7 under the IV given")
	}
}

func TestDecryptRefusesTampering(t *testing.T) {
	plain := bytes.Repeat([]byte{'x'}, 64) // a whole padding block follows
	ct, key, iv, err := transfer.Encrypt(plain)
	if err != nil {
		t.Fatal(err)
	}
	extra := dimp.Fields{"IV": []byte(`"` + iv + `"`)}
	// Flipping the last byte of the block before the padding block
	// turns the padding byte 0x10 into 0xEF: never valid.
	bad := bytes.Clone(ct)
	bad[len(bad)-17] ^= 0xFF
	for name, c := range map[string][]byte{"altered": bad, "cut": ct[:len(ct)-5], "empty": nil} {
		if _, err := transfer.Decrypt(c, key, extra); !errors.Is(err, transfer.ErrDecrypt) {
			t.Errorf("%s: %v, want ErrDecrypt", name, err)
		}
	}
	if _, err := transfer.Decrypt(ct, json.RawMessage(`{"algorithm":"RSA","data":"x"}`), extra); !errors.Is(err, transfer.ErrKey) {
		t.Errorf("RSA key: %v", err)
	}
	if _, err := transfer.Decrypt(ct, key, dimp.Fields{"IV": []byte(`"***"`)}); !errors.Is(err, transfer.ErrKey) {
		t.Errorf("bad IV: %v", err)
	}
	// No key, or PLAIN: the file was not encrypted.
	for _, k := range []json.RawMessage{nil, json.RawMessage(`null`), json.RawMessage(`{"algorithm":"PLAIN"}`)} {
		if got, err := transfer.Decrypt([]byte("plain"), k, nil); err != nil || string(got) != "plain" {
			t.Errorf("key %s: %q %v", k, got, err)
		}
	}
	// A tampered file is also caught by its name.
	url := "http://st/download/x/" + fmt.Sprintf("%x", md5sum(ct)) + ".bin"
	if err := transfer.CheckDigest(url, bad); !errors.Is(err, transfer.ErrDigest) {
		t.Errorf("CheckDigest: %v", err)
	}
}

func md5sum(b []byte) [16]byte { return md5.Sum(b) }

func TestDownloadLimits(t *testing.T) {
	big := bytes.Repeat([]byte{1}, 5000)
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/declared":
			w.Write(big) // with Content-Length
		case "/chunked":
			w.Write(big[:100])
			w.(http.Flusher).Flush() // no Content-Length
			w.Write(big[100:])
		case "/short":
			w.Header().Set("Content-Length", "5000")
			w.Write(big[:10])
		case "/missing":
			http.NotFound(w, r)
		}
	}))
	defer ts.Close()
	ctx := context.Background()
	for _, c := range []struct {
		path string
		max  int64
		want error
	}{
		{"/declared", 4999, transfer.ErrTooLarge},
		{"/chunked", 4999, transfer.ErrTooLarge},
		{"/short", 0, transfer.ErrTruncated},
		{"/missing", 0, transfer.ErrRefused},
		{"/declared", 5000, nil},
		{"/chunked", 5000, nil},
	} {
		got, err := transfer.Download(ctx, ts.Client(), ts.URL+c.path, c.max, nil)
		if !errors.Is(err, c.want) || (err == nil && !bytes.Equal(got, big)) {
			t.Errorf("%s (max %d): %v, want %v", c.path, c.max, err, c.want)
		}
	}
	for _, u := range []string{"file:///etc/passwd", "ftp://host/x", "javascript:alert(1)", "/relative", "http://", "data:,x"} {
		if _, err := transfer.Download(ctx, nil, u, 0, nil); !errors.Is(err, transfer.ErrNotHTTP) {
			t.Errorf("%s: %v, want ErrNotHTTP", u, err)
		}
	}
}

func TestUploadRefused(t *testing.T) {
	ts, _ := station(t, mockstation.Config{UploadMaxSize: 100})
	ctx := t.Context()
	if _, err := transfer.Upload(ctx, ts.Client(), ts.URL, testUser(t), make([]byte, 101), "x.bin", nil); !errors.Is(err, transfer.ErrRefused) {
		t.Errorf("too large: %v", err)
	}
	if _, err := transfer.UploadWithSecret(ctx, ts.Client(), ts.URL, "abcdef", testUser(t), []byte("x"), "x.bin", nil); !errors.Is(err, transfer.ErrRefused) {
		t.Errorf("wrong secret: %v", err)
	}
	if _, err := transfer.Upload(ctx, ts.Client(), "file:///tmp", testUser(t), []byte("x"), "x.bin", nil); !errors.Is(err, transfer.ErrNotHTTP) {
		t.Errorf("file URL: %v", err)
	}
	if _, err := transfer.Upload(ctx, ts.Client(), ts.URL+"/upload/{ID}/file?enigma=FFFF", testUser(t), []byte("x"), "x.bin", nil); !errors.Is(err, transfer.ErrSecret) {
		t.Errorf("unknown enigma: %v", err)
	}
	// dimchat's own server answers errors with status 200.
	flask := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(`{"code": 401, "message": "Unauthorized"}`))
	}))
	defer flask.Close()
	if _, err := transfer.Upload(ctx, nil, flask.URL, testUser(t), []byte("x"), "x.bin", nil); !errors.Is(err, transfer.ErrRefused) {
		t.Errorf("code in the body: %v", err)
	}
}

// TestUploadTemplates uploads with the URL forms dimchat's apps are
// configured with: the current one and the browser client's older one.
func TestUploadTemplates(t *testing.T) {
	ts, _ := station(t, mockstation.Config{})
	for _, api := range []string{
		ts.URL + "/upload/{ID}/file?md5={MD5}&salt={SALT}&enigma=123456",
		ts.URL + "/upload/{ID}/file?md5={MD5}&salt={SALT}",
		ts.URL + "/{ID}/upload?md5={MD5}&salt={SALT}",
		ts.URL + "/upload/{ID}/file?enigma=231028",
	} {
		ct := []byte("template " + api)
		url, err := transfer.Upload(t.Context(), ts.Client(), api, testUser(t), ct, "a.mp3", nil)
		if err != nil {
			t.Errorf("%s: %v", api, err)
			continue
		}
		got, err := transfer.Download(t.Context(), ts.Client(), url, 0, nil)
		if err != nil || !bytes.Equal(got, ct) {
			t.Errorf("%s: download %v", api, err)
		}
	}
}

func TestSave(t *testing.T) {
	dir := t.TempDir()
	outside := filepath.Dir(dir)
	long := strings.Repeat("é", 150) + ".txt" // 304 bytes
	for _, name := range []string{
		"../../etc/passwd", "/etc/passwd", `C:\Windows\system32\evil.dll`, `..\..\x.txt`,
		"a\x00b.txt", "\x1b[31mred\x1b[0m.txt", "..", ".", "", "...", ".hidden", "  spaced  ",
		"evil\u202Etxt.exe", long, "CON.txt", "a/b/c", "x:y?.txt",
	} {
		path, err := transfer.Save(dir, name, []byte("data"))
		if err != nil {
			t.Errorf("%q: %v", name, err)
			continue
		}
		if filepath.Dir(path) != dir {
			t.Errorf("%q saved at %s, outside %s", name, path, dir)
		}
		base := filepath.Base(path)
		if strings.HasPrefix(base, ".") || len(base) > 255 || strings.ContainsAny(base, "\x00\x1b\u202E/\\:?") {
			t.Errorf("%q saved as %q", name, base)
		}
		fi, err := os.Stat(path)
		if err != nil || fi.Mode().Perm() != 0o600 {
			t.Errorf("%q: %v mode %v", name, err, fi.Mode())
		}
	}
	if _, err := os.Stat(filepath.Join(outside, "etc")); err == nil {
		t.Error("something was written outside")
	}

	// Never overwritten: numbered instead.
	dir2 := t.TempDir()
	var paths []string
	for i := range 3 {
		p, err := transfer.Save(dir2, "report.pdf", []byte{byte(i)})
		if err != nil {
			t.Fatal(err)
		}
		paths = append(paths, filepath.Base(p))
	}
	want := []string{"report.pdf", "report (1).pdf", "report (2).pdf"}
	if fmt.Sprint(paths) != fmt.Sprint(want) {
		t.Errorf("names %q, want %q", paths, want)
	}
	for i, p := range want {
		if b, _ := os.ReadFile(filepath.Join(dir2, p)); !bytes.Equal(b, []byte{byte(i)}) {
			t.Errorf("%s holds %v", p, b)
		}
	}
	// No temporary file is left.
	if left, _ := filepath.Glob(filepath.Join(dir2, ".*")); len(left) > 0 {
		t.Errorf("left behind: %v", left)
	}
}

func TestSanitizeFilename(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"photo.jpg", "photo.jpg"},
		{"../../etc/passwd", "passwd"},
		{`C:\Users\x\notes.txt`, "notes.txt"},
		{"a\x00b.txt", "ab.txt"},
		{"..", "file"},
		{"", "file"},
		{".bashrc", "bashrc"},
		{"trailing. ", "trailing"},
		{"CON.txt", "_CON.txt"},
		{"a<b>.txt", "a_b_.txt"},
		{"evil\u202Etxt.exe", "eviltxt.exe"},
	} {
		if got := transfer.SanitizeFilename(c.in); got != c.want {
			t.Errorf("SanitizeFilename(%q) = %q, want %q", c.in, got, c.want)
		}
	}
	long := transfer.SanitizeFilename(strings.Repeat("é", 150) + ".txt")
	if len(long) > 255 || !strings.HasSuffix(long, ".txt") || !strings.HasPrefix(long, "é") {
		t.Errorf("long name: %d bytes %q", len(long), long)
	}
}

func TestContentType(t *testing.T) {
	png := []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
	for _, c := range []struct {
		name string
		head []byte
		want dimp.ContentType
	}{
		{"x.bin", png, dimp.ContentImage},
		{"photo.jpg", []byte("??"), dimp.ContentImage},
		{"song.mp3", []byte("??"), dimp.ContentAudio},
		{"clip.MP4", []byte("??"), dimp.ContentVideo},
		{"voice.wav", []byte("RIFF\x00\x00\x00\x00WAVEfmt "), dimp.ContentAudio},
		{"drawing.svg", []byte("<svg xmlns='http://www.w3.org/2000/svg'>"), dimp.ContentFile},
		{"report.pdf", []byte("%PDF-1.7"), dimp.ContentFile},
		{"notes", []byte("hello"), dimp.ContentFile},
	} {
		if got := transfer.ContentType(c.name, c.head); got != c.want {
			t.Errorf("ContentType(%q) = %#x, want %#x", c.name, got, c.want)
		}
	}
}
