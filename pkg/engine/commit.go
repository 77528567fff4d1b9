package engine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path"
	"sort"
	"strconv"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/nerd-project/nerd/pkg/container"
	"github.com/nerd-project/nerd/pkg/image"
)

// CommitOptions are docker commit's.
type CommitOptions struct {
	// Reference names the new image; nil leaves it dangling (<none>).
	Reference *image.Reference
	Author    string
	Comment   string
	// Changes are Dockerfile instructions applied to the config (-c).
	Changes []string
	// Pause freezes a running container while its changes are read.
	Pause bool
}

// Commit makes an image of c: its image plus one layer of what c changed,
// with c's config (and the changes) as the image's config, as Docker does.
func (e *Engine) Commit(ctx context.Context, c *Container, opts CommitOptions) (*image.Image, error) {
	cfg := imageConfig(&c.Config)
	if err := ApplyChanges(&cfg, opts.Changes); err != nil {
		return nil, err
	}
	parent, err := e.images.Get(c.ImageID)
	if err != nil {
		return nil, fmt.Errorf("image %s of container %s: %w", strings.TrimPrefix(c.ImageID, "sha256:")[:12], c.Name, err)
	}
	chain := parent.ChainIDs()
	if len(chain) != len(c.Snapshots) {
		return nil, fmt.Errorf("image %s no longer matches the layers of container %s", parent.ID, c.Name)
	}
	for i, k := range chain {
		if k.Encoded() != c.Snapshots[i] {
			return nil, fmt.Errorf("image %s no longer matches the layers of container %s", parent.ID, c.Name)
		}
	}
	e.refresh(c)
	if opts.Pause && c.State.Status == container.StatusRunning {
		if err := e.Pause(ctx, c); err != nil {
			return nil, fmt.Errorf("pausing %s: %w", c.Name, err)
		}
		defer func() { _ = e.Unpause(context.WithoutCancel(ctx), c) }()
	}
	pr, pw := io.Pipe()
	go func() { pw.CloseWithError(writeUpperLayer(pw, c)) }()
	hist := v1.History{
		Created:   v1.Time{Time: time.Now().UTC()},
		CreatedBy: strings.Join(c.Config.Cmd, " "),
		Author:    opts.Author,
		Comment:   opts.Comment,
	}
	img, err := e.images.CommitLayer(ctx, parent, pr, cfg, hist, opts.Reference)
	pr.CloseWithError(errors.New("commit stopped"))
	return img, err
}

// imageConfig is the image config a commit of a container with config c
// starts from.
func imageConfig(c *container.Config) v1.Config {
	cfg := v1.Config{
		Hostname:     c.Hostname,
		Domainname:   c.Domainname,
		User:         c.User,
		AttachStdin:  c.AttachStdin,
		AttachStdout: c.AttachStdout,
		AttachStderr: c.AttachStderr,
		Tty:          c.Tty,
		OpenStdin:    c.OpenStdin,
		StdinOnce:    c.StdinOnce,
		Env:          append([]string(nil), c.Env...),
		Cmd:          append([]string(nil), c.Cmd...),
		Image:        c.Image,
		WorkingDir:   c.WorkingDir,
		Entrypoint:   append([]string(nil), c.Entrypoint...),
		StopSignal:   c.StopSignal,
	}
	if len(c.ExposedPorts) > 0 {
		cfg.ExposedPorts = map[string]struct{}{}
		for p := range c.ExposedPorts {
			cfg.ExposedPorts[p] = struct{}{}
		}
	}
	if len(c.Volumes) > 0 {
		cfg.Volumes = map[string]struct{}{}
		for v := range c.Volumes {
			cfg.Volumes[v] = struct{}{}
		}
	}
	if len(c.Labels) > 0 {
		cfg.Labels = map[string]string{}
		for k, v := range c.Labels {
			cfg.Labels[k] = v
		}
	}
	return cfg
}

