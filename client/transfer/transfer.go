// Package transfer moves a file between DIM users the way dimchat's apps
// do: a file is not put into a message. The sender encrypts it with a
// fresh AES-256 key (Encrypt), uploads the ciphertext to the station's
// upload service (Upload), and sends a file, image, audio or video content
// carrying the download URL, the key (`key`, legacy `password`) and the
// IV (`IV`, top level of the content). The receiver downloads the
// ciphertext (Download), opens it with the key and IV from the content
// (Decrypt) and keeps it (Save).
//
// The upload protocol is dimchat's file server's (served by mockstation;
// see its upload.go): POST a multipart form with one part named "file" to
// /upload/{address}/file?md5=…&salt=…&enigma=…, where md5 proves knowledge
// of a shared secret that the apps ship: MD5(MD5(data) ‖ secret ‖ salt) in
// hex. The answer is JSON whose "url" is the download URL.
package transfer

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"net/url"
	"path"
	"strings"

	"dimtui/dimp"
	"dimtui/dimp/crypto"
)

// Errors for callers to test with errors.Is.
var (
	// ErrNotHTTP: a URL to upload to or download from is not http(s).
	ErrNotHTTP = errors.New("transfer: not an http or https URL")
	// ErrTooLarge: a file is larger than allowed, or than it said it was.
	ErrTooLarge = errors.New("transfer: file too large")
	// ErrTruncated: a download ended before its declared length.
	ErrTruncated = errors.New("transfer: download cut short")
	// ErrKey: the content's key (or IV) cannot be read or used.
	ErrKey = errors.New("transfer: unusable file key")
	// ErrDecrypt: the file does not open with its key: wrong key or IV,
	// or the ciphertext was altered.
	ErrDecrypt = errors.New("transfer: cannot decrypt file")
	// ErrDigest: a downloaded file does not hash to the name the upload
	// service gave it.
	ErrDigest = errors.New("transfer: file does not match its URL")
	// ErrRefused: the server answered an upload or download with an error.
	ErrRefused = errors.New("transfer: refused by the server")
	// ErrResponse: the server's answer to an upload cannot be read.
	ErrResponse = errors.New("transfer: unreadable upload response")
	// ErrSecret: the upload secret is not hex, or none matches the
	// enigma of the upload URL.
	ErrSecret = errors.New("transfer: no usable upload secret")
)

// DefaultMaxSize is the largest file Download takes when not told
// otherwise: the upload service's own limit (16 MiB).
const DefaultMaxSize = 16 << 20

// Secrets are the upload secrets dimchat's apps ship, in hex; the first
// one is what they use (enigma "123456"). Upload picks one by the enigma
// of the upload URL.
func Secrets() []string { return []string{"12345678", "231028C0FE", "250110C0FFEE"} }

// Progress hears how a transfer goes: done bytes of total (-1 when
// unknown). It is called from the goroutine doing the transfer.
type Progress func(done, total int64)

// Encrypt seals a file for upload under a fresh AES-256 key (CBC, PKCS#7,
// a random IV). It returns the ciphertext, the key map to put into the
// content's `key`, and the IV in Base64 for the content's top-level `IV`:
// that is where dimchat's apps look for it (their AES encrypt writes the
// IV into the content map it is given), so a Dart, Python or JavaScript
// client decrypts what this encrypts. See Attach.
func Encrypt(plain []byte) (cipher []byte, key json.RawMessage, iv string, err error) {
	k, err := crypto.GenerateAES()
	if err != nil {
		return nil, nil, "", fmt.Errorf("transfer: %w", err)
	}
	ct, ivb, err := k.Encrypt(plain)
	if err != nil {
		return nil, nil, "", fmt.Errorf("transfer: encrypt: %w", err)
	}
	km, err := k.MarshalJSON()
	if err != nil {
		return nil, nil, "", fmt.Errorf("transfer: key: %w", err)
	}
	return ct, km, base64.StdEncoding.EncodeToString(ivb), nil
}

// Attach puts the download URL, the key and the IV of an uploaded file
// into its content, as dimchat's apps send it.
func Attach(c *dimp.FileContent, downloadURL string, key json.RawMessage, iv string) {
	c.URL = downloadURL
	c.Key = key
	c.Data = ""
	if iv != "" {
		if c.Extra == nil {
			c.Extra = dimp.Fields{}
		}
		q, _ := json.Marshal(iv) // a string: cannot fail
		c.Extra["IV"] = q
	}
}

