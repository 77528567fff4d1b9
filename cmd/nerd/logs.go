package main

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/nerd-project/nerd/internal/cli"
	"github.com/nerd-project/nerd/pkg/logging"
	"github.com/spf13/cobra"
)

type logsOptions struct {
	follow     bool
	since      string
	until      string
	tail       string
	timestamps bool
	details    bool
}

func newLogsCommand(app *cli.App) *cobra.Command {
	var opts logsOptions
	cmd := &cobra.Command{
		Use:   "logs [OPTIONS] CONTAINER",
		Short: "Fetch the logs of a container",
		Args:  exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runLogs(cmd.Context(), app, &opts, args[0])
		},
	}
	f := cmd.Flags()
	f.BoolVarP(&opts.follow, "follow", "f", false, "Follow log output")
	f.StringVar(&opts.since, "since", "", "Show logs since timestamp (e.g. \"2013-01-02T13:23:37Z\") or relative (e.g. \"42m\" for 42 minutes)")
	f.StringVar(&opts.until, "until", "", "Show logs before a timestamp (e.g. \"2013-01-02T13:23:37Z\") or relative (e.g. \"42m\" for 42 minutes)")
	f.StringVarP(&opts.tail, "tail", "n", "all", "Number of lines to show from the end of the logs")
	f.BoolVarP(&opts.timestamps, "timestamps", "t", false, "Show timestamps")
	f.BoolVar(&opts.details, "details", false, "Show extra details provided to logs")
	return cmd
}

func runLogs(ctx context.Context, app *cli.App, opts *logsOptions, ref string) error {
	eng, c, err := openContainer(app, ref)
	if err != nil {
		return err
	}
	if c.HostConfig.LogConfig.Type == "none" {
		return fmt.Errorf("configured logging driver does not support reading")
	}
	ro := logging.ReadOptions{Tail: -1, Follow: opts.follow, Timestamps: opts.timestamps, Details: opts.details}
	now := time.Now()
	if opts.since != "" {
		if ro.Since, err = logging.ParseTime(opts.since, now); err != nil {
			return cli.FlagError(err)
		}
	}
	if opts.until != "" {
		if ro.Until, err = logging.ParseTime(opts.until, now); err != nil {
			return cli.FlagError(err)
		}
	}
	if opts.tail != "all" && opts.tail != "" {
		n, err := strconv.Atoi(opts.tail)
		if err != nil {
			return cli.FlagError(fmt.Errorf("invalid value for \"tail\": %s", opts.tail))
		}
		if n >= 0 {
			ro.Tail = n
		}
	}
	running := func() bool {
		fresh, err := eng.Get(c.ID)
		return err == nil && fresh.State.Running()
	}
	return logging.Read(ctx, c.Paths.Log(), ro, app.Out, app.Err, running)
}
