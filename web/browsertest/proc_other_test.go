//go:build browser && !linux

package browsertest

import "os/exec"

// dieWithParent does nothing here: only Linux can tie a child's life to its
// parent's. After a panic, stop the portal and the sandbox by hand.
func dieWithParent(*exec.Cmd) {}
