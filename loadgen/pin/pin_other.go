//go:build !linux

package pin

import "fmt"

// Allowed reports that CPUs cannot be assigned here.
func Allowed() ([]int, error) { return nil, fmt.Errorf("not Linux: %w", ErrUnsupported) }

// Process reports that CPUs cannot be assigned here.
func Process(int, []int) error { return fmt.Errorf("not Linux: %w", ErrUnsupported) }
