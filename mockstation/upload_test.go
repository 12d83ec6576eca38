package mockstation_test

import (
	"bufio"
	"bytes"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"mime/multipart"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"dimtui/dimp"
	"dimtui/mockstation"
)

// The upload service, spoken by hand as dimchat's apps speak it.

// secret is the secret dimchat's apps ship ("12345678" in hex).
var secret = []byte{0x12, 0x34, 0x56, 0x78}

func testAddress(seed string) dimp.Address {
	return dimp.BTCAddress([]byte(seed), 0x08)
}

// proofQuery returns md5=…&salt=… for data: MD5(MD5(data) ‖ secret ‖
// salt), or for the older form MD5(data ‖ secret ‖ salt).
func proofQuery(data, secret []byte, legacy bool) string {
	salt := []byte("0123456789abcdef")
	h := md5.New()
	if legacy {
		h.Write(data)
	} else {
		sum := md5.Sum(data)
		h.Write(sum[:])
	}
	h.Write(secret)
	h.Write(salt)
	return "md5=" + hex.EncodeToString(h.Sum(nil)) + "&salt=" + hex.EncodeToString(salt)
}

// form returns a multipart body with one file part.
func form(t *testing.T, field, filename string, data []byte) (body []byte, contentType string) {
	t.Helper()
	var b bytes.Buffer
	mw := multipart.NewWriter(&b)
	fw, err := mw.CreateFormFile(field, filename)
	if err != nil {
		t.Fatal(err)
	}
	fw.Write(data)
	mw.Close()
	return b.Bytes(), mw.FormDataContentType()
}

type reply struct {
	Code     int    `json:"code"`
	Message  string `json:"message"`
	Filename string `json:"filename"`
	URL      string `json:"url"`
}

func post(t *testing.T, url, contentType string, body []byte) (int, reply) {
	t.Helper()
	resp, err := http.Post(url, contentType, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var rep reply
	if err := json.NewDecoder(resp.Body).Decode(&rep); err != nil {
		t.Fatalf("POST %s: %d, reply not JSON: %v", url, resp.StatusCode, err)
	}
	if rep.Code != resp.StatusCode {
		t.Errorf("reply code %d, HTTP status %d", rep.Code, resp.StatusCode)
	}
	return resp.StatusCode, rep
}

// upload sends data as a file of addr by the current form.
func upload(t *testing.T, st *station, addr dimp.Address, filename string, data []byte) (int, reply) {
	t.Helper()
	body, ct := form(t, "file", filename, data)
	return post(t, st.base+"/upload/"+addr.String()+"/file?"+proofQuery(data, secret, false)+"&enigma=123456", ct, body)
}

func get(t *testing.T, method, url string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, b
}

// files lists every file under dir, relative to it.
func files(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			rel, _ := filepath.Rel(dir, path)
			out = append(out, rel)
		}
		return nil
	})
	return out
}

func TestUploadRoundTrip(t *testing.T) {
	st := startStation(t, mockstation.Config{})
	addr := testAddress("alice")
	data := bytes.Repeat([]byte("ciphertext "), 1000)
	status, rep := upload(t, st, addr, "photo.JPG", data)
	sum := md5.Sum(data)
	wantName := hex.EncodeToString(sum[:]) + ".jpg"
	if status != http.StatusOK || rep.Filename != wantName {
		t.Fatalf("upload: %d %+v, want 200 and %s", status, rep, wantName)
	}
	if want := st.base + "/download/" + addr.String() + "/" + wantName; rep.URL != want {
		t.Fatalf("url %q, want %q", rep.URL, want)
	}
	if _, err := os.Stat(filepath.Join(st.dir, "uploads", addr.String(), wantName)); err != nil {
		t.Fatal(err)
	}

	resp, got := get(t, http.MethodGet, rep.URL)
	if resp.StatusCode != http.StatusOK || !bytes.Equal(got, data) {
		t.Fatalf("download: %d, %d bytes", resp.StatusCode, len(got))
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/octet-stream" {
		t.Errorf("Content-Type %q", ct)
	}
	if cl := resp.Header.Get("Content-Length"); cl != fmt.Sprint(len(data)) {
		t.Errorf("Content-Length %q", cl)
	}
	resp, got = get(t, http.MethodHead, rep.URL)
	if resp.StatusCode != http.StatusOK || len(got) != 0 || resp.ContentLength != int64(len(data)) {
		t.Errorf("HEAD: %d, body %d bytes, length %d", resp.StatusCode, len(got), resp.ContentLength)
	}

	// The same bytes again: the same name, no second copy.
	if status, rep2 := upload(t, st, addr, "other.jpg", data); status != http.StatusOK || rep2.URL != rep.URL {
		t.Errorf("again: %d %+v", status, rep2)
	}
	if got := files(t, filepath.Join(st.dir, "uploads")); len(got) != 1 {
		t.Errorf("files kept: %v", got)
	}
}

