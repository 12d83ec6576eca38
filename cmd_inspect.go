package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"unicode"

	"github.com/spf13/cobra"

	"dimtui/dimp"
	"dimtui/dimp/crypto"
)

// maxInputFile bounds what the inspection commands read from one file.
const maxInputFile = 16 << 20

// readInput reads a file ("-" for standard input), refusing huge ones.
func readInput(cmd *cobra.Command, path string) ([]byte, error) {
	var r io.Reader
	if path == "-" {
		r = cmd.InOrStdin()
	} else {
		f, err := os.Open(path)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		r = f
	}
	raw, err := io.ReadAll(io.LimitReader(r, maxInputFile+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	if len(raw) > maxInputFile {
		return nil, fmt.Errorf("read %s: larger than %d bytes", path, maxInputFile)
	}
	return raw, nil
}

// printJSON writes v indented, with a final newline. What a peer wrote may
// hold characters a terminal acts on; they are written as \u escapes (see
// escapeUnsafe), which leaves the JSON meaning the same.
func printJSON(cmd *cobra.Command, raw []byte) error {
	var buf bytes.Buffer
	// Indent keeps trailing white space; a \r there would be escaped
	// outside any string.
	if err := json.Indent(&buf, bytes.TrimSpace(raw), "", "  "); err != nil {
		return err
	}
	buf.WriteByte('\n')
	_, err := io.WriteString(cmd.OutOrStdout(), escapeUnsafe(buf.String()))
	return err
}

// escapeUnsafe writes each character of s that must not reach a terminal
// raw as a \u escape (\u202e), keeping newlines and tabs: C0 and C1 control
// characters and DEL (which can drive the terminal), the bidirectional
// formatting characters U+202A–U+202E, U+2066–U+2069, U+200E, U+200F and
// U+061C (which can show text in another order than it has) and the line
// and paragraph separators U+2028 and U+2029. The inspection commands
// print what peers wrote; escaping rather than dropping shows the reader
// that such a character is there, and inside a JSON string the escape is
// the same character.
func escapeUnsafe(s string) string {
	unsafe := func(r rune) bool {
		return r != '\n' && r != '\t' &&
			(unicode.IsControl(r) || unicode.Is(unicode.Bidi_Control, r) || r == '\u2028' || r == '\u2029')
	}
	if !strings.ContainsFunc(s, unsafe) {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		if unsafe(r) {
			fmt.Fprintf(&b, "\\u%04x", r)
		} else {
			b.WriteRune(r)
		}
	}
	return b.String()
}

func newMetaCommand() *cobra.Command {
	meta := &cobra.Command{Use: "meta", Short: "Inspect metas"}
	var idText string
	check := &cobra.Command{
		Use:   "check META_FILE",
		Short: "Validate a meta and print the ID it generates",
		Long: `Validates a meta (MKM: the fingerprint must be the key's signature of the seed) and
prints the ID it generates for the entity type of --id (a user by default). With --id,
the meta must also generate exactly that ID.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			raw, err := readInput(cmd, args[0])
			if err != nil {
				return err
			}
			m, err := dimp.ParseMeta(raw)
			if err != nil {
				return err
			}
			network := byte(dimp.User)
			var want dimp.ID
			if idText != "" {
				if want, err = dimp.ParseID(idText); err != nil {
					return err
				}
				network = want.Address().Network()
			}
			addr, err := m.Address(network)
			if err != nil {
				return err
			}
			id := dimp.NewID(m.Seed, addr, "")
			if !want.IsZero() {
				if err := m.MatchID(want); err != nil {
					return err
				}
			}
			fmt.Fprintln(cmd.OutOrStdout(), escapeUnsafe(id.String()))
			return nil
		},
	}
	check.Flags().StringVar(&idText, "id", "", "the ID the meta must generate")
	meta.AddCommand(check)
	return meta
}

func newDocCommand() *cobra.Command {
	doc := &cobra.Command{Use: "doc", Short: "Inspect documents (visas, bulletins)"}
	var metaFile string
	verify := &cobra.Command{
		Use:   "verify DOC_FILE --meta META_FILE",
		Short: "Verify a document's signature with a meta",
		Long: `Exits 0 when the document's signature verifies over its exact data with the meta's
key and the meta generates the document's ID (for a bulletin, the ID of its founder).`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			raw, err := readInput(cmd, args[0])
			if err != nil {
				return err
			}
			d, err := dimp.ParseDocument(raw)
			if err != nil {
				return err
			}
			mraw, err := readInput(cmd, metaFile)
			if err != nil {
				return err
			}
			m, err := dimp.ParseMeta(mraw)
			if err != nil {
				return err
			}
			if err := matchDocumentSigner(d, m); err != nil {
				return err
			}
			if err := d.Verify(m.Key); err != nil {
				return err
			}
			fmt.Fprintln(cmd.OutOrStdout(), escapeUnsafe(fmt.Sprintf("%s of %s: signature verified", d.DocType(), d.ID)))
			return nil
		},
	}
	verify.Flags().StringVar(&metaFile, "meta", "", "meta of the signer (required)")
	_ = verify.MarkFlagRequired("meta")
	doc.AddCommand(verify)
	return doc
}

// matchDocumentSigner checks that m is the meta of the document's entity,
// or, for a bulletin, of its founder.
func matchDocumentSigner(d *dimp.Document, m *dimp.Meta) error {
	err := m.MatchID(d.ID)
	if err == nil {
		return nil
	}
	if d.DocType() == dimp.DocBulletin {
		if founder, ferr := d.Founder(); ferr == nil && !founder.IsZero() && m.MatchID(founder) == nil {
			return nil
		}
	}
	return fmt.Errorf("%w: %w", dimp.ErrDocumentID, err)
}

func newMsgCommand() *cobra.Command {
	msg := &cobra.Command{Use: "msg", Short: "Open and seal messages"}
	msg.AddCommand(newMsgOpenCommand(), newMsgSealCommand())
	return msg
}

func newMsgOpenCommand() *cobra.Command {
	var keyFiles []string
	var metaFile, visaFile, meText string
	open := &cobra.Command{
		Use:   "open MSG_FILE",
		Short: "Verify and decrypt a reliable message",
		Long: `Verifies a reliable message with the sender's meta and visa (attached to the message,
or given with --meta and --visa), decrypts it for --me (by default its receiver; for a
group message, the member whose key opens it) with whichever --key opens it, and prints
the instant message as JSON with long field names. Broadcasts need no key.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			raw, err := readInput(cmd, args[0])
			if err != nil {
				return err
			}
			rm, err := dimp.ParseReliableMessage(raw)
			if err != nil {
				return err
			}
			sender, err := senderProfile(cmd, rm, metaFile, visaFile)
			if err != nil {
				return err
			}
			sm, err := dimp.Verify(rm, sender.VerifyKeys()...)
			if err != nil {
				return err
			}
			var privs []crypto.DecryptKey
			for _, f := range keyFiles {
				kraw, err := readInput(cmd, f)
				if err != nil {
					return err
				}
				keys, err := dimp.ParsePrivateKeys(kraw)
				if err != nil {
					return fmt.Errorf("%s: %w", f, err)
				}
				for _, k := range keys {
					if dk, ok := k.(crypto.DecryptKey); ok {
						privs = append(privs, dk)
					}
				}
			}
			var me dimp.ID
			if meText != "" {
				if me, err = dimp.ParseID(meText); err != nil {
					return err
				}
			}
			im, err := dimp.DecryptFor(sm, me, privs)
			if errors.Is(err, dimp.ErrNoMember) {
				return fmt.Errorf("%w; pass --me", err)
			}
			if err != nil {
				return err
			}
			out, _ := im.MarshalJSON()
			return printJSON(cmd, out)
		},
	}
	open.Flags().StringArrayVar(&keyFiles, "key", nil, "private key file of the receiver (repeatable)")
	open.Flags().StringVar(&metaFile, "meta", "", "sender's meta file (else the attached meta)")
	open.Flags().StringVar(&visaFile, "visa", "", "sender's visa file (else the attached visa)")
	open.Flags().StringVar(&meText, "me", "", "the receiver to decrypt for (default: the message's receiver)")
	return open
}

// senderProfile builds the sender's checked profile from files or attachments.
func senderProfile(cmd *cobra.Command, rm *dimp.ReliableMessage, metaFile, visaFile string) (*dimp.Profile, error) {
	meta, visa := rm.Meta, rm.Visa
	if metaFile != "" {
		raw, err := readInput(cmd, metaFile)
		if err != nil {
			return nil, err
		}
		if meta, err = dimp.ParseMeta(raw); err != nil {
			return nil, err
		}
	}
	if visaFile != "" {
		raw, err := readInput(cmd, visaFile)
		if err != nil {
			return nil, err
		}
		if visa, err = dimp.ParseDocument(raw); err != nil {
			return nil, err
		}
	}
	if meta == nil {
		return nil, fmt.Errorf("%w: the message carries no meta of %s; pass --meta", dimp.ErrNoVerifyKey, rm.Sender)
	}
	return dimp.NewProfile(rm.Sender, meta, visa)
}

func newMsgSealCommand() *cobra.Command {
	var keyFile, metaFile, visaFile string
	var toKeys []string
	seal := &cobra.Command{
		Use:   "seal INSTANT_FILE --key SENDER_PRIVATE_KEY_FILE",
		Short: "Encrypt and sign an instant message",
		Long: `Encrypts an instant message with a fresh AES-256 key, encrypts that key to each
--to-key, signs the result with the sender's private key and prints the reliable message.

--to-key takes [ID=]FILE. FILE holds a public key map, a visa (its key, its ID and
terminal), or a meta whose key can encrypt (RSA). Without ID=, a key or meta is for the
message's receiver. A group message takes one --to-key per member. Broadcasts are not
encrypted and take none. --meta and --visa attach the sender's meta and visa.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			raw, err := readInput(cmd, args[0])
			if err != nil {
				return err
			}
			im, err := dimp.ParseInstantMessage(raw)
			if err != nil {
				return err
			}
			kraw, err := readInput(cmd, keyFile)
			if err != nil {
				return err
			}
			keys, err := dimp.ParsePrivateKeys(kraw)
			if err != nil {
				return fmt.Errorf("%s: %w", keyFile, err)
			}
			sign := keys[len(keys)-1]
			var pw crypto.SymmetricKey = crypto.Plain()
			var recipients []dimp.Recipient
			if !im.IsBroadcast() {
				if pw, err = crypto.GenerateAES(); err != nil {
					return err
				}
				if recipients, err = readRecipients(cmd, im, toKeys); err != nil {
					return err
				}
			}
			sm, err := dimp.Encrypt(im, pw, recipients)
			if err != nil {
				return err
			}
			rm, err := dimp.Sign(sm, sign)
			if err != nil {
				return err
			}
			if err := attach(cmd, rm, sign, metaFile, visaFile); err != nil {
				return err
			}
			out, _ := rm.MarshalJSON()
			return printJSON(cmd, out)
		},
	}
	seal.Flags().StringVar(&keyFile, "key", "", "sender's private key file (required)")
	seal.Flags().StringArrayVar(&toKeys, "to-key", nil, "[ID=]FILE: a receiver's public key, visa or meta (repeatable)")
	seal.Flags().StringVar(&metaFile, "meta", "", "attach the sender's meta from this file")
	seal.Flags().StringVar(&visaFile, "visa", "", "attach the sender's visa from this file")
	_ = seal.MarkFlagRequired("key")
	return seal
}

