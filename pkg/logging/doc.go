// Package logging implements Docker's json-file log driver: the writer the
// container monitor pumps stdout/stderr into (with size-based rotation) and
// the reader behind `nerd logs`.
//
// The on-disk format is Docker's, byte for byte, so that files written by
// nerd read like Docker's to every tool that parses them (promtail, vector,
// `docker logs` itself):
//
//	{"log":"hello\n","stream":"stdout","time":"2024-01-02T03:04:05.123456789Z"}
//
// The package is linked into the per-container monitor, whose memory is a
// benchmarked figure, so it keeps to the standard library (plus go-units to
// parse sizes) and never starts a goroutine.
//
// Writer is what the monitor uses: NewWriter, one Stream per output, Close
// at exit. Read is what `nerd logs` uses, with ParseTime for --since and
// --until. Read also reads log files written by dockerd (attrs included).
package logging