// TestUploadBrowserForm is the browser client's upload: the older path, the
// digest over the data, field and file names unquoted, no line break after
// the closing boundary; an avatar is served inline as an image.
func TestUploadBrowserForm(t *testing.T) {
	st := startStation(t, mockstation.Config{})
	addr := testAddress("browser")
	image := append([]byte("\x89PNG\r\n\x1a\n"), bytes.Repeat([]byte{7}, 300)...)
	for _, field := range []string{"file", "avatar"} {
		const boundary = "BU1kUJ19yLYPqv5xoT3sbKYbHwjUu1JU7roix"
		var body bytes.Buffer
		body.WriteString("--" + boundary + "\r\nContent-Disposition: form-data; name=" + field +
			"; filename=0cc175b9c0f1b6a831c399e269772661.png\r\nContent-Type: application/octet-stream\r\n\r\n")
		body.Write(image)
		body.WriteString("\r\n--" + boundary + "--")
		status, rep := post(t, st.base+"/"+addr.String()+"/upload?"+proofQuery(image, secret, true),
			"multipart/form-data; boundary="+boundary, body.Bytes())
		if status != http.StatusOK {
			t.Fatalf("%s: %d %+v", field, status, rep)
		}
		kind := map[string]string{"file": "/download/", "avatar": "/avatar/"}[field]
		if !strings.Contains(rep.URL, kind) {
			t.Errorf("%s: url %s", field, rep.URL)
		}
		resp, got := get(t, http.MethodGet, rep.URL)
		want := map[string]string{"file": "application/octet-stream", "avatar": "image/png"}[field]
		if resp.StatusCode != http.StatusOK || !bytes.Equal(got, image) || resp.Header.Get("Content-Type") != want {
			t.Errorf("%s: GET %d %q", field, resp.StatusCode, resp.Header.Get("Content-Type"))
		}
	}
	// The current form's avatar path takes images only.
	body, ct := form(t, "file", "a.exe", image)
	if status, _ := post(t, st.base+"/upload/"+addr.String()+"/avatar?"+proofQuery(image, secret, false), ct, body); status != http.StatusUnsupportedMediaType {
		t.Errorf("avatar a.exe: %d", status)
	}
}

func TestUploadRefused(t *testing.T) {
	st := startStation(t, mockstation.Config{UploadMaxSize: 1000})
	addr := testAddress("mallory")
	data := []byte("some encrypted bytes")
	body, ct := form(t, "file", "x.bin", data)
	path := st.base + "/upload/" + addr.String() + "/file?"
	for _, c := range []struct {
		name, url, contentType string
		body                   []byte
		want                   int
	}{
		{"wrong secret", path + proofQuery(data, []byte("guess"), false), ct, body, http.StatusUnauthorized},
		{"older digest on the current path", path + proofQuery(data, secret, true), ct, body, http.StatusUnauthorized},
		{"unknown enigma", path + proofQuery(data, secret, false) + "&enigma=ABCDEF", ct, body, http.StatusForbidden},
		{"no md5", path + "salt=00", ct, body, http.StatusBadRequest},
		{"bad salt", path + "md5=" + strings.Repeat("0", 32) + "&salt=zz", ct, body, http.StatusBadRequest},
		{"not multipart", path + proofQuery(data, secret, false), "application/octet-stream", data, http.StatusBadRequest},
		{"malformed multipart", path + proofQuery(data, secret, false), "multipart/form-data; boundary=xyz",
			[]byte("--xyz\r\nContent-Disposition: form-data; name=file; filename=a.bin\r\n\r\nunterminated"), http.StatusBadRequest},
		{"no file part", path + proofQuery(data, secret, false), ct, mustForm(t, "other", "x.bin", data), http.StatusBadRequest},
		{"no extension", path + proofQuery(data, secret, false), ct, mustForm(t, "file", "noext", data), http.StatusUnsupportedMediaType},
		{"empty file", path + proofQuery(nil, secret, false), ct, mustForm(t, "file", "x.bin", nil), http.StatusBadRequest},
		{"too large", path + proofQuery(make([]byte, 1001), secret, false), ct, mustForm(t, "file", "x.bin", make([]byte, 1001)),
			http.StatusRequestEntityTooLarge},
		{"far too large", path + proofQuery(data, secret, false), ct, mustForm(t, "file", "x.bin", make([]byte, 200<<10)),
			http.StatusRequestEntityTooLarge},
		{"broadcast uploader", st.base + "/upload/anywhere/file?" + proofQuery(data, secret, false), ct, body, http.StatusBadRequest},
		{"not an address", st.base + "/upload/not-an-address/file?" + proofQuery(data, secret, false), ct, body, http.StatusBadRequest},
		{"dot dot", st.base + "/upload/../file?" + proofQuery(data, secret, false), ct, body, http.StatusBadRequest},
	} {
		t.Run(c.name, func(t *testing.T) {
			// mustForm bodies carry their own boundary.
			contentType := c.contentType
			if c.contentType == ct && !bytes.Equal(c.body, body) {
				contentType = "multipart/form-data; boundary=" + formBoundary
			}
			if status, rep := post(t, c.url, contentType, c.body); status != c.want {
				t.Errorf("got %d (%s), want %d", status, rep.Message, c.want)
			}
		})
	}
	if got := files(t, st.dir); len(got) > 0 {
		for _, f := range got {
			if strings.HasPrefix(f, "uploads") || strings.HasPrefix(f, "avatars") {
				t.Errorf("left behind: %s", f)
			}
		}
	}

	resp, _ := get(t, http.MethodGet, path)
	if resp.StatusCode != http.StatusMethodNotAllowed || resp.Header.Get("Allow") == "" {
		t.Errorf("GET on the upload path: %d", resp.StatusCode)
	}
	resp, _ = get(t, http.MethodDelete, st.base+"/download/"+addr.String()+"/"+strings.Repeat("a", 32)+".bin")
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("DELETE a download: %d", resp.StatusCode)
	}
}

