package main

import (
	"fmt"
	"path"
	"strings"
	"time"

	"github.com/nerd-project/nerd/internal/cli"
	"github.com/nerd-project/nerd/internal/cli/formatter"
	"github.com/nerd-project/nerd/pkg/image"
	"github.com/spf13/cobra"
)

type imagesOptions struct {
	matchName string
	all       bool
	quiet     bool
	digests   bool
	noTrunc   bool
	format    string
	filters   []string
}

const (
	imagesTableFormat        = "table {{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}"
	imagesDigestsTableFormat = "table {{.Repository}}\t{{.Tag}}\t{{.Digest}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}"
)

var imagesHeader = map[string]string{
	"Repository": "REPOSITORY", "Tag": "TAG", "ID": "IMAGE ID", "Digest": "DIGEST",
	"CreatedSince": "CREATED", "CreatedAt": "CREATED AT", "Size": "SIZE",
	"Containers": "CONTAINERS", "SharedSize": "SHARED SIZE", "UniqueSize": "UNIQUE SIZE", "VirtualSize": "VIRTUAL SIZE",
}

func newImagesCommand(app *cli.App) *cobra.Command {
	cmd := newImageListCommand(app)
	cmd.Use = "images [OPTIONS] [REPOSITORY[:TAG]]"
	return cmd
}

func newImageListCommand(app *cli.App) *cobra.Command {
	var opts imagesOptions
	cmd := &cobra.Command{
		Use:     "ls [OPTIONS] [REPOSITORY[:TAG]]",
		Aliases: []string{"list"},
		Short:   "List images",
		Args:    maxArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 {
				opts.matchName = args[0]
			}
			return runImages(app, &opts)
		},
	}
	f := cmd.Flags()
	f.BoolVarP(&opts.all, "all", "a", false, "Show all images (default hides intermediate images)")
	f.BoolVarP(&opts.quiet, "quiet", "q", false, "Only show image IDs")
	f.BoolVar(&opts.digests, "digests", false, "Show digests")
	f.BoolVar(&opts.noTrunc, "no-trunc", false, "Don't truncate output")
	f.StringVar(&opts.format, "format", "", "Format output using a custom template ('table', 'table TEMPLATE', 'json', 'TEMPLATE')")
	f.StringArrayVarP(&opts.filters, "filter", "f", nil, "Filter output based on conditions provided")
	f.Bool("tree", false, "List multi-platform images as a tree (not supported; ignored)")
	_ = f.MarkHidden("tree")
	return cmd
}

func runImages(app *cli.App, opts *imagesOptions) error {
	filters, err := parseImageFilters(opts.filters)
	if err != nil {
		return err
	}
	if opts.matchName != "" {
		filters.references = append(filters.references, opts.matchName)
	}
	store, err := app.Images()
	if err != nil {
		return err
	}
	images, err := store.List()
	if err != nil {
		return err
	}
	if err := filters.resolve(images); err != nil {
		return err
	}
	var rows []*imageRow
	for _, img := range images {
		if !filters.matchImage(img) {
			continue
		}
		for _, r := range imageRows(img, opts.noTrunc) {
			if filters.matchRow(r) {
				rows = append(rows, r)
			}
		}
	}
	format := opts.format
	if opts.quiet {
		format = "{{.ID}}"
	}
	def := imagesTableFormat
	if opts.digests {
		def = imagesDigestsTableFormat
	}
	return formatter.Write(formatter.Context{Output: app.Out, Format: formatter.NewFormat(format, def), Header: imagesHeader}, rows)
}

// imageRow is one line of `images`: an image under one repository:tag.
type imageRow struct {
	img     *image.Image
	repo    string
	tag     string
	digest  string
	noTrunc bool
}

func imageRows(img *image.Image, noTrunc bool) []*imageRow {
	var rows []*imageRow
	digestFor := func(repo string) string {
		for _, d := range img.RepoDigests {
			if strings.HasPrefix(d, repo+"@") {
				return strings.TrimPrefix(d, repo+"@")
			}
		}
		return "<none>"
	}
	seenRepo := map[string]bool{}
	for _, n := range img.Names {
		if n.Tag() == "" {
			continue
		}
		repo := n.FamiliarName()
		seenRepo[repo] = true
		rows = append(rows, &imageRow{img: img, repo: repo, tag: n.Tag(), digest: digestFor(repo), noTrunc: noTrunc})
	}
	// Repositories known only by digest show as <none> tags, as in Docker.
	for _, d := range img.RepoDigests {
		repo, dg, _ := strings.Cut(d, "@")
		if !seenRepo[repo] {
			seenRepo[repo] = true
			rows = append(rows, &imageRow{img: img, repo: repo, tag: "<none>", digest: dg, noTrunc: noTrunc})
		}
	}
	if len(rows) == 0 {
		rows = append(rows, &imageRow{img: img, repo: "<none>", tag: "<none>", digest: "<none>", noTrunc: noTrunc})
	}
	return rows
}

