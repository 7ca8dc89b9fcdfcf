//go:build browser && linux

package browsertest

import (
	"os/exec"
	"syscall"
)

// dieWithParent has the kernel kill the process when the test binary dies,
// so a panic or a `go test -timeout` leaves no portal or sandbox running.
func dieWithParent(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
