package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/nerd-project/nerd/internal/cli"
	"github.com/nerd-project/nerd/internal/cli/formatter"
	"github.com/spf13/cobra"
)

type inspectOptions struct {
	format  string
	kind    string
	size    bool
	objects []string
	// anyType is the top-level inspect, which says "No such object".
	anyType bool
}

// newInspectCommand is the top-level `inspect`: it looks the name up among
// every kind of object nerd knows: containers, images, volumes (networks
// join when they arrive).
func newInspectCommand(app *cli.App) *cobra.Command {
	var opts inspectOptions
	cmd := &cobra.Command{
		Use:   "inspect [OPTIONS] NAME|ID [NAME|ID...]",
		Short: "Return low-level information on objects",
		Args:  minArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.objects, opts.anyType = args, true
			switch opts.kind {
			case "", "image", "container", "volume", "network":
			default:
				return fmt.Errorf("%q is not a valid value for --type", opts.kind)
			}
			return runInspectAny(app, &opts)
		},
	}
	cmd.Flags().StringVarP(&opts.format, "format", "f", "", "Format output using a custom template")
	cmd.Flags().StringVar(&opts.kind, "type", "", "Only inspect objects of the given type")
	cmd.Flags().BoolVarP(&opts.size, "size", "s", false, "Display total file sizes if the type is container")
	return cmd
}

func newImageInspectCommand(app *cli.App) *cobra.Command {
	var opts inspectOptions
	cmd := &cobra.Command{
		Use:   "inspect [OPTIONS] IMAGE [IMAGE...]",
		Short: "Display detailed information on one or more images",
		Args:  minArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.objects = args
			return runImageInspect(app, &opts)
		},
	}
	cmd.Flags().StringVarP(&opts.format, "format", "f", "", "Format output using a custom template")
	cmd.Flags().String("platform", "", "Inspect a specific platform (ignored: one platform is stored)")
	return cmd
}

// runInspectAny looks each name up among containers, images, then volumes
// (Docker's order), unless --type narrows it.
func runInspectAny(app *cli.App, opts *inspectOptions) error {
	eng, err := app.Engine()
	if err != nil {
		return err
	}
	store := eng.Images()
	var objects []any
	var errs []error
	for _, name := range opts.objects {
		if opts.kind == "" || opts.kind == "container" {
			if c, err := eng.Get(name); err == nil {
				objects = append(objects, eng.Inspect(c))
				continue
			}
		}
		if opts.kind == "" || opts.kind == "image" {
			if img, err := store.Get(name); err == nil {
				objects = append(objects, store.Inspect(img))
				continue
			}
		}
		if opts.kind == "" || opts.kind == "volume" {
			if v, err := eng.Volumes().Get(name); err == nil {
				objects = append(objects, v.Inspect())
				continue
			}
		}
		if opts.kind == "" || opts.kind == "network" {
			if n, err := inspectNetwork(app, name); err == nil {
				objects = append(objects, n)
				continue
			}
		}
		errs = append(errs, fmt.Errorf("No such object: %s", name))
	}
	if err := writeInspect(app, opts.format, objects); err != nil {
		return err
	}
	return joinErrors(app, errs)
}

func runImageInspect(app *cli.App, opts *inspectOptions) error {
	store, err := app.Images()
	if err != nil {
		return err
	}
	var objects []any
	var errs []error
	for _, name := range opts.objects {
		img, err := store.Get(name)
		if err != nil {
			if opts.anyType {
				errs = append(errs, fmt.Errorf("No such object: %s", name))
			} else {
				errs = append(errs, noSuchImage(err, name))
			}
			continue
		}
		objects = append(objects, store.Inspect(img))
	}
	if err := writeInspect(app, opts.format, objects); err != nil {
		return err
	}
	return joinErrors(app, errs)
}

// writeInspect prints objects as Docker does: an indented JSON array, or
// the template once per object.
func writeInspect(app *cli.App, format string, objects []any) error {
	if format == "" || format == "json" {
		if objects == nil {
			objects = []any{}
		}
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		enc.SetIndent("", "    ")
		if err := enc.Encode(objects); err != nil {
			return err
		}
		_, err := app.Out.Write(buf.Bytes())
		return err
	}
	tmpl, err := formatter.ParseTemplate(format)
	if err != nil {
		return err
	}
	for _, o := range objects {
		// Like the Docker CLI: the typed object first (so {{json .X}}
		// keeps Docker's field order), its JSON form when a field is only
		// known by its JSON name (e.g. {{.Id}}).
		var buf bytes.Buffer
		if err := tmpl.Execute(&buf, o); err != nil {
			buf.Reset()
			raw, err := json.Marshal(o)
			if err != nil {
				return err
			}
			var generic any
			dec := json.NewDecoder(bytes.NewReader(raw))
			dec.UseNumber()
			if err := dec.Decode(&generic); err != nil {
				return err
			}
			if err := tmpl.Execute(&buf, generic); err != nil {
				return fmt.Errorf("template parsing error: %w", err)
			}
		}
		buf.WriteByte('\n')
		if _, err := app.Out.Write(buf.Bytes()); err != nil {
			return err
		}
	}
	return nil
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