// readRecipients turns --to-key arguments into recipients.
func readRecipients(cmd *cobra.Command, im *dimp.InstantMessage, args []string) ([]dimp.Recipient, error) {
	if len(args) == 0 {
		return nil, fmt.Errorf("%w: %s; pass --to-key", dimp.ErrNoEncryptKey, im.Receiver)
	}
	var out []dimp.Recipient
	var skipped []error
	for _, arg := range args {
		var who dimp.ID
		path := arg
		if i := strings.LastIndexByte(arg, '='); i > 0 {
			id, err := dimp.ParseID(arg[:i])
			if err != nil {
				return nil, fmt.Errorf("--to-key %s: %w", arg, err)
			}
			who, path = id, arg[i+1:]
		}
		raw, err := readInput(cmd, path)
		if err != nil {
			return nil, err
		}
		r, err := recipientFromFile(raw, who, im.Receiver)
		if errors.Is(err, dimp.ErrNoEncryptKey) {
			skipped = append(skipped, fmt.Errorf("--to-key %s: %w", arg, err))
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("--to-key %s: %w", arg, err)
		}
		out = mergeRecipient(out, r)
	}
	if len(out) == 0 {
		return nil, errors.Join(skipped...)
	}
	// Members without a key are left out of a group message, as the
	// reference does; say so.
	for _, err := range skipped {
		fmt.Fprintln(cmd.ErrOrStderr(), "dimtui: skipped:", err)
	}
	return out, nil
}

