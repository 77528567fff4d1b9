#!/bin/sh
# patch.sh OUTDIR: makes OUTDIR/runc, a copy of the runc module at the
# version go.mod pins with compiled-seccomp.patch applied, and
# OUTDIR/go.mod (+ go.sum), nerd's go.mod with runc replaced by that copy,
# for `go build -modfile OUTDIR/go.mod` of nerd-shim-runc. nerd's own go.mod
# and the module cache stay untouched; a runc bump the patch no longer
# applies to fails here, loudly, instead of building without it.
set -eu
out=$1
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
patch=$here/compiled-seccomp.patch
cd "$root"
go mod download github.com/opencontainers/runc
src=$(go list -m -f '{{.Dir}}' github.com/opencontainers/runc)
rm -rf "$out/runc"
mkdir -p "$out"
cp -R "$src" "$out/runc"
chmod -R u+w "$out/runc"
(cd "$out/runc" && git apply -p1 --whitespace=nowarn "$patch")
cp go.mod "$out/go.mod"
cp go.sum "$out/go.sum"
printf '\nreplace github.com/opencontainers/runc => %s\n' "$(cd "$out/runc" && pwd)" >> "$out/go.mod"
