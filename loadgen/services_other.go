//go:build !linux

package loadgen

import "syscall"

// childAttr has nothing to add outside Linux: services share loadgen's process group.
func childAttr() *syscall.SysProcAttr { return nil }
