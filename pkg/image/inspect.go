package image

import (
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// InspectResponse is `docker image inspect`'s JSON shape.
type InspectResponse struct {
	ID            string      `json:"Id"`
	RepoTags      []string    `json:"RepoTags"`
	RepoDigests   []string    `json:"RepoDigests"`
	Parent        string      `json:"Parent"`
	Comment       string      `json:"Comment"`
	Created       string      `json:"Created"`
	DockerVersion string      `json:"DockerVersion"`
	Author        string      `json:"Author"`
	Config        v1.Config   `json:"Config"`
	Architecture  string      `json:"Architecture"`
	Variant       string      `json:"Variant,omitempty"`
	Os            string      `json:"Os"`
	OsVersion     string      `json:"OsVersion,omitempty"`
	Size          int64       `json:"Size"`
	GraphDriver   GraphDriver `json:"GraphDriver"`
	RootFS        RootFS      `json:"RootFS"`
	Metadata      struct {
		LastTagTime string `json:"LastTagTime,omitempty"`
	} `json:"Metadata"`
}

// GraphDriver names the storage driver and its directories.
type GraphDriver struct {
	Name string            `json:"Name"`
	Data map[string]string `json:"Data"`
}

// RootFS lists the layer diff IDs.
type RootFS struct {
	Type   string   `json:"Type"`
	Layers []string `json:"Layers"`
}

// Inspect renders img the way Docker does.
func (s *Store) Inspect(img *Image) InspectResponse {
	r := InspectResponse{
		ID:            img.ID.String(),
		RepoTags:      []string{},
		RepoDigests:   img.RepoDigests,
		Comment:       "",
		DockerVersion: img.Config.DockerVersion,
		Author:        img.Config.Author,
		Config:        img.Config.Config,
		Architecture:  img.Config.Architecture,
		Variant:       img.Config.Variant,
		Os:            img.Config.OS,
		OsVersion:     img.Config.OSVersion,
		Size:          img.Size,
		RootFS:        RootFS{Type: "layers", Layers: []string{}},
	}
	if r.RepoDigests == nil {
		r.RepoDigests = []string{}
	}
	if !img.Created().IsZero() {
		r.Created = img.Created().UTC().Format(time.RFC3339Nano)
	}
	for _, n := range img.Names {
		if n.Tag() != "" {
			r.RepoTags = append(r.RepoTags, n.Familiar())
		}
	}
	for _, h := range img.History() {
		if h.Comment != "" {
			r.Comment = h.Comment
		}
	}
	for _, d := range img.Config.RootFS.DiffIDs {
		r.RootFS.Layers = append(r.RootFS.Layers, d.String())
	}
	var lowers []string
	keys := img.ChainIDs()
	for i := len(keys) - 1; i >= 0; i-- {
		lowers = append(lowers, s.snaps.Path(keys[i].Encoded()))
	}
	r.GraphDriver = GraphDriver{Name: "overlayfs", Data: map[string]string{}}
	if len(lowers) > 0 {
		r.GraphDriver.Data["LowerDir"] = strings.Join(lowers, ":")
	}
	return r
}

// History is the config's history, oldest first.
func (img *Image) History() []v1.History { return img.Config.History }

// HistoryEntry is one row of `docker history`, newest first.
type HistoryEntry struct {
	// ID is the image ID on the top row and empty ("<missing>") below, as
	// for pulled images in Docker.
	ID        string
	Created   time.Time
	CreatedBy string
	Comment   string
	// Size is the unpacked size of the layer the step made (0 for steps
	// that made none).
	Size int64
}

// History lists img's build steps newest first with their layer sizes.
func (s *Store) History(img *Image) []HistoryEntry {
	keys := img.ChainIDs()
	sizeOf := func(i int) int64 {
		if i >= len(keys) {
			return 0
		}
		if info, err := s.snaps.Stat(keys[i].Encoded()); err == nil {
			return info.Size
		}
		return 0
	}
	var out []HistoryEntry
	layer := 0
	hist := img.History()
	if len(hist) == 0 {
		// No history recorded: one row per layer.
		for range keys {
			hist = append(hist, v1.History{})
		}
	}
	for _, h := range hist {
		e := HistoryEntry{Created: h.Created.Time, CreatedBy: h.CreatedBy, Comment: h.Comment}
		if !h.EmptyLayer {
			e.Size = sizeOf(layer)
			layer++
		}
		out = append(out, e)
	}
	for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
		out[i], out[j] = out[j], out[i]
	}
	if len(out) > 0 {
		out[0].ID = img.ID.String()
	}
	return out
}
