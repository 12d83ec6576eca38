package client

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"time"

	"dimtui/client/transfer"
	"dimtui/dimp"
)

// Files go between users as dimchat's apps send them (package transfer):
// encrypted with a fresh key, uploaded to the station's upload service,
// and announced by a file, image, audio or video content carrying the
// URL, the key and the IV. The station never sees the key: it travels
// inside the message, encrypted for the receiver like any content.

// ErrNoFile: a file content that gives nothing to download.
var ErrNoFile = errors.New("client: the content has no file to download")

// transferTimeout bounds one upload or download.
const transferTimeout = 10 * time.Minute

// uploadAPI is where files are uploaded: the configured API, else the
// station's own address over HTTP.
func (c *Client) uploadAPI() (string, error) {
	if c.cfg.UploadAPI != "" {
		return c.cfg.UploadAPI, nil
	}
	u, err := url.Parse(c.cfg.URL)
	if err != nil {
		return "", fmt.Errorf("client: station URL: %w", err)
	}
	switch u.Scheme {
	case "ws", "http":
		u.Scheme = "http"
	case "wss", "https":
		u.Scheme = "https"
	default:
		return "", fmt.Errorf("client: no upload service known for %s", c.cfg.URL)
	}
	u.Path, u.RawQuery = "", ""
	return u.String(), nil
}

func (c *Client) maxFile() int64 {
	if c.cfg.MaxFile > 0 {
		return c.cfg.MaxFile
	}
	return transfer.DefaultMaxSize
}

// SendFile sends the file at path to to: it reads it (at most MaxFile
// bytes), encrypts it, uploads the ciphertext, and sends a content of the
// file's kind (an image with a thumbnail) with the URL and the key.
// progress, if not nil, is told of the upload's bytes.
func (c *Client) SendFile(ctx context.Context, to dimp.ID, path string, progress transfer.Progress) (MessageID, error) {
	content, err := c.UploadFile(ctx, path, progress)
	if err != nil {
		return "", err
	}
	return c.Send(ctx, to, content)
}

// UploadFile encrypts and uploads the file at path and returns the content
// that announces it, ready to send.
func (c *Client) UploadFile(ctx context.Context, path string, progress transfer.Progress) (*dimp.FileContent, error) {
	plain, err := readBounded(path, c.maxFile())
	if err != nil {
		return nil, err
	}
	name := filepath.Base(path)
	kind := transfer.ContentType(name, plain[:min(len(plain), 512)])
	fc := &dimp.FileContent{Head: dimp.NewHead(kind), Filename: name}
	// The plaintext's size, for the receiver's card (dimchat's apps send
	// none; an unknown field to them).
	fc.Extra = dimp.Fields{}
	if err := fc.Extra.Set("size", len(plain)); err != nil {
		return nil, err
	}
	if kind == dimp.ContentImage {
		// A picture no decoder here reads goes without a preview.
		if thumb, err := transfer.Thumbnail(plain); err == nil {
			fc.Thumbnail = []byte(`"` + thumb + `"`)
		}
	}
	cipher, key, iv, err := transfer.Encrypt(plain)
	if err != nil {
		return nil, err
	}
	api, err := c.uploadAPI()
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, transferTimeout)
	defer cancel()
	at, err := transfer.Upload(ctx, http.DefaultClient, api, c.me.ID, cipher, name, progress)
	if err != nil {
		return nil, fmt.Errorf("client: upload %s: %w", name, err)
	}
	transfer.Attach(fc, at, key, iv)
	return fc, nil
}

// readBounded reads a regular file of at most limit bytes.
func readBounded(path string, limit int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("client: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("client: %w", err)
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("client: %s is not a regular file", path)
	}
	if st.Size() > limit {
		return nil, fmt.Errorf("client: %s: %w: %d bytes, at most %d", path, transfer.ErrTooLarge, st.Size(), limit)
	}
	data, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, fmt.Errorf("client: %w", err)
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("client: %s: %w: grew past %d bytes", path, transfer.ErrTooLarge, limit)
	}
	return data, nil
}

// SaveFile fetches the file a content announces and writes it, decrypted,
// into dir under the content's file name made safe (never outside dir,
// never over an existing file), and returns the path written. A file in
// the message itself (data) is decoded instead of downloaded. The
// download is refused past MaxFile bytes, or past what the server
// declares; ciphertext that does not match its URL's digest or does not
// decrypt is not written.
func (c *Client) SaveFile(ctx context.Context, fc *dimp.FileContent, dir string, progress transfer.Progress) (string, error) {
	plain, err := c.OpenFile(ctx, fc, progress)
	if err != nil {
		return "", err
	}
	path, err := transfer.Save(dir, fc.Filename, plain)
	if err != nil {
		return "", fmt.Errorf("client: save: %w", err)
	}
	return path, nil
}

// OpenFile fetches and decrypts the file a content announces.
func (c *Client) OpenFile(ctx context.Context, fc *dimp.FileContent, progress transfer.Progress) ([]byte, error) {
	if fc.URL == "" {
		if fc.Data == "" {
			return nil, ErrNoFile
		}
		data, err := dimp.DecodeTED(fc.Data)
		if err != nil {
			return nil, fmt.Errorf("client: the file in the message: %w", err)
		}
		return transfer.DecryptContent(fc, data)
	}
	ctx, cancel := context.WithTimeout(ctx, transferTimeout)
	defer cancel()
	cipher, err := transfer.Download(ctx, http.DefaultClient, fc.URL, c.maxFile(), progress)
	if err != nil {
		return nil, fmt.Errorf("client: download %s: %w", fc.Filename, err)
	}
	if err := transfer.CheckDigest(fc.URL, cipher); err != nil {
		return nil, fmt.Errorf("client: download %s: %w", fc.Filename, err)
	}
	plain, err := transfer.DecryptContent(fc, cipher)
	if err != nil {
		return nil, fmt.Errorf("client: %s: %w", fc.Filename, err)
	}
	return plain, nil
}
