// Package dns is the embedded DNS of user-defined networks: one small
// responder process (the nerd-dns binary) per network, listening on the
// network's gateway address, port 53, UDP and TCP. Containers get that
// address as their only nameserver, as with Docker.
//
// # What it answers
//
//   - A queries for the names in the records file (container names,
//     network aliases, 12-character short IDs, "name.network" if wanted),
//     case-insensitively, TTL 600 like Docker. Several addresses for one
//     name are all returned. Over UDP an answer too big for the client is
//     truncated with the TC bit, and the client retries over TCP.
//   - Other types (AAAA above all) for such a name: NOERROR with no
//     answers, so that a resolver asking A and AAAA keeps the A answer
//     instead of treating the name as missing.
//   - PTR for a container's address: one name, preferring a qualified
//     one ("web.mynet"), then the shortest.
//   - Everything else is forwarded, over the client's transport, to the
//     client's own upstreams (ClientUpstreams, from --dns) or the network's
//     (Upstreams), in order, each for at most --forward-timeout (2s) and
//     all for at most twice that. When none answers the client gets
//     SERVFAIL: never silence, because glibc would then wait its full 5s
//     before trying the next search domain.
//
// # Records file
//
// The networking code owns one JSON file per network, written with
// WriteRecords (atomic rename) on every attach and detach. The responder
// stats it on each query and reloads when it changed: a stat is about a
// microsecond, and checking every time (not every N ms, nor on inotify
// events that arrive asynchronously) guarantees a query sent right after
// an attach sees the new container. Bad entries are logged and skipped,
// never fatal: one odd alias must not break resolution for the network.
//
// Upstreams should be the host's resolv.conf nameservers as they are,
// loopback ones (127.0.0.53 of systemd-resolved) included: the responder
// runs in the host's network namespace, where those are reachable, which
// is exactly why containers must not be given them directly. Its own
// address is dropped from the list, as forwarding to itself would loop.
//
// # Lifecycle
//
// Start runs the binary detached (own session, cwd "/", stdin /dev/null,
// stdout/stderr to a log beside the pid file: dns.pid → dns.log), because
// it is started from an OCI hook whose output pipes the runtime waits on.
// The child binds both sockets, then writes "ok" (or its error) to a pipe
// (--ready-fd); Start returns only then, so a container's first query
// cannot race it, and a bind error comes back as Start's error. The pid
// file holds pid + start time, so Stop never signals a recycled pid; Stop
// signals through a pidfd opened before that check (SIGTERM, then SIGKILL
// after 5s) and waits for the exit. Both are idempotent; calls for one
// pid file must be serialised by the caller (the network lock).
//
// Suggested use, all under the network lock:
//
//	attach (createRuntime hook, after CNI ADD, so the gateway address exists):
//	    WriteRecords(run/networks/<net>/dns.json, ...)
//	    Start(ctx, libexec/nerd-dns, "<gateway>:53", dns.json, dns.pid)
//	detach (poststop): WriteRecords without the container;
//	    last running container: Stop(ctx, dns.pid), then remove dns.json
//
// The responder also exits by itself when the records file disappears
// (checked on each query and every 2s when idle), so a crashed teardown
// or a network removed by hand cannot leave it running forever, and on
// SIGTERM or SIGINT. Keep the files under the runtime root (/run/nerd or
// $XDG_RUNTIME_DIR/nerd): after a reboot nothing is running, and nothing
// should claim otherwise.
//
// Port 53 needs root or CAP_NET_BIND_SERVICE; rootless, the responder runs
// in rootlesskit's network namespace where that holds. The gateway is a
// host address: a host firewall should accept port 53 from the bridge
// only, or other machines routing to it could use it as an open resolver.
//
// # Cost
//
// An idle responder is about 6 MB RSS, about 1.1 MB of it private (the
// binary's pages are shared, so PSS falls towards that with several
// networks), makes no periodic wakeups but the 2s records check, and is
// listening about 3 ms after Start begins.
package dns