// formBoundary is the boundary of mustForm bodies.
const formBoundary = "upload-test-boundary"

func mustForm(t *testing.T, field, filename string, data []byte) []byte {
	t.Helper()
	var b bytes.Buffer
	mw := multipart.NewWriter(&b)
	if err := mw.SetBoundary(formBoundary); err != nil {
		t.Fatal(err)
	}
	fw, err := mw.CreateFormFile(field, filename)
	if err != nil {
		t.Fatal(err)
	}
	fw.Write(data)
	mw.Close()
	return b.Bytes()
}

func TestUploadQuota(t *testing.T) {
	st := startStation(t, mockstation.Config{UploadMaxSize: 2000, UploadQuota: 2500})
	addr := testAddress("hoarder")
	a, b := bytes.Repeat([]byte{1}, 1500), bytes.Repeat([]byte{2}, 1500)
	if status, rep := upload(t, st, addr, "a.bin", a); status != http.StatusOK {
		t.Fatalf("first: %d %s", status, rep.Message)
	}
	status, rep := upload(t, st, addr, "b.bin", b)
	if status != http.StatusInsufficientStorage || !strings.Contains(rep.Message, "quota") {
		t.Fatalf("past the quota: %d %q", status, rep.Message)
	}
	if status, _ := upload(t, st, addr, "a.bin", a); status != http.StatusOK {
		t.Errorf("the same file again: %d", status)
	}
	// Another uploader has a quota of its own.
	if status, _ := upload(t, st, testAddress("other"), "b.bin", b); status != http.StatusOK {
		t.Errorf("another uploader: %d", status)
	}
	if got := files(t, filepath.Join(st.dir, "uploads", addr.String())); len(got) != 1 {
		t.Errorf("kept: %v", got)
	}
}

func TestUploadDownloadTraversal(t *testing.T) {
	st := startStation(t, mockstation.Config{})
	addr := testAddress("alice")
	data := []byte("0123456789abcdef")
	status, rep := upload(t, st, addr, "../../../evil.bin", data)
	if status != http.StatusOK || strings.Contains(rep.Filename, "/") {
		t.Fatalf("upload: %d %+v", status, rep)
	}
	// Something outside the uploads that a traversal would reach.
	secretFile := filepath.Join(st.dir, "uploads", "secret.bin")
	if err := os.WriteFile(secretFile, []byte("not for you"), 0o600); err != nil {
		t.Fatal(err)
	}
	tmp := filepath.Join(st.dir, "uploads", addr.String(), ".part-123")
	if err := os.WriteFile(tmp, []byte("partial"), 0o600); err != nil {
		t.Fatal(err)
	}
	a := addr.String()
	for _, p := range []string{
		"/download/" + a + "/../secret.bin",
		"/download/" + a + "/..%2Fsecret.bin",
		"/download/" + a + "/%2e%2e%2fsecret.bin",
		"/download/../uploads/secret.bin",
		"/download/" + a + "/.part-123",
		"/download/" + a + "/" + strings.ToUpper(rep.Filename),
		"/download/" + a + "/" + strings.Repeat("0", 32) + ".bin",
		"/download/" + a + "/" + rep.Filename + "%00.txt",
		"/download/" + a + "/" + strings.TrimSuffix(rep.Filename, ".bin") + ".../",
		"/avatar/" + a + "/" + rep.Filename,
		"/download/everywhere/" + rep.Filename,
		"/download/" + a + "/",
	} {
		resp, body := get(t, http.MethodGet, st.base+p)
		if resp.StatusCode != http.StatusNotFound {
			t.Errorf("GET %s: %d %q", p, resp.StatusCode, body)
		}
	}
	// Another spelling of the uploader (an ID) reaches the same file.
	resp, body := get(t, http.MethodGet, st.base+"/download/alice@"+a+"/"+rep.Filename)
	if resp.StatusCode != http.StatusOK || !bytes.Equal(body, data) {
		t.Errorf("by ID: %d", resp.StatusCode)
	}
}