// ApplyChanges applies Dockerfile instructions to cfg, as docker commit
// --change does: CMD, ENTRYPOINT, ENV, LABEL, EXPOSE, USER, WORKDIR,
// VOLUME, STOPSIGNAL, ONBUILD and HEALTHCHECK, in JSON or shell form, with
// $VAR and ${VAR} taken from the config's environment.
func ApplyChanges(cfg *v1.Config, changes []string) error {
	cmdSet := false
	for _, line := range changeLines(changes) {
		instr, rest := splitInstruction(line)
		switch strings.ToLower(instr) {
		case "cmd":
			args, err := commandForm(instr, rest)
			if err != nil {
				return err
			}
			cfg.Cmd, cmdSet = args, true
		case "entrypoint":
			args, err := commandForm(instr, rest)
			if err != nil {
				return err
			}
			cfg.Entrypoint = args
			if !cmdSet {
				// As in a Dockerfile: a new entrypoint drops the inherited
				// command.
				cfg.Cmd = nil
			}
		case "env":
			pairs, err := keyValues("ENV", rest, cfg.Env)
			if err != nil {
				return err
			}
			for _, kv := range pairs {
				cfg.Env = setEnv(cfg.Env, kv[0], kv[1])
			}
		case "label":
			pairs, err := keyValues("LABEL", rest, cfg.Env)
			if err != nil {
				return err
			}
			if cfg.Labels == nil {
				cfg.Labels = map[string]string{}
			}
			for _, kv := range pairs {
				cfg.Labels[kv[0]] = kv[1]
			}
		case "expose":
			words, err := expandWords(rest, cfg.Env)
			if err != nil {
				return err
			}
			if len(words) == 0 {
				return errors.New("EXPOSE requires at least one argument")
			}
			for _, w := range words {
				ports, err := parsePortSpec(w)
				if err != nil {
					return err
				}
				if cfg.ExposedPorts == nil {
					cfg.ExposedPorts = map[string]struct{}{}
				}
				for _, p := range ports {
					cfg.ExposedPorts[p] = struct{}{}
				}
			}
		case "user", "workdir", "stopsignal":
			words, err := expandWords(rest, cfg.Env)
			if err != nil {
				return err
			}
			if len(words) != 1 {
				return fmt.Errorf("%s requires exactly one argument", strings.ToUpper(instr))
			}
			switch strings.ToLower(instr) {
			case "user":
				cfg.User = words[0]
			case "workdir":
				dir := words[0]
				if !path.IsAbs(dir) {
					base := cfg.WorkingDir
					if base == "" {
						base = "/"
					}
					dir = path.Join(base, dir)
				}
				cfg.WorkingDir = path.Clean(dir)
			case "stopsignal":
				if _, err := ParseSignal(words[0]); err != nil {
					return err
				}
				cfg.StopSignal = words[0]
			}
		case "volume":
			var vols []string
			if j, ok := jsonArray(rest); ok {
				vols = j
			} else {
				words, err := expandWords(rest, cfg.Env)
				if err != nil {
					return err
				}
				vols = words
			}
			if len(vols) == 0 {
				return errors.New("VOLUME requires at least one argument")
			}
			for _, v := range vols {
				if strings.TrimSpace(v) == "" {
					return errors.New("VOLUME specified can not be an empty string")
				}
				if cfg.Volumes == nil {
					cfg.Volumes = map[string]struct{}{}
				}
				cfg.Volumes[v] = struct{}{}
			}
		case "onbuild":
			trigger, trest := splitInstruction(rest)
			switch strings.ToLower(trigger) {
			case "":
				return errors.New("ONBUILD requires at least one argument")
			case "onbuild":
				return errors.New("Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed")
			case "from", "maintainer":
				return fmt.Errorf("%s isn't allowed as an ONBUILD trigger", strings.ToUpper(trigger))
			}
			cfg.OnBuild = append(cfg.OnBuild, strings.TrimSpace(strings.ToUpper(trigger)+" "+trest))
		case "healthcheck":
			hc, err := parseHealthcheck(rest)
			if err != nil {
				return err
			}
			cfg.Healthcheck = hc
		default:
			return fmt.Errorf("%s is not a valid change command", strings.ToLower(instr))
		}
	}
	return nil
}

// changeLines splits the changes into instructions: one per line, with
// Dockerfile line continuations and comments.
func changeLines(changes []string) []string {
	var out []string
	var cur strings.Builder
	for _, line := range strings.Split(strings.Join(changes, "\n"), "\n") {
		t := strings.TrimSpace(line)
		if cur.Len() == 0 && (t == "" || strings.HasPrefix(t, "#")) {
			continue
		}
		if strings.HasSuffix(t, "\\") {
			cur.WriteString(strings.TrimSuffix(t, "\\"))
			continue
		}
		cur.WriteString(t)
		out = append(out, cur.String())
		cur.Reset()
	}
	if cur.Len() > 0 {
		out = append(out, cur.String())
	}
	return out
}

func splitInstruction(line string) (string, string) {
	line = strings.TrimSpace(line)
	i := strings.IndexAny(line, " \t")
	if i < 0 {
		return line, ""
	}
	return line[:i], strings.TrimSpace(line[i+1:])
}

