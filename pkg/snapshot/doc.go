// Package snapshot stores committed, content-addressed unpacked image layers
// ("snapshots"). A container rootfs is an overlayfs mount whose lowerdirs are
// snapshot directories, nearest layer first.
//
// # Layout
//
//	<root>/<key>/fs          the unpacked layer; Store.Path(key), an overlay lowerdir
//	<root>/<key>/meta.json   Info, written before the commit rename
//	<root>/staging/.lock     orders Prepare against CleanStaging
//	<root>/staging/st-*/     a layer being unpacked (flock'd by its owner)
//	<root>/staging/rm-*/     a snapshot being deleted (flock'd by its remover)
//
// Keys are chain IDs as lowercase hex (1–128 digits), supplied by the caller.
//
// # API
//
//	s, err := snapshot.Open(root)
//	st, err := s.Prepare()               // private, locked staging dir
//	defer st.Abort()                     // no-op after Commit
//	res, err := st.Apply(ctx, blob)      // gzip/zstd/plain tar, by magic bytes
//	err = st.Commit(ctx, chainID, expectedDiffID, parentChainIDs) // nearest parent first
//
//	s.Path(key) s.Exists(key) s.Stat(key) s.List() s.Remove(key) s.CleanStaging()
//
// Apply reads the blob to EOF (including tar padding), so a caller can tee it
// into a digest verifier, and returns the DiffID (sha256 of the uncompressed
// stream) and the unpacked size (regular file bytes, each inode once).
// Decompression and hashing run in one read-ahead goroutine per layer so they
// overlap with file creation, which is what unpacking time is made of; when
// Apply returns, that goroutine no longer touches the caller's reader. Files
// are written with a reused 1 MiB buffer and no fsync. Commit refuses a DiffID that differs from the
// expected one, resolves hardlinks into lower layers, runs one syncfs for the
// whole layer (no per-file fsync), writes meta.json and renames the staging
// dir to <root>/<key> with RENAME_NOREPLACE. If the key is already committed
// (a concurrent pull of a shared layer won) the staging dir is discarded and
// Commit returns nil. Remove renames the snapshot into staging/ first, so it
// stops being committed in one atomic step. Reference counting and locking
// between users of a snapshot are the caller's business.
//
// # Hostile layers
//
// Layer tarballs are untrusted. Nothing is ever written outside the staging
// dir:
//
//   - Entry names are cleaned; a leading "/" or "./" is stripped, and a name
//     that still climbs out ("../x", "a/../../x") is an error.
//   - The parent directory of every entry is resolved inside the layer root
//     with securejoin, i.e. symlinks are followed as if the layer root were
//     "/" (what Docker's chroot'ed unpack does): after `a -> /etc`, `a/passwd`
//     lands in <layer>/etc/passwd. The final component is created with
//     O_EXCL/O_NOFOLLOW semantics; an existing entry of the layer there is
//     removed and replaced, never followed. A cache of directories verified
//     symlink-free keeps securejoin off the common path; it is dropped on any
//     removal. Only this process writes into its staging dir, which is what
//     makes string paths resolved once safe to use afterwards.
//   - Hardlink targets are layer names (escaping ones are errors) and must be
//     regular files. A target not in this layer is looked up at Commit in the
//     parents, nearest first (whiteouts and opaque dirs stop the search), and
//     copied with its metadata; no parent having it is an error.
//   - Device nodes are refused ("device node not allowed in layer"), as are
//     unknown entry types. Truncated or corrupt compression or tar data is an
//     error ("decompressing layer: unexpected EOF").
//   - overlayfs control xattrs (trusted.overlay.*, user.overlay.*) in PAX
//     records are dropped: a layer may only express whiteouts and opaque
//     dirs through .wh. entries. zstd windows are capped at 128 MiB.
//
// Every error names the offending entry: layer entry "../../etc/passwd": path
// escapes the layer root. After an error the caller aborts the staging dir;
// nothing has been committed.
//
// # Unpacking
//
// Mode (including setuid/setgid/sticky), owner, mtime/atime and xattrs from
// PAX SCHILY.xattr.* records are preserved; directory times are set after
// their contents are written. security.* and system.* xattrs are best effort
// (they depend on the host's LSM and ACL support); trusted.* and user.* must
// apply. Whiteouts become overlay form: dir/.wh.name is a 0/0 character device
// at dir/name, dir/.wh..wh..opq sets trusted.overlay.opaque=y on dir, other
// .wh..wh.* entries are ignored. Following the OCI spec a whiteout deletes
// only from lower layers: an entry of the same name in the same layer stays
// (a directory becomes opaque instead).
//
// # Rootless (not yet)
//
// This package currently runs as root. Rootless support hooks in at:
// opaqueXattr (user.overlay.opaque for overlay mounted with -o userxattr),
// the Lchown/Fchown calls (ids must be mapped into the user namespace, or
// recorded in an xattr for fuse-overlayfs), trusted.* xattrs (unavailable
// without CAP_SYS_ADMIN in the init namespace), whiteout creation (mknod 0/0
// is allowed in a user namespace since Linux 5.11), and read-only directories
// (root ignores their mode while unpacking; an unprivileged unpacker must add
// write permission and restore the mode afterwards).
package snapshot
