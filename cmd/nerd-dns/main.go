// Command nerd-dns is the per-network DNS responder: it answers the names of
// a network's containers from a records file and forwards everything else.
// nerd starts one per user-defined network (see pkg/network/dns); it is not
// meant to be run by hand, though it can be, for debugging.
//
// It is a binary of its own, importing nothing of nerd but that package,
// because one runs per network for as long as the network has a running
// container: its size is paid many times over.
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"os"
	"os/signal"
	"syscall"

	"github.com/nerd-project/nerd/pkg/network/dns"
)

func main() {
	var cfg dns.Config
	readyFD := flag.Int("ready-fd", -1, "`fd` to write \"ok\" (or the error) to once listening, then close")
	flag.StringVar(&cfg.Listen, "listen", "", "`ip:port` to serve on, over UDP and TCP (e.g. 10.78.3.1:53)")
	flag.StringVar(&cfg.RecordsFile, "records", "", "records `file` (JSON, see pkg/network/dns.Records); exit when it disappears")
	flag.DurationVar(&cfg.ForwardTimeout, "forward-timeout", dns.DefaultForwardTimeout, "timeout of one upstream exchange; a query gets twice that in all")
	flag.Parse()
	log.SetPrefix(fmt.Sprintf("nerd-dns[%d]: ", os.Getpid()))
	if cfg.Listen == "" || cfg.RecordsFile == "" || flag.NArg() > 0 {
		flag.Usage()
		os.Exit(2)
	}
	cfg.Logf = log.Printf
	if err := run(cfg, *readyFD); err != nil {
		log.Print(err)
		os.Exit(1)
	}
}

func run(cfg dns.Config, readyFD int) error {
	// Before listening, so that a SIGTERM from a Stop racing a Start is
	// never the default (abrupt) action.
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	srv, err := dns.Listen(cfg)
	if serr := dns.SignalReady(readyFD, err); serr != nil && err == nil {
		err = serr
	}
	if err != nil {
		if srv != nil {
			srv.Close()
		}
		return err
	}
	log.Printf("serving %s from %s", srv.Addr(), cfg.RecordsFile)
	return srv.Serve(ctx)
}
