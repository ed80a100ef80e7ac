package lab

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/nslua/nslua/internal/nsfs"
)

// CheckSysctlKey accepts keys under net., written with dots, that stay in
// /proc/sys/net.
func CheckSysctlKey(key string) error {
	if !strings.HasPrefix(key, "net.") {
		return fmt.Errorf("sysctl %q: only net.* keys belong to a network namespace", key)
	}
	for _, part := range strings.Split(key, ".") {
		if part == "" || strings.ContainsAny(part, "/\x00") {
			return fmt.Errorf("sysctl %q: each dot-separated part must be a plain name", key)
		}
	}
	return nil
}

func sysctlPath(key string) string {
	return filepath.Join("/proc/sys", strings.ReplaceAll(key, ".", "/"))
}

// Sysctl reads a sysctl inside the namespace.
func (n *Netns) Sysctl(key string) (string, error) {
	if err := CheckSysctlKey(key); err != nil {
		return "", err
	}
	var value string
	err := n.inside(func() error {
		data, err := os.ReadFile(sysctlPath(key))
		value = strings.TrimSpace(string(data))
		return err
	})
	if err != nil {
		return "", fmt.Errorf("sysctl %s in %s: %w", key, n.Name, sysctlErr(err))
	}
	return value, nil
}

// SetSysctl writes a sysctl inside the namespace.
func (n *Netns) SetSysctl(key, value string) error {
	if err := CheckSysctlKey(key); err != nil {
		return err
	}
	if strings.ContainsAny(value, "\n\x00") {
		return fmt.Errorf("sysctl %s: value %q has a newline or NUL", key, value)
	}
	err := n.inside(func() error {
		return os.WriteFile(sysctlPath(key), []byte(value), 0)
	})
	if err != nil {
		return fmt.Errorf("sysctl %s=%s in %s: %w", key, value, n.Name, sysctlErr(err))
	}
	return nil
}

func sysctlErr(err error) error {
	if errors.Is(err, os.ErrNotExist) {
		return errors.New("no such key")
	}
	if errors.Is(err, unix.EINVAL) {
		return errors.New("the kernel refused the value")
	}
	return err
}

// inside runs fn on a thread in the namespace: /proc/sys/net belongs to
// the namespace of the thread that opens it.
func (n *Netns) inside(fn func() error) error {
	if n.host {
		return fn()
	}
	fd, err := n.Fd()
	if err != nil {
		return err
	}
	return nsfs.Do(fd, fn)
}