func TestUploadKeptAcrossRestart(t *testing.T) {
	dir := t.TempDir()
	st := startStation(t, mockstation.Config{DataDir: dir})
	addr := testAddress("alice")
	data := []byte("kept across a restart")
	status, rep := upload(t, st, addr, "k.bin", data)
	if status != http.StatusOK {
		t.Fatalf("upload: %d", status)
	}
	st.stop()

	st2 := startStation(t, mockstation.Config{DataDir: dir})
	resp, body := get(t, http.MethodGet, st2.base+"/download/"+addr.String()+"/"+rep.Filename)
	if resp.StatusCode != http.StatusOK || !bytes.Equal(body, data) {
		t.Fatalf("after restart: %d %q", resp.StatusCode, body)
	}
}

func TestUploadOff(t *testing.T) {
	st := startStation(t, mockstation.Config{UploadMaxSize: -1})
	data := []byte("x")
	body, ct := form(t, "file", "x.bin", data)
	resp, err := http.Post(st.base+"/upload/"+testAddress("a").String()+"/file?"+proofQuery(data, secret, false), ct, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("upload with the service off: %d", resp.StatusCode)
	}
}

// TestUploadServed uploads through Serve, past the connection limits.
func TestUploadServed(t *testing.T) {
	st := startServed(t, mockstation.Config{UploadURL: "http://files.example:9394/"})
	addr := testAddress("served")
	status, rep := upload(t, st, addr, "s.mp4", []byte("served bytes"))
	if status != http.StatusOK || !strings.HasPrefix(rep.URL, "http://files.example:9394/download/"+addr.String()+"/") {
		t.Fatalf("upload: %d %+v", status, rep)
	}
	resp, body := get(t, http.MethodGet, st.base+strings.TrimPrefix(rep.URL, "http://files.example:9394"))
	if resp.StatusCode != http.StatusOK || string(body) != "served bytes" {
		t.Errorf("download: %d %q", resp.StatusCode, body)
	}
}

// rawForm is a multipart body with one part whose Content-Disposition is
// given as is.
func rawForm(boundary, disposition string, data []byte) []byte {
	var body bytes.Buffer
	body.WriteString("--" + boundary + "\r\nContent-Disposition: " + disposition +
		"\r\nContent-Type: application/octet-stream\r\n\r\n")
	body.Write(data)
	body.WriteString("\r\n--" + boundary + "--")
	return body.Bytes()
}