// Decrypt opens a downloaded file with the content's key and the content's
// other members (extra, where the IV is: `IV`, or `iv` from older peers).
// With no IV the key's own legacy `iv` is used, else sixteen zero bytes,
// as dimchat's clients do. An absent or PLAIN key means the file was not
// encrypted (avatars, broadcasts). (Very old clients sent no key and meant
// the message's own key; that is for the caller to pass.)
func Decrypt(cipher []byte, key json.RawMessage, extra dimp.Fields) ([]byte, error) {
	if k := bytes.TrimSpace(key); len(k) == 0 || bytes.Equal(k, []byte("null")) {
		return cipher, nil
	}
	k, err := crypto.ParseSymmetricKey(key)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrKey, err)
	}
	iv, err := contentIV(extra)
	if err != nil {
		return nil, err
	}
	plain, err := k.Decrypt(cipher, iv)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrDecrypt, err)
	}
	return plain, nil
}

// DecryptContent is Decrypt with the key and IV of c.
func DecryptContent(c *dimp.FileContent, cipher []byte) ([]byte, error) {
	return Decrypt(cipher, c.Key, c.Extra)
}

// contentIV reads the IV a content carries; nil when it has none.
func contentIV(extra dimp.Fields) ([]byte, error) {
	for _, name := range []string{"IV", "iv"} {
		raw, ok := extra[name]
		if !ok || bytes.Equal(bytes.TrimSpace(raw), []byte("null")) {
			continue
		}
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return nil, fmt.Errorf("%w: %s is not a string", ErrKey, name)
		}
		s = strings.TrimPrefix(s, "base64,") // the legacy transportable form
		iv, err := base64.StdEncoding.DecodeString(s)
		if err != nil {
			iv, err = base64.RawStdEncoding.DecodeString(s)
		}
		if err != nil {
			return nil, fmt.Errorf("%w: %s is not Base64", ErrKey, name)
		}
		return iv, nil
	}
	return nil, nil
}

// httpURL parses s and checks that it is an absolute http(s) URL.
func httpURL(s string) (*url.URL, error) {
	u, err := url.Parse(s)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrNotHTTP, err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("%w: %q", ErrNotHTTP, s)
	}
	return u, nil
}

// Upload sends ciphertext to the upload service as the user uploader and
// returns its download URL, using the secret dimchat's apps use (or the
// one of Secrets that the enigma of api names). See UploadWithSecret.
func Upload(ctx context.Context, client *http.Client, api string, uploader dimp.ID, cipher []byte,
	filename string, progress Progress) (string, error) {
	return UploadWithSecret(ctx, client, api, "", uploader, cipher, filename, progress)
}

// UploadWithSecret sends ciphertext to the upload service and returns its
// download URL.
//
// api is either the station's base URL (http://host:port), to which
// /upload/{address}/file is added, or a template as dimchat's apps
// configure it, with {ID} (replaced by the uploader's address) and
// optionally {MD5}, {SALT} and {ENIGMA}, such as
// http://host:port/upload/{ID}/file?md5={MD5}&salt={SALT}&enigma=123456.
// A template whose path ends in /upload is the older form, whose digest
// covers the data itself instead of its MD5.
//
// secretHex is the shared secret; empty picks from Secrets by the
// template's enigma (the first one without). The upload goes as a
// multipart form with one part "file" named <md5 of cipher>.<extension of
// filename>; the service names the file the same way.
func UploadWithSecret(ctx context.Context, client *http.Client, api, secretHex string, uploader dimp.ID,
	cipher []byte, filename string, progress Progress) (string, error) {
	if client == nil {
		client = http.DefaultClient
	}
	if len(cipher) == 0 {
		return "", fmt.Errorf("transfer: nothing to upload")
	}
	target, err := uploadURL(api, secretHex, uploader, cipher)
	if err != nil {
		return "", err
	}

	sum := md5.Sum(cipher)
	name := hex.EncodeToString(sum[:]) + "." + uploadExtension(filename)
	var head bytes.Buffer
	mw := multipart.NewWriter(&head)
	h := textproto.MIMEHeader{}
	h.Set("Content-Disposition", mime.FormatMediaType("form-data", map[string]string{"name": "file", "filename": name}))
	h.Set("Content-Type", "application/octet-stream")
	if _, err := mw.CreatePart(h); err != nil {
		return "", fmt.Errorf("transfer: form: %w", err)
	}
	tail := "\r\n--" + mw.Boundary() + "--\r\n"
	total := int64(head.Len() + len(cipher) + len(tail))
	body := io.MultiReader(bytes.NewReader(head.Bytes()), bytes.NewReader(cipher), strings.NewReader(tail))

	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, &counting{r: body, total: total, progress: progress})
	if err != nil {
		return "", fmt.Errorf("transfer: upload: %w", err)
	}
	req.ContentLength = total
	req.Header.Set("Content-Type", mw.FormDataContentType())
	resp, err := client.Do(req)
	if err != nil {
		return "", fmt.Errorf("transfer: upload: %w", err)
	}
	defer resp.Body.Close()
	var rep struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
		URL     string `json:"url"`
		URL2    string `json:"URL"`
	}
	dec := json.NewDecoder(io.LimitReader(resp.Body, 64<<10))
	decErr := dec.Decode(&rep)
	// dimchat's server answers errors with status 200 and the code in the
	// body; this station sets both.
	if resp.StatusCode != http.StatusOK || (decErr == nil && rep.Code != 0 && rep.Code != http.StatusOK) {
		code := rep.Code
		if resp.StatusCode != http.StatusOK {
			code = resp.StatusCode
		}
		return "", fmt.Errorf("%w: upload: %d %s", ErrRefused, code, oneLine(rep.Message))
	}
	if decErr != nil {
		return "", fmt.Errorf("%w: %v", ErrResponse, decErr)
	}
	down := rep.URL
	if down == "" {
		down = rep.URL2
	}
	if _, err := httpURL(down); err != nil {
		return "", fmt.Errorf("%w: download URL: %w", ErrResponse, err)
	}
	return down, nil
}

