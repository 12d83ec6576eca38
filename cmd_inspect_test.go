package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"dimtui/dimp"
)

// run executes the CLI with args and returns stdout and the error.
func run(t *testing.T, args ...string) (string, error) {
	t.Helper()
	cmd := newRootCommand()
	var out, errOut bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetErr(&errOut)
	cmd.SetArgs(args)
	err := cmd.Execute()
	return out.String(), err
}

// vectors reads a reference vector file of the dimp package.
func vectors(t *testing.T, name string) map[string]any {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("dimp", "testdata", "vectors", name))
	if err != nil {
		t.Fatal(err)
	}
	var v map[string]any
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatal(err)
	}
	return v
}

// writeJSON writes v to a file in dir and returns its path.
func writeJSON(t *testing.T, dir, name string, v any) string {
	t.Helper()
	raw, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	if s, ok := v.(string); ok {
		raw = []byte(s)
	}
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, raw, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestIDParse(t *testing.T) {
	out, err := run(t, "id", "parse", "alice@1U3SLZr1jC1vJrYrBomLjn9y7BVwxv1nB/DIM-1")
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"name": "alice", "address": "1U3SLZr1jC1vJrYrBomLjn9y7BVwxv1nB", "terminal": "DIM-1",
		"network": 0.0, "is_broadcast": false, "is_user": true, "is_group": false}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %v, want %v", k, got[k], v)
		}
	}
	out, _ = run(t, "id", "parse", "everyone@everywhere")
	if !strings.Contains(out, `"network": 129`) || !strings.Contains(out, `"terminal": null`) {
		t.Errorf("everyone@everywhere: %s", out)
	}
	for _, bad := range []string{"alice@1U3SLZr1jC1vJrYrBomLjn9y7BVwxv1nC", "@anywhere", "a b@anywhere", "alice@anywhere/"} {
		if _, err := run(t, "id", "parse", bad); !errors.Is(err, dimp.ErrInvalidID) {
			t.Errorf("%q: err = %v, want ErrInvalidID", bad, err)
		}
	}
}

func TestMetaCheck(t *testing.T) {
	dir := t.TempDir()
	v := vectors(t, "ids.json")
	for i, c := range v["ids"].([]any) {
		c := c.(map[string]any)
		path := writeJSON(t, dir, "meta.json", c["meta"])
		id := c["id"].(string)
		args := []string{"meta", "check", path}
		if c["network"].(float64) != 0 {
			args = append(args, "--id", id)
		}
		out, err := run(t, args...)
		if err != nil || strings.TrimSpace(out) != id {
			t.Errorf("ids[%d]: got %q, %v; want %s", i, out, err, id)
		}
	}
	for _, c := range v["bad_metas"].([]any) {
		c := c.(map[string]any)
		path := writeJSON(t, dir, "bad.json", c["meta"])
		if _, err := run(t, "meta", "check", path); err == nil {
			t.Errorf("%s: accepted", c["case"])
		}
	}
	alice := v["ids"].([]any)[0].(map[string]any)
	path := writeJSON(t, dir, "alice.json", alice["meta"])
	if _, err := run(t, "meta", "check", path, "--id", "bob@1KTtckknLw3AxD1WK4oLYpVN7RkQevC8wK"); !errors.Is(err, dimp.ErrMetaMismatch) {
		t.Errorf("meta of alice for bob: %v", err)
	}
}

func TestDocVerify(t *testing.T) {
	dir := t.TempDir()
	metas := map[string]any{}
	for _, c := range vectors(t, "ids.json")["ids"].([]any) {
		c := c.(map[string]any)
		metas[c["id"].(string)] = c["meta"]
	}
	for name, c := range vectors(t, "documents.json") {
		c := c.(map[string]any)
		signer := c["signer"].(string)
		if w, ok := c["verify_with_meta_of"].(string); ok {
			signer = w
		}
		doc := writeJSON(t, dir, "doc.json", c["document"])
		meta := writeJSON(t, dir, "meta.json", metas[signer])
		_, err := run(t, "doc", "verify", doc, "--meta", meta)
		if want := c["expected_verify"].(bool); (err == nil) != want {
			t.Errorf("%s: err = %v, want ok=%v", name, err, want)
		}
	}
}

