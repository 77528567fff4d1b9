package main

import (
	"fmt"
	"os"
	"strings"

	"github.com/nerd-project/nerd/internal/cli"
	"github.com/spf13/cobra"
)

func newRootCommand(app *cli.App) *cobra.Command {
	g := &app.Global
	root := &cobra.Command{
		Use:              app.Name + " [OPTIONS] COMMAND",
		Short:            "A self-sufficient runtime for containers, with no daemon",
		SilenceUsage:     true,
		SilenceErrors:    true,
		TraverseChildren: true,
		Version:          cli.Version,
		PersistentPreRunE: func(cmd *cobra.Command, args []string) error {
			return applyGlobalConfig(cmd, app)
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 {
				return fmt.Errorf("%s: '%s' is not a %s command.\nSee '%s --help'", app.Name, args[0], app.Name, app.Name)
			}
			return cmd.Help()
		},
		Args: cobra.ArbitraryArgs,
	}
	root.SetVersionTemplate(fmt.Sprintf("%s version {{.Version}}, build %s\n", app.Name, cli.GitCommit))
	root.SetFlagErrorFunc(func(cmd *cobra.Command, err error) error { return cli.FlagError(err) })
	root.SetIn(app.In)
	root.SetOut(app.Out)
	root.SetErr(app.Err)

	pf := root.PersistentFlags()
	pf.StringVar(&g.DataRoot, "data-root", "", "Root directory of persistent nerd state (default /var/lib/nerd)")
	pf.StringVar(&g.HostsDir, "hosts-dir", "", "Directory of registry hosts.toml files (default /etc/nerd/certs.d)")
	pf.StringSliceVar(&g.InsecureRegistries, "insecure-registry", nil, "Registry to reach over plain HTTP or without TLS verification")
	pf.BoolVarP(&g.Debug, "debug", "D", false, "Enable debug mode")
	pf.StringVar(&g.DockerConfig, "config", "", "Location of client config files (default ~/.docker)")
	pf.String("host", "", "Ignored: nerd has no daemon")
	pf.StringVar(&g.CNIPath, "cni-path", "", "Directory of the CNI plugins (default: nerd's libexec dir)")
	// Root-only, as in Docker: -l would clash with run -l/ps -l.
	root.Flags().StringP("log-level", "l", "info", "Set the logging level")
	_ = pf.MarkHidden("host")
	// --help without -h: run/create use -h for --hostname, as in Docker.
	pf.Bool("help", false, "Print usage")

	root.AddCommand(
		newRunCommand(app),
		newCreateCommand(app),
		newStartCommand(app),
		newStopCommand(app),
		newRestartCommand(app),
		newKillCommand(app),
		newRmCommand(app),
		newPsCommand(app),
		newLogsCommand(app),
		newWaitCommand(app),
		newRenameCommand(app),
		newPauseCommand(app),
		newUnpauseCommand(app),
		newExecCommand(app),
		newAttachCommand(app),
		newTopCommand(app),
		newUpdateCommand(app),
		newCpCommand(app),
		newDiffCommand(app),
		newExportCommand(app),
		newCommitCommand(app),
		newStatsCommand(app),
		newPortCommand(app),
		newContainerCommand(app),
		newPullCommand(app),
		newPushCommand(app),
		newImagesCommand(app),
		newImageCommand(app),
		newTagCommand(app),
		newRmiCommand(app),
		newSaveCommand(app),
		newLoadCommand(app),
		newHistoryCommand(app),
		newInspectCommand(app),
		newLoginCommand(app),
		newLogoutCommand(app),
		newVersionCommand(app),
		newInfoCommand(app),
		newSystemCommand(app),
		newVolumeCommand(app),
		newNetworkCommand(app),
		newInternalCommand(app),
		newCompletionCommand(app),
	)
	return root
}

// applyGlobalConfig merges nerd.toml under the flags the user gave.
func applyGlobalConfig(cmd *cobra.Command, app *cli.App) error {
	path := cli.ConfigPath()
	conf, err := cli.LoadConfig(path)
	if err != nil {
		return err
	}
	app.Global.ConfigFile = path
	flags := cmd.Flags()
	app.ApplyConfig(conf, flags.Changed("data-root"), flags.Changed("hosts-dir"), flags.Changed("insecure-registry"))
	if h := os.Getenv("DOCKER_HOST"); h != "" && !strings.HasPrefix(h, "unix:///var/run/docker.sock") {
		fmt.Fprintf(app.Err, "WARNING: DOCKER_HOST=%s is ignored: nerd runs without a daemon\n", h)
	}
	return nil
}

// commandPath is "nerd pull" for the help hint after a usage error.
func commandPath(cmd *cobra.Command, name string) string {
	if cmd == nil {
		return name
	}
	parts := strings.Fields(cmd.CommandPath())
	if len(parts) > 0 {
		parts[0] = name
	}
	return strings.Join(parts, " ")
}

// exactArgs, minArgs … word argument errors like the Docker CLI; as there,
// they exit 1 (only flag errors exit 125).
func exactArgs(n int) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) != n {
			plural := "s"
			if n == 1 {
				plural = ""
			}
			return fmt.Errorf("%q requires exactly %d argument%s.\nSee '%s --help'.\n\nUsage:  %s\n\n%s",
				cmd.CommandPath(), n, plural, cmd.CommandPath(), cmd.UseLine(), cmd.Short)
		}
		return nil
	}
}

func minArgs(n int) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) < n {
			plural := "s"
			if n == 1 {
				plural = ""
			}
			return fmt.Errorf("%q requires at least %d argument%s.\nSee '%s --help'.\n\nUsage:  %s\n\n%s",
				cmd.CommandPath(), n, plural, cmd.CommandPath(), cmd.UseLine(), cmd.Short)
		}
		return nil
	}
}

func noArgs(cmd *cobra.Command, args []string) error {
	if len(args) > 0 {
		return fmt.Errorf("%q accepts no arguments.\nSee '%s --help'.\n\nUsage:  %s\n\n%s",
			cmd.CommandPath(), cmd.CommandPath(), cmd.UseLine(), cmd.Short)
	}
	return nil
}

func maxArgs(n int) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) > n {
			return fmt.Errorf("%q requires at most %d argument(s).\nSee '%s --help'.\n\nUsage:  %s\n\n%s",
				cmd.CommandPath(), n, cmd.CommandPath(), cmd.UseLine(), cmd.Short)
		}
		return nil
	}
}
