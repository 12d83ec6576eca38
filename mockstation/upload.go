package mockstation

import (
	"crypto/md5"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"dimtui/dimp"
)

// The upload service: where DIM clients put the files they send. dimchat's
// apps do not put a file into a message; they encrypt it with a fresh AES
// key, upload the ciphertext to a file server over HTTP, and send a file
// content carrying the download URL and the key. dimchat ran that file
// server beside its station (station-py's fileserver, now a project of its
// own); this station serves the same protocol on its own port:
//
//	POST /upload/{address}/file?md5=…&salt=…[&enigma=…]    an encrypted file
//	POST /upload/{address}/avatar?md5=…&salt=…[&enigma=…]  an avatar image (plain)
//	POST /{address}/upload?md5=…&salt=…                    the older form (the browser client)
//	GET  /download/{address}/{md5}.{ext}                   a file, as stored
//	GET  /avatar/{address}/{md5}.{ext}                     an avatar
//
// The body is multipart/form-data with one file part named "file" (the
// older form also takes "avatar", which makes it an avatar upload). The
// path names the uploader by address (a full ID is read too). The query
// proves that the client knows the shared secret: salt is random bytes in
// hex, md5 the hex MD5 digest of MD5(data) ‖ secret ‖ salt, where data is
// the uploaded bytes; the older form hashes data ‖ secret ‖ salt instead.
// enigma, when given, chooses the secret: the first whose hex text starts
// with it. The secret ships inside dimchat's apps, so it keeps out only
// clients that do not speak the protocol; it is not an authentication.
//
// The station keeps a file as <DataDir>/uploads/<address>/<md5>.<ext> (an
// avatar under avatars/), named by the MD5 of its bytes and the extension
// of the uploaded name, and answers with JSON:
//
//	{"code": 200, "message": "OK", "filename": "<md5>.<ext>", "url": "http://…/download/<address>/<md5>.<ext>"}
//
// or, on an error, {"code": N, "message": "…"} with N also the HTTP status
// (dimchat's server answers every error with status 200 and the code only
// in the body). A file never holds a key: what is uploaded is stored and
// served as it came, so the station sees ciphertext only.
//
// Under Serve, a request to the upload service must send its headers
// within Config.HandshakeTimeout of its connection's accept, like any
// request; from then on it has Config.UploadTimeout to finish (see
// limits.go).

// Defaults for Config.Upload….
const (
	// DefaultUploadMaxSize is the largest file taken, as dimchat's file
	// server allows (16 MiB).
	DefaultUploadMaxSize = 16 << 20
	// DefaultUploadQuota is what one uploader may keep at the station,
	// files and avatars together: 16 of the largest files.
	DefaultUploadQuota = 256 << 20
)

// DefaultUploadSecrets returns the secrets, in hex, that dimchat's apps
// ship and its file server accepts (the first is the one the apps use).
func DefaultUploadSecrets() []string {
	return []string{"12345678", "231028C0FE", "250110C0FFEE"}
}

const (
	uploadsDir = "uploads" // encrypted files, under the data directory
	avatarsDir = "avatars" // avatar images
	// formSlack is what the multipart framing around the file may add to
	// a body: boundaries, part headers, small fields.
	formSlack = 64 << 10
	// maxParts bounds the parts of one form.
	maxParts = 8
	// tempPrefix starts the names of files being received; names the
	// service hands out never start with a dot.
	tempPrefix = ".part-"
	// staleTemp is the age past which a leftover temporary file (the
	// station was killed during an upload) is removed.
	staleTemp = time.Hour
	// maxSalt bounds the salt, in bytes.
	maxSalt = 64
)

// avatarTypes are the extensions an avatar may have, with the type it is
// served as (dimchat's server takes png, jpg and jpeg).
var avatarTypes = map[string]string{"png": "image/png", "jpg": "image/jpeg", "jpeg": "image/jpeg"}

