package main

import (
	"github.com/nerd-project/nerd/internal/cli"
	"github.com/nerd-project/nerd/internal/cli/formatter"
	"github.com/nerd-project/nerd/pkg/image"
	"github.com/spf13/cobra"
)

type historyOptions struct {
	image   string
	human   bool
	quiet   bool
	noTrunc bool
	format  string
}

const historyTableFormat = "table {{.ID}}\t{{.CreatedSince}}\t{{.CreatedBy}}\t{{.Size}}\t{{.Comment}}"

var historyHeader = map[string]string{
	"ID": "IMAGE", "CreatedSince": "CREATED", "CreatedAt": "CREATED AT", "CreatedBy": "CREATED BY",
	"Size": "SIZE", "Comment": "COMMENT",
}

func newHistoryCommand(app *cli.App) *cobra.Command {
	var opts historyOptions
	cmd := &cobra.Command{
		Use:   "history [OPTIONS] IMAGE",
		Short: "Show the history of an image",
		Args:  exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.image = args[0]
			return runHistory(app, &opts)
		},
	}
	f := cmd.Flags()
	f.BoolVarP(&opts.human, "human", "H", true, "Print sizes and dates in human readable format")
	f.BoolVarP(&opts.quiet, "quiet", "q", false, "Only show image IDs")
	f.BoolVar(&opts.noTrunc, "no-trunc", false, "Don't truncate output")
	f.StringVar(&opts.format, "format", "", "Format output using a custom template")
	f.String("platform", "", "Show history for the given platform (ignored: one platform is stored)")
	return cmd
}

func runHistory(app *cli.App, opts *historyOptions) error {
	store, err := app.Images()
	if err != nil {
		return err
	}
	img, err := store.Get(opts.image)
	if err != nil {
		return noSuchImage(err, opts.image)
	}
	layers := store.History(img)
	rows := make([]*historyRow, len(layers))
	for i := range layers {
		rows[i] = &historyRow{h: layers[i], opts: opts}
	}
	format := opts.format
	if opts.quiet {
		format = "{{.ID}}"
	}
	return formatter.Write(formatter.Context{Output: app.Out, Format: formatter.NewFormat(format, historyTableFormat), Header: historyHeader}, rows)
}

type historyRow struct {
	h    image.HistoryEntry
	opts *historyOptions
}

func (r *historyRow) ID() string {
	if r.h.ID == "" {
		return "<missing>"
	}
	if r.opts.noTrunc {
		return r.h.ID
	}
	return formatter.TruncateID(r.h.ID)
}
func (r *historyRow) CreatedSince() string {
	if !r.opts.human {
		return r.h.Created.Format("2006-01-02T15:04:05Z07:00")
	}
	return createdSince(r.h.Created)
}
func (r *historyRow) CreatedAt() string { return r.h.Created.Format("2006-01-02T15:04:05Z07:00") }
func (r *historyRow) CreatedBy() string {
	if r.opts.noTrunc {
		return r.h.CreatedBy
	}
	return formatter.Ellipsis(r.h.CreatedBy, 45)
}
func (r *historyRow) Size() string {
	if !r.opts.human {
		return itoa(r.h.Size)
	}
	return formatter.Size(r.h.Size)
}
func (r *historyRow) Comment() string              { return r.h.Comment }
func (r *historyRow) MarshalJSON() ([]byte, error) { return formatter.MarshalMethods(r) }