// jsonArray parses the exec (JSON) form of an instruction.
func jsonArray(s string) ([]string, bool) {
	if !strings.HasPrefix(strings.TrimSpace(s), "[") {
		return nil, false
	}
	var out []string
	if err := json.Unmarshal([]byte(s), &out); err != nil {
		return nil, false
	}
	return out, true
}

// commandForm is CMD's or ENTRYPOINT's argument: a JSON array, or a shell
// command run with /bin/sh -c.
func commandForm(instr, rest string) ([]string, error) {
	if args, ok := jsonArray(rest); ok {
		return args, nil
	}
	if rest == "" {
		return nil, fmt.Errorf("%s requires at least one argument", strings.ToUpper(instr))
	}
	return []string{"/bin/sh", "-c", rest}, nil
}

func setEnv(env []string, k, v string) []string {
	for i, e := range env {
		if name, _, _ := strings.Cut(e, "="); name == k {
			env[i] = k + "=" + v
			return env
		}
	}
	return append(env, k+"="+v)
}

// keyValues parses ENV's and LABEL's arguments: key=value pairs, or the
// legacy "key value with spaces".
func keyValues(instr, rest string, env []string) ([][2]string, error) {
	words := rawWords(rest)
	if len(words) == 0 {
		return nil, fmt.Errorf("%s requires at least one argument", instr)
	}
	if !strings.Contains(words[0], "=") {
		key, val := splitInstruction(rest)
		if val == "" {
			return nil, fmt.Errorf("%s names can not be blank", instr)
		}
		v, err := expandWord(val, env)
		if err != nil {
			return nil, err
		}
		return [][2]string{{key, v}}, nil
	}
	var out [][2]string
	for _, w := range words {
		k, v, ok := strings.Cut(w, "=")
		if !ok {
			return nil, fmt.Errorf("Syntax error - can't find = in %q. Must be of the form: name=value", w)
		}
		key, err := expandWord(k, env)
		if err != nil {
			return nil, err
		}
		if key == "" {
			return nil, fmt.Errorf("%s names can not be blank", instr)
		}
		val, err := expandWord(v, env)
		if err != nil {
			return nil, err
		}
		out = append(out, [2]string{key, val})
	}
	return out, nil
}

// rawWords splits s at blanks outside quotes, keeping quotes and escapes.
func rawWords(s string) []string {
	var out []string
	var cur strings.Builder
	var quote rune
	escaped, inWord := false, false
	for _, r := range s {
		switch {
		case escaped:
			escaped = false
		case r == '\\' && quote != '\'':
			escaped = true
		case quote != 0:
			if r == quote {
				quote = 0
			}
		case r == '"' || r == '\'':
			quote = r
		case r == ' ' || r == '\t':
			if inWord {
				out = append(out, cur.String())
				cur.Reset()
				inWord = false
			}
			continue
		}
		cur.WriteRune(r)
		inWord = true
	}
	if inWord {
		out = append(out, cur.String())
	}
	return out
}

// expandWords splits s into words and expands each.
func expandWords(s string, env []string) ([]string, error) {
	var out []string
	for _, w := range rawWords(s) {
		x, err := expandWord(w, env)
		if err != nil {
			return nil, err
		}
		out = append(out, x)
	}
	return out, nil
}

// expandWord removes quotes and escapes from w and expands $VAR, ${VAR},
// ${VAR:-default} and ${VAR:+alternative} from env, as a Dockerfile does.
func expandWord(w string, env []string) (string, error) {
	lookup := func(name string) (string, bool) {
		for i := len(env) - 1; i >= 0; i-- {
			if k, v, _ := strings.Cut(env[i], "="); k == name {
				return v, true
			}
		}
		return "", false
	}
	rs := []rune(w)
	var out strings.Builder
	var quote rune
	for i := 0; i < len(rs); i++ {
		r := rs[i]
		switch {
		case r == '\\' && quote != '\'' && i+1 < len(rs):
			i++
			out.WriteRune(rs[i])
		case quote == 0 && (r == '"' || r == '\''):
			quote = r
		case quote != 0 && r == quote:
			quote = 0
		case r == '$' && quote != '\'' && i+1 < len(rs):
			n, val, err := expandVar(rs[i+1:], lookup)
			if err != nil {
				return "", err
			}
			if n == 0 {
				out.WriteRune(r)
				continue
			}
			out.WriteString(val)
			i += n
		default:
			out.WriteRune(r)
		}
	}
	return out.String(), nil
}

