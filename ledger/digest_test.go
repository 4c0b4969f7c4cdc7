package ledger

import "testing"

// The reusable digester keys every spelling as RcptDigest does, the
// normalised address and the fallback for one with no normal form alike,
// and its reused hash states never carry one address into the next.
func TestRcptDigesterMatchesRcptDigest(t *testing.T) {
	key := []byte("0123456789abcdef0123456789abcdef")
	d := NewRcptDigester(key)
	addrs := []string{"Jean.Dupont@Acme.FR", "jean.dupont@acme.fr", " not an address ", "a@b.example", "Jean.Dupont@Acme.FR"}
	for _, a := range addrs {
		if got, want := d.Digest(a), RcptDigest(key, a); got != want {
			t.Errorf("%q: digester %x, RcptDigest %x", a, got, want)
		}
	}
	if d.Digest(addrs[0]) != d.Digest(addrs[1]) {
		t.Error("two spellings of one address got different digests")
	}
	if d.Digest(addrs[0]) == d.Digest(addrs[3]) {
		t.Error("two addresses got one digest")
	}
	if NewRcptDigester([]byte("another key, 32 bytes long......")).Digest(addrs[0]) == d.Digest(addrs[0]) {
		t.Error("the key does not change the digest")
	}
}