func (r *imageRow) ID() string {
	if r.noTrunc {
		return r.img.ID.String()
	}
	return formatter.TruncateID(r.img.ID.String())
}
func (r *imageRow) Repository() string   { return r.repo }
func (r *imageRow) Tag() string          { return r.tag }
func (r *imageRow) Digest() string       { return r.digest }
func (r *imageRow) CreatedSince() string { return createdSince(r.img.Created()) }
func (r *imageRow) CreatedAt() string {
	return r.img.Created().Local().Format("2006-01-02 15:04:05 -0700 MST")
}
func (r *imageRow) Size() string        { return formatter.Size(r.img.Size) }
func (r *imageRow) VirtualSize() string { return formatter.Size(r.img.Size) }
func (r *imageRow) SharedSize() string  { return "N/A" }
func (r *imageRow) UniqueSize() string  { return "N/A" }
func (r *imageRow) Containers() string  { return "N/A" }

// MarshalJSON makes `--format json` print the columns, as Docker does.
func (r *imageRow) MarshalJSON() ([]byte, error) { return formatter.MarshalMethods(r) }

func createdSince(t time.Time) string {
	if t.IsZero() {
		return "N/A"
	}
	return formatter.CreatedSince(t)
}

// imageFilters are `--filter` conditions (Docker's semantics: values of one
// key are ORed, keys are ANDed).
type imageFilters struct {
	dangling   *bool
	references []string
	labels     []string
	before     []string
	since      []string
	beforeT    *time.Time
	sinceT     *time.Time
}

func parseImageFilters(args []string) (*imageFilters, error) {
	f := &imageFilters{}
	for _, a := range args {
		k, v, ok := strings.Cut(a, "=")
		if !ok {
			return nil, fmt.Errorf("bad format of filter (expected name=value)")
		}
		switch strings.ToLower(k) {
		case "dangling":
			var err error
			if f.dangling, err = parseBoolFilter("dangling", v); err != nil {
				return nil, err
			}
		case "reference":
			f.references = append(f.references, v)
		case "label":
			f.labels = append(f.labels, v)
		case "before":
			f.before = append(f.before, v)
		case "since":
			f.since = append(f.since, v)
		default:
			return nil, fmt.Errorf("invalid filter '%s'", k)
		}
	}
	return f, nil
}

// parseBoolFilter reads a filter's true/false (or 1/0) value.
func parseBoolFilter(key, v string) (*bool, error) {
	var b bool
	switch strings.ToLower(v) {
	case "true", "1":
		b = true
	case "false", "0":
	default:
		return nil, fmt.Errorf("invalid filter '%s=%s'", key, v)
	}
	return &b, nil
}

// resolve turns before=/since= image names into times.
func (f *imageFilters) resolve(images []*image.Image) error {
	pick := func(names []string, keep func(a, b time.Time) bool) (*time.Time, error) {
		var out *time.Time
		for _, n := range names {
			img, err := findImage(images, n)
			if err != nil {
				return nil, err
			}
			t := img.Created()
			if out == nil || keep(t, *out) {
				out = &t
			}
		}
		return out, nil
	}
	var err error
	if f.beforeT, err = pick(f.before, func(a, b time.Time) bool { return a.After(b) }); err != nil {
		return err
	}
	f.sinceT, err = pick(f.since, func(a, b time.Time) bool { return a.Before(b) })
	return err
}

func findImage(images []*image.Image, nameOrID string) (*image.Image, error) {
	for _, img := range images {
		for _, n := range img.Names {
			if ref, err := image.ParseReference(nameOrID); err == nil && ref.String() == n.String() {
				return img, nil
			}
		}
		if id := strings.TrimPrefix(nameOrID, "sha256:"); len(id) > 0 && strings.HasPrefix(img.ID.Encoded(), id) {
			return img, nil
		}
	}
	return nil, fmt.Errorf("No such image: %s", nameOrID)
}

func (f *imageFilters) matchImage(img *image.Image) bool {
	if f.dangling != nil && img.Dangling() != *f.dangling {
		return false
	}
	if f.beforeT != nil && !img.Created().Before(*f.beforeT) {
		return false
	}
	if f.sinceT != nil && !img.Created().After(*f.sinceT) {
		return false
	}
	for _, l := range f.labels {
		k, v, hasValue := strings.Cut(l, "=")
		got, ok := img.Config.Config.Labels[k]
		if !ok || (hasValue && got != v) {
			return false
		}
	}
	return true
}

// matchRow applies reference= patterns to one repository:tag, with
// Docker's path.Match over the familiar name (and name:tag).
func (f *imageFilters) matchRow(r *imageRow) bool {
	if len(f.references) == 0 {
		return true
	}
	if r.repo == "<none>" {
		return false
	}
	for _, pat := range f.references {
		if ok, _ := path.Match(pat, r.repo); ok {
			return true
		}
		if ok, _ := path.Match(pat, r.repo+":"+r.tag); ok {
			return true
		}
		// Docker also accepts fully-qualified patterns (docker.io/library/x).
		if ref, err := image.ParseRepository(r.repo); err == nil {
			if ok, _ := path.Match(pat, ref.Name()); ok {
				return true
			}
			if ok, _ := path.Match(pat, ref.Name()+":"+r.tag); ok {
				return true
			}
		}
	}
	return false
}
