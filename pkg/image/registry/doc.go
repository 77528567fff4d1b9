// Package registry decides how nerd reaches image registries: which hosts
// serve a registry (mirrors and the upstream, from containerd-style
// hosts.toml files), how to talk to each (plain HTTP for insecure
// registries, extra CAs, client certificates, headers), and with which
// credentials (Docker's config.json and its credential helpers, shared with
// the docker CLI).
//
// A pull typically does:
//
//	eps, err := hosts.Endpoints(ref.Context().RegistryStr(), registry.CapabilityResolve|registry.CapabilityPull)
//	img, err := registry.Try(ctx, eps, func(ep registry.Endpoint) (v1.Image, error) {
//		r, err := ep.Rebase(ref)
//		if err != nil {
//			return nil, err
//		}
//		return remote.Image(r, remote.WithContext(ctx),
//			remote.WithTransport(ep.Transport),
//			remote.WithAuthFromKeychain(registry.NewKeychain(cfgDir)))
//	})
//
// A pull by digest only needs CapabilityPull, which lets "pull"-only mirrors
// (content-addressed caches that cannot be trusted with tags) serve it.
package registry