// uploadURL fills in the upload URL for cipher: address, digest, salt,
// enigma.
func uploadURL(api, secretHex string, uploader dimp.ID, cipher []byte) (string, error) {
	if _, err := httpURL(strings.NewReplacer("{ID}", "x", "{MD5}", "", "{SALT}", "", "{ENIGMA}", "").Replace(api)); err != nil {
		return "", err
	}
	if uploader.IsZero() {
		return "", fmt.Errorf("transfer: no uploader")
	}
	addr := uploader.Address().String()
	if !strings.Contains(api, "{ID}") {
		api = strings.TrimRight(api, "/") + "/upload/{ID}/file"
	}
	u, err := url.Parse(strings.ReplaceAll(api, "{ID}", url.PathEscape(addr)))
	if err != nil {
		return "", fmt.Errorf("%w: %v", ErrNotHTTP, err)
	}
	legacy := strings.HasSuffix(u.Path, "/upload")

	// The enigma names the secret: the first whose hex starts with it.
	q := u.Query()
	enigma := q.Get("enigma")
	if enigma == "{ENIGMA}" {
		enigma = ""
	}
	secretText := secretHex
	if secretText == "" {
		for _, s := range Secrets() {
			if strings.HasPrefix(strings.ToUpper(s), strings.ToUpper(enigma)) {
				secretText = s
				break
			}
		}
	}
	secret, err := hex.DecodeString(secretText)
	if err != nil || len(secret) == 0 {
		return "", fmt.Errorf("%w: enigma %q", ErrSecret, enigma)
	}
	if enigma == "" {
		enigma = secretText[:min(6, len(secretText))]
	}

	salt := make([]byte, 16)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("transfer: salt: %w", err)
	}
	h := md5.New()
	if legacy {
		h.Write(cipher)
	} else {
		sum := md5.Sum(cipher)
		h.Write(sum[:])
	}
	h.Write(secret)
	h.Write(salt)
	q.Set("md5", hex.EncodeToString(h.Sum(nil)))
	q.Set("salt", hex.EncodeToString(salt))
	q.Set("enigma", enigma)
	u.RawQuery = q.Encode()
	return u.String(), nil
}