// uploadService serves the upload protocol above.
type uploadService struct {
	log     *slog.Logger
	root    string // the data directory
	maxSize int64
	quota   int64 // 0: no limit
	secrets []uploadSecret
	baseURL string // of download URLs; "" = from the request

	// commit serializes the last step of an upload, the quota check and
	// the rename, so that two uploads cannot both fit in the same room.
	commit sync.Mutex
}

type uploadSecret struct {
	text  string // hex, as configured: enigma matches its start
	bytes []byte
}

// newUploadService makes the upload service of cfg, defaults applied; nil
// when Config.UploadMaxSize turns it off.
func newUploadService(cfg Config, log *slog.Logger) *uploadService {
	u := &uploadService{log: log.With("part", "upload"), root: cfg.DataDir, maxSize: cfg.UploadMaxSize,
		quota: cfg.UploadQuota, baseURL: strings.TrimRight(cfg.UploadURL, "/")}
	switch {
	case u.maxSize < 0:
		return nil
	case u.maxSize == 0:
		u.maxSize = DefaultUploadMaxSize
	}
	switch {
	case u.quota == 0:
		u.quota = DefaultUploadQuota
	case u.quota < 0:
		u.quota = 0
	}
	texts := cfg.UploadSecrets
	if len(texts) == 0 {
		texts = DefaultUploadSecrets()
	}
	for _, t := range texts {
		b, err := hex.DecodeString(t)
		if err != nil || len(b) == 0 {
			u.log.Error("upload secret is not hex; ignored", "secret", t)
			continue
		}
		u.secrets = append(u.secrets, uploadSecret{text: strings.ToUpper(t), bytes: b})
	}
	return u
}

// uploadRoute is what a request path asks of the service.
type uploadRoute struct {
	upload  bool   // POST: an upload; else a download
	avatar  bool   // an avatar, not a file
	legacy  bool   // the older upload form: digest over the data itself
	subject string // the path segment naming the uploader
	name    string // the file asked for (download)
}

// route reads a request path; ok is false for paths of other services.
func route(path string) (rt uploadRoute, ok bool) {
	seg := strings.Split(strings.TrimPrefix(path, "/"), "/")
	switch {
	case len(seg) == 3 && seg[0] == "upload" && (seg[2] == "file" || seg[2] == "avatar"):
		return uploadRoute{upload: true, avatar: seg[2] == "avatar", subject: seg[1]}, true
	case len(seg) == 2 && seg[1] == "upload" && seg[0] != "":
		return uploadRoute{upload: true, legacy: true, subject: seg[0]}, true
	case len(seg) == 3 && (seg[0] == "download" || seg[0] == "avatar"):
		return uploadRoute{avatar: seg[0] == "avatar", subject: seg[1], name: seg[2]}, true
	}
	return uploadRoute{}, false
}

// handles reports whether r is for the upload service; a nil service (off)
// handles nothing.
func (u *uploadService) handles(r *http.Request) bool {
	if u == nil {
		return false
	}
	_, ok := route(r.URL.Path)
	return ok
}

// ServeHTTP serves one request that handles accepted.
func (u *uploadService) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rt, _ := route(r.URL.Path)
	// Files are ciphertext, or avatars anyone may see: any page may read
	// them, and the browser client may upload from wherever it is served.
	w.Header().Set("Access-Control-Allow-Origin", "*")
	if r.Method == http.MethodOptions {
		w.Header().Set("Access-Control-Allow-Methods", "GET, HEAD, POST, OPTIONS")
		w.Header().Set("Access-Control-Allow-Headers", "Content-Type")
		w.WriteHeader(http.StatusNoContent)
		return
	}
	if rt.upload {
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", "POST, OPTIONS")
			u.fail(w, http.StatusMethodNotAllowed, "use POST to upload")
			return
		}
		u.serveUpload(w, r, rt)
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD, OPTIONS")
		u.fail(w, http.StatusMethodNotAllowed, "use GET to download")
		return
	}
	u.serveDownload(w, r, rt)
}

