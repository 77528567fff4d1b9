package main

import (
	"encoding/json"
	"os"

	"github.com/nerd-project/nerd/pkg/container"
)

// The monitor decodes only what it uses, into its own small types:
// encoding/json keeps a codec for every type it has seen, and for the full
// record or the OCI process those caches alone would be a noticeable part
// of an idle monitor's memory. The JSON names are those of the shared types
// (wire_test.go checks they stay in step).

// record is the part of container.Record the monitor needs.
type record struct {
	Config struct {
		Tty       bool `json:"Tty"`
		OpenStdin bool `json:"OpenStdin"`
		StdinOnce bool `json:"StdinOnce"`
	} `json:"Config"`
	HostConfig struct {
		RestartPolicy container.RestartPolicy `json:"RestartPolicy"`
		AutoRemove    bool                    `json:"AutoRemove"`
		LogConfig     container.LogConfig     `json:"LogConfig"`
	} `json:"HostConfig"`
	Snapshots    []string `json:"Snapshots"`
	SnapshotRoot string   `json:"SnapshotRoot"`
	// MountPoints name the anonymous volumes --rm removes.
	MountPoints []container.MountPoint `json:"MountPoints"`
}

// request is container.Request with the exec'd process and the resources
// kept as raw JSON for the helper.
type request struct {
	Op            string                   `json:"op"`
	Signal        int                      `json:"signal"`
	Manual        bool                     `json:"manual"`
	Stdin         bool                     `json:"stdin"`
	Stdout        bool                     `json:"stdout"`
	Stderr        bool                     `json:"stderr"`
	Process       json.RawMessage          `json:"process"`
	Detach        bool                     `json:"detach"`
	Resources     json.RawMessage          `json:"resources"`
	RestartPolicy *container.RestartPolicy `json:"restartPolicy"`
}

// execProcess is what the monitor itself reads of an exec'd process.
type execProcess struct {
	Args     []string `json:"args"`
	Terminal bool     `json:"terminal"`
}

func readRecord(p container.Paths) (*record, error) {
	var r record
	data, err := os.ReadFile(p.Record())
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(data, &r); err != nil {
		return nil, err
	}
	return &r, nil
}
