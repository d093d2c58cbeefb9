package loadgen

import "syscall"

// childAttr puts a service in its own process group, so a Ctrl-C in the terminal reaches
// loadgen alone, which then stops the services in order; and has the kernel send SIGTERM to
// the service should loadgen die without stopping it.
func childAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGTERM}
}
