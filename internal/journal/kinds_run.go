package journal

// KindCgroup is the cgroup (v2) of a run, holding every process it
// started: Name is its directory.
const KindCgroup = "cgroup"
