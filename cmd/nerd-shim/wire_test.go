package main

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/nerd-project/nerd/pkg/container"
)

// The monitor's own decoding types must read what the shared types write.
func TestRecordWire(t *testing.T) {
	full := container.Record{
		ID: "x", Config: container.Config{Tty: true, OpenStdin: true, StdinOnce: true, Env: []string{"A=1"}},
		HostConfig: container.HostConfig{
			RestartPolicy: container.RestartPolicy{Name: "on-failure", MaximumRetryCount: 3},
			AutoRemove:    true,
			LogConfig:     container.LogConfig{Type: "json-file", Config: map[string]string{"max-size": "1m"}},
			Resources:     container.Resources{Memory: 1 << 20},
		},
		Snapshots: []string{"a", "b"}, SnapshotRoot: "/snap",
	}
	data, _ := json.Marshal(full)
	var r record
	if err := json.Unmarshal(data, &r); err != nil {
		t.Fatal(err)
	}
	if !r.Config.Tty || !r.Config.OpenStdin || !r.Config.StdinOnce ||
		r.HostConfig.RestartPolicy != full.HostConfig.RestartPolicy || !r.HostConfig.AutoRemove ||
		!reflect.DeepEqual(r.HostConfig.LogConfig, full.HostConfig.LogConfig) ||
		!reflect.DeepEqual(r.Snapshots, full.Snapshots) || r.SnapshotRoot != "/snap" {
		t.Errorf("decoded %+v", r)
	}
}

func jsonNames(t reflect.Type) map[string]bool {
	names := map[string]bool{}
	for i := 0; i < t.NumField(); i++ {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ",")
		names[name] = true
	}
	return names
}

func TestRequestWire(t *testing.T) {
	shared, ours := jsonNames(reflect.TypeFor[container.Request]()), jsonNames(reflect.TypeFor[request]())
	if !reflect.DeepEqual(shared, ours) {
		t.Errorf("container.Request fields %v, monitor's request %v", shared, ours)
	}
}
