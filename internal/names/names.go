// Package names holds Docker's rule for the names users give containers,
// volumes and networks: [a-zA-Z0-9][a-zA-Z0-9_.-]*. It is checked by hand,
// not with regexp, because the monitor links the volume store and every
// package it links costs each idle monitor memory.
package names

// Allowed is the rule as Docker's error messages print it.
const Allowed = "[a-zA-Z0-9][a-zA-Z0-9_.-]"

// Valid reports whether name is at least minLen characters long and
// follows the rule. Containers and local volumes need two characters
// (Docker's `+`), networks one.
func Valid(name string, minLen int) bool {
	if len(name) < minLen || len(name) == 0 || !isAlnum(name[0]) {
		return false
	}
	for i := 1; i < len(name); i++ {
		if c := name[i]; !isAlnum(c) && c != '_' && c != '.' && c != '-' {
			return false
		}
	}
	return true
}

func isAlnum(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}