// uploadReply is the JSON answer to an upload, an error or success.
type uploadReply struct {
	Code     int    `json:"code"`
	Message  string `json:"message"`
	Filename string `json:"filename,omitempty"`
	URL      string `json:"url,omitempty"`
}

func writeReply(w http.ResponseWriter, rep uploadReply) {
	body, _ := json.Marshal(rep) // strings and an int: cannot fail
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(rep.Code)
	w.Write(append(body, '\n'))
}

func (u *uploadService) fail(w http.ResponseWriter, status int, format string, args ...any) {
	writeReply(w, uploadReply{Code: status, Message: fmt.Sprintf(format, args...)})
}

// uploaderAddress reads the path segment that names the uploader: an
// address, or an ID whose address is taken. Broadcast addresses own no
// files.
func uploaderAddress(segment string) (dimp.Address, error) {
	id, err := dimp.ParseID(segment)
	if err != nil {
		return dimp.Address{}, err
	}
	a := id.Address()
	if a.IsBroadcast() {
		return dimp.Address{}, fmt.Errorf("%s is a broadcast address", a)
	}
	// BTC addresses are Base58, ETH ones 0x and hex: both are safe as a
	// directory name, which this makes sure of.
	if !safeName(a.String()) {
		return dimp.Address{}, fmt.Errorf("address %q", a)
	}
	return a, nil
}

