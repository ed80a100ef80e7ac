//go:build cgo

// The fast path of `nslua exec NAME -- CMD`: it runs as a constructor, when
// the binary is loaded and before the Go runtime starts, so a drop-in for
// `ip netns exec` does not pay Go's start-up (several milliseconds on small
// VMs: more than ip's whole run). It does what internal/nsexec does for the
// Go path, step for step: enter the namespace, a mount namespace of its own
// with / a recursive slave, /sys remounted, /etc an overlay with a private
// tmpfs on top, a private resolv.conf when the namespace has none, each
// /etc/netns/NAME entry bound over /etc. Whenever something is off before
// anything was changed (a bad name, no such namespace, a symlink to refuse,
// no privileges), it returns and lets the Go path report it, so the two
// share their error messages; tests run both (CGO_ENABLED=0 builds lack
// this file). A namespace's private state (/run, /tmp, /var/lib of its
// own, internal/lab/private.go) is bound here too once mounted; the first
// time, Go mounts it.

#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/vfs.h>
#include <unistd.h>

#define NSFS_MAGIC 0x6e736673
#define MAX_ENTRIES 256

struct entry {
	char name[256];
	int fd;
	int dir;
	int host_exists;
	dev_t dev;
	ino_t ino;
};

static const char *ns_name;

static void fail(const char *what) {
	fprintf(stderr, "nslua: exec \"%s\": %s: %s\n", ns_name, what, strerror(errno));
	_exit(1);
}

// open_beneath is internal/etcfs.At: openat2 beneath dirfd, following no
// symlink on the way.
static int open_beneath(int dirfd, const char *path, int flags) {
	struct open_how how = {
		.flags = flags | O_CLOEXEC,
		.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS,
	};
	int fd;
	do
		fd = syscall(SYS_openat2, dirfd, path, &how, sizeof how);
	while (fd < 0 && (errno == EINTR || errno == EAGAIN));
	return fd;
}