// testUsers writes the vectors' users' keys, metas and visas to files.
func testUsers(t *testing.T, dir string) map[string]map[string]string {
	users := vectors(t, "messages.json")["users"].(map[string]any)
	files := map[string]map[string]string{}
	for name, u := range users {
		u := u.(map[string]any)
		files[name] = map[string]string{"id": u["id"].(string)}
		for _, part := range []string{"meta", "visa", "private_key", "private_key_meta", "private_key_visa"} {
			if v, ok := u[part]; ok {
				files[name][part] = writeJSON(t, dir, name+"."+part+".json", v)
			}
		}
	}
	return files
}

func TestMsgOpenVectors(t *testing.T) {
	dir := t.TempDir()
	users := testUsers(t, dir)
	v := vectors(t, "messages.json")
	for _, p := range v["pipelines"].([]any) {
		p := p.(map[string]any)
		msg := writeJSON(t, dir, "msg.json", p["reliable_message"])
		sender := map[string]string{
			"alice@1U3SLZr1jC1vJrYrBomLjn9y7BVwxv1nB": "alice", "moky@1KWUHuVZ2nobdbUquoRRgC8vQR7Q72AGZq": "moky",
		}[p["sender"].(string)]
		args := []string{"msg", "open", msg, "--meta", users[sender]["meta"], "--key", users["bob"]["private_key_visa"]}
		if p["name"] == "group_text" {
			args = append(args, "--me", users["bob"]["id"])
		}
		out, err := run(t, args...)
		if err != nil {
			t.Errorf("%s/%s: %v", p["name"], p["variant"], err)
			continue
		}
		var im struct {
			Content map[string]any `json:"content"`
		}
		if err := json.Unmarshal([]byte(out), &im); err != nil {
			t.Fatalf("%s: %v\n%s", p["name"], err, out)
		}
		want := p["expected_content_after_decrypt"].(map[string]any)
		for k, w := range want {
			if k == "type" {
				continue // written as a number
			}
			if g, _ := json.Marshal(im.Content[k]); string(g) != mustJSON(w) {
				t.Errorf("%s: content %s = %s, want %s", p["name"], k, g, mustJSON(w))
			}
		}
	}
	for _, c := range v["tampered"].([]any) {
		c := c.(map[string]any)
		msg := writeJSON(t, dir, "bad.json", c["reliable_message"])
		sender := "alice"
		if strings.Contains(c["name"].(string), "ecc") {
			sender = "moky"
		}
		_, err := run(t, "msg", "open", msg, "--meta", users[sender]["meta"], "--key", users["bob"]["private_key_visa"])
		if !errors.Is(err, dimp.ErrSignature) {
			t.Errorf("%s: err = %v, want ErrSignature", c["name"], err)
		}
	}
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func TestMsgSealThenOpen(t *testing.T) {
	dir := t.TempDir()
	users := testUsers(t, dir)
	alice, bob := users["alice"], users["bob"]
	cases := []struct {
		name     string
		receiver string
		content  string
		toKeys   []string
		openAs   []string
	}{
		{"text", bob["id"], `{"type":"1","sn":42,"time":1700000000.25,"text":"sealed by dimtui"}`, []string{bob["visa"]}, nil},
		{"customized", bob["id"], `{"type":204,"sn":43,"app":"chat.dim.demo","mod":"game","act":"move","x":3,"y":[1,2]}`, []string{bob["visa"]}, nil},
		{"broadcast", "everyone@everywhere", `{"type":1,"sn":44,"text":"to all"}`, nil, nil},
		{"group", users["group"]["id"], `{"type":1,"sn":45,"text":"hi group","group":"` + users["group"]["id"] + `"}`,
			[]string{bob["visa"], alice["id"] + "=" + alice["meta"], users["moky"]["id"] + "=" + users["moky"]["meta"]}, []string{"--me", bob["id"]}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			im := writeJSON(t, dir, "im.json", `{"sender":"`+alice["id"]+`","receiver":"`+c.receiver+`","time":1700000000.5,"content":`+c.content+`}`)
			args := []string{"msg", "seal", im, "--key", alice["private_key"], "--meta", alice["meta"], "--visa", alice["visa"]}
			for _, k := range c.toKeys {
				args = append(args, "--to-key", k)
			}
			sealed, err := run(t, args...)
			if err != nil {
				t.Fatal(err)
			}
			msg := writeJSON(t, dir, "sealed.json", sealed)
			out, err := run(t, append([]string{"msg", "open", msg, "--key", bob["private_key_visa"]}, c.openAs...)...)
			if err != nil {
				t.Fatalf("open: %v\n%s", err, sealed)
			}
			var want, got struct {
				Content map[string]any `json:"content"`
			}
			_ = json.Unmarshal([]byte(`{"content":`+c.content+`}`), &want)
			_ = json.Unmarshal([]byte(out), &got)
			for k, w := range want.Content {
				if k != "type" && mustJSON(got.Content[k]) != mustJSON(w) {
					t.Errorf("%s = %s, want %s", k, mustJSON(got.Content[k]), mustJSON(w))
				}
			}
		})
	}
}

