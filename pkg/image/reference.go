package image

import (
	"errors"
	"fmt"
	"strings"

	"github.com/distribution/reference"
	"github.com/google/go-containerregistry/pkg/name"
)

// ErrInvalidReference is wrapped by every reference parsing error.
var ErrInvalidReference = errors.New("invalid reference format")

// Reference is an image reference normalised the way Docker does it:
// "nginx" means "docker.io/library/nginx:latest".
type Reference struct {
	named reference.Named
}

// ParseReference parses s with Docker's grammar and normalisation; a name
// without tag or digest gets ":latest".
func ParseReference(s string) (Reference, error) {
	named, err := parseNamed(s)
	if err != nil {
		return Reference{}, referenceError(s, err)
	}
	return Reference{named: reference.TagNameOnly(named)}, nil
}

// ParseRepository parses a reference that may not carry a tag or digest
// default (used by filters like reference=nginx).
func ParseRepository(s string) (Reference, error) {
	named, err := parseNamed(s)
	if err != nil {
		return Reference{}, referenceError(s, err)
	}
	return Reference{named: named}, nil
}

// parseNamed is distribution/reference's parser, except that a first path
// element with capitals but no dot, colon or "localhost" is refused:
// the library would take "UPPER/case" for a registry host named UPPER,
// which is never what the user meant.
func parseNamed(s string) (reference.Named, error) {
	if first, rest, ok := strings.Cut(s, "/"); ok && !strings.ContainsAny(first, ".:") &&
		first != "localhost" && strings.ToLower(first) != first {
		return nil, fmt.Errorf("invalid reference format: repository name (%s/%s) must be lowercase", first, rest)
	}
	return reference.ParseNormalizedNamed(s)
}

func referenceError(s string, err error) error {
	msg := err.Error()
	// distribution/reference already says "invalid reference format…";
	// keep its detail (e.g. "must be lowercase") like Docker does.
	if strings.HasPrefix(msg, ErrInvalidReference.Error()) {
		return fmt.Errorf("%w%s", ErrInvalidReference, strings.TrimPrefix(msg, ErrInvalidReference.Error()))
	}
	return fmt.Errorf("%w: %q: %v", ErrInvalidReference, s, err)
}

// String is the fully qualified form, e.g. docker.io/library/nginx:latest.
func (r Reference) String() string { return r.named.String() }

// Name is the repository without tag or digest: docker.io/library/nginx.
func (r Reference) Name() string { return r.named.Name() }

// Domain is the registry host as Docker spells it (docker.io for the Hub).
func (r Reference) Domain() string { return reference.Domain(r.named) }

// Path is the repository path inside the registry, e.g. library/nginx.
func (r Reference) Path() string { return reference.Path(r.named) }

// Familiar is the short form users type and Docker prints: nginx:latest.
func (r Reference) Familiar() string { return reference.FamiliarString(r.named) }

// FamiliarName is the short repository name: nginx, 127.0.0.1:5000/team/app.
func (r Reference) FamiliarName() string { return reference.FamiliarName(r.named) }

// Tag returns the tag, or "" for a digest reference.
func (r Reference) Tag() string {
	if t, ok := r.named.(reference.Tagged); ok {
		return t.Tag()
	}
	return ""
}

// Digest returns the digest of a canonical reference, or "".
func (r Reference) Digest() string {
	if d, ok := r.named.(reference.Digested); ok {
		return d.Digest().String()
	}
	return ""
}

// IsZero reports whether r was never set.
func (r Reference) IsZero() bool { return r.named == nil }

// WithDigest returns name@digest for the same repository.
func (r Reference) WithDigest(dgst string) string { return r.Name() + "@" + dgst }

// FamiliarWithDigest is the RepoDigests form: nginx@sha256:….
func (r Reference) FamiliarWithDigest(dgst string) string { return r.FamiliarName() + "@" + dgst }

// GGCR converts to a go-containerregistry reference for the registry client.
func (r Reference) GGCR() (name.Reference, error) {
	s := r.String()
	if r.Digest() != "" {
		// "name:tag@digest" is legal for Docker; the digest is what counts.
		s = r.Name() + "@" + r.Digest()
	}
	ref, err := name.ParseReference(s, name.WithDefaultRegistry(name.DefaultRegistry))
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrInvalidReference, s, err)
	}
	return ref, nil
}