// uploadExtension is the extension the uploaded name gets: the file's
// own, lowercased, if it is 1 to 10 letters and digits; else "bin".
func uploadExtension(filename string) string {
	ext := strings.ToLower(strings.TrimPrefix(path.Ext(strings.ReplaceAll(filename, `\`, "/")), "."))
	if ext == "" || len(ext) > 10 {
		return "bin"
	}
	for _, c := range ext {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9') {
			return "bin"
		}
	}
	return ext
}

// Download fetches the file at rawURL, at most maxSize bytes
// (DefaultMaxSize when 0 or less). Only http and https URLs are fetched;
// a file larger than maxSize is refused before it is read when it says so
// and as soon as it passes maxSize when it does not, and a body shorter
// than its Content-Length is an error.
func Download(ctx context.Context, client *http.Client, rawURL string, maxSize int64, progress Progress) ([]byte, error) {
	if client == nil {
		client = http.DefaultClient
	}
	if maxSize <= 0 {
		maxSize = DefaultMaxSize
	}
	if _, err := httpURL(rawURL); err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, rawURL, nil)
	if err != nil {
		return nil, fmt.Errorf("transfer: download: %w", err)
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("transfer: download: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%w: download: %s", ErrRefused, resp.Status)
	}
	total := resp.ContentLength // -1 when unknown
	if total > maxSize {
		return nil, fmt.Errorf("%w: %d bytes, at most %d taken", ErrTooLarge, total, maxSize)
	}
	var buf bytes.Buffer
	if total > 0 {
		buf.Grow(int(total))
	}
	src := &counting{r: io.LimitReader(resp.Body, maxSize+1), total: total, progress: progress}
	n, err := io.Copy(&buf, src)
	switch {
	case n > maxSize:
		return nil, fmt.Errorf("%w: more than %d bytes", ErrTooLarge, maxSize)
	case errors.Is(err, io.ErrUnexpectedEOF) || (err == nil && total >= 0 && n < total):
		return nil, fmt.Errorf("%w: %d of %d bytes", ErrTruncated, n, total)
	case err != nil:
		return nil, fmt.Errorf("transfer: download: %w", err)
	case total >= 0 && n > total:
		return nil, fmt.Errorf("%w: more than the %d bytes declared", ErrTooLarge, total)
	}
	return buf.Bytes(), nil
}

// CheckDigest checks downloaded ciphertext against its URL: the upload
// service names a file by the MD5 of its bytes, and the URL comes inside
// the signed message, so a file that does not hash to its name was
// altered on the way. A URL whose file name is not of that form (another
// server's) is not checked.
func CheckDigest(rawURL string, cipher []byte) error {
	u, err := url.Parse(rawURL)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrNotHTTP, err)
	}
	base := path.Base(u.Path)
	digest, _, ok := strings.Cut(base, ".")
	if !ok || len(digest) != 2*md5.Size {
		return nil
	}
	want, err := hex.DecodeString(digest)
	if err != nil {
		return nil
	}
	got := md5.Sum(cipher)
	if !bytes.Equal(got[:], want) {
		return fmt.Errorf("%w: %s", ErrDigest, base)
	}
	return nil
}

// counting reports the bytes read through it.
type counting struct {
	r        io.Reader
	done     int64
	total    int64
	progress Progress
}

func (c *counting) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	if n > 0 {
		c.done += int64(n)
		if c.progress != nil {
			c.progress(c.done, c.total)
		}
	}
	return n, err
}

// oneLine shortens a server's message for an error.
func oneLine(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return s
}

// ContentType picks the content type a file is sent as: image (0x12),
// audio (0x14) or video (0x16) by its sniffed bytes, then by its name's
// extension; a file (0x10) otherwise. head is the start of the file (512
// bytes are enough). SVG is sent as a file: it is a document that can
// carry script, not a picture.
func ContentType(filename string, head []byte) dimp.ContentType {
	if t := mediaKind(http.DetectContentType(head)); t != dimp.ContentFile {
		return t
	}
	ext := strings.ToLower(path.Ext(strings.ReplaceAll(filename, `\`, "/")))
	if ext == "" {
		return dimp.ContentFile
	}
	if t := mediaKind(mime.TypeByExtension(ext)); t != dimp.ContentFile {
		return t
	}
	// The system's MIME table may not know these.
	switch ext {
	case ".mp3", ".m4a", ".aac", ".wav", ".ogg", ".oga", ".opus", ".flac", ".amr":
		return dimp.ContentAudio
	case ".mp4", ".m4v", ".mov", ".webm", ".mkv", ".avi", ".3gp":
		return dimp.ContentVideo
	case ".png", ".jpg", ".jpeg", ".gif", ".webp", ".heic", ".bmp":
		return dimp.ContentImage
	}
	return dimp.ContentFile
}

// mediaKind maps a MIME type to a content type.
func mediaKind(mimeType string) dimp.ContentType {
	mt, _, err := mime.ParseMediaType(mimeType)
	if err != nil {
		return dimp.ContentFile
	}
	switch {
	case mt == "image/svg+xml":
		return dimp.ContentFile
	case strings.HasPrefix(mt, "image/"):
		return dimp.ContentImage
	case strings.HasPrefix(mt, "audio/"):
		return dimp.ContentAudio
	case strings.HasPrefix(mt, "video/"):
		return dimp.ContentVideo
	}
	return dimp.ContentFile
}