func TestIDNewAndShow(t *testing.T) {
	dir := t.TempDir()
	for _, c := range [][]string{{"alice"}, {"carol", "--key", "ecc"}, {"dave", "--key", "ecc", "--meta", "eth"}, {"erin", "--meta", "btc"}} {
		out, err := run(t, append([]string{"id", "new", "--dir", dir}, c...)...)
		if err != nil {
			t.Fatalf("%v: %v", c, err)
		}
		id, err := dimp.ParseID(strings.TrimSpace(out))
		if err != nil {
			t.Fatal(err)
		}
		info, err := os.Stat(filepath.Join(dir, c[0]+".json"))
		if err != nil || info.Mode().Perm() != 0o600 {
			t.Fatalf("identity file mode: %v %v", info.Mode(), err)
		}
		shown, err := run(t, "id", "show", c[0], "--dir", dir)
		if err != nil || strings.TrimSpace(shown) != id.String() {
			t.Fatalf("show = %q, %v; want %s", shown, err, id)
		}
		metaOut, _ := run(t, "id", "show", c[0], "--dir", dir, "--part", "meta")
		metaFile := writeJSON(t, dir, "m.json", metaOut)
		if out, err := run(t, "meta", "check", metaFile, "--id", id.String()); err != nil || strings.TrimSpace(out) != id.String() {
			t.Fatalf("meta check of new identity: %q %v", out, err)
		}
		visaOut, _ := run(t, "id", "show", c[0], "--dir", dir, "--part", "visa")
		visaFile := writeJSON(t, dir, "v.json", visaOut)
		if _, err := run(t, "doc", "verify", visaFile, "--meta", metaFile); err != nil {
			t.Fatalf("visa of new identity: %v", err)
		}
	}
	if out, _ := run(t, "id", "show", "--dir", dir); !strings.HasPrefix(out, "alice@") {
		t.Errorf("default identity = %q, want alice's", out)
	}
	if _, err := run(t, "id", "new", "alice", "--dir", dir); err == nil {
		t.Error("a second alice was created")
	}
	if _, err := run(t, "id", "new", "x", "--meta", "eth", "--dir", dir); err == nil {
		t.Error("an ETH meta with an RSA key was created")
	}
}

// A group message whose keys name no member cannot be opened without
// --me, and msg open says to pass it.
func TestMsgOpenGroupWithoutMemberKeys(t *testing.T) {
	dir := t.TempDir()
	users := testUsers(t, dir)
	for _, p := range vectors(t, "messages.json")["pipelines"].([]any) {
		p := p.(map[string]any)
		if p["name"] != "group_text" {
			continue
		}
		rm := p["reliable_message"].(map[string]any)
		rm["keys"] = map[string]any{"digest": "x"}
		msg := writeJSON(t, dir, "group.json", rm)
		_, err := run(t, "msg", "open", msg, "--meta", users["alice"]["meta"], "--key", users["bob"]["private_key_visa"])
		if !errors.Is(err, dimp.ErrNoDecryptKey) || !strings.HasSuffix(err.Error(), "group message without member keys; pass --me") {
			t.Errorf("err = %v, want no member keys and a hint to pass --me", err)
		}
	}
}
