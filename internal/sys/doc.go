// Package sys holds the Linux primitives more than one nslua package needs,
// each written once: scans of /proc (the processes of a namespace, a
// process's start time, the processes carrying a run's marker), the hint
// that names root as the cure for a permission error, and the retry of a
// netlink dump the kernel reports as interrupted.
package sys
