//go:build cgo

package capture

/*
#cgo LDFLAGS: -ldl
#include <dlfcn.h>
#include <stdlib.h>
#include <string.h>

// The few libpcap declarations used, so that no libpcap-dev is needed at
// build time: struct bpf_program and bpf_insn are part of the BPF ABI.
struct nslua_insn { unsigned short code; unsigned char jt, jf; unsigned int k; };
struct nslua_prog { unsigned int len; struct nslua_insn *insns; };

typedef void *(*open_dead_fn)(int, int);
typedef int (*compile_fn)(void *, struct nslua_prog *, const char *, int, unsigned int);
typedef void (*freecode_fn)(struct nslua_prog *);
typedef char *(*geterr_fn)(void *);
typedef void (*close_fn)(void *);

static void *lib;
static open_dead_fn p_open_dead;
static compile_fn p_compile;
static freecode_fn p_freecode;
static geterr_fn p_geterr;
static close_fn p_close;

static int nslua_pcap_load(void) {
	static const char *names[] = {"libpcap.so.0.8", "libpcap.so.1", "libpcap.so", 0};
	if (lib) return 0;
	for (int i = 0; names[i] && !lib; i++) lib = dlopen(names[i], RTLD_NOW | RTLD_LOCAL);
	if (!lib) return -1;
	p_open_dead = (open_dead_fn)dlsym(lib, "pcap_open_dead");
	p_compile = (compile_fn)dlsym(lib, "pcap_compile");
	p_freecode = (freecode_fn)dlsym(lib, "pcap_freecode");
	p_geterr = (geterr_fn)dlsym(lib, "pcap_geterr");
	p_close = (close_fn)dlsym(lib, "pcap_close");
	if (!p_open_dead || !p_compile || !p_freecode || !p_geterr || !p_close) {
		dlclose(lib);
		lib = 0;
		return -2;
	}
	return 0;
}

// nslua_pcap_compile returns the number of instructions copied to *out
// (malloc'd), or -1 with the message in err.
static int nslua_pcap_compile(int linktype, int snaplen, const char *expr, struct nslua_insn **out, char *err, int errlen) {
	void *p = p_open_dead(linktype, snaplen);
	if (!p) {
		strncpy(err, "pcap_open_dead failed", errlen - 1);
		return -1;
	}
	struct nslua_prog prog;
	if (p_compile(p, &prog, expr, 1, 0xffffffff) != 0) {
		strncpy(err, p_geterr(p), errlen - 1);
		p_close(p);
		return -1;
	}
	int n = prog.len;
	*out = malloc(n * sizeof(struct nslua_insn));
	memcpy(*out, prog.insns, n * sizeof(struct nslua_insn));
	p_freecode(&prog);
	p_close(p);
	return n;
}
*/
import "C"

import (
	"errors"
	"sync"
	"unsafe"

	"golang.org/x/net/bpf"
)

// pcapMu serializes libpcap: pcap_compile was not thread-safe before 1.8.
var pcapMu sync.Mutex

// pcapCompile compiles with the system's libpcap, loaded when first
// needed: nslua neither links it nor needs it to run without a filter.
func pcapCompile(expr string, linkType, snaplen int) ([]bpf.RawInstruction, error) {
	pcapMu.Lock()
	defer pcapMu.Unlock()
	switch C.nslua_pcap_load() {
	case -1:
		return nil, errors.New("filters are compiled by libpcap, which is not installed (Debian package libpcap0.8)")
	case -2:
		return nil, errors.New("the libpcap found lacks pcap_compile")
	}
	cexpr := C.CString(expr)
	defer C.free(unsafe.Pointer(cexpr))
	var out *C.struct_nslua_insn
	var errbuf [512]C.char
	n := C.nslua_pcap_compile(C.int(linkType), C.int(snaplen), cexpr, &out, &errbuf[0], C.int(len(errbuf)))
	if n < 0 {
		return nil, errors.New(C.GoString(&errbuf[0]))
	}
	defer C.free(unsafe.Pointer(out))
	insns := unsafe.Slice(out, int(n))
	raw := make([]bpf.RawInstruction, n)
	for i, in := range insns {
		raw[i] = bpf.RawInstruction{Op: uint16(in.code), Jt: uint8(in.jt), Jf: uint8(in.jf), K: uint32(in.k)}
	}
	return raw, nil
}

// FiltersAvailable reports whether this build can compile filters.
const FiltersAvailable = true