// expandVar expands the variable reference at the start of rs (after the
// "$") and says how many runes it used.
func expandVar(rs []rune, lookup func(string) (string, bool)) (int, string, error) {
	isName := func(r rune, first bool) bool {
		return r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || !first && r >= '0' && r <= '9'
	}
	if rs[0] != '{' {
		n := 0
		for n < len(rs) && isName(rs[n], n == 0) {
			n++
		}
		if n == 0 {
			return 0, "", nil
		}
		v, _ := lookup(string(rs[:n]))
		return n, v, nil
	}
	end := -1
	for i := 1; i < len(rs); i++ {
		if rs[i] == '}' {
			end = i
			break
		}
	}
	if end < 0 {
		return 0, "", fmt.Errorf("missing '}' in %q", "$"+string(rs))
	}
	expr := string(rs[1:end])
	name, word, op := expr, "", ""
	if i := strings.Index(expr, ":"); i >= 0 && i+1 < len(expr) && (expr[i+1] == '-' || expr[i+1] == '+') {
		name, op, word = expr[:i], expr[i:i+2], expr[i+2:]
	}
	v, ok := lookup(name)
	switch op {
	case ":-":
		if !ok || v == "" {
			v = word
		}
	case ":+":
		if ok && v != "" {
			v = word
		} else {
			v = ""
		}
	}
	return end + 1, v, nil
}

// parsePortSpec turns "80", "80/udp" or "8000-8002/tcp" into exposed-port
// keys.
func parsePortSpec(spec string) ([]string, error) {
	ports, proto, _ := strings.Cut(spec, "/")
	if proto == "" {
		proto = "tcp"
	}
	switch strings.ToLower(proto) {
	case "tcp", "udp", "sctp":
		proto = strings.ToLower(proto)
	default:
		return nil, fmt.Errorf("invalid proto: %s", proto)
	}
	lo, hi, isRange := strings.Cut(ports, "-")
	start, err := strconv.ParseUint(lo, 10, 16)
	if err != nil {
		return nil, fmt.Errorf("invalid containerPort: %s", ports)
	}
	end := start
	if isRange {
		if end, err = strconv.ParseUint(hi, 10, 16); err != nil || end < start {
			return nil, fmt.Errorf("invalid containerPort: %s", ports)
		}
	}
	var out []string
	for p := start; p <= end; p++ {
		out = append(out, strconv.FormatUint(p, 10)+"/"+proto)
	}
	sort.Strings(out)
	return out, nil
}

// parseHealthcheck parses HEALTHCHECK's arguments.
func parseHealthcheck(rest string) (*v1.HealthConfig, error) {
	hc := &v1.HealthConfig{}
	for {
		word, tail := splitInstruction(rest)
		if !strings.HasPrefix(word, "--") {
			break
		}
		name, val, ok := strings.Cut(strings.TrimPrefix(word, "--"), "=")
		if !ok {
			return nil, fmt.Errorf("HEALTHCHECK flag --%s needs a value", name)
		}
		var err error
		switch name {
		case "interval":
			hc.Interval, err = healthDuration(name, val)
		case "timeout":
			hc.Timeout, err = healthDuration(name, val)
		case "start-period":
			hc.StartPeriod, err = healthDuration(name, val)
		case "start-interval":
			_, err = healthDuration(name, val)
		case "retries":
			var n int
			n, err = strconv.Atoi(val)
			if err == nil && n < 0 {
				err = fmt.Errorf("--retries cannot be negative (%d)", n)
			}
			hc.Retries = n
		default:
			err = fmt.Errorf("unknown flag: %s", name)
		}
		if err != nil {
			return nil, err
		}
		rest = tail
	}
	kind, tail := splitInstruction(rest)
	switch strings.ToUpper(kind) {
	case "NONE":
		if tail != "" {
			return nil, errors.New("HEALTHCHECK NONE takes no arguments")
		}
		return &v1.HealthConfig{Test: []string{"NONE"}}, nil
	case "CMD":
		if args, ok := jsonArray(tail); ok {
			hc.Test = append([]string{"CMD"}, args...)
		} else if tail != "" {
			hc.Test = []string{"CMD-SHELL", tail}
		} else {
			return nil, errors.New("Missing command after HEALTHCHECK CMD")
		}
		return hc, nil
	}
	return nil, fmt.Errorf("Unknown type %q in HEALTHCHECK (try CMD)", kind)
}

func healthDuration(name, val string) (time.Duration, error) {
	d, err := time.ParseDuration(val)
	if err != nil {
		return 0, fmt.Errorf("invalid --%s: %w", name, err)
	}
	if d != 0 && d < time.Millisecond {
		return 0, fmt.Errorf("Interval %q cannot be less than 1ms", name)
	}
	return d, nil
}
