package main

import (
	"encoding/json"
	"fmt"

	"github.com/spf13/cobra"

	"dimtui/client/idstore"
	"dimtui/dimp"
)

func newIDCommand() *cobra.Command {
	id := &cobra.Command{Use: "id", Short: "Parse IDs and manage your identities"}
	id.AddCommand(newIDParseCommand(), newIDNewCommand(), newIDShowCommand())
	return id
}

// idReport is what `id parse` prints.
type idReport struct {
	Name        *string `json:"name"`
	Address     string  `json:"address"`
	Terminal    *string `json:"terminal"`
	Network     int     `json:"network"`
	IsBroadcast bool    `json:"is_broadcast"`
	IsUser      bool    `json:"is_user"`
	IsGroup     bool    `json:"is_group"`
}

func optional(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func newIDParseCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "parse ID",
		Short: "Parse an ID (name@address/terminal) and print its parts as JSON",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := dimp.ParseID(args[0])
			if err != nil {
				return err
			}
			out, _ := json.Marshal(idReport{
				Name: optional(id.Name()), Address: id.Address().String(), Terminal: optional(id.Terminal()),
				Network: int(id.Address().Network()), IsBroadcast: id.IsBroadcast(),
				IsUser: id.IsUser(), IsGroup: id.IsGroup(),
			})
			return printJSON(cmd, out)
		},
	}
}

func newIDNewCommand() *cobra.Command {
	var keyAlg, metaType, dir string
	cmd := &cobra.Command{
		Use:   "new NAME",
		Short: "Create an identity: private keys, meta and a visa with an RSA encryption key",
		Long: `Creates an identity in your config directory (file mode 0600) and prints its ID.
--key chooses the signing key (rsa: RSA-2048, ecc: secp256k1); --meta the meta type
(mkm: the ID is NAME@address; btc and eth: the ID is the address alone; eth needs ecc).
The visa always carries an RSA-1024 key that peers encrypt message keys to.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			mt, err := dimp.ParseMetaType(metaType)
			if err != nil {
				return err
			}
			store, err := idstore.Open(dir)
			if err != nil {
				return err
			}
			u, err := store.Create(args[0], idstore.Options{KeyAlg: keyAlg, Meta: mt})
			if err != nil {
				return err
			}
			fmt.Fprintln(cmd.OutOrStdout(), u.ID)
			return nil
		},
	}
	cmd.Flags().StringVar(&keyAlg, "key", "rsa", "signing key: rsa or ecc")
	cmd.Flags().StringVar(&metaType, "meta", "mkm", "meta type: mkm, btc or eth")
	cmd.Flags().StringVar(&dir, "dir", "", "identity directory (default: your config directory)")
	return cmd
}

func newIDShowCommand() *cobra.Command {
	var part, dir string
	cmd := &cobra.Command{
		Use:   "show [NAME]",
		Short: "Print a stored identity's ID (or one part of it as JSON)",
		Long: `Prints the ID of a stored identity (the default one when NAME is left out).
--part prints one part as JSON for use with the other commands: meta, visa,
key (the signing private key), visa-key (the decrypting private key),
public (the signing public key), visa-public (the visa's encryption key).`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			store, err := idstore.Open(dir)
			if err != nil {
				return err
			}
			name := ""
			if len(args) == 1 {
				name = args[0]
			}
			u, err := store.Load(name)
			if err != nil {
				return err
			}
			var v json.Marshaler
			switch part {
			case "":
				fmt.Fprintln(cmd.OutOrStdout(), u.ID)
				return nil
			case "meta":
				v = u.Meta
			case "visa":
				v = u.Visa
			case "key":
				v = u.SignKey
			case "public":
				v = u.SignKey.PublicKey()
			case "visa-key":
				if len(u.Decrypt) > 0 {
					v = u.Decrypt[0]
				}
			case "visa-public":
				if len(u.Decrypt) > 0 {
					v = u.Decrypt[0].PublicKey()
				}
			default:
				return fmt.Errorf("unknown part %q", part)
			}
			if v == nil {
				return fmt.Errorf("identity has no %s", part)
			}
			raw, err := v.MarshalJSON()
			if err != nil {
				return err
			}
			return printJSON(cmd, raw)
		},
	}
	cmd.Flags().StringVar(&part, "part", "", "print one part: meta, visa, key, visa-key, public, visa-public")
	cmd.Flags().StringVar(&dir, "dir", "", "identity directory (default: your config directory)")
	return cmd
}