// safeName reports whether s is a name the service may create: ASCII
// letters, digits, '.', '-' and '_', not starting with a dot, 1 to 100 bytes.
func safeName(s string) bool {
	if s == "" || len(s) > 100 || s[0] == '.' {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// extension returns the lowercased extension of an uploaded file name,
// without its dot: 1 to 10 ASCII letters and digits, else "".
func extension(filename string) string {
	dot := strings.LastIndexByte(filename, '.')
	if dot < 0 {
		return ""
	}
	ext := strings.ToLower(filename[dot+1:])
	if ext == "" || len(ext) > 10 {
		return ""
	}
	for i := 0; i < len(ext); i++ {
		if c := ext[i]; !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9') {
			return ""
		}
	}
	return ext
}

// looseDisposition reads the form field name and the file name of a
// part's Content-Disposition that mime.ParseMediaType refuses. Older
// browser scripts write the file name unquoted whatever it holds, as in
// `form-data; name=file; filename=holiday.2024 (1).png`: the file name is
// then everything after "filename=" to the end of the line (without
// quotes, if it has them), and the name the parameter before it. Only
// form-data is read; anything else gives "", "".
func looseDisposition(v string) (field, filename string) {
	kind, params, _ := strings.Cut(v, ";")
	if !strings.EqualFold(strings.TrimSpace(kind), "form-data") {
		return "", ""
	}
	// The first parameter that starts with filename= (not filename*=).
	rest := params
	for {
		before, after, ok := strings.Cut(rest, ";")
		name, value, isParam := strings.Cut(before, "=")
		if isParam && strings.EqualFold(strings.TrimSpace(name), "filename") {
			filename = unquoteLoose(rest[len(name)+1:]) // to the end, ';' and all
			break
		}
		if isParam && strings.EqualFold(strings.TrimSpace(name), "name") && field == "" {
			field = unquoteLoose(value)
		}
		if !ok {
			break
		}
		rest = after
	}
	return field, filename
}

// unquoteLoose trims white space and the quotes around a parameter
// value, if it has them.
func unquoteLoose(v string) string {
	v = strings.TrimSpace(v)
	if len(v) >= 2 && v[0] == '"' && v[len(v)-1] == '"' {
		return v[1 : len(v)-1]
	}
	return strings.TrimPrefix(v, `"`)
}

// describePart names a part that is not the file, for the error that
// says none was: its field name, or its header when that has none.
func describePart(field, disposition string) string {
	if field != "" {
		return strconv.Quote(field)
	}
	if disposition == "" {
		return "one without a Content-Disposition"
	}
	if len(disposition) > 100 {
		disposition = disposition[:100] + "…"
	}
	return "one whose Content-Disposition names no field (" + strconv.Quote(disposition) + ")"
}

// noFilePart is the error for a form without the file part: what it
// needs, and what it had instead.
func noFilePart(legacy bool, seen []string) string {
	want := `no file: the form needs a part named "file"`
	if legacy {
		want = `no file: the form needs a part named "file" or "avatar"`
	}
	if len(seen) == 0 {
		return want + ", and it has no parts"
	}
	if len(seen) > maxParts {
		seen = seen[:maxParts]
	}
	return want + "; it has " + strings.Join(seen, ", ")
}

// storedName reports whether name is one the service hands out:
// 32 lowercase hex digits, a dot and an extension.
func storedName(name string) bool {
	digest, ext, ok := strings.Cut(name, ".")
	if !ok || len(digest) != 2*md5.Size || extension(name) != ext {
		return false
	}
	for i := 0; i < len(digest); i++ {
		if c := digest[i]; !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

// proof is what the query of an upload claims.
type proof struct {
	digest []byte
	salt   []byte
	secret []byte
}

// readProof reads md5, salt and enigma from the query and picks the
// secret. The status says which way it failed.
func (u *uploadService) readProof(r *http.Request) (proof, int, error) {
	q := r.URL.Query()
	digest, err := hex.DecodeString(q.Get("md5"))
	if err != nil || len(digest) != md5.Size {
		return proof{}, http.StatusBadRequest, errors.New("md5 must be 32 hex digits")
	}
	salt, err := hex.DecodeString(q.Get("salt"))
	if err != nil || len(salt) == 0 || len(salt) > maxSalt {
		return proof{}, http.StatusBadRequest, errors.New("salt must be 1 to 64 bytes in hex")
	}
	enigma := strings.ToUpper(q.Get("enigma"))
	for _, s := range u.secrets {
		if strings.HasPrefix(s.text, enigma) {
			return proof{digest: digest, salt: salt, secret: s.bytes}, 0, nil
		}
	}
	return proof{}, http.StatusForbidden, fmt.Errorf("no secret matches enigma %q", q.Get("enigma"))
}

// serveUpload receives one file: checks the proof, streams the file part
// into a temporary file while hashing it, checks the digest and the
// quota, and renames it to its stored name. Nothing is left behind on
// failure.
func (u *uploadService) serveUpload(w http.ResponseWriter, r *http.Request, rt uploadRoute) {
	addr, err := uploaderAddress(rt.subject)
	if err != nil {
		u.fail(w, http.StatusBadRequest, "uploader: %v", err)
		return
	}
	pr, status, err := u.readProof(r)
	if err != nil {
		u.fail(w, status, "%v", err)
		return
	}
	limit := u.maxSize + formSlack
	if r.ContentLength > limit {
		u.fail(w, http.StatusRequestEntityTooLarge, "files are at most %d bytes", u.maxSize)
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, limit)
	mr, err := r.MultipartReader()
	if err != nil {
		u.fail(w, http.StatusBadRequest, "body must be multipart/form-data: %v", err)
		return
	}

	var got *received
	defer func() {
		if got != nil {
			got.discard()
		}
	}()
	var seen []string // the parts that were not the file, for the error when none is
	for parts := 0; ; parts++ {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			u.failRead(w, "form", err)
			return
		}
		if parts == maxParts {
			part.Close()
			u.fail(w, http.StatusBadRequest, "more than %d parts in the form", maxParts)
			return
		}
		field, filename := part.FormName(), part.FileName()
		disposition := part.Header.Get("Content-Disposition")
		if field == "" {
			// The standard parser gives up on a header it cannot read
			// whole, such as the unquoted name with a space the browser
			// client writes; read it the loose way.
			field, filename = looseDisposition(disposition)
		}
		isFile := field == "file" || (rt.legacy && field == "avatar")
		if !isFile || got != nil {
			if !isFile {
				seen = append(seen, describePart(field, disposition))
			}
			_, err := io.Copy(io.Discard, part)
			part.Close()
			if err != nil {
				u.failRead(w, "form", err)
				return
			}
			continue
		}
		if rt.legacy && field == "avatar" {
			rt.avatar = true
		}
		ext := extension(filename)
		if ext == "" {
			part.Close()
			u.fail(w, http.StatusUnsupportedMediaType, "the file's name needs an extension of 1 to 10 letters and digits")
			return
		}
		if _, ok := avatarTypes[ext]; rt.avatar && !ok {
			part.Close()
			u.fail(w, http.StatusUnsupportedMediaType, "an avatar is a png, jpg or jpeg image, not %s", ext)
			return
		}
		dir := u.dir(rt.avatar, addr)
		got, err = u.receive(dir, ext, part)
		part.Close()
		if errors.Is(err, errTooLarge) {
			u.fail(w, http.StatusRequestEntityTooLarge, "files are at most %d bytes", u.maxSize)
			return
		}
		if err != nil {
			u.failRead(w, "file", err)
			return
		}
	}
	switch {
	case got == nil:
		u.fail(w, http.StatusBadRequest, "%s", noFilePart(rt.legacy, seen))
		return
	case got.size == 0:
		u.fail(w, http.StatusBadRequest, "the file is empty")
		return
	case !pr.matches(got, rt.legacy):
		u.fail(w, http.StatusUnauthorized, "md5 does not match the file, the secret and the salt")
		return
	}

	name, status, err := u.keep(got, addr)
	if err != nil {
		if status == http.StatusInternalServerError {
			u.log.Error("keep upload", "address", addr, "err", err)
		}
		u.fail(w, status, "%v", err)
		return
	}
	got = nil
	kind, dl := "file", "download"
	if rt.avatar {
		kind, dl = "avatar", "avatar"
	}
	u.log.Info("uploaded", "kind", kind, "address", addr, "name", name)
	writeReply(w, uploadReply{Code: http.StatusOK, Message: "OK", Filename: name,
		URL: u.base(r) + "/" + dl + "/" + addr.String() + "/" + name})
}

// failRead answers a failure to read the request: too large, or
// malformed.
func (u *uploadService) failRead(w http.ResponseWriter, what string, err error) {
	if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
		u.fail(w, http.StatusRequestEntityTooLarge, "files are at most %d bytes", u.maxSize)
		return
	}
	u.fail(w, http.StatusBadRequest, "reading the %s: %v", what, err)
}

func (u *uploadService) dir(avatar bool, addr dimp.Address) string {
	kind := uploadsDir
	if avatar {
		kind = avatarsDir
	}
	return filepath.Join(u.root, kind, addr.String())
}

// base is the start of download URLs: Config.UploadURL, else the address
// the request came to.
func (u *uploadService) base(r *http.Request) string {
	if u.baseURL != "" {
		return u.baseURL
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

var errTooLarge = errors.New("file too large")

// received is a file part written to a temporary file.
type received struct {
	tmp     string // its path
	dir     string
	ext     string
	size    int64
	sum     []byte    // MD5 of the data
	trailer hash.Hash // MD5 over the data, to add secret and salt to (older form)
}

func (g *received) discard() { os.Remove(g.tmp) }

// receive streams part into a new temporary file in dir, at most maxSize
// bytes of it.
func (u *uploadService) receive(dir, ext string, part io.Reader) (*received, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	f, err := os.CreateTemp(dir, tempPrefix+"*")
	if err != nil {
		return nil, err
	}
	g := &received{tmp: f.Name(), dir: dir, ext: ext, trailer: md5.New()}
	h := md5.New()
	n, err := io.Copy(io.MultiWriter(f, h, g.trailer), io.LimitReader(part, u.maxSize+1))
	if err == nil && n > u.maxSize {
		err = errTooLarge
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		g.discard()
		return nil, err
	}
	g.size, g.sum = n, h.Sum(nil)
	return g, nil
}

// matches checks the digest of the query against the file: MD5(MD5(data)
// ‖ secret ‖ salt), or for the older form MD5(data ‖ secret ‖ salt).
func (p proof) matches(g *received, legacy bool) bool {
	var want []byte
	if legacy {
		g.trailer.Write(p.secret)
		g.trailer.Write(p.salt)
		want = g.trailer.Sum(nil)
	} else {
		h := md5.New()
		h.Write(g.sum)
		h.Write(p.secret)
		h.Write(p.salt)
		want = h.Sum(nil)
	}
	return subtle.ConstantTimeCompare(want, p.digest) == 1
}

// keep gives a received file its stored name, <md5>.<ext>, if the
// uploader's quota has room for it. The same bytes uploaded again take no
// more room. On success the temporary file is gone.
func (u *uploadService) keep(g *received, addr dimp.Address) (name string, status int, err error) {
	name = hex.EncodeToString(g.sum) + "." + g.ext
	final := filepath.Join(g.dir, name)
	u.commit.Lock()
	defer u.commit.Unlock()
	if fi, err := os.Lstat(final); err == nil && fi.Mode().IsRegular() && fi.Size() == g.size {
		g.discard()
		return name, http.StatusOK, nil
	}
	if u.quota > 0 {
		used, err := u.used(addr)
		if err != nil {
			return "", http.StatusInternalServerError, fmt.Errorf("cannot count the uploader's files: %w", err)
		}
		if used+g.size > u.quota {
			return "", http.StatusInsufficientStorage, fmt.Errorf("upload quota exceeded: %d of %d bytes kept, the file has %d",
				used, u.quota, g.size)
		}
	}
	if err := os.Rename(g.tmp, final); err != nil {
		return "", http.StatusInternalServerError, fmt.Errorf("cannot store the file: %w", err)
	}
	syncDir(g.dir)
	return name, http.StatusOK, nil
}

// used counts the bytes of the files an uploader keeps, files and avatars.
// Temporary files do not count; those left by a station killed during an
// upload are removed once stale.
func (u *uploadService) used(addr dimp.Address) (int64, error) {
	var total int64
	for _, kind := range []string{uploadsDir, avatarsDir} {
		dir := filepath.Join(u.root, kind, addr.String())
		entries, err := os.ReadDir(dir)
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			return 0, err
		}
		for _, e := range entries {
			if !e.Type().IsRegular() {
				continue
			}
			fi, err := e.Info()
			if err != nil {
				continue // removed meanwhile
			}
			if strings.HasPrefix(e.Name(), tempPrefix) {
				if time.Since(fi.ModTime()) > staleTemp {
					os.Remove(filepath.Join(dir, e.Name()))
				}
				continue
			}
			total += fi.Size()
		}
	}
	return total, nil
}

// syncDir makes a rename in dir durable, as far as the system allows.
func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
}

// serveDownload serves a stored file as it is: ciphertext, or an avatar
// image. Only names the service hands out are looked up.
func (u *uploadService) serveDownload(w http.ResponseWriter, r *http.Request, rt uploadRoute) {
	addr, err := uploaderAddress(rt.subject)
	if err != nil || !storedName(rt.name) {
		u.fail(w, http.StatusNotFound, "no such file")
		return
	}
	path := filepath.Join(u.dir(rt.avatar, addr), rt.name)
	f, err := os.Open(path)
	if err != nil {
		if !errors.Is(err, os.ErrNotExist) {
			u.log.Error("open upload", "path", path, "err", err)
		}
		u.fail(w, http.StatusNotFound, "no such file")
		return
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil || !fi.Mode().IsRegular() {
		u.fail(w, http.StatusNotFound, "no such file")
		return
	}
	h := w.Header()
	h.Set("X-Content-Type-Options", "nosniff")
	// The name is the digest of the bytes: they never change.
	h.Set("Cache-Control", "public, max-age=31536000, immutable")
	if typ := avatarTypes[extension(rt.name)]; rt.avatar && typ != "" {
		h.Set("Content-Type", typ)
	} else {
		h.Set("Content-Type", "application/octet-stream")
		h.Set("Content-Disposition", `attachment; filename="`+rt.name+`"`)
	}
	http.ServeContent(w, r, "", fi.ModTime(), f)
}
