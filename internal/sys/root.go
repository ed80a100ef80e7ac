package sys

import (
	"errors"
	"fmt"
	"os"
)

// NeedRoot names the usual cause of a permission error from a namespace
// operation or from the lab state in root's /run, so that a run without
// privileges says at once what it lacks. Other errors pass unchanged.
func NeedRoot(err error) error {
	if errors.Is(err, os.ErrPermission) {
		return fmt.Errorf("%w (nslua must run as root: it needs CAP_SYS_ADMIN and CAP_NET_ADMIN)", err)
	}
	return err
}
