module github.com/nslua/nslua

go 1.26.8

require (
	github.com/creack/pty v1.1.24
	github.com/gopacket/gopacket v1.7.7
	github.com/peterh/liner v1.2.2
	github.com/vishvananda/netlink v1.3.1
	github.com/yuin/gopher-lua v1.1.2
	golang.org/x/net v0.62.0
	golang.org/x/sys v0.50.0
	golang.org/x/term v0.48.0
)

require (
	github.com/mattn/go-runewidth v0.0.3 // indirect
	github.com/vishvananda/netns v0.0.5 // indirect
)