// open_netns_dir opens /etc/netns/NAME as internal/etcfs.OpenDir does.
static int open_netns_dir(const char *name) {
	char rel[300];
	int etc = open("/etc", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (etc < 0)
		return -1;
	snprintf(rel, sizeof rel, "netns/%s", name);
	int fd = open_beneath(etc, rel, O_RDONLY | O_DIRECTORY);
	int saved = errno;
	close(etc);
	errno = saved;
	return fd;
}

// plain_file accepts what nsexec.openEntry accepts without a closer look:
// a regular file with one link. Anything else (a symlink, a hard link, a
// FIFO, a directory, whose tree Go checks) is left to Go, to refuse or do.
static int plain_file(const struct stat *st) {
	return S_ISREG(st->st_mode) && st->st_nlink == 1;
}

// read_entries lists /etc/netns/NAME like nsexec.readEtc; -1 means "let Go
// handle it" (something to refuse, a directory entry, an unreadable one).
static int read_entries(const char *name, struct entry *e) {
	int dfd = open_netns_dir(name);
	if (dfd < 0)
		return errno == ENOENT ? 0 : -1;
	DIR *d = fdopendir(dfd);
	if (!d) {
		close(dfd);
		return -1;
	}
	int n = 0;
	struct dirent *de;
	while ((de = readdir(d)) != NULL) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		char host[300];
		struct stat st;
		if (fstatat(dfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
			continue;
		if (!plain_file(&st) || n == MAX_ENTRIES || strlen(de->d_name) >= sizeof e[n].name) {
			closedir(d);
			return -1;
		}
		snprintf(host, sizeof host, "/etc/%s", de->d_name);
		struct stat hst;
		strcpy(e[n].name, de->d_name);
		e[n].dir = 0;
		e[n].dev = st.st_dev;
		e[n].ino = st.st_ino;
		e[n].host_exists = stat(host, &hst) == 0;
		n++;
	}
	closedir(d);
	return n;
}

static void remount_sys(void) {
	struct statfs sfs;
	unsigned long flags = 0;
	if (statfs("/sys", &sfs) == 0 && (sfs.f_flags & ST_RDONLY))
		flags = MS_RDONLY;
	if (umount2("/sys", MNT_DETACH) < 0 && errno != EINVAL)
		fail("unmount /sys");
	if (mount("sysfs", "/sys", "sysfs", flags, NULL) < 0)
		fail("mount sysfs on /sys");
}

static int has_entry(struct entry *e, int n, const char *name) {
	for (int i = 0; i < n; i++)
		if (!strcmp(e[i].name, name))
			return 1;
	return 0;
}

// private_resolv copies the host's resolv.conf into the scratch tmpfs.
static int private_resolv(struct entry *e, int n) {
	int in = open("/etc/resolv.conf", O_RDONLY | O_CLOEXEC);
	if (in < 0)
		return n;
	int out = open("/tmp/resolv.conf", O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
	if (out < 0)
		fail("copy /etc/resolv.conf");
	char buf[8192];
	ssize_t r;
	while ((r = read(in, buf, sizeof buf)) > 0)
		if (write(out, buf, r) != r)
			fail("copy /etc/resolv.conf");
	close(in);
	close(out);
	strcpy(e[n].name, "resolv.conf");
	e[n].dir = 0;
	e[n].host_exists = 1;
	e[n].fd = open("/tmp/resolv.conf", O_PATH | O_CLOEXEC);
	if (e[n].fd < 0)
		fail("open the private resolv.conf");
	return n + 1;
}

// refuse ends the run when an entry changed between read_entries and
// open_entries (nothing of the host was changed: only this process's
// mount namespace was set up).
static void refuse(const char *name) {
	fprintf(stderr, "nslua: exec \"%s\": /etc/netns/%s/%s was replaced while being bound "
		"(a symlink, a hard link or another file now); refused\n", ns_name, ns_name, name);
	_exit(1);
}

// open_entries holds the sources open before the overlay hides them, each
// opened beneath a directory opened without following symlinks, checked
// to be the file read_entries saw: what is bound is what was checked. It
// runs after unshare: a bind from a descriptor opened in another mount
// namespace is refused.
static void open_entries(struct entry *e, int n) {
	if (n == 0)
		return;
	int dfd = open_netns_dir(ns_name);
	if (dfd < 0)
		fail("open /etc/netns entries");
	for (int i = 0; i < n; i++) {
		struct stat st;
		e[i].fd = open_beneath(dfd, e[i].name, O_PATH | O_NOFOLLOW);
		if (e[i].fd < 0)
			fail("open an /etc/netns entry");
		if (fstat(e[i].fd, &st) < 0)
			fail("stat an /etc/netns entry");
		if (!plain_file(&st) || st.st_dev != e[i].dev || st.st_ino != e[i].ino)
			refuse(e[i].name);
	}
	close(dfd);
}

static void overlay_and_bind(struct entry *e, int n) {
	if (mount("tmpfs", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755") < 0)
		fail("mount scratch tmpfs");
	if (!has_entry(e, n, "resolv.conf"))
		n = private_resolv(e, n);
	if (mkdir("/tmp/upper", 0755) < 0 || mkdir("/tmp/work", 0755) < 0)
		fail("make overlay directories");
	if (mount("overlay", "/etc", "overlay", 0, "lowerdir=/etc,upperdir=/tmp/upper,workdir=/tmp/work") < 0)
		fail("mount overlay on /etc");
	char dst[300], src[64];
	for (int i = 0; i < n; i++) {
		snprintf(dst, sizeof dst, "/etc/%s", e[i].name);
		if (!e[i].host_exists) {
			unlink(dst);
			int ok = e[i].dir ? mkdir(dst, 0755) : open(dst, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0644);
			if (ok < 0)
				fail("make mount point in /etc");
			if (!e[i].dir)
				close(ok);
		}
		snprintf(src, sizeof src, "/proc/self/fd/%d", e[i].fd);
		if (mount(src, dst, "none", MS_BIND | MS_REC, NULL) < 0)
			fail("bind an /etc/netns entry over /etc");
		close(e[i].fd);
	}
	umount2("/tmp", MNT_DETACH);
}

static void exec_command(char **argv) {
	execvp(argv[0], argv);
	int code = errno == ENOENT ? 127 : 126;
	if (code == 127)
		fprintf(stderr, "nslua: exec \"%s\": %s: command not found\n", ns_name, argv[0]);
	else
		fprintf(stderr, "nslua: exec \"%s\": %s: %s\n", ns_name, argv[0], strerror(errno));
	_exit(code);
}

// find_private finds the private state some lab keeps for the namespace
// (/run/nslua/LAB/ns/NAME, internal/lab/private.go) into dir: 1 when
// there is one, 0 when none.
static int find_private(const char *name, char *dir, size_t size) {
	DIR *d = opendir("/run/nslua");
	if (!d)
		return 0;
	struct dirent *de;
	int found = 0;
	while (!found && (de = readdir(d)) != NULL) {
		struct stat st;
		if (de->d_name[0] == '.')
			continue;
		snprintf(dir, size, "/run/nslua/%s/ns/%s", de->d_name, name);
		found = stat(dir, &st) == 0 && S_ISDIR(st.st_mode);
	}
	closedir(d);
	return found;
}

#define TMPFS_MAGIC 0x01021994
#define MAX_SHARES 64

struct private {
	int on;
	char dir[600];
	int nshare;
	char share[MAX_SHARES][512];
};

// private_ready is nsexec.Ready plus the identity check: dir is mounted
// and its ready file names the namespace at fd. It reads the shares.
// 0: let Go do it (it mounts the state the first time, checking the
// lab's journal).
static int private_ready(struct private *p, int nsfd) {
	char path[700], buf[64];
	struct statfs sfs;
	struct stat st;
	if (statfs(p->dir, &sfs) < 0 || sfs.f_type != TMPFS_MAGIC || fstat(nsfd, &st) < 0)
		return 0;
	snprintf(path, sizeof path, "%s/ready", p->dir);
	FILE *f = fopen(path, "re");
	if (!f)
		return 0;
	int ok = fgets(buf, sizeof buf, f) && strtoull(buf, NULL, 10) == (unsigned long long)st.st_ino;
	fclose(f);
	snprintf(path, sizeof path, "%s/share", p->dir);
	if (!ok || !(f = fopen(path, "re")))
		return 0;
	p->nshare = 0;
	while (ok && fgets(p->share[p->nshare], sizeof p->share[0], f)) {
		char *nl = strchr(p->share[p->nshare], '\n');
		if (!nl || p->nshare == MAX_SHARES - 1)
			ok = 0; // too long or too many: Go's business
		else
			*nl = '\0', p->nshare++;
	}
	fclose(f);
	return ok;
}

// mkdirs makes path's missing directories (a mount point in a private view).
static void mkdirs(char *path) {
	for (char *s = strchr(path + 1, '/'); s; s = strchr(s + 1, '/')) {
		*s = '\0';
		mkdir(path, 0755);
		*s = '/';
	}
}

// share_back binds the host's path (open as fd) over path in the private
// view, making the mount point if need be, as nsexec.bindPrivate does.
static void share_back(char *path, int fd, int rec) {
	struct stat st, here;
	char src[64];
	if (lstat(path, &here) < 0) {
		if (fstat(fd, &st) < 0)
			fail("stat a shared path");
		mkdirs(path);
		int ok = S_ISDIR(st.st_mode) ? mkdir(path, 0755) : open(path, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0644);
		if (ok < 0)
			fail("make a mount point for a shared path");
		if (!S_ISDIR(st.st_mode))
			close(ok);
	}
	snprintf(src, sizeof src, "/proc/self/fd/%d", fd);
	if (mount(src, path, "none", MS_BIND | (rec ? MS_REC : 0), NULL) < 0)
		fail("bind a shared path");
	close(fd);
}

// bind_private is nsexec.bindPrivate: the private /run, /tmp, /var/lib
// (opened before /run, which holds them, is covered), then the host's
// /run/netns, /run/nslua and the lab's shares bound back.
static void bind_private(struct private *p) {
	static char *shared[MAX_SHARES + 2];
	int fds[MAX_SHARES + 2], n = 0;
	shared[n++] = "/run/netns";
	shared[n++] = "/run/nslua";
	for (int i = 0; i < p->nshare; i++)
		shared[n++] = p->share[i];
	for (int i = 0; i < n; i++)
		if ((fds[i] = open(shared[i], O_PATH | O_CLOEXEC)) < 0)
			fail("open a shared path");
	const char *targets[] = {"/run", "/tmp", "/var/lib", "/var/run"};
	const char *subs[] = {"run", "tmp", "lib", "run"};
	struct stat vr;
	int ntargets = lstat("/var/run", &vr) == 0 && S_ISDIR(vr.st_mode) ? 4 : 3;
	int src[4];
	for (int i = 0; i < ntargets; i++) {
		char path[700];
		snprintf(path, sizeof path, "%s/%s", p->dir, subs[i]);
		if ((src[i] = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0)
			fail("open the private state");
	}
	for (int i = 0; i < ntargets; i++) {
		char path[64];
		snprintf(path, sizeof path, "/proc/self/fd/%d", src[i]);
		if (mount(path, targets[i], "none", MS_BIND, NULL) < 0)
			fail("bind the private state");
		close(src[i]);
	}
	for (int i = 0; i < n; i++)
		share_back(shared[i], fds[i], i != 1); // not every lab's private mounts again
}

// valid_name mirrors nsfs.ValidateName; anything else is left to Go.
static int valid_name(const char *s) {
	size_t len = strlen(s);
	return len > 0 && len < 256 && !strchr(s, '/') && strcmp(s, ".") && strcmp(s, "..");
}

__attribute__((constructor)) static void nslua_fastexec(int argc, char **argv) {
	int i = 2;
	if (argc < 4 || strcmp(argv[1], "exec") != 0)
		return;
	if (!strcmp(argv[i], "--"))
		i++;
	if (i >= argc || !valid_name(argv[i]))
		return;
	ns_name = argv[i++];
	if (i < argc && !strcmp(argv[i], "--"))
		i++;
	if (i >= argc || argv[i][0] == '\0')
		return;

	static struct private priv;
	priv.on = find_private(ns_name, priv.dir, sizeof priv.dir);
	char pin[300];
	snprintf(pin, sizeof pin, "/run/netns/%s", ns_name);
	struct statfs sfs;
	if (statfs(pin, &sfs) < 0 || sfs.f_type != NSFS_MAGIC)
		return;
	int fd = open(pin, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	static struct entry entries[MAX_ENTRIES + 1];
	int n = read_entries(ns_name, entries);
	if (priv.on && !private_ready(&priv, fd))
		return;
	if (n < 0 || setns(fd, CLONE_NEWNET) < 0) // setns checks the type too
		return;
	close(fd);
	if (unshare(CLONE_NEWNS) < 0)
		fail("unshare mount namespace");
	if (mount("", "/", "", MS_SLAVE | MS_REC, NULL) < 0)
		fail("make / a slave mount");
	remount_sys();
	open_entries(entries, n);
	overlay_and_bind(entries, n);
	if (priv.on)
		bind_private(&priv);
	exec_command(argv + i);
}