// TestUploadUnquotedFilename: the browser client writes a file name with
// a space unquoted, which the standard multipart parser cannot read; the
// station takes it, keeping its extension. A form without the file part
// is told what it had instead.
func TestUploadUnquotedFilename(t *testing.T) {
	st := startStation(t, mockstation.Config{})
	addr := testAddress("browser")
	data := append([]byte("\x89PNG\r\n\x1a\n"), bytes.Repeat([]byte{9}, 200)...)
	sum := md5.Sum(data)
	const boundary = "WebKitFormBoundary7MA4YWxkTrZu0gW"
	ct := "multipart/form-data; boundary=" + boundary
	legacy := st.base + "/" + addr.String() + "/upload?" + proofQuery(data, secret, true)
	for _, c := range []struct{ disposition, wantExt string }{
		{"form-data; name=file; filename=holiday.2024 (1).png", "png"},
		{`form-data; name="file"; filename="holiday.2024 (1).png"`, "png"},
		{"form-data; name=file; filename=my photo; final.JPG", "jpg"},
		{`form-data; name=avatar; filename="summer pic (2).jpeg`, "jpeg"},
	} {
		status, rep := post(t, legacy, ct, rawForm(boundary, c.disposition, data))
		if want := hex.EncodeToString(sum[:]) + "." + c.wantExt; status != http.StatusOK || rep.Filename != want {
			t.Errorf("%s: %d %+v, want 200 and %s", c.disposition, status, rep, want)
		}
	}

	for _, c := range []struct{ name, disposition, want string }{
		{"no field name", "form-data; filename=holiday.2024 (1).png", `no field ("form-data; filename=holiday.2024 (1).png")`},
		{"another field", "form-data; name=photo; filename=a.png", `it has "photo"`},
		{"not form-data", "attachment; name=file; filename=a b.png", `no field ("attachment; name=file; filename=a b.png")`},
	} {
		status, rep := post(t, legacy, ct, rawForm(boundary, c.disposition, data))
		if status != http.StatusBadRequest || !strings.Contains(rep.Message, `needs a part named "file" or "avatar"`) ||
			!strings.Contains(rep.Message, c.want) {
			t.Errorf("%s: %d %q, want 400 naming %s", c.name, status, rep.Message, c.want)
		}
	}
	status, rep := post(t, st.base+"/upload/"+addr.String()+"/file?"+proofQuery(data, secret, false), ct,
		[]byte("--"+boundary+"--\r\n"))
	if status != http.StatusBadRequest || !strings.Contains(rep.Message, "no parts") {
		t.Errorf("empty form: %d %q", status, rep.Message)
	}
	// png and jpg files; the jpeg went as an avatar.
	if got := files(t, filepath.Join(st.dir, "uploads")); len(got) != 2 {
		t.Errorf("kept: %v", got)
	}
}

// TestUploadSlowLink: under Serve, an upload whose body takes longer than
// the handshake deadline still goes through (Config.UploadTimeout), while
// a connection that sends nothing, or nothing more after its upload, is
// closed at the handshake deadline as before.
func TestUploadSlowLink(t *testing.T) {
	const deadline = 300 * time.Millisecond
	st := startServed(t, mockstation.Config{HandshakeTimeout: deadline, UploadTimeout: time.Minute})
	addr := testAddress("slow")
	data := bytes.Repeat([]byte("slow bytes "), 500)
	body, ct := form(t, "file", "slow.bin", data)

	idle, err := net.DialTimeout("tcp", st.addr, waitFor)
	if err != nil {
		t.Fatal(err)
	}
	defer idle.Close()
	conn, err := net.DialTimeout("tcp", st.addr, waitFor)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	start := time.Now()
	fmt.Fprintf(conn, "POST /upload/%s/file?%s HTTP/1.1\r\nHost: station\r\nContent-Type: %s\r\nContent-Length: %d\r\n\r\n",
		addr, proofQuery(data, secret, false), ct, len(body))
	// The body, a piece at a time, over four times the deadline.
	const pieces = 8
	for i := range pieces {
		time.Sleep(4 * deadline / pieces)
		if _, err := conn.Write(body[i*len(body)/pieces : (i+1)*len(body)/pieces]); err != nil {
			t.Fatalf("write piece %d after %v: %v", i, time.Since(start), err)
		}
	}
	conn.SetReadDeadline(time.Now().Add(waitFor))
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatalf("after %v: %v", time.Since(start), err)
	}
	var rep reply
	err = json.NewDecoder(resp.Body).Decode(&rep)
	resp.Body.Close()
	if err != nil || resp.StatusCode != http.StatusOK || !strings.HasSuffix(rep.Filename, ".bin") {
		t.Fatalf("slow upload: %d %+v %v", resp.StatusCode, rep, err)
	}
	if took := time.Since(start); took < 3*deadline {
		t.Fatalf("the upload took %v: not slower than the deadline, the test proves nothing", took)
	}

	// The connection that said nothing was closed long ago.
	idle.SetReadDeadline(time.Now().Add(waitFor))
	if n, err := idle.Read(make([]byte, 1)); err == nil || isTimeout(err) {
		t.Errorf("an idle connection: read %d, %v; want it closed", n, err)
	}
	// The uploader's connection, idle now, is closed within the deadline
	// again, not left open for UploadTimeout.
	idleFrom := time.Now()
	if n, err := br.Read(make([]byte, 1)); err == nil || isTimeout(err) {
		t.Errorf("after the upload: read %d, %v; want it closed", n, err)
	}
	if after := time.Since(idleFrom); after > deadline+2*time.Second {
		t.Errorf("closed %v after the upload, want about %v", after, deadline)
	}
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}
