package connlimit

// Reserve is how many file descriptors Fit keeps for everything but client
// connections: the store, the upstream pool's idle connections, the other
// listeners, log and list files.
const Reserve = 128

// Fit lowers want so that that many connections, each holding perConn
// descriptors (a relayed client also holds an upstream connection while
// its message is forwarded), fit in nofile descriptors less Reserve. A
// connection over the limit is then answered 421, rather than left waiting
// in an accept that fails with EMFILE. It never returns less than 1.
func Fit(want int, nofile uint64, perConn int) int {
	if perConn < 1 {
		perConn = 1
	}
	room := 1
	if nofile > Reserve {
		room = int(min((nofile-Reserve)/uint64(perConn), 1<<30))
	}
	return max(min(want, room), 1)
}
