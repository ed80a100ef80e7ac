package luabind

var etcDocs = []Doc{
	{Section: secNetns, Name: "Netns:etc_copy", Sig: "n:etc_copy(path [, {follow = false, force = false}]) -> {string}", Extra: true,
		Text: "Copy the host's /etc/path (a file, or a directory and everything in it: \"dnsmasq.conf\", \"hostapd/\") into /etc/netns/NAME/path, keeping modes and owners; returns what it made, one line each. " +
			"Nothing is written until the whole host tree has been read: a symlink in it is refused unless follow (then what it points to is copied under the link's name), and so are FIFOs, devices and sockets. " +
			"A symlink in /etc/netns/NAME on the way or in path's place is refused (`nslua etc NAME rm PATH` removes it). An existing entry is an error unless force: then a file gets the new content in place (restored at teardown, as with n:etc) and a directory is merged into. " +
			"A host without /etc/path is an error: a lab never creates files in the host's /etc; write the namespace's own with n:etc (n:exec binds it anyway; `ip netns exec` binds only over existing /etc paths, and `nslua etc NAME copy PATH --create-host-target` makes an empty host target outside any lab). " +
			"Everything made is journaled first and removed at teardown, through the same descriptor-only code as n:etc."},
}

func init() { Docs = append(Docs, etcDocs...) }