// mergeRecipient adds r's keys to the recipient of the same ID, if any.
func mergeRecipient(list []dimp.Recipient, r dimp.Recipient) []dimp.Recipient {
	for i := range list {
		if list[i].ID.SameAs(r.ID) {
			list[i].Keys = append(list[i].Keys, r.Keys...)
			return list
		}
	}
	return append(list, r)
}

func recipientFromFile(raw []byte, who, receiver dimp.ID) (dimp.Recipient, error) {
	if d, err := dimp.ParseDocument(raw); err == nil {
		k, err := d.VisaKey()
		if err != nil {
			return dimp.Recipient{}, err
		}
		if k == nil {
			return dimp.Recipient{}, fmt.Errorf("%w: the document carries no key", dimp.ErrNoEncryptKey)
		}
		if who.IsZero() {
			who = d.ID
		}
		return dimp.Recipient{ID: who, Keys: []dimp.TerminalKey{{Terminal: d.Terminal(), Key: k}}}, nil
	}
	if who.IsZero() {
		who = receiver
	}
	var pub crypto.PublicKey
	if m, err := dimp.ParseMeta(raw); err == nil {
		pub = m.Key
	} else if pub, err = crypto.ParsePublicKey(raw); err != nil {
		return dimp.Recipient{}, fmt.Errorf("not a visa, meta or public key: %w", err)
	}
	ek, ok := pub.(crypto.EncryptKey)
	if !ok {
		return dimp.Recipient{}, fmt.Errorf("%w: a %s key cannot encrypt", dimp.ErrNoEncryptKey, pub.Algorithm())
	}
	return dimp.Recipient{ID: who, Keys: []dimp.TerminalKey{{Key: ek}}}, nil
}

// attach adds the sender's meta and visa, checking they are the sender's.
func attach(cmd *cobra.Command, rm *dimp.ReliableMessage, sign crypto.PrivateKey, metaFile, visaFile string) error {
	if metaFile == "" && visaFile == "" {
		return nil
	}
	if metaFile == "" {
		return errors.New("--visa needs --meta")
	}
	raw, err := readInput(cmd, metaFile)
	if err != nil {
		return err
	}
	meta, err := dimp.ParseMeta(raw)
	if err != nil {
		return err
	}
	if !crypto.SamePublicKey(meta.Key, sign.PublicKey()) {
		return fmt.Errorf("%w: --key is not the key of --meta", dimp.ErrMetaMismatch)
	}
	var visa *dimp.Document
	if visaFile != "" {
		vraw, err := readInput(cmd, visaFile)
		if err != nil {
			return err
		}
		if visa, err = dimp.ParseDocument(vraw); err != nil {
			return err
		}
	}
	if _, err := dimp.NewProfile(rm.Sender, meta, visa); err != nil {
		return err
	}
	rm.Meta, rm.Visa = meta, visa
	return nil
}
